/*
 * engine_approval_enrol.c - enrolment of approvers: verifies the new credential's
 * attestation (fido_cred_verify, or fido_cred_verify_self for self attestation) over a
 * domain-separated hash of council, name, role and a nonce, and who may enrol: root at
 * the PC for the first approver, an existing approver's assertion for every later one;
 * and their removal, with another approver's assertion (or the IT provider's recovery
 * key's, for root at the PC: the lost-key path).
 * Linked by the engine; the request comes from a control-socket client: untrusted.
 */
#include <errno.h>
#include <fido.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "engine_approval_int.h"
#include "jsonx.h"
#include "record.h"
#include "log.h"

static int verify_cred(const struct eappr_state *s, struct json_object *req, const uint8_t *cdh,
		       struct eappr_approver *out, char *why, size_t whylen)
{
	static uint8_t authdata[1024], sig[256], x5c[4096];
	struct json_object *v;
	const char *fmt = jsonx_get_str(req, "fmt");
	int alen = eappr_b64_field(req, "authdata", authdata, sizeof(authdata));
	int slen = eappr_b64_field(req, "sig", sig, sizeof(sig));
	int xlen = jsonx_get_str(req, "x5c") ? eappr_b64_field(req, "x5c", x5c, sizeof(x5c)) : 0;
	int prot = json_object_object_get_ex(req, "prot", &v) ? json_object_get_int(v) : 0;
	fido_cred_t *c = fido_cred_new();
	int rc = FIDO_ERR_INVALID_ARGUMENT;

	if (alen > 0 && slen > 0 && xlen >= 0 && fmt && c &&
	    fido_cred_set_type(c, COSE_ES256) == FIDO_OK &&
	    fido_cred_set_clientdata_hash(c, cdh, APPR_CDH_LEN) == FIDO_OK &&
	    fido_cred_set_rp(c, s->rp, NULL) == FIDO_OK &&
	    fido_cred_set_authdata_raw(c, authdata, (size_t)alen) == FIDO_OK &&
	    fido_cred_set_sig(c, sig, (size_t)slen) == FIDO_OK &&
	    (xlen == 0 || fido_cred_set_x509(c, x5c, (size_t)xlen) == FIDO_OK) &&
	    fido_cred_set_fmt(c, fmt) == FIDO_OK &&
	    (prot == 0 || fido_cred_set_prot(c, prot) == FIDO_OK))
		rc = xlen > 0 ? fido_cred_verify(c) : fido_cred_verify_self(c);
	if (rc == FIDO_OK && fido_cred_pubkey_len(c) == sizeof(out->pk) &&
	    fido_cred_id_len(c) > 0 && fido_cred_id_len(c) <= sizeof(out->cred)) {
		memcpy(out->pk, fido_cred_pubkey_ptr(c), sizeof(out->pk));
		memcpy(out->cred, fido_cred_id_ptr(c), fido_cred_id_len(c));
		out->cred_len = fido_cred_id_len(c);
		out->counter = fido_cred_sigcount(c);
	} else if (rc == FIDO_OK) {
		rc = FIDO_ERR_UNSUPPORTED_ALGORITHM;
	}
	if (rc != FIDO_OK)
		snprintf(why, whylen, "the new key's attestation does not verify for %s (%s)",
			 s->rp, fido_strerr(rc));
	fido_cred_free(&c);
	return rc == FIDO_OK ? 0 : -EPERM;
}

/* An existing approver's assertion over h ("by": credential, authdata, sig). A recovery
 * credential consents only for root at the PC. */
static int check_consent(struct eappr_state *s, struct json_object *by, const uint8_t *h,
			 unsigned peer_uid, struct eappr_approver **who, char *why, size_t whylen)
{
	static uint8_t cred[APPR_CRED_MAX], authdata[APPR_AUTHDATA_MAX], sig[APPR_SIG_MAX];
	uint32_t counter;
	int clen = by ? eappr_b64_field(by, "credential", cred, sizeof(cred)) : -EINVAL;
	int alen = by ? eappr_b64_field(by, "authdata", authdata, sizeof(authdata)) : -EINVAL;
	int slen = by ? eappr_b64_field(by, "sig", sig, sizeof(sig)) : -EINVAL;

	if (clen < 0 || alen < 0 || slen < 0) {
		snprintf(why, whylen, "this needs an existing approver's touch (--by KEY)");
		return -EPERM;
	}
	struct eappr_approver *a = eappr_find(s, cred, (size_t)clen);
	if (a == NULL) {
		snprintf(why, whylen, "the consenting key is not an enrolled approver");
		return -EPERM;
	}
	if (a->recovery && peer_uid != 0) {
		snprintf(why, whylen, "the recovery key consents only for root at the PC");
		return -EPERM;
	}
	int rc = eappr_verify(s, a, h, authdata, (size_t)alen, sig, (size_t)slen, s->profile.uv,
			      &counter, why, whylen);
	if (rc != 0)
		return rc;
	if (counter <= a->counter) {
		snprintf(why, whylen, "signature counter of %s's key went backwards", a->name);
		return -EPERM;
	}
	a->counter = counter;
	*who = a;
	return 0;
}

/* A refused enrolment or removal is a security record, with who asked. */
static void refused(struct engine *e, const char *name, const char *why, unsigned peer_uid)
{
	struct json_object *rec = json_object_new_object();

	pcl_record_head(rec, PCL_KIND_EVENT, "approver-refused", "failure", why);
	jsonx_set_str(rec, "approval.approver", name);
	jsonx_set_int(rec, "user.id", peer_uid);
	engine_record_json(e, rec, true);
	json_object_put(rec);
	log_warn("approver %s refused: %s", name, why);
}

struct json_object *eappr_remove(struct engine *e, struct eappr_state *s, struct json_object *req,
				 unsigned peer_uid)
{
	static uint8_t cred[APPR_CRED_MAX];
	uint8_t h[APPR_CDH_LEN];
	struct eappr_approver *by = NULL;
	struct json_object *byo = NULL;
	char why[300], b64[APPR_CRED_MAX * 2];
	int clen = eappr_b64_field(req, "credential", cred, sizeof(cred));
	struct eappr_approver *a = clen > 0 ? eappr_find(s, cred, (size_t)clen) : NULL;

	if (a == NULL)
		return eappr_error("no enrolled approver has this credential");
	const void *f[] = {s->profile.council, cred};
	size_t l[] = {strlen(s->profile.council), (size_t)clen};
	json_object_object_get_ex(req, "by", &byo);
	uint32_t old[EAPPR_MAX_APPROVERS];
	for (size_t i = 0; i < s->n_approvers; i++)
		old[i] = s->approvers[i].counter;
	if (appr_hash_fields(APPR_DOMAIN_REMOVE, f, l, 2, h) != 0 ||
	    check_consent(s, byo, h, peer_uid, &by, why, sizeof(why)) != 0 ||
	    (by == a && (snprintf(why, sizeof(why),
				  "an approver is removed with another approver's touch (or the "
				  "recovery key and root at the PC)"),
			 true))) {
		refused(e, a->name, why, peer_uid);
		return eappr_error("%s", why);
	}
	struct eappr_approver gone = *a, consent = *by;
	size_t i = (size_t)(a - s->approvers);
	memmove(a, a + 1, (s->n_approvers - i - 1) * sizeof(*a));
	s->n_approvers--;
	if (eappr_store_save(s) != 0) {
		memmove(a + 1, a, (s->n_approvers - i) * sizeof(*a));
		*a = gone;
		s->n_approvers++;
		for (size_t j = 0; j < s->n_approvers; j++)
			s->approvers[j].counter = old[j];
		return eappr_error("the approver list cannot be written");
	}
	struct json_object *rec = json_object_new_object();
	pcl_record_head(rec, PCL_KIND_EVENT, "approver-removed", "success", NULL);
	jsonx_set_str(rec, "approval.approver", gone.name);
	jsonx_set_str(rec, "approval.role", gone.role);
	pcl_b64_encode(gone.cred, gone.cred_len, b64, sizeof(b64));
	jsonx_set_str(rec, "approval.credential", b64);
	jsonx_set_str(rec, "approval.removed_by", consent.name);
	json_object_object_add(rec, "approval.recovery", json_object_new_boolean(consent.recovery));
	jsonx_set_int(rec, "user.id", peer_uid);
	engine_record_json(e, rec, true);
	json_object_put(rec);
	log_info("approver %s (%s) removed by %s", gone.name, gone.role, consent.name);
	struct json_object *ans = json_object_new_object();
	jsonx_set_str(ans, "removed", gone.name);
	jsonx_set_str(ans, "by", consent.name);
	return ans;
}

struct json_object *eappr_enrol(struct engine *e, struct eappr_state *s, struct json_object *req,
				unsigned peer_uid)
{
	const char *name = jsonx_get_str(req, "name"), *role = jsonx_get_str(req, "role");
	uint8_t nonce[64], cdh[APPR_CDH_LEN];
	struct eappr_approver n = {0}, *by = NULL;
	struct json_object *byo = NULL;
	char why[300];
	int nlen = eappr_b64_field(req, "nonce", nonce, sizeof(nonce));

	if (name == NULL || role == NULL || !*name || !*role || strlen(name) >= sizeof(n.name) ||
	    strlen(role) >= sizeof(n.role) || nlen < 16)
		return eappr_error("approver-enrol needs a name, a role and a nonce");
	if (s->n_approvers == EAPPR_MAX_APPROVERS)
		return eappr_error("%d approvers are enrolled already", EAPPR_MAX_APPROVERS);
	if (s->n_approvers == 0 && peer_uid != 0) {
		refused(e, name, "the first approver is enrolled by root at the PC", peer_uid);
		return eappr_error("the first approver is enrolled by root at the PC");
	}
	strcpy(n.name, name);
	strcpy(n.role, role);
	const void *f[] = {s->profile.council, name, role, nonce};
	size_t l[] = {strlen(s->profile.council), strlen(name), strlen(role), (size_t)nlen};
	if (appr_hash_fields(APPR_DOMAIN_ENROL, f, l, 4, cdh) != 0 ||
	    verify_cred(s, req, cdh, &n, why, sizeof(why)) != 0)
		return eappr_error("%s", why);
	if (eappr_find(s, n.cred, n.cred_len) != NULL)
		return eappr_error("this credential is enrolled already");
	struct json_object *rv = NULL;
	n.recovery = json_object_object_get_ex(req, "recovery", &rv) && json_object_get_boolean(rv);
	json_object_object_get_ex(req, "by", &byo);
	const void *cf[] = {s->profile.council, n.name, n.role, n.cred};
	size_t cl[] = {strlen(s->profile.council), strlen(n.name), strlen(n.role), n.cred_len};
	if (s->n_approvers > 0 &&
	    (appr_hash_fields(APPR_DOMAIN_ENROL_CONSENT, cf, cl, 4, cdh) != 0 ||
	     check_consent(s, byo, cdh, peer_uid, &by, why, sizeof(why)) != 0)) {
		refused(e, name, why, peer_uid);
		return eappr_error("%s", why);
	}
	n.enrolled = (int64_t)time(NULL);
	s->approvers[s->n_approvers++] = n;
	if (eappr_store_save(s) != 0) {
		s->n_approvers--;
		return eappr_error("the approver list cannot be written");
	}
	struct json_object *rec = json_object_new_object();
	char b64[APPR_CRED_MAX * 2];
	pcl_record_head(rec, PCL_KIND_EVENT, "approver-enrolled", "success", NULL);
	jsonx_set_str(rec, "approval.approver", name);
	jsonx_set_str(rec, "approval.role", role);
	jsonx_set_str(rec, "approval.rp", s->rp);
	pcl_b64_encode(n.cred, n.cred_len, b64, sizeof(b64));
	jsonx_set_str(rec, "approval.credential", b64);
	pcl_b64_encode(n.pk, sizeof(n.pk), b64, sizeof(b64));
	jsonx_set_str(rec, "approval.public_key", b64);
	jsonx_set_str(rec, "approval.attestation.fmt", jsonx_get_str(req, "fmt"));
	jsonx_set_str(rec, "approval.attestation.authdata", jsonx_get_str(req, "authdata"));
	jsonx_set_str(rec, "approval.attestation.sig", jsonx_get_str(req, "sig"));
	jsonx_set_str(rec, "approval.enrolled_by", by ? by->name : "root at the PC");
	json_object_object_add(rec, "approval.recovery", json_object_new_boolean(n.recovery));
	jsonx_set_int(rec, "user.id", peer_uid);
	engine_record_json(e, rec, true);
	json_object_put(rec);
	log_info("approver %s (%s) enrolled", name, role);
	struct json_object *ans = json_object_new_object();
	jsonx_set_str(ans, "enrolled", name);
	jsonx_set_str(ans, "credential", b64);
	return ans;
}
