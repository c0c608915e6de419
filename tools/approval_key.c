/*
 * approval_key.c - drives the approver's FIDO2 key through libfido2 (see
 * approval_key.h). Linked by the portcullis CLI, run by the approver. The key's answers
 * are checked by libfido2 here and verified again by the daemon, which trusts nothing
 * from this side.
 */
#include "approval_key.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "fidosim.h"

fido_dev_t *akey_open(const char *path)
{
	fido_dev_info_t *list = NULL;
	fido_dev_t *dev = NULL;
	size_t n = 0;
	char found[512] = "";
	int rc;

	fido_init(0);
	if (path == NULL) {
		if ((list = fido_dev_info_new(16)) == NULL ||
		    fido_dev_info_manifest(list, 16, &n) != FIDO_OK || n == 0) {
			fido_dev_info_free(&list, 16);
			pcl_fail(
			    "no FIDO2 key found: plug in the approver's key or give --key PATH");
			return NULL;
		}
		snprintf(found, sizeof(found), "%s",
			 fido_dev_info_path(fido_dev_info_ptr(list, 0)));
		fido_dev_info_free(&list, 16);
		path = found;
	}
	if ((dev = fido_dev_new()) == NULL || (rc = fidosim_dev_open(dev, path)) != FIDO_OK) {
		pcl_fail("%s: cannot open the key: %s", path,
			 dev ? fido_strerr(rc) : "out of memory");
		fido_dev_free(&dev);
		return NULL;
	}
	return dev;
}

void akey_close(fido_dev_t **dev)
{
	if (*dev != NULL)
		fido_dev_close(*dev);
	fido_dev_free(dev);
}

const char *akey_pin(const char *opt)
{
	const char *env = getenv("PORTCULLIS_PIN");

	return opt ? opt : env && *env ? env : NULL;
}

static void put_b64(struct json_object *o, const char *k, const uint8_t *p, size_t n)
{
	char *s = malloc(4 * ((n + 2) / 3) + 1);

	if (s != NULL && appr_b64_encode(p, n, s, 4 * ((n + 2) / 3) + 1) >= 0)
		json_object_object_add(o, k, json_object_new_string(s));
	free(s);
}

int akey_make_cred(fido_dev_t *dev, const char *rp, const uint8_t cdh[APPR_CDH_LEN],
		   const char *user, bool uv, const char *pin, struct json_object *out)
{
	fido_cred_t *c = fido_cred_new();
	uint8_t uid[16];
	int prot = uv ? FIDO_CRED_PROT_UV_REQUIRED : FIDO_CRED_PROT_UV_OPTIONAL;
	int rc = FIDO_ERR_INTERNAL;

	if (uv && pin == NULL) {
		fido_cred_free(&c);
		return pcl_fail("the council's profile requires the key's PIN: give --pin or set "
				"PORTCULLIS_PIN");
	}
	if (c && RAND_bytes(uid, sizeof(uid)) == 1 &&
	    fido_cred_set_type(c, COSE_ES256) == FIDO_OK &&
	    fido_cred_set_clientdata_hash(c, cdh, APPR_CDH_LEN) == FIDO_OK &&
	    fido_cred_set_rp(c, rp, "Portcullis approvals") == FIDO_OK &&
	    fido_cred_set_user(c, uid, sizeof(uid), user, user, NULL) == FIDO_OK &&
	    fido_cred_set_rk(c, FIDO_OPT_TRUE) == FIDO_OK &&
	    fido_cred_set_prot(c, prot) == FIDO_OK) {
		fprintf(stderr, "Touch the key to enrol it...\n");
		rc = fido_dev_make_cred(dev, c, pin);
	}
	if (rc == FIDO_OK)
		rc = fido_cred_x5c_len(c) ? fido_cred_verify(c) : fido_cred_verify_self(c);
	if (rc != FIDO_OK) {
		fido_cred_free(&c);
		return pcl_fail("the key did not make a credential: %s", fido_strerr(rc));
	}
	put_b64(out, "credential", fido_cred_id_ptr(c), fido_cred_id_len(c));
	put_b64(out, "authdata", fido_cred_authdata_raw_ptr(c), fido_cred_authdata_raw_len(c));
	put_b64(out, "sig", fido_cred_sig_ptr(c), fido_cred_sig_len(c));
	if (fido_cred_x5c_len(c))
		put_b64(out, "x5c", fido_cred_x5c_ptr(c), fido_cred_x5c_len(c));
	json_object_object_add(out, "fmt", json_object_new_string(fido_cred_fmt(c)));
	json_object_object_add(out, "prot", json_object_new_int(prot));
	fido_cred_free(&c);
	return 0;
}

/* libfido2 1.12 hands out the authenticator data CBOR-wrapped: take the byte string. */
static int unwrap(const uint8_t *p, size_t n, struct akey_assertion *out)
{
	size_t hdr, len;

	if (n >= 1 && p[0] >= 0x40 && p[0] <= 0x57)
		hdr = 1, len = p[0] - 0x40u;
	else if (n >= 2 && p[0] == 0x58)
		hdr = 2, len = p[1];
	else if (n >= 3 && p[0] == 0x59)
		hdr = 3, len = (size_t)p[1] << 8 | p[2];
	else
		return -1;
	if (hdr + len != n || len > sizeof(out->authdata))
		return -1;
	memcpy(out->authdata, p + hdr, len);
	out->authdata_len = len;
	return 0;
}

int akey_assert(fido_dev_t *dev, const char *rp, const uint8_t cdh[APPR_CDH_LEN],
		struct json_object *allow, const char *pin, struct akey_assertion *out)
{
	fido_assert_t *a = fido_assert_new();
	int rc = FIDO_ERR_INTERNAL;
	bool ok = a && fido_assert_set_rp(a, rp) == FIDO_OK &&
		  fido_assert_set_clientdata_hash(a, cdh, APPR_CDH_LEN) == FIDO_OK &&
		  fido_assert_set_up(a, FIDO_OPT_TRUE) == FIDO_OK;

	for (size_t i = 0; ok && allow && i < json_object_array_length(allow); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(allow, i));
		uint8_t id[APPR_CRED_MAX];
		int n = s ? appr_b64_decode(s, strlen(s), id, sizeof(id)) : -1;
		ok = n > 0 && fido_assert_allow_cred(a, id, (size_t)n) == FIDO_OK;
	}
	if (ok) {
		fprintf(stderr, "Touch the key to approve...\n");
		rc = fido_dev_get_assert(dev, a, pin);
	}
	if (rc != FIDO_OK || fido_assert_count(a) < 1) {
		fido_assert_free(&a);
		return pcl_fail("the key gave no approval: %s", fido_strerr(rc));
	}
	out->cred_len = fido_assert_id_len(a, 0);
	out->sig_len = fido_assert_sig_len(a, 0);
	if (out->cred_len == 0 || out->cred_len > sizeof(out->cred) || out->sig_len == 0 ||
	    out->sig_len > sizeof(out->sig) ||
	    unwrap(fido_assert_authdata_ptr(a, 0), fido_assert_authdata_len(a, 0), out) != 0) {
		fido_assert_free(&a);
		return pcl_fail("the key's answer is malformed");
	}
	memcpy(out->cred, fido_assert_id_ptr(a, 0), out->cred_len);
	memcpy(out->sig, fido_assert_sig_ptr(a, 0), out->sig_len);
	fido_assert_free(&a);
	return 0;
}
