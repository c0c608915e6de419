/*
 * bundle.c - the council bundle's canonical text form (see bundle.h):
 *   portcullis-council-bundle 1
 *   council: watton
 *   version: 3
 *   issued: 1763900000
 *   profile: <base64 of the profile file>
 *   rules: <base64 of the rule file>
 *   approvers: 2
 *   approver: approver|recovery <credential, base64> <public key, base64>
 *   approver.name: <escaped>
 *   approver.role: <escaped>
 *   ... (one approver, name, role triple each)
 *   owed: 1                                    (format 2: the council's open owed wipes)
 *   owed.wipe: <A-reference> <device hash> <vvvv:pppp> <capacity>
 *   owed.serial: <escaped>
 *   signed-by: <credential, base64>
 *   authenticator-data: <base64>
 *   signature: <base64>
 * Linked by the engine, the CLI and tests; parsed text is untrusted.
 */
#include "bundle.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approval_int.h"

static bool council_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 64)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int put_b64(struct abuf *o, const char *key, const void *p, size_t n)
{
	size_t cap = 4 * ((n + 2) / 3) + 1;
	char *v = malloc(cap);
	int rc = v == NULL || pcl_b64_encode(p, n, v, cap) < 0 ? -EINVAL : ab_line(o, key, v);

	free(v);
	return rc;
}

int appr_bundle_encode_body(const struct appr_bundle *b, char *buf, size_t cap)
{
	struct abuf o = {buf, 0, cap};
	char v[APPR_CRED_MAX * 2 + 200];
	int rc;

	if (cap == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if (!council_ok(b->council) || b->version == 0 || b->issued <= 0 || b->profile_len == 0 ||
	    b->profile_len > sizeof(b->profile) || b->rules_len == 0 ||
	    b->rules_len > sizeof(b->rules) || b->n_approvers == 0 ||
	    b->n_approvers > APPR_BUNDLE_APPROVERS || b->format > APPR_BUNDLE_VERSION ||
	    (b->format == 1 && b->n_owed > 0))
		return -EINVAL;
	unsigned format = b->format ? b->format : APPR_BUNDLE_VERSION;
	snprintf(v, sizeof(v), "%s %u\n", APPR_BUNDLE_MAGIC, format);
	rc = ab_put(&o, v, strlen(v));
	rc = rc ?: ab_line(&o, "council", b->council);
	snprintf(v, sizeof(v), "%" PRIu64, b->version);
	rc = rc ?: ab_line(&o, "version", v);
	snprintf(v, sizeof(v), "%" PRId64, b->issued);
	rc = rc ?: ab_line(&o, "issued", v);
	rc = rc ?: put_b64(&o, "profile", b->profile, b->profile_len);
	rc = rc ?: put_b64(&o, "rules", b->rules, b->rules_len);
	snprintf(v, sizeof(v), "%zu", b->n_approvers);
	rc = rc ?: ab_line(&o, "approvers", v);
	for (size_t i = 0; rc == 0 && i < b->n_approvers; i++) {
		const struct appr_bundle_approver *a = &b->approvers[i];
		char c[APPR_CRED_MAX * 2], k[100];
		if (a->cred_len == 0 || a->cred_len > APPR_CRED_MAX || !*a->name || !*a->role ||
		    pcl_b64_encode(a->cred, a->cred_len, c, sizeof(c)) < 0 ||
		    pcl_b64_encode(a->pk, sizeof(a->pk), k, sizeof(k)) < 0)
			return -EINVAL;
		snprintf(v, sizeof(v), "%s %s %s", a->recovery ? "recovery" : "approver", c, k);
		rc = ab_line(&o, "approver", v);
		rc = rc ?: ab_escaped(&o, "approver.name", a->name);
		rc = rc ?: (strlen(a->role) >= APPR_ROLE_MAX ? -EINVAL : 0);
		rc = rc ?: ab_escaped(&o, "approver.role", a->role);
	}
	if (format >= 2)
		rc = rc ?: appr_bundle_owed_encode(&o, b);
	return rc ? rc : (int)o.len;
}

int appr_bundle_encode(const struct appr_bundle *b, char *buf, size_t cap)
{
	int n = appr_bundle_encode_body(b, buf, cap);
	struct abuf o = {buf, n > 0 ? (size_t)n : 0, cap};
	int rc;

	if (n < 0)
		return n;
	if (b->signer_len == 0 || b->signer_len > APPR_CRED_MAX || b->authdata_len < 37 ||
	    b->authdata_len > APPR_AUTHDATA_MAX || b->sig_len == 0 || b->sig_len > APPR_SIG_MAX)
		return -EINVAL;
	rc = put_b64(&o, "signed-by", b->signer, b->signer_len);
	rc = rc ?: put_b64(&o, "authenticator-data", b->authdata, b->authdata_len);
	rc = rc ?: put_b64(&o, "signature", b->sig, b->sig_len);
	return rc ? rc : (int)o.len;
}

/* "approver: KIND CRED PK" */
static int parse_approver(struct atext *t, struct appr_bundle_approver *a)
{
	const char *v;
	size_t vlen;
	int rc = at_next(t, "approver", &v, &vlen);

	if (rc != 0)
		return rc;
	const char *s1 = memchr(v, ' ', vlen);
	const char *s2 = s1 ? memchr(s1 + 1, ' ', vlen - (size_t)(s1 + 1 - v)) : NULL;
	size_t klen = s1 ? (size_t)(s1 - v) : 0;
	int n = -1, m = -1;
	if (s2 != NULL) {
		n = pcl_b64_decode(s1 + 1, (size_t)(s2 - s1 - 1), a->cred, sizeof(a->cred));
		m = pcl_b64_decode(s2 + 1, vlen - (size_t)(s2 + 1 - v), a->pk, sizeof(a->pk));
	}
	a->recovery = klen == 8 && memcmp(v, "recovery", 8) == 0;
	if (n <= 0 || m != (int)sizeof(a->pk) ||
	    !(a->recovery || (klen == 8 && memcmp(v, "approver", 8) == 0))) {
		pcl_diag_set(t->diag, t->name, t->line,
			     "approver: expected \"approver\" or \"recovery\", a credential id "
			     "and a 64-byte public key, in base64, separated by one space");
		return -EINVAL;
	}
	a->cred_len = (size_t)n;
	if ((rc = at_escaped(t, "approver.name", a->name, sizeof(a->name))) != 0)
		return rc;
	if (!*a->name) {
		pcl_diag_set(t->diag, t->name, t->line, "approver.name: empty");
		return -EINVAL;
	}
	if ((rc = at_escaped(t, "approver.role", a->role, sizeof(a->role))) != 0)
		return rc;
	if (!*a->role) {
		pcl_diag_set(t->diag, t->name, t->line, "approver.role: empty");
		return -EINVAL;
	}
	return 0;
}

int appr_bundle_parse(const char *buf, size_t len, const char *name, struct appr_bundle *b,
		      struct pcl_diag *diag)
{
	struct atext t;
	const char *v;
	size_t vlen;
	uint64_t x;
	int rc;

	memset(b, 0, sizeof(*b));
	if ((rc = appr_text_open_of(&t, buf, len, name, diag, APPR_BUNDLE_MAX, APPR_BUNDLE_MAGIC, 1,
				    APPR_BUNDLE_VERSION, &b->format)) != 0 ||
	    (rc = at_next(&t, "council", &v, &vlen)) != 0)
		return rc;
	if (vlen >= sizeof(b->council) || (memcpy(b->council, v, vlen), !council_ok(b->council))) {
		pcl_diag_set(diag, name, t.line, "council: expected [a-z0-9-], 1 to 63 bytes");
		return -EINVAL;
	}
	if ((rc = at_uint(&t, "version", UINT64_MAX, &b->version)) != 0)
		return rc;
	if (b->version == 0) {
		pcl_diag_set(diag, name, t.line, "version: bundles are numbered from 1");
		return -EINVAL;
	}
	if ((rc = at_uint(&t, "issued", INT64_MAX, &x)) != 0)
		return rc;
	b->issued = (int64_t)x;
	if (b->issued == 0) {
		pcl_diag_set(diag, name, t.line, "issued: expected unix seconds");
		return -EINVAL;
	}
	if ((rc = at_b64(&t, "profile", (uint8_t *)b->profile, sizeof(b->profile) - 1,
			 &b->profile_len)) != 0 ||
	    (rc = at_b64(&t, "rules", (uint8_t *)b->rules, sizeof(b->rules) - 1, &b->rules_len)) !=
		0 ||
	    (rc = at_uint(&t, "approvers", APPR_BUNDLE_APPROVERS, &x)) != 0)
		return rc;
	if (x == 0) {
		pcl_diag_set(diag, name, t.line, "approvers: a bundle names at least one");
		return -EINVAL;
	}
	if (memchr(b->profile, '\0', b->profile_len) || memchr(b->rules, '\0', b->rules_len)) {
		pcl_diag_set(diag, name, t.line - 1, "profile or rules: contains a NUL byte");
		return -EINVAL;
	}
	b->n_approvers = (size_t)x;
	for (size_t i = 0; i < b->n_approvers; i++) {
		if ((rc = parse_approver(&t, &b->approvers[i])) != 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (b->approvers[j].cred_len == b->approvers[i].cred_len &&
			    memcmp(b->approvers[j].cred, b->approvers[i].cred,
				   b->approvers[i].cred_len) == 0) {
				pcl_diag_set(diag, name, t.line - 2,
					     "approver: the same credential twice");
				return -EINVAL;
			}
	}
	if (b->format >= 2 && (rc = appr_bundle_owed_parse(&t, b)) != 0)
		return rc;
	b->body_len = t.pos;
	if ((rc = at_b64(&t, "signed-by", b->signer, sizeof(b->signer), &b->signer_len)) ||
	    (rc = at_b64(&t, "authenticator-data", b->authdata, sizeof(b->authdata),
			 &b->authdata_len)) != 0 ||
	    (rc = at_b64(&t, "signature", b->sig, sizeof(b->sig), &b->sig_len)) != 0)
		return rc;
	if (b->authdata_len < 37) {
		pcl_diag_set(diag, name, t.line - 1, "authenticator-data: shorter than 37 bytes");
		return -EINVAL;
	}
	if (t.pos != len) {
		pcl_diag_set(diag, name, t.line + 1, "unexpected text after the signature");
		return -EINVAL;
	}
	return 0;
}

int appr_bundle_cdh(const char *body, size_t len, uint8_t out[APPR_CDH_LEN])
{
	const void *f[] = {body};
	size_t l[] = {len};

	return appr_hash_fields(APPR_DOMAIN_BUNDLE, f, l, 1, out);
}

const struct appr_bundle_approver *appr_bundle_find(const struct appr_bundle *b,
						    const uint8_t *cred, size_t len)
{
	for (size_t i = 0; i < b->n_approvers; i++)
		if (b->approvers[i].cred_len == len && memcmp(b->approvers[i].cred, cred, len) == 0)
			return &b->approvers[i];
	return NULL;
}
