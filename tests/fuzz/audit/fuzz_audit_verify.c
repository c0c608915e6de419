/*
 * fuzz_audit_verify.c - libFuzzer harness for the trail verifier. Input: a key file
 * (four lines) followed by trail lines; also run without a key, and with the input
 * as a held checkpoint. Fuzz-only code.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(const struct audit_key *key, const char *s, size_t size, const char *body)
{
	struct audit_verify_opts o = {.key = key};
	struct audit_verify_result r;
	struct audit_verifier *v;
	const char *p = body, *end = s + size, *nl;
	unsigned line = 0;

	if (audit_verifier_new(&v, &o) != 0)
		return;
	(void)audit_verifier_add_checkpoint(v, s, size, "fuzz");
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		audit_verifier_feed_line(v, p, (size_t)(nl - p), "fuzz", ++line);
		p = nl + 1;
	}
	if (p < end)
		audit_verifier_feed_line(v, p, (size_t)(end - p), "fuzz", ++line);
	(void)audit_verifier_finish(v, &r);
	audit_verifier_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_key key;
	const char *body;
	char *s;
	int lines = 0;

	if (size > 1 << 20)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (body = s; body < s + size && lines < 4; body++)
		if (*body == '\n')
			lines++;
	if (lines == 4 && audit_key_parse(&key, s, (size_t)(body - s), "fuzz", NULL) == 0)
		run(&key, s, size, body);
	run(NULL, s, size, s);
	free(s);
	return 0;
}
