/*
 * fuzz_fidohelper.c - libFuzzer harness for the fido helper's message decoder (bytes
 * the CLI reads from the helper, and the helper from the CLI): a refusal must come with
 * a diagnostic; anything accepted must encode again and decode to the same message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fidoh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fidoh_msg m, again;
	static uint8_t out[FIDOH_MSG_MAX];
	struct pcl_diag d = {0};
	int n;

	if (fidoh_msg_decode(data, size, &m, &d) != 0) {
		if (d.msg[0] == '\0')
			abort();
		return 0;
	}
	if ((n = fidoh_msg_encode(&m, out, sizeof(out))) < 0 ||
	    fidoh_msg_decode(out, (size_t)n, &again, &d) != 0 || memcmp(&m, &again, sizeof(m)) != 0)
		abort();
	fidoh_msg_wipe(&m);
	return 0;
}
