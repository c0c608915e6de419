/*
 * fuzz_hidfido.c - libFuzzer harness for the HID report descriptor walk of the
 * FIDO-token gate: never crashes, a failure always names what is wrong, a success
 * always gives a kind.
 */
#include <stdint.h>
#include <stdlib.h>

#include "hidfido.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct appr_hid_summary s;
	struct pcl_diag d = {0};

	if (appr_hid_parse(data, size, &s, &d) != 0) {
		if (d.msg[0] == '\0')
			abort();
	} else if (s.kind < APPR_HID_FIDO_ONLY || s.kind > APPR_HID_MIXED ||
		   (s.kind != APPR_HID_NOT_FIDO && s.n_apps == 0)) {
		abort();
	}
	return 0;
}
