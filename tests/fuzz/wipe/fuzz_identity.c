/*
 * fuzz_identity.c - libFuzzer harness for wipe_identity_from_json: identity records
 * read from files given to `portcullis wipe --identity`. A parsed record must survive a
 * JSON round trip unchanged.
 */
#include "wipe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wipe_identity a, b;
	struct pcl_diag d;
	char json[2048];
	int n;

	if (wipe_identity_from_json((const char *)data, size, &a, &d) != 0)
		return 0;
	n = wipe_identity_to_json(&a, json, sizeof(json));
	if (n < 0 || wipe_identity_from_json(json, (size_t)n, &b, &d) != 0 ||
	    wipe_identity_compare(&a, &b, &d) != 0)
		abort();
	return 0;
}
