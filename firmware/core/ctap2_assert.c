/*
 * ctap2_assert.c: authenticatorGetAssertion and authenticatorGetNextAssertion (CTAP 2.1
 * sections 6.2, 6.3): allow-list and discoverable credentials, credProtect policy, user
 * presence, signature counter. Linked by the token core. Requests are untrusted; every
 * field's type and length is checked.
 */
#include <string.h>

#include "ctap2_int.h"
#include "ctap_status.h"
#include "hal.h"
#include "tcrypto.h"

#define GNA_TIMEOUT_MS 30000

struct ga_req {
	struct cbor_item rp_id, cdh, pin_param;
	const uint8_t *allow, *opts;
	size_t allow_len, opts_len;
	uint64_t pin_proto;
	uint32_t have;
};

/* State kept between GetAssertion and GetNextAssertion. */
static struct {
	int active;
	uint8_t count, next;
	uint8_t slot[STORE_RK_SLOTS];
	uint8_t cdh[32];
	uint8_t rp_id_hash[32];
	uint8_t flags;
	uint64_t at_ms;
} gna;

void ctap2_assert_forget(void)
{
	store_wipe(&gna, sizeof(gna));
}

static int ga_field(void *ctx, uint64_t key, struct cbor_dec *d)
{
	struct ga_req *r = ctx;
	struct cbor_item it;
	int rc;

	switch (key) {
	case 1:
		r->have |= HAVE_RP;
		return ctap2_get(d, CBOR_TEXT, &r->rp_id);
	case 2:
		r->have |= HAVE_CDH;
		return ctap2_get(d, CBOR_BYTES, &r->cdh);
	case 3:
		return ctap2_get_raw(d, CBOR_ARRAY, &r->allow, &r->allow_len);
	case 4: { /* extensions: credProtect has no GetAssertion input */
		const uint8_t *p;
		size_t n;

		return ctap2_get_raw(d, CBOR_MAP, &p, &n);
	}
	case 5:
		return ctap2_get_raw(d, CBOR_MAP, &r->opts, &r->opts_len);
	case 6:
		r->have |= HAVE_PIN_PARAM;
		return ctap2_get(d, CBOR_BYTES, &r->pin_param);
	case 7:
		rc = ctap2_get(d, CBOR_UINT, &it);
		r->pin_proto = it.val;
		r->have |= HAVE_PIN_PROTO;
		return rc;
	default:
		return 0;
	}
}

/* credProtect: may this credential be used in this request? */
static int allowed(uint8_t level, int uv, int via_allow_list)
{
	if (level == 3)
		return uv;
	if (level == 2)
		return uv || via_allow_list;
	return 1;
}

struct allow_ctx {
	const uint8_t *rp_id_hash;
	int uv;
	int found;
	uint8_t id[STORE_CRED_ID_LEN];
	struct ctap2_cred cred;
};

static int allow_one(void *ctx, const struct cbor_item *id)
{
	struct allow_ctx *a = ctx;
	struct ctap2_cred c;

	if (a->found)
		return 0;
	if (ctap2_unwrap(id->ptr, (size_t)id->val, a->rp_id_hash, &c) == 0 &&
	    allowed(c.cred_protect, a->uv, 1)) {
		a->found = 1;
		memcpy(a->id, id->ptr, STORE_CRED_ID_LEN);
		a->cred = c;
	}
	store_wipe(&c, sizeof(c));
	return 0;
}

/* Write one assertion response. rk is the slot (or NULL for an allow-list credential). */
static int respond(struct cbor_enc *out, const uint8_t *id, const struct ctap2_cred *cred,
		   const struct store_rk *rk, uint8_t flags, const uint8_t *rp_id_hash,
		   const uint8_t *cdh, int count, int uv)
{
	uint8_t ad[37], tbs[37 + 32], hash[32], sig[TCRYPTO_SIG_MAX];
	uint32_t counter;
	size_t siglen;
	int rc;

	rc = store_counter_next(&counter);
	if (rc)
		return rc;
	memcpy(ad, rp_id_hash, 32);
	ad[32] = flags;
	ctap2_put_be32(ad + 33, counter);
	memcpy(tbs, ad, 37);
	memcpy(tbs + 37, cdh, 32);
	tcrypto_sha256(tbs, sizeof(tbs), hash);
	siglen = tcrypto_p256_sign(cred->sk, hash, sig);
	if (siglen == 0)
		return CTAP1_ERR_OTHER;
	cbor_put_map(out, 3 + (rk != NULL) + (count > 0));
	cbor_put_uint(out, 1);
	cbor_put_map(out, 2);
	cbor_put_text(out, "id");
	cbor_put_bytes(out, id, STORE_CRED_ID_LEN);
	cbor_put_text(out, "type");
	cbor_put_text(out, "public-key");
	cbor_put_uint(out, 2);
	cbor_put_bytes(out, ad, sizeof(ad));
	cbor_put_uint(out, 3);
	cbor_put_bytes(out, sig, siglen);
	if (rk) {
		int name = uv && rk->user_name_len;

		cbor_put_uint(out, 4);
		cbor_put_map(out, 1 + name);
		cbor_put_text(out, "id");
		cbor_put_bytes(out, rk->user_id, rk->user_id_len);
		if (name) {
			cbor_put_text(out, "name");
			cbor_put_textn(out, rk->user_name, rk->user_name_len);
		}
	}
	if (count > 0) {
		cbor_put_uint(out, 5);
		cbor_put_uint(out, (uint64_t)count);
	}
	return 0;
}

static int respond_slot(struct cbor_enc *out, int idx, int count)
{
	const struct store_rk *rk = &store_st.rk[idx];
	struct ctap2_cred c;
	int rc;

	if (ctap2_unwrap(rk->cred_id, STORE_CRED_ID_LEN, rk->rp_id_hash, &c) != 0)
		return CTAP2_ERR_INVALID_CREDENTIAL;
	rc = respond(out, rk->cred_id, &c, rk, gna.flags, gna.rp_id_hash, gna.cdh, count,
		     (gna.flags & FLAG_UV) != 0);
	store_wipe(&c, sizeof(c));
	return rc;
}

int ctap2_get_assertion(const uint8_t *req, size_t len, struct cbor_enc *out)
{
	struct ga_req r;
	struct ctap2_opts o = {0, 1, 0, 0};
	struct allow_ctx a;
	uint8_t rp_id_hash[32];
	int rc, uv, i, j, n = 0;

	memset(&r, 0, sizeof(r));
	rc = ctap2_parse_map(req, len, ga_field, &r);
	if (rc)
		return rc;
	if ((r.have & (HAVE_RP | HAVE_CDH)) != (HAVE_RP | HAVE_CDH))
		return CTAP2_ERR_MISSING_PARAMETER;
	if (r.cdh.val != 32)
		return CTAP1_ERR_INVALID_LENGTH;
	rc = ctap2_parse_opts(r.opts, r.opts_len, &o);
	if (rc)
		return rc;
	if (r.opts && o.rk)
		return CTAP2_ERR_UNSUPPORTED_OPTION;
	if (o.uv)
		return CTAP2_ERR_INVALID_OPTION;
	tcrypto_sha256(r.rp_id.ptr, (size_t)r.rp_id.val, rp_id_hash);
	rc = ctap2_pin_gate(r.have, &r.pin_param, r.pin_proto, &r.cdh, CTAP2_PERM_GA, rp_id_hash,
			    &uv);
	if (rc)
		return rc;

	memset(&a, 0, sizeof(a));
	a.rp_id_hash = rp_id_hash;
	a.uv = uv;
	if (r.allow) {
		rc = ctap2_each_desc(r.allow, r.allow_len, allow_one, &a);
		if (rc)
			return rc;
	} else {
		/* discoverable credentials of this RP, newest first */
		for (i = 0; i < STORE_RK_SLOTS; i++) {
			const struct store_rk *k = &store_st.rk[i];

			if (!k->used || memcmp(k->rp_id_hash, rp_id_hash, 32) != 0 ||
			    !allowed(k->cred_protect, uv, 0))
				continue;
			for (j = n; j > 0 && store_st.rk[gna.slot[j - 1]].seq < k->seq; j--)
				gna.slot[j] = gna.slot[j - 1];
			gna.slot[j] = (uint8_t)i;
			n++;
		}
	}
	if (!a.found && n == 0) {
		ctap2_assert_forget();
		return CTAP2_ERR_NO_CREDENTIALS;
	}
	if (o.up) {
		rc = ctaphid_user_presence();
		if (rc) {
			store_wipe(&a, sizeof(a));
			ctap2_assert_forget();
			return rc;
		}
	}
	gna.flags = (uint8_t)((o.up ? FLAG_UP : 0) | (uv ? FLAG_UV : 0));
	memcpy(gna.rp_id_hash, rp_id_hash, 32);
	memcpy(gna.cdh, r.cdh.ptr, 32);
	if (a.found) {
		rc = respond(out, a.id, &a.cred, NULL, gna.flags, rp_id_hash, gna.cdh, 0, uv);
		store_wipe(&a, sizeof(a));
		ctap2_assert_forget();
		return rc;
	}
	gna.count = (uint8_t)n;
	gna.next = 1;
	gna.active = n > 1;
	gna.at_ms = hal_time_ms();
	rc = respond_slot(out, gna.slot[0], n > 1 ? n : 0);
	if (rc || n == 1)
		ctap2_assert_forget();
	return rc;
}

int ctap2_get_next_assertion(struct cbor_enc *out)
{
	int rc;

	if (!gna.active || gna.next >= gna.count)
		return CTAP2_ERR_NOT_ALLOWED;
	if (hal_time_ms() - gna.at_ms > GNA_TIMEOUT_MS) {
		ctap2_assert_forget();
		return CTAP2_ERR_NOT_ALLOWED;
	}
	gna.at_ms = hal_time_ms();
	rc = respond_slot(out, gna.slot[gna.next++], 0);
	if (rc || gna.next >= gna.count)
		ctap2_assert_forget();
	return rc;
}
