/*
 * ctap2_parse.c: the request parsing every CTAP2 command shares: typed items, maps with
 * unsigned or text keys, raw sub-items kept for later, the options map and arrays of
 * credential descriptors. Linked by the token core. Requests are untrusted host bytes:
 * validated as canonical CBOR (ctap2_parse_map) before any field is read, and every
 * item's type is checked here. Calls nothing of the command files.
 */
#include "ctap2_int.h"
#include "ctap_status.h"

int ctap2_get(struct cbor_dec *d, uint8_t major, struct cbor_item *it)
{
	if (cbor_next(d, it) != 0)
		return CTAP2_ERR_INVALID_CBOR;
	if (it->major != major)
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	return 0;
}

int ctap2_get_bool(struct cbor_dec *d, int *b)
{
	struct cbor_item it;
	int rc = ctap2_get(d, CBOR_SIMPLE, &it);

	if (rc)
		return rc;
	if (it.val != CBOR_TRUE && it.val != CBOR_FALSE)
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	*b = it.val == CBOR_TRUE;
	return 0;
}

int ctap2_parse_map(const uint8_t *buf, size_t len, ctap2_field_fn fn, void *ctx)
{
	struct cbor_dec d;
	struct cbor_item it, key;
	uint64_t i;
	int rc;

	rc = cbor_validate(buf, len, CBOR_MAX_DEPTH);
	if (rc)
		return rc;
	cbor_dec_init(&d, buf, len);
	rc = ctap2_get(&d, CBOR_MAP, &it);
	if (rc)
		return rc;
	for (i = 0; i < it.val; i++) {
		const uint8_t *before;

		if (cbor_next(&d, &key) != 0)
			return CTAP2_ERR_INVALID_CBOR;
		if (key.major != CBOR_UINT)
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		before = d.p;
		rc = fn(ctx, key.val, &d);
		if (rc)
			return rc;
		if (d.p == before && cbor_skip(&d) != 0) /* unknown key: ignored */
			return CTAP2_ERR_INVALID_CBOR;
	}
	return 0;
}

int ctap2_parse_text_map(struct cbor_dec *d, ctap2_text_field_fn fn, void *ctx)
{
	struct cbor_item it, key;
	uint64_t i;
	int rc;

	rc = ctap2_get(d, CBOR_MAP, &it);
	if (rc)
		return rc;
	for (i = 0; i < it.val; i++) {
		const uint8_t *before;

		rc = ctap2_get(d, CBOR_TEXT, &key);
		if (rc)
			return rc;
		before = d->p;
		rc = fn(ctx, &key, d);
		if (rc)
			return rc;
		if (d->p == before && cbor_skip(d) != 0)
			return CTAP2_ERR_INVALID_CBOR;
	}
	return 0;
}

int ctap2_get_raw(struct cbor_dec *d, uint8_t major, const uint8_t **p, size_t *n)
{
	struct cbor_dec peek = *d;
	struct cbor_item it;
	int rc = ctap2_get(&peek, major, &it);

	if (rc)
		return rc;
	return cbor_raw(d, p, n);
}

static int opt_field(void *ctx, const struct cbor_item *key, struct cbor_dec *d)
{
	struct ctap2_opts *o = ctx;

	if (cbor_text_is(key, "rk"))
		return ctap2_get_bool(d, &o->rk);
	if (cbor_text_is(key, "up")) {
		o->has_up = 1;
		return ctap2_get_bool(d, &o->up);
	}
	if (cbor_text_is(key, "uv"))
		return ctap2_get_bool(d, &o->uv);
	return 0;
}

int ctap2_parse_opts(const uint8_t *p, size_t n, struct ctap2_opts *o)
{
	struct cbor_dec d;

	if (!p)
		return 0;
	cbor_dec_init(&d, p, n);
	return ctap2_parse_text_map(&d, opt_field, o);
}

struct desc_ctx {
	struct cbor_item id;
	int has_id;
};

static int desc_field(void *ctx, const struct cbor_item *key, struct cbor_dec *d)
{
	struct desc_ctx *c = ctx;
	struct cbor_item it;

	if (cbor_text_is(key, "id")) {
		c->has_id = 1;
		return ctap2_get(d, CBOR_BYTES, &c->id);
	}
	if (cbor_text_is(key, "type"))
		return ctap2_get(d, CBOR_TEXT, &it);
	return 0;
}

int ctap2_each_desc(const uint8_t *p, size_t n, ctap2_desc_fn fn, void *ctx)
{
	struct cbor_dec d;
	struct cbor_item arr;
	struct desc_ctx c;
	uint64_t i;
	int rc;

	cbor_dec_init(&d, p, n);
	rc = ctap2_get(&d, CBOR_ARRAY, &arr);
	for (i = 0; rc == 0 && i < arr.val; i++) {
		c.has_id = 0;
		rc = ctap2_parse_text_map(&d, desc_field, &c);
		if (rc == 0 && !c.has_id)
			rc = CTAP2_ERR_MISSING_PARAMETER;
		if (rc == 0)
			rc = fn(ctx, &c.id);
	}
	return rc;
}
