/*
 * fuzz_approval.c - libFuzzer harness for the approval request, response, policy
 * signature and council bundle parsers:
 * a failure must come with a diagnostic; anything accepted must re-encode to exactly
 * the input bytes (the format has one spelling).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "approval.h"
#include "bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct appr_response resp;
	static struct appr_request req;
	static char out[APPR_TEXT_MAX + 1];
	struct pcl_diag d = {0};
	const char *text = (const char *)data;

	if (appr_request_parse(text, size, "fuzz", &req, &d) == 0) {
		int n = appr_request_encode(&req, out, sizeof(out));
		if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
			abort();
	} else if (d.msg[0] == '\0') {
		abort();
	}
	memset(&d, 0, sizeof(d));
	if (appr_response_parse(text, size, "fuzz", &resp, &d) == 0) {
		int n = appr_response_encode(&resp, out, sizeof(out));
		if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
			abort();
	} else if (d.msg[0] == '\0') {
		abort();
	}
	static struct appr_policy_sig ps;
	memset(&d, 0, sizeof(d));
	if (appr_policy_sig_parse(text, size, "fuzz", &ps, &d) == 0) {
		int n = appr_policy_sig_encode(&ps, out, sizeof(out));
		if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
			abort();
	} else if (d.msg[0] == '\0') {
		abort();
	}
	static struct appr_bundle b;
	static char big[APPR_BUNDLE_MAX + 1];
	memset(&d, 0, sizeof(d));
	if (appr_bundle_parse(text, size, "fuzz", &b, &d) == 0) {
		int n = appr_bundle_encode(&b, big, sizeof(big));
		if (n < 0 || (size_t)n != size || memcmp(big, data, size) != 0)
			abort();
	} else if (d.msg[0] == '\0') {
		abort();
	}
	return 0;
}
