/*
 * cbor.c: canonical CBOR encoder and validating decoder for the token core.
 * Linked by the token core (simulator and firmware). The decoder's input is untrusted
 * (CTAP requests from the USB host): every length is checked against the buffer end,
 * nesting is bounded, and non-canonical or indefinite encodings are refused.
 */
#include <string.h>

#include "cbor.h"
#include "ctap_status.h"

void cbor_enc_init(struct cbor_enc *e, uint8_t *buf, size_t cap)
{
	e->buf = buf;
	e->cap = cap;
	e->len = 0;
	e->err = 0;
}

static void put(struct cbor_enc *e, const void *p, size_t n)
{
	if (e->err || n > e->cap - e->len) {
		e->err = 1;
		return;
	}
	if (n)
		memcpy(e->buf + e->len, p, n);
	e->len += n;
}

static void put_head(struct cbor_enc *e, uint8_t major, uint64_t v)
{
	uint8_t h[9];
	size_t n, i;

	if (v < 24) {
		h[0] = (uint8_t)(major << 5 | v);
		n = 1;
	} else if (v <= 0xff) {
		h[0] = (uint8_t)(major << 5 | 24);
		n = 2;
	} else if (v <= 0xffff) {
		h[0] = (uint8_t)(major << 5 | 25);
		n = 3;
	} else if (v <= 0xffffffffu) {
		h[0] = (uint8_t)(major << 5 | 26);
		n = 5;
	} else {
		h[0] = (uint8_t)(major << 5 | 27);
		n = 9;
	}
	for (i = 1; i < n; i++)
		h[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	put(e, h, n);
}

void cbor_put_uint(struct cbor_enc *e, uint64_t v)
{
	put_head(e, CBOR_UINT, v);
}

void cbor_put_int(struct cbor_enc *e, int64_t v)
{
	if (v >= 0)
		put_head(e, CBOR_UINT, (uint64_t)v);
	else
		put_head(e, CBOR_NEGINT, (uint64_t)(-1 - v));
}

void cbor_put_bytes(struct cbor_enc *e, const void *p, size_t n)
{
	put_head(e, CBOR_BYTES, n);
	put(e, p, n);
}

void cbor_put_textn(struct cbor_enc *e, const void *s, size_t n)
{
	put_head(e, CBOR_TEXT, n);
	put(e, s, n);
}

void cbor_put_text(struct cbor_enc *e, const char *s)
{
	cbor_put_textn(e, s, strlen(s));
}

void cbor_put_array(struct cbor_enc *e, size_t n)
{
	put_head(e, CBOR_ARRAY, n);
}

void cbor_put_map(struct cbor_enc *e, size_t n)
{
	put_head(e, CBOR_MAP, n);
}

void cbor_put_bool(struct cbor_enc *e, int b)
{
	put_head(e, CBOR_SIMPLE, b ? CBOR_TRUE : CBOR_FALSE);
}

void cbor_put_raw(struct cbor_enc *e, const void *p, size_t n)
{
	put(e, p, n);
}

void cbor_dec_init(struct cbor_dec *d, const uint8_t *buf, size_t len)
{
	d->p = buf;
	d->end = buf + len;
}

/* Read a head; *canon is cleared when the argument was not in shortest form. */
static int read_head(struct cbor_dec *d, struct cbor_item *it, int *canon)
{
	uint8_t ib, ai;
	size_t n, i;
	uint64_t v = 0;

	if (d->p >= d->end)
		return CTAP1_ERR_INVALID_LENGTH;
	ib = *d->p++;
	it->major = ib >> 5;
	ai = ib & 0x1f;
	it->ptr = NULL;
	if (ai < 24) {
		it->val = ai;
		return 0;
	}
	if (ai > 27)
		return CTAP2_ERR_INVALID_CBOR; /* indefinite lengths and reserved values */
	n = (size_t)1 << (ai - 24);
	if ((size_t)(d->end - d->p) < n)
		return CTAP1_ERR_INVALID_LENGTH;
	for (i = 0; i < n; i++)
		v = v << 8 | d->p[i];
	d->p += n;
	it->val = v;
	if (it->major == CBOR_SIMPLE) {
		/* floats (25..27) are not canonical CTAP input; one-byte simple < 32 is invalid */
		if (ai != 24 || v < 32)
			*canon = 0;
		return 0;
	}
	if ((ai == 24 && v < 24) || (ai == 25 && v <= 0xff) || (ai == 26 && v <= 0xffff) ||
	    (ai == 27 && v <= 0xffffffffu))
		*canon = 0;
	return 0;
}

int cbor_next(struct cbor_dec *d, struct cbor_item *it)
{
	int canon = 1, rc;

	rc = read_head(d, it, &canon);
	if (rc)
		return CTAP2_ERR_INVALID_CBOR;
	if (it->major == CBOR_BYTES || it->major == CBOR_TEXT) {
		if (it->val > (uint64_t)(d->end - d->p))
			return CTAP2_ERR_INVALID_CBOR;
		it->ptr = d->p;
		d->p += it->val;
	}
	return 0;
}

/* Length-first canonical order of two encoded keys: <0, 0, >0 like memcmp. */
static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

static int validate_item(struct cbor_dec *d, int depth, int max_depth)
{
	struct cbor_item it;
	int canon = 1, rc;
	uint64_t i;

	rc = read_head(d, &it, &canon);
	if (rc)
		return rc;
	if (!canon)
		return CTAP2_ERR_INVALID_CBOR;
	switch (it.major) {
	case CBOR_UINT:
	case CBOR_NEGINT:
		return 0;
	case CBOR_BYTES:
	case CBOR_TEXT:
		if (it.val > (uint64_t)(d->end - d->p))
			return CTAP1_ERR_INVALID_LENGTH;
		d->p += it.val;
		return 0;
	case CBOR_ARRAY:
		if (depth >= max_depth)
			return CTAP2_ERR_INVALID_CBOR;
		if (it.val > (uint64_t)(d->end - d->p))
			return CTAP1_ERR_INVALID_LENGTH; /* each element takes a byte at least */
		for (i = 0; i < it.val; i++) {
			rc = validate_item(d, depth + 1, max_depth);
			if (rc)
				return rc;
		}
		return 0;
	case CBOR_MAP: {
		const uint8_t *prev = NULL;
		size_t prevlen = 0;

		if (depth >= max_depth)
			return CTAP2_ERR_INVALID_CBOR;
		if (it.val > (uint64_t)(d->end - d->p) / 2)
			return CTAP1_ERR_INVALID_LENGTH;
		for (i = 0; i < it.val; i++) {
			const uint8_t *k = d->p;
			size_t klen;

			rc = validate_item(d, depth + 1, max_depth);
			if (rc)
				return rc;
			klen = (size_t)(d->p - k);
			if (prev && key_cmp(prev, prevlen, k, klen) >= 0)
				return CTAP2_ERR_INVALID_CBOR; /* duplicate or out of order */
			prev = k;
			prevlen = klen;
			rc = validate_item(d, depth + 1, max_depth);
			if (rc)
				return rc;
		}
		return 0;
	}
	case CBOR_TAG:
		return CTAP2_ERR_INVALID_CBOR;
	default: /* simple: only false, true, null, undefined */
		if (it.val < CBOR_FALSE || it.val > 23)
			return CTAP2_ERR_INVALID_CBOR;
		return 0;
	}
}

int cbor_validate(const uint8_t *buf, size_t len, int max_depth)
{
	struct cbor_dec d;
	int rc;

	cbor_dec_init(&d, buf, len);
	rc = validate_item(&d, 0, max_depth);
	if (rc)
		return rc;
	if (d.p != d.end)
		return CTAP2_ERR_INVALID_CBOR; /* trailing bytes */
	return 0;
}

static int skip_item(struct cbor_dec *d, int depth)
{
	struct cbor_item it;
	uint64_t i, n;
	int rc;

	if (depth > CBOR_MAX_DEPTH + 1)
		return CTAP2_ERR_INVALID_CBOR;
	rc = cbor_next(d, &it);
	if (rc)
		return rc;
	if (it.major == CBOR_ARRAY || it.major == CBOR_MAP) {
		n = it.major == CBOR_MAP ? 2 * it.val : it.val;
		if (it.val > (uint64_t)(d->end - d->p))
			return CTAP2_ERR_INVALID_CBOR;
		for (i = 0; i < n; i++) {
			rc = skip_item(d, depth + 1);
			if (rc)
				return rc;
		}
	} else if (it.major == CBOR_TAG) {
		return CTAP2_ERR_INVALID_CBOR;
	}
	return 0;
}

int cbor_skip(struct cbor_dec *d)
{
	return skip_item(d, 0);
}

int cbor_raw(struct cbor_dec *d, const uint8_t **start, size_t *len)
{
	const uint8_t *s = d->p;
	int rc = cbor_skip(d);

	if (rc)
		return rc;
	*start = s;
	*len = (size_t)(d->p - s);
	return 0;
}

int cbor_text_is(const struct cbor_item *it, const char *s)
{
	size_t n = strlen(s);

	return it->major == CBOR_TEXT && it->val == n && memcmp(it->ptr, s, n) == 0;
}
