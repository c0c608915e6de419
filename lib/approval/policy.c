/*
 * policy.c - signatures of standing approvals: a rule file is signed by an approver's
 * assertion over SHA-256(APPR_DOMAIN_POLICY 0x00 || council, SHA-256 of the file,
 * signed-at), kept next to it as FILE.sig. Linked by the engine, the CLI and tests; the
 * signature file is untrusted and only its canonical form is accepted.
 */
#include "approval_int.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define POLICY_MAGIC "portcullis-policy-signature"

int appr_policy_cdh(const char *council, const uint8_t sha[32], int64_t signed_at,
		    uint8_t out[APPR_CDH_LEN])
{
	char when[24];
	snprintf(when, sizeof(when), "%" PRId64, signed_at);
	const void *f[] = {council, sha, when};
	size_t l[] = {strlen(council), 32, strlen(when)};

	return appr_hash_fields(APPR_DOMAIN_POLICY, f, l, 3, out);
}

int appr_sha256(const void *buf, size_t len, uint8_t out[32])
{
	unsigned n = 0;
	return EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -EIO;
}

int appr_policy_sig_encode(const struct appr_policy_sig *s, char *out, size_t cap)
{
	struct abuf b = {out, 0, cap};
	char v[APPR_AUTHDATA_MAX * 2];
	int rc;

	if (cap == 0)
		return -ENOSPC;
	out[0] = '\0';
	if (s->cred_len == 0 || s->cred_len > APPR_CRED_MAX || s->authdata_len < 37 ||
	    s->authdata_len > APPR_AUTHDATA_MAX || s->sig_len == 0 || s->sig_len > APPR_SIG_MAX ||
	    s->signed_at <= 0)
		return -EINVAL;
	snprintf(v, sizeof(v), "%s %u\n", POLICY_MAGIC, APPR_VERSION);
	rc = ab_put(&b, v, strlen(v));
	pcl_b64_encode(s->cred, s->cred_len, v, sizeof(v));
	rc = rc ?: ab_line(&b, "credential", v);
	pcl_b64_encode(s->authdata, s->authdata_len, v, sizeof(v));
	rc = rc ?: ab_line(&b, "authenticator-data", v);
	pcl_b64_encode(s->sig, s->sig_len, v, sizeof(v));
	rc = rc ?: ab_line(&b, "signature", v);
	pcl_hex_encode(v, s->sha256, 32);
	rc = rc ?: ab_line(&b, "policy.sha256", v);
	snprintf(v, sizeof(v), "%" PRId64, s->signed_at);
	rc = rc ?: ab_line(&b, "signed-at", v);
	return rc ? rc : (int)b.len;
}

int appr_policy_sig_parse(const char *buf, size_t len, const char *name, struct appr_policy_sig *s,
			  struct pcl_diag *diag)
{
	struct atext t;
	const char *v;
	size_t vlen;
	uint64_t x;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = appr_text_open(&t, buf, len, name, diag, APPR_TEXT_MAX, POLICY_MAGIC,
				 APPR_VERSION)) != 0 ||
	    (rc = at_b64(&t, "credential", s->cred, sizeof(s->cred), &s->cred_len)) != 0 ||
	    (rc = at_b64(&t, "authenticator-data", s->authdata, sizeof(s->authdata),
			 &s->authdata_len)) != 0 ||
	    (rc = at_b64(&t, "signature", s->sig, sizeof(s->sig), &s->sig_len)) != 0)
		return rc;
	if (s->authdata_len < 37) {
		pcl_diag_set(diag, name, t.line, "authenticator-data: shorter than 37 bytes");
		return -EINVAL;
	}
	if ((rc = at_next(&t, "policy.sha256", &v, &vlen)) != 0)
		return rc;
	if (pcl_hex_decode(s->sha256, 32, v, vlen) != 0) {
		pcl_diag_set(diag, name, t.line,
			     "policy.sha256: expected 64 lower-case hex digits");
		return -EINVAL;
	}
	if ((rc = at_uint(&t, "signed-at", INT64_MAX, &x)) != 0)
		return rc;
	if (x == 0) {
		pcl_diag_set(diag, name, t.line, "signed-at: must be a time after 1970");
		return -EINVAL;
	}
	s->signed_at = (int64_t)x;
	if (t.pos != len) {
		pcl_diag_set(diag, name, t.line + 1, "unexpected text after signed-at");
		return -EINVAL;
	}
	return 0;
}
