/*
 * ctap2_pin.c: authenticatorClientPIN (CTAP 2.1 section 6.5) with PIN/UV auth protocols
 * 1 and 2: getPINRetries, getKeyAgreement, setPIN, changePIN, getPinToken and
 * getPinUvAuthTokenUsingPinWithPermissions; the retry counter (8, persistent) and the
 * per-power-cycle limit (3). Linked by the token core. Requests are untrusted; the PIN
 * hash and MACs compare in constant time and secrets are wiped after use.
 */
#include <string.h>

#include "ctap2_int.h"
#include "ctap_status.h"
#include "hal.h"
#include "tcrypto.h"

#define SUB_GET_RETRIES	      1
#define SUB_GET_KEY_AGREEMENT 2
#define SUB_SET_PIN	      3
#define SUB_CHANGE_PIN	      4
#define SUB_GET_PIN_TOKEN     5
#define SUB_GET_TOKEN_PERMS   9
#define PER_BOOT_ATTEMPTS     3

static uint8_t ka_sk[32], ka_pub[TCRYPTO_P256_PUB_LEN];
static uint8_t token[32];
static uint8_t token_perms;
static uint8_t token_rp[32];
static int token_has_rp;
static int token_valid;
static int boot_failures;
static int ka_ok;

struct pin_req {
	uint64_t proto, sub, perms;
	const uint8_t *peer;
	size_t peer_len;
	struct cbor_item param, new_pin, pin_hash, rp_id;
	uint32_t have;
};

#define P_PROTO 0x01
#define P_SUB	0x02
#define P_KEY	0x04
#define P_PARAM 0x08
#define P_NEW	0x10
#define P_HASH	0x20
#define P_PERMS 0x40
#define P_RPID	0x80

static void new_key_agreement(void)
{
	ka_ok = tcrypto_p256_keygen(ka_sk, ka_pub) == 0;
}

static void new_token(void)
{
	token_valid = hal_rng(token, sizeof(token)) == 0;
	token_perms = 0;
	token_has_rp = 0;
}

void ctap2_pin_init(void)
{
	boot_failures = 0;
	new_key_agreement();
	new_token();
}

static int proto_ok(uint64_t p)
{
	return p == 1 || p == 2;
}

/* authenticate(key, msg) per protocol: 16 bytes (1) or 32 bytes (2) of HMAC-SHA-256. */
static int verify(uint64_t proto, const uint8_t *key, size_t klen, const uint8_t *msg, size_t mlen,
		  const uint8_t *msg2, size_t mlen2, const uint8_t *param, size_t plen)
{
	uint8_t mac[32];
	size_t want = proto == 1 ? 16 : 32;
	int ok;

	if (plen != want)
		return 0;
	tcrypto_hmac_sha256_2(key, klen, msg, mlen, msg2, mlen2, mac);
	ok = tcrypto_ct_equal(mac, param, want);
	store_wipe(mac, sizeof(mac));
	return ok;
}

int ctap2_pin_check(uint64_t proto, const uint8_t *param, size_t plen, const uint8_t *msg,
		    size_t mlen, uint8_t perm, const uint8_t rp_id_hash[32])
{
	if (!proto_ok(proto))
		return CTAP1_ERR_INVALID_PARAMETER;
	if (!store_st.pin_set)
		return CTAP2_ERR_PIN_NOT_SET;
	if (!token_valid || !verify(proto, token, sizeof(token), msg, mlen, NULL, 0, param, plen))
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if (!(token_perms & perm))
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if (token_has_rp && !tcrypto_ct_equal(token_rp, rp_id_hash, 32))
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if (!token_has_rp) {
		memcpy(token_rp, rp_id_hash, 32); /* the first use binds the token to the RP */
		token_has_rp = 1;
	}
	return 0;
}

/* COSE_Key of the platform: {1: 2, 3: -25, -1: 1, -2: x, -3: y}. */
static int parse_peer(const uint8_t *p, size_t n, uint8_t pub[TCRYPTO_P256_PUB_LEN])
{
	struct cbor_dec d;
	struct cbor_item m, k, v;
	uint64_t i;
	int have = 0, rc;

	cbor_dec_init(&d, p, n);
	rc = ctap2_get(&d, CBOR_MAP, &m);
	if (rc)
		return rc;
	pub[0] = 0x04;
	for (i = 0; i < m.val; i++) {
		if (cbor_next(&d, &k) != 0 || cbor_next(&d, &v) != 0)
			return CTAP2_ERR_INVALID_CBOR;
		if ((k.major == CBOR_NEGINT && (k.val == 1 || k.val == 2)) &&
		    (v.major != CBOR_BYTES || v.val != 32))
			return CTAP1_ERR_INVALID_PARAMETER;
		if (k.major == CBOR_NEGINT && k.val == 1) { /* -2: x */
			memcpy(pub + 1, v.ptr, 32);
			have |= 1;
		} else if (k.major == CBOR_NEGINT && k.val == 2) { /* -3: y */
			memcpy(pub + 33, v.ptr, 32);
			have |= 2;
		} else if (v.major == CBOR_ARRAY || v.major == CBOR_MAP) {
			return CTAP1_ERR_INVALID_PARAMETER;
		}
	}
	return have == 3 ? 0 : CTAP2_ERR_MISSING_PARAMETER;
}

/* Derive the shared secret: protocol 1: SHA-256(Z) (32 bytes, used as both keys);
 * protocol 2: HMAC key || AES key (64 bytes). */
static int shared_secret(uint64_t proto, const struct pin_req *r, uint8_t out[64])
{
	uint8_t peer[TCRYPTO_P256_PUB_LEN], z[32];
	int rc;

	if (!(r->have & P_KEY))
		return CTAP2_ERR_MISSING_PARAMETER;
	rc = parse_peer(r->peer, r->peer_len, peer);
	if (rc)
		return rc;
	if (!ka_ok || tcrypto_p256_ecdh(ka_sk, peer, z) != 0)
		return CTAP1_ERR_INVALID_PARAMETER;
	if (proto == 1) {
		tcrypto_sha256(z, 32, out);
		memcpy(out + 32, out, 32);
	} else {
		tcrypto_hkdf_sha256(z, 32, "CTAP2 HMAC key", out, 32);
		tcrypto_hkdf_sha256(z, 32, "CTAP2 AES key", out + 32, 32);
	}
	store_wipe(z, sizeof(z));
	return 0;
}

/* decrypt(shared, ct) in place into out; returns plaintext length or 0 when malformed. */
static size_t decrypt(uint64_t proto, const uint8_t ss[64], const uint8_t *ct, size_t len,
		      uint8_t *out, size_t cap)
{
	static const uint8_t zero_iv[16];
	const uint8_t *iv = zero_iv;

	if (proto == 2) {
		if (len < 16)
			return 0;
		iv = ct;
		ct += 16;
		len -= 16;
	}
	if (len == 0 || len % 16 || len > cap)
		return 0;
	memcpy(out, ct, len);
	tcrypto_cbc_decrypt(ss + 32, iv, out, len);
	return len;
}

static size_t encrypt(uint64_t proto, const uint8_t ss[64], const uint8_t *pt, size_t len,
		      uint8_t *out)
{
	uint8_t iv[16] = {0};
	size_t off = 0;

	if (proto == 2) {
		if (hal_rng(iv, sizeof(iv)) != 0)
			return 0;
		memcpy(out, iv, 16);
		off = 16;
	}
	memcpy(out + off, pt, len);
	tcrypto_cbc_encrypt(ss + 32, iv, out + off, len);
	return off + len;
}

static int pin_field(void *ctx, uint64_t key, struct cbor_dec *d)
{
	struct pin_req *r = ctx;
	struct cbor_item it;
	int rc;

	switch (key) {
	case 1:
	case 2:
	case 9:
		rc = ctap2_get(d, CBOR_UINT, &it);
		if (key == 1)
			r->proto = it.val, r->have |= P_PROTO;
		else if (key == 2)
			r->sub = it.val, r->have |= P_SUB;
		else
			r->perms = it.val, r->have |= P_PERMS;
		return rc;
	case 3:
		r->have |= P_KEY;
		return ctap2_get_raw(d, CBOR_MAP, &r->peer, &r->peer_len);
	case 4:
		r->have |= P_PARAM;
		return ctap2_get(d, CBOR_BYTES, &r->param);
	case 5:
		r->have |= P_NEW;
		return ctap2_get(d, CBOR_BYTES, &r->new_pin);
	case 6:
		r->have |= P_HASH;
		return ctap2_get(d, CBOR_BYTES, &r->pin_hash);
	case 10:
		r->have |= P_RPID;
		return ctap2_get(d, CBOR_TEXT, &r->rp_id);
	default:
		return 0;
	}
}

/* Decrypt newPinEnc, check the policy, store the new PIN hash. */
static int set_new_pin(const struct pin_req *r, const uint8_t ss[64])
{
	uint8_t pin[64], h[32];
	size_t n, len, cps = 0, i;
	int rc;

	n = decrypt(r->proto, ss, r->new_pin.ptr, (size_t)r->new_pin.val, pin, sizeof(pin));
	if (n != 64) {
		store_wipe(pin, sizeof(pin));
		return CTAP1_ERR_INVALID_PARAMETER;
	}
	for (len = 0; len < n && pin[len] != 0; len++)
		;
	for (i = 0; i < len; i++)
		cps += (pin[i] & 0xc0) != 0x80; /* count code points, not bytes */
	if (len > 63 || cps < store_st.min_pin_len) {
		store_wipe(pin, sizeof(pin));
		return CTAP2_ERR_PIN_POLICY_VIOLATION;
	}
	tcrypto_sha256(pin, len, h);
	store_wipe(pin, sizeof(pin));
	memcpy(store_st.pin_hash, h, 16);
	store_wipe(h, sizeof(h));
	store_st.pin_set = 1;
	store_st.pin_retries = STORE_PIN_RETRIES;
	rc = store_commit();
	new_token();
	return rc;
}

/* Check pinHashEnc against the stored hash, with both retry limits. */
static int check_pin_hash(const struct pin_req *r, const uint8_t ss[64])
{
	uint8_t h[32];
	size_t n;
	int ok, rc;

	if (!(r->have & P_HASH))
		return CTAP2_ERR_MISSING_PARAMETER;
	if (store_st.pin_retries == 0)
		return CTAP2_ERR_PIN_BLOCKED;
	if (boot_failures >= PER_BOOT_ATTEMPTS)
		return CTAP2_ERR_PIN_AUTH_BLOCKED;
	store_st.pin_retries--; /* counted before the check: a power cut cannot undo it */
	rc = store_commit();
	if (rc)
		return rc;
	n = decrypt(r->proto, ss, r->pin_hash.ptr, (size_t)r->pin_hash.val, h, sizeof(h));
	ok = n == 16 && tcrypto_ct_equal(h, store_st.pin_hash, 16);
	store_wipe(h, sizeof(h));
	if (!ok) {
		boot_failures++;
		new_key_agreement();
		if (store_st.pin_retries == 0)
			return CTAP2_ERR_PIN_BLOCKED;
		if (boot_failures >= PER_BOOT_ATTEMPTS)
			return CTAP2_ERR_PIN_AUTH_BLOCKED;
		return CTAP2_ERR_PIN_INVALID;
	}
	boot_failures = 0;
	store_st.pin_retries = STORE_PIN_RETRIES;
	return store_commit();
}

/* getKeyAgreement: the authenticator's key agreement key, as a COSE key. */
static int key_agreement(struct cbor_enc *out)
{
	if (!ka_ok)
		return CTAP1_ERR_OTHER;
	cbor_put_map(out, 1);
	cbor_put_uint(out, 1);
	cbor_put_map(out, 5);
	cbor_put_uint(out, 1);
	cbor_put_uint(out, 2);
	cbor_put_uint(out, 3);
	cbor_put_int(out, -25); /* ECDH-ES+HKDF-256, as CTAP names it */
	cbor_put_int(out, -1);
	cbor_put_uint(out, 1);
	cbor_put_int(out, -2);
	cbor_put_bytes(out, ka_pub + 1, 32);
	cbor_put_int(out, -3);
	cbor_put_bytes(out, ka_pub + 33, 32);
	return 0;
}

/* setPIN: the first PIN, authenticated under the shared secret. */
static int set_pin(struct pin_req *r, uint8_t ss[64])
{
	int rc;

	if (!(r->have & P_PARAM) || !(r->have & P_NEW))
		return CTAP2_ERR_MISSING_PARAMETER;
	if (store_st.pin_set)
		return CTAP2_ERR_NOT_ALLOWED;
	rc = shared_secret(r->proto, r, ss);
	if (rc)
		return rc;
	if (!verify(r->proto, ss, 32, r->new_pin.ptr, (size_t)r->new_pin.val, NULL, 0, r->param.ptr,
		    (size_t)r->param.val))
		return CTAP2_ERR_PIN_AUTH_INVALID;
	return set_new_pin(r, ss);
}

/* changePIN: the new PIN, given the current one's hash. */
static int change_pin(struct pin_req *r, uint8_t ss[64])
{
	int rc;

	if (!(r->have & P_PARAM) || !(r->have & P_NEW) || !(r->have & P_HASH))
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!store_st.pin_set)
		return CTAP2_ERR_PIN_NOT_SET;
	if (store_st.pin_retries == 0)
		return CTAP2_ERR_PIN_BLOCKED;
	rc = shared_secret(r->proto, r, ss);
	if (rc)
		return rc;
	if (!verify(r->proto, ss, 32, r->new_pin.ptr, (size_t)r->new_pin.val, r->pin_hash.ptr,
		    (size_t)r->pin_hash.val, r->param.ptr, (size_t)r->param.val))
		return CTAP2_ERR_PIN_AUTH_INVALID;
	rc = check_pin_hash(r, ss);
	return rc ? rc : set_new_pin(r, ss);
}

/* getPinToken / getPinUvAuthTokenUsingPinWithPermissions: a fresh token for the PIN's
 * hash, with its permissions (and relying party), sent encrypted. */
static int get_token(struct pin_req *r, struct cbor_enc *out, uint8_t ss[64])
{
	uint8_t enc[48];
	size_t n;
	int rc;

	if (r->sub == SUB_GET_TOKEN_PERMS && (!(r->have & P_PERMS) || r->perms == 0))
		return CTAP2_ERR_MISSING_PARAMETER;
	if (r->sub == SUB_GET_PIN_TOKEN && (r->have & (P_PERMS | P_RPID)))
		return CTAP1_ERR_INVALID_PARAMETER;
	if (r->sub == SUB_GET_TOKEN_PERMS && (r->perms & ~(uint64_t)0xff))
		return CTAP1_ERR_INVALID_PARAMETER;
	if (r->sub == SUB_GET_TOKEN_PERMS &&
	    (r->perms & ~(uint64_t)(CTAP2_PERM_MC | CTAP2_PERM_GA)))
		return CTAP2_ERR_UNAUTHORIZED_PERMISSION;
	if (!store_st.pin_set)
		return CTAP2_ERR_PIN_NOT_SET;
	rc = shared_secret(r->proto, r, ss);
	if (rc)
		return rc;
	rc = check_pin_hash(r, ss);
	if (rc)
		return rc;
	new_token();
	token_perms =
	    r->sub == SUB_GET_PIN_TOKEN ? (CTAP2_PERM_MC | CTAP2_PERM_GA) : (uint8_t)r->perms;
	if (r->have & P_RPID) {
		tcrypto_sha256(r->rp_id.ptr, (size_t)r->rp_id.val, token_rp);
		token_has_rp = 1;
	}
	n = encrypt(r->proto, ss, token, sizeof(token), enc);
	if (n == 0)
		return CTAP1_ERR_OTHER;
	cbor_put_map(out, 1);
	cbor_put_uint(out, 2);
	cbor_put_bytes(out, enc, n);
	store_wipe(enc, sizeof(enc));
	return 0;
}

static int client_pin(struct pin_req *r, struct cbor_enc *out, uint8_t ss[64])
{
	if (!(r->have & P_SUB))
		return CTAP2_ERR_MISSING_PARAMETER;
	if (r->sub == SUB_GET_RETRIES) {
		cbor_put_map(out, 1);
		cbor_put_uint(out, 3);
		cbor_put_uint(out, store_st.pin_retries);
		return 0;
	}
	if (!(r->have & P_PROTO))
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!proto_ok(r->proto))
		return CTAP1_ERR_INVALID_PARAMETER;
	switch (r->sub) {
	case SUB_GET_KEY_AGREEMENT:
		return key_agreement(out);
	case SUB_SET_PIN:
		return set_pin(r, ss);
	case SUB_CHANGE_PIN:
		return change_pin(r, ss);
	case SUB_GET_PIN_TOKEN:
	case SUB_GET_TOKEN_PERMS:
		return get_token(r, out, ss);
	default:
		return CTAP1_ERR_INVALID_PARAMETER;
	}
}

int ctap2_client_pin(const uint8_t *req, size_t len, struct cbor_enc *out)
{
	struct pin_req r;
	uint8_t ss[64];
	int rc;

	memset(&r, 0, sizeof(r));
	rc = ctap2_parse_map(req, len, pin_field, &r);
	if (rc == 0)
		rc = client_pin(&r, out, ss);
	store_wipe(ss, sizeof(ss));
	return rc;
}

/* PIN handling common to MC and GA: returns 0 with *uv set, or a CTAP status. */
int ctap2_pin_gate(uint32_t have, const struct cbor_item *param, uint64_t proto,
		   const struct cbor_item *cdh, uint8_t perm, const uint8_t *rp_id_hash, int *uv)
{
	int rc;

	*uv = 0;
	if (have & HAVE_PIN_PARAM) {
		if (param->val == 0) {
			/* a client probing for a touch (CTAP 2.1 6.1.2 step 1) */
			rc = ctaphid_user_presence();
			if (rc)
				return rc;
			return store_st.pin_set ? CTAP2_ERR_PIN_INVALID : CTAP2_ERR_PIN_NOT_SET;
		}
		if (!(have & HAVE_PIN_PROTO))
			return CTAP2_ERR_MISSING_PARAMETER;
		rc = ctap2_pin_check(proto, param->ptr, (size_t)param->val, cdh->ptr,
				     (size_t)cdh->val, perm, rp_id_hash);
		if (rc)
			return rc;
		*uv = 1;
	}
	return 0;
}
