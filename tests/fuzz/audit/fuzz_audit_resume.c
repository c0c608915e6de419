/*
 * fuzz_audit_resume.c - libFuzzer harness for the saved verifier state the collector
 * resumes from (audit_verifier_resume). Input: a trail key file, a line "--", then the
 * state text. A state that resumes is fed one record line and, when the verifier can be
 * saved again, the saved text must resume in a new verifier (round trip). Fuzz-only code.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char line[] = "{\"seq\":2,\"epoch\":0,\"prev\":\"00\",\"audit.type\":\"record\","
			   "\"mac\":\"00\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *sep = NULL;
	struct audit_verify_opts o = {.collected = true};
	struct audit_verifier *v = NULL, *v2 = NULL;
	struct audit_key key;
	struct pcl_diag d = {0};
	char *saved = NULL;

	for (size_t i = 0; i + 4 <= size; i++)
		if (memcmp(text + i, "\n--\n", 4) == 0) {
			sep = text + i;
			break;
		}
	if (sep == NULL ||
	    audit_key_parse(&key, text, (size_t)(sep - text) + 1, "fuzz-key", &d) != 0)
		return 0;
	o.key = &key;
	if (audit_verifier_new(&v, &o) != 0)
		return 0;
	sep += 4;
	if (audit_verifier_resume(v, sep, size - (size_t)(sep - text)) == 0) {
		audit_verifier_feed_line(v, line, strlen(line), "fuzz", 1);
		if (audit_verifier_save(v, &saved) == 0) {
			if (audit_verifier_new(&v2, &o) != 0 ||
			    audit_verifier_resume(v2, saved, strlen(saved)) != 0)
				abort();
			audit_verifier_free(&v2);
			free(saved);
		}
	}
	audit_verifier_free(&v);
	return 0;
}
