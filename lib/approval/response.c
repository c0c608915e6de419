/*
 * response.c - approval responses: the approver's assertion (credential id, raw
 * authenticator data, signature) followed by the request it signs, byte for byte.
 * Linked by the engine, the CLI and tests. Parsed text is untrusted (it comes back by
 * e-mail or from a client of the control socket).
 */
#include "approval_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int appr_response_encode(const struct appr_response *r, char *out, size_t cap)
{
	struct abuf b = {out, 0, cap};
	char v[APPR_AUTHDATA_MAX * 2];
	struct appr_request check;
	int rc;

	if (cap == 0)
		return -ENOSPC;
	out[0] = '\0';
	if (r->cred_len == 0 || r->authdata_len == 0 || r->sig_len == 0 ||
	    r->cred_len > APPR_CRED_MAX || r->authdata_len > APPR_AUTHDATA_MAX ||
	    r->sig_len > APPR_SIG_MAX ||
	    appr_request_parse(r->req_text, r->req_len, "request", &check, NULL) != 0)
		return -EINVAL;
	snprintf(v, sizeof(v), "%s %u\n", APPR_RESPONSE_MAGIC, APPR_VERSION);
	rc = ab_put(&b, v, strlen(v));
	rc = rc ?: (pcl_b64_encode(r->cred, r->cred_len, v, sizeof(v)) < 0 ? -EINVAL : 0);
	rc = rc ?: ab_line(&b, "credential", v);
	rc = rc ?: (pcl_b64_encode(r->authdata, r->authdata_len, v, sizeof(v)) < 0 ? -EINVAL : 0);
	rc = rc ?: ab_line(&b, "authenticator-data", v);
	rc = rc ?: (pcl_b64_encode(r->sig, r->sig_len, v, sizeof(v)) < 0 ? -EINVAL : 0);
	rc = rc ?: ab_line(&b, "signature", v);
	rc = rc ?: ab_put(&b, r->req_text, r->req_len);
	return rc ? rc : (int)b.len;
}

int appr_response_parse(const char *buf, size_t len, const char *name, struct appr_response *r,
			struct pcl_diag *diag)
{
	struct atext t = {buf, len, 0, 0, name, diag};
	int rc;

	memset(r, 0, sizeof(*r));
	if (len > APPR_TEXT_MAX) {
		pcl_diag_set(diag, name, 0, "larger than %d bytes", APPR_TEXT_MAX);
		return -EINVAL;
	}
	if ((rc = appr_parse_header(&t, APPR_RESPONSE_MAGIC, APPR_VERSION)) != 0 ||
	    (rc = at_b64(&t, "credential", r->cred, sizeof(r->cred), &r->cred_len)) != 0 ||
	    (rc = at_b64(&t, "authenticator-data", r->authdata, sizeof(r->authdata),
			 &r->authdata_len)) != 0 ||
	    (rc = at_b64(&t, "signature", r->sig, sizeof(r->sig), &r->sig_len)) != 0)
		return rc;
	if (r->authdata_len < 37) {
		pcl_diag_set(diag, name, t.line, "authenticator-data: shorter than 37 bytes");
		return -EINVAL;
	}
	size_t start = t.pos;
	if ((rc = appr_request_read(&t, &r->req)) != 0)
		return rc;
	if (t.pos != len) {
		pcl_diag_set(diag, name, t.line + 1,
			     "unexpected text after the request's credentials");
		return -EINVAL;
	}
	r->req_len = len - start;
	memcpy(r->req_text, buf + start, r->req_len);
	r->req_text[r->req_len] = '\0';
	return 0;
}
