/*
 * ctap2_cred.c: authenticatorMakeCredential (CTAP 2.1 section 6.1) with ES256 keys,
 * packed self attestation, discoverable credential slots and the credProtect extension
 * (GetAssertion is ctap2_assert.c). Linked by the token core. Requests are untrusted;
 * they are validated CBOR (ctap2_parse.c) and every field's type and length is checked.
 */
#include <string.h>

#include "ctap2_int.h"
#include "ctap_status.h"
#include "hal.h"
#include "tcrypto.h"

/* authData: rpIdHash, flags, counter, AAGUID, ID length and ID, COSE key, extensions. */
#define MC_AD_MAX (37 + 16 + 2 + STORE_CRED_ID_LEN + 80 + 20)

struct mc_req {
	struct cbor_item cdh, rp_id, user_id, user_name;
	const uint8_t *params, *exclude, *ext, *opts;
	size_t params_len, exclude_len, ext_len, opts_len;
	struct cbor_item pin_param;
	uint64_t pin_proto;
	uint32_t have;
};

static int rp_field(void *ctx, const struct cbor_item *key, struct cbor_dec *d)
{
	struct mc_req *r = ctx;

	if (cbor_text_is(key, "id"))
		return ctap2_get(d, CBOR_TEXT, &r->rp_id);
	return 0;
}

static int user_field(void *ctx, const struct cbor_item *key, struct cbor_dec *d)
{
	struct mc_req *r = ctx;
	int rc;

	if (cbor_text_is(key, "id")) {
		rc = ctap2_get(d, CBOR_BYTES, &r->user_id);
		if (rc == 0 && r->user_id.val > STORE_USER_ID_MAX)
			rc = CTAP1_ERR_INVALID_LENGTH;
		return rc;
	}
	if (cbor_text_is(key, "name"))
		return ctap2_get(d, CBOR_TEXT, &r->user_name);
	return 0;
}

static int mc_field(void *ctx, uint64_t key, struct cbor_dec *d)
{
	struct mc_req *r = ctx;
	int rc;

	switch (key) {
	case 1:
		r->have |= HAVE_CDH;
		return ctap2_get(d, CBOR_BYTES, &r->cdh);
	case 2:
		r->have |= HAVE_RP;
		return ctap2_parse_text_map(d, rp_field, r);
	case 3:
		r->have |= HAVE_USER;
		return ctap2_parse_text_map(d, user_field, r);
	case 4:
		r->have |= HAVE_PARAMS;
		return ctap2_get_raw(d, CBOR_ARRAY, &r->params, &r->params_len);
	case 5:
		return ctap2_get_raw(d, CBOR_ARRAY, &r->exclude, &r->exclude_len);
	case 6:
		return ctap2_get_raw(d, CBOR_MAP, &r->ext, &r->ext_len);
	case 7:
		return ctap2_get_raw(d, CBOR_MAP, &r->opts, &r->opts_len);
	case 8:
		r->have |= HAVE_PIN_PARAM;
		return ctap2_get(d, CBOR_BYTES, &r->pin_param);
	case 9: {
		struct cbor_item it;

		rc = ctap2_get(d, CBOR_UINT, &it);
		r->pin_proto = it.val;
		r->have |= HAVE_PIN_PROTO;
		return rc;
	}
	default:
		return 0;
	}
}

/* pubKeyCredParams: ES256 must be among the public-key entries. */
struct alg_ctx {
	int es256;
	int is_pk;
	int64_t alg;
	int has_alg;
};

static int alg_field(void *ctx, const struct cbor_item *key, struct cbor_dec *d)
{
	struct alg_ctx *a = ctx;
	struct cbor_item it;
	int rc;

	if (cbor_text_is(key, "type")) {
		rc = ctap2_get(d, CBOR_TEXT, &it);
		a->is_pk = rc == 0 && cbor_text_is(&it, "public-key");
		return rc;
	}
	if (cbor_text_is(key, "alg")) {
		rc = cbor_next(d, &it);
		if (rc)
			return rc;
		if (it.major == CBOR_UINT)
			a->alg = (int64_t)(it.val & 0xffff);
		else if (it.major == CBOR_NEGINT)
			a->alg = -1 - (int64_t)(it.val & 0xffff);
		else
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		a->has_alg = 1;
	}
	return 0;
}

static int check_params(const struct mc_req *r)
{
	struct cbor_dec d;
	struct cbor_item arr;
	struct alg_ctx a = {0, 0, 0, 0};
	uint64_t i;
	int rc, ok = 0;

	cbor_dec_init(&d, r->params, r->params_len);
	rc = ctap2_get(&d, CBOR_ARRAY, &arr);
	for (i = 0; rc == 0 && i < arr.val; i++) {
		a.is_pk = a.has_alg = 0;
		rc = ctap2_parse_text_map(&d, alg_field, &a);
		if (rc == 0 && !a.has_alg)
			rc = CTAP2_ERR_MISSING_PARAMETER;
		if (rc == 0 && a.is_pk && a.alg == -7)
			ok = 1;
	}
	if (rc)
		return rc;
	return ok ? 0 : CTAP2_ERR_UNSUPPORTED_ALGORITHM;
}

static int ext_field(void *ctx, const struct cbor_item *key, struct cbor_dec *d)
{
	uint8_t *level = ctx;
	struct cbor_item it;
	int rc;

	if (cbor_text_is(key, "credProtect")) {
		rc = ctap2_get(d, CBOR_UINT, &it);
		if (rc)
			return rc;
		if (it.val < 1 || it.val > 3)
			return CTAP2_ERR_INVALID_OPTION;
		*level = (uint8_t)it.val;
	}
	return 0;
}

struct excl_ctx {
	const uint8_t *rp_id_hash;
	int found;
};

static int excl_one(void *ctx, const struct cbor_item *id)
{
	struct excl_ctx *x = ctx;
	struct ctap2_cred c;

	if (ctap2_unwrap(id->ptr, (size_t)id->val, x->rp_id_hash, &c) == 0)
		x->found = 1;
	store_wipe(&c, sizeof(c));
	return 0;
}

static void put_cose_key(struct cbor_enc *e, const uint8_t pub[65], int64_t alg)
{
	cbor_put_map(e, 5);
	cbor_put_uint(e, 1);
	cbor_put_uint(e, 2); /* kty: EC2 */
	cbor_put_uint(e, 3);
	cbor_put_int(e, alg);
	cbor_put_int(e, -1);
	cbor_put_uint(e, 1); /* crv: P-256 */
	cbor_put_int(e, -2);
	cbor_put_bytes(e, pub + 1, 32);
	cbor_put_int(e, -3);
	cbor_put_bytes(e, pub + 33, 32);
}

static int store_rk(const struct mc_req *r, const uint8_t rp_id_hash[32], const uint8_t *id,
		    uint8_t level)
{
	struct store_rk *slot = NULL;
	int i;

	for (i = 0; i < STORE_RK_SLOTS; i++) {
		struct store_rk *k = &store_st.rk[i];

		if (k->used && memcmp(k->rp_id_hash, rp_id_hash, 32) == 0 &&
		    k->user_id_len == r->user_id.val &&
		    memcmp(k->user_id, r->user_id.ptr, k->user_id_len) == 0) {
			slot = k; /* same account at the same RP: replaced */
			break;
		}
		if (!k->used && !slot)
			slot = k;
	}
	if (!slot)
		return CTAP2_ERR_KEY_STORE_FULL;
	memset(slot, 0, sizeof(*slot));
	slot->used = 1;
	slot->cred_protect = level;
	slot->seq = ++store_st.rk_seq;
	memcpy(slot->rp_id_hash, rp_id_hash, 32);
	memcpy(slot->cred_id, id, STORE_CRED_ID_LEN);
	slot->user_id_len = (uint8_t)r->user_id.val;
	memcpy(slot->user_id, r->user_id.ptr, (size_t)r->user_id.val);
	slot->user_name_len = r->user_name.ptr == NULL		       ? 0
			      : r->user_name.val > STORE_USER_NAME_MAX ? STORE_USER_NAME_MAX
								       : (uint8_t)r->user_name.val;
	if (slot->user_name_len)
		memcpy(slot->user_name, r->user_name.ptr, slot->user_name_len);
	return store_commit();
}

/* Parse and check the request: required members, ES256 among the algorithms, options,
 * the credProtect level. 0 or a CTAP status. */
static int mc_parse(const uint8_t *req, size_t len, struct mc_req *r, struct ctap2_opts *o,
		    uint8_t *level)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = ctap2_parse_map(req, len, mc_field, r);
	if (rc)
		return rc;
	if ((r->have & (HAVE_CDH | HAVE_RP | HAVE_USER | HAVE_PARAMS)) !=
		(HAVE_CDH | HAVE_RP | HAVE_USER | HAVE_PARAMS) ||
	    r->rp_id.ptr == NULL || r->user_id.ptr == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (r->cdh.val != 32)
		return CTAP1_ERR_INVALID_LENGTH;
	rc = check_params(r);
	if (rc)
		return rc;
	rc = ctap2_parse_opts(r->opts, r->opts_len, o);
	if (rc)
		return rc;
	if (o->has_up)
		return CTAP2_ERR_INVALID_OPTION; /* "up" is not an option of makeCredential */
	if (o->uv)
		return CTAP2_ERR_INVALID_OPTION; /* no built-in user verification */
	if (r->ext) {
		struct cbor_dec d;

		cbor_dec_init(&d, r->ext, r->ext_len);
		rc = ctap2_parse_text_map(&d, ext_field, level);
	}
	return rc;
}

/* Who may make it: the PIN gate, the exclude list, then a touch. 0 with *uv set, or a CTAP
 * status. */
static int mc_authorise(const struct mc_req *r, const uint8_t rp_id_hash[32], int *uv)
{
	int rc = ctap2_pin_gate(r->have, &r->pin_param, r->pin_proto, &r->cdh, CTAP2_PERM_MC,
				rp_id_hash, uv);

	if (rc)
		return rc;
	if (!*uv && store_st.pin_set)
		return CTAP2_ERR_PUAT_REQUIRED;
	if (r->exclude) {
		struct excl_ctx x = {rp_id_hash, 0};

		rc = ctap2_each_desc(r->exclude, r->exclude_len, excl_one, &x);
		if (rc)
			return rc;
		if (x.found) {
			rc = ctaphid_user_presence();
			return rc ? rc : CTAP2_ERR_CREDENTIAL_EXCLUDED;
		}
	}
	return ctaphid_user_presence();
}

/* authenticatorData with the attested credential (and the credProtect extension) into
 * ad[0..cap); its length, or 0 when it does not fit. */
static size_t mc_auth_data(uint8_t *ad, size_t cap, const uint8_t rp_id_hash[32], int uv,
			   uint32_t counter, const uint8_t *id, const uint8_t pub[65],
			   uint8_t level)
{
	struct cbor_enc e;

	memcpy(ad, rp_id_hash, 32);
	ad[32] = FLAG_UP | FLAG_AT | (uv ? FLAG_UV : 0) | (level ? FLAG_ED : 0);
	ctap2_put_be32(ad + 33, counter);
	memcpy(ad + 37, ctap2_aaguid, 16);
	ad[53] = 0;
	ad[54] = STORE_CRED_ID_LEN;
	memcpy(ad + 55, id, STORE_CRED_ID_LEN);
	cbor_enc_init(&e, ad + 55 + STORE_CRED_ID_LEN, cap - 55 - STORE_CRED_ID_LEN);
	put_cose_key(&e, pub, -7);
	if (level) {
		cbor_put_map(&e, 1);
		cbor_put_text(&e, "credProtect");
		cbor_put_uint(&e, level);
	}
	return e.err ? 0 : 55 + STORE_CRED_ID_LEN + e.len;
}

/* The answer, with packed self attestation: signed by the credential key over
 * authData || clientDataHash. 0 or a CTAP status. */
static int mc_attest(struct cbor_enc *out, const uint8_t *ad, size_t len, const uint8_t cdh[32],
		     const uint8_t sk[32])
{
	uint8_t tbs[MC_AD_MAX + 32], hash[32], sig[TCRYPTO_SIG_MAX];
	size_t siglen;

	memcpy(tbs, ad, len);
	memcpy(tbs + len, cdh, 32);
	tcrypto_sha256(tbs, len + 32, hash);
	siglen = tcrypto_p256_sign(sk, hash, sig);
	if (siglen == 0)
		return CTAP1_ERR_OTHER;
	cbor_put_map(out, 3);
	cbor_put_uint(out, 1);
	cbor_put_text(out, "packed");
	cbor_put_uint(out, 2);
	cbor_put_bytes(out, ad, len);
	cbor_put_uint(out, 3);
	cbor_put_map(out, 2);
	cbor_put_text(out, "alg");
	cbor_put_int(out, -7);
	cbor_put_text(out, "sig");
	cbor_put_bytes(out, sig, siglen);
	return 0;
}

int ctap2_make_credential(const uint8_t *req, size_t len, struct cbor_enc *out)
{
	struct mc_req r;
	struct ctap2_opts o = {0, 1, 0, 0};
	struct ctap2_cred cred;
	uint8_t rp_id_hash[32], pub[65], id[STORE_CRED_ID_LEN], level = 0, ad[MC_AD_MAX];
	uint32_t counter;
	int rc, uv;

	rc = mc_parse(req, len, &r, &o, &level);
	if (rc)
		return rc;
	tcrypto_sha256(r.rp_id.ptr, (size_t)r.rp_id.val, rp_id_hash);
	rc = mc_authorise(&r, rp_id_hash, &uv);
	if (rc)
		return rc;

	/* the credential: a new key, sealed into its ID, kept if discoverable */
	memset(&cred, 0, sizeof(cred));
	rc = tcrypto_p256_keygen(cred.sk, pub);
	if (rc == 0) {
		cred.cred_protect = level;
		cred.rk = (uint8_t)o.rk;
		rc = ctap2_wrap(&cred, rp_id_hash, id);
	}
	if (rc == 0 && o.rk)
		rc = store_rk(&r, rp_id_hash, id, level);
	if (rc == 0)
		rc = store_counter_next(&counter);
	if (rc == 0) {
		len = mc_auth_data(ad, sizeof(ad), rp_id_hash, uv, counter, id, pub, level);
		rc = len == 0 ? CTAP1_ERR_OTHER : mc_attest(out, ad, len, r.cdh.ptr, cred.sk);
	}
	store_wipe(&cred, sizeof(cred));
	return rc;
}
