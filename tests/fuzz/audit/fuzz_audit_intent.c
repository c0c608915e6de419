/*
 * fuzz_audit_intent.c - libFuzzer harness for the intent file's slot parser
 * (audit_intent_parse), the bytes the trail reads back at open after a power cut. The
 * first input byte picks the mode: odd, the rest is parsed as it is; even, the harness
 * first puts the right checksum into the header (so the checks after it are reached). The
 * slot is an allocation of exactly its size: a read past it is caught. Fuzz-only code.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "audit.h"
#include "audit_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reseal(uint8_t *s, size_t n)
{
	size_t len = (size_t)s[32] | (size_t)s[33] << 8 | (size_t)s[34] << 16 | (size_t)s[35] << 24;
	EVP_MD_CTX *c;

	if (len > n - AUDIT_INTENT_HDR || (c = EVP_MD_CTX_new()) == NULL)
		return;
	if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, s, AUDIT_INTENT_SUM_OFF) == 1 &&
	    EVP_DigestUpdate(c, s + AUDIT_INTENT_HDR, len) == 1)
		EVP_DigestFinal_ex(c, s + AUDIT_INTENT_SUM_OFF, NULL);
	EVP_MD_CTX_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_intent e;
	struct pcl_diag d = {0};
	uint8_t *s;
	size_t n;

	if (size < 1 || size - 1 > AUDIT_INTENT_SLOT)
		return 0;
	n = size - 1;
	s = malloc(n ? n : 1);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, n);
	if ((data[0] & 1) == 0 && n >= AUDIT_INTENT_HDR)
		reseal(s, n);
	if (audit_intent_parse(s, n, &e, &d) == 0) {
		/* What a replay relies on: the bytes inside the slot, whole lines, fields sane. */
		if (e.len == 0 || e.len > n - AUDIT_INTENT_HDR ||
		    e.bytes != (const char *)s + AUDIT_INTENT_HDR || e.bytes[e.len - 1] != '\n' ||
		    e.off > AUDIT_INTENT_OFF_MAX || e.gen == 0 || e.month[7] != '\0')
			abort();
		for (size_t at = 0; at < e.len;) {
			const char *nl = memchr(e.bytes + at, '\n', e.len - at);
			struct audit_frame f;
			(void)audit_frame_parse(e.bytes + at, (size_t)(nl - (e.bytes + at)), &f,
						&d);
			at = (size_t)(nl - e.bytes) + 1;
		}
	}
	free(s);
	return 0;
}
