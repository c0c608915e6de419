/*
 * cbor.h: a small canonical CBOR (RFC 8949, CTAP2 canonical form) encoder and decoder for
 * the token core. Linked by the token core (simulator and firmware). The decoder reads
 * untrusted bytes from the USB host: cbor_validate() checks a whole request once, then
 * cbor_next()/cbor_skip() walk it. No allocation; C99 freestanding.
 */
#ifndef PCL_CBOR_H
#define PCL_CBOR_H

#include <stddef.h>
#include <stdint.h>

#define CBOR_UINT   0
#define CBOR_NEGINT 1
#define CBOR_BYTES  2
#define CBOR_TEXT   3
#define CBOR_ARRAY  4
#define CBOR_MAP    5
#define CBOR_TAG    6
#define CBOR_SIMPLE 7

#define CBOR_FALSE 20
#define CBOR_TRUE  21
#define CBOR_NULL  22

#define CBOR_MAX_DEPTH 4 /* CTAP2: maps and arrays nest at most four deep */

/* Encoder: writes into a caller buffer; on overflow sets err and stops writing. */
struct cbor_enc {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;
};

void cbor_enc_init(struct cbor_enc *e, uint8_t *buf, size_t cap);
void cbor_put_uint(struct cbor_enc *e, uint64_t v);
void cbor_put_int(struct cbor_enc *e, int64_t v);
void cbor_put_bytes(struct cbor_enc *e, const void *p, size_t n);
void cbor_put_text(struct cbor_enc *e, const char *s);
void cbor_put_textn(struct cbor_enc *e, const void *s, size_t n);
void cbor_put_array(struct cbor_enc *e, size_t n);
void cbor_put_map(struct cbor_enc *e, size_t n);
void cbor_put_bool(struct cbor_enc *e, int b);
/* Append bytes that are already CBOR (e.g. a stored COSE key). */
void cbor_put_raw(struct cbor_enc *e, const void *p, size_t n);

/* One decoded item head. For BYTES/TEXT, ptr/val give the content and length; for
 * ARRAY/MAP, val is the element (pair) count; for UINT, val; for NEGINT, -1 - val;
 * for SIMPLE, val is the simple value. */
struct cbor_item {
	uint8_t major;
	uint64_t val;
	const uint8_t *ptr;
};

struct cbor_dec {
	const uint8_t *p;
	const uint8_t *end;
};

/* Check that buf holds exactly one well-formed item in CTAP2 canonical form: shortest
 * heads, definite lengths, no tags, map keys strictly ascending (so no duplicates),
 * nesting at most max_depth. Returns 0 or a CTAP status (CTAP2_ERR_INVALID_CBOR,
 * CTAP1_ERR_INVALID_LENGTH for truncation). */
int cbor_validate(const uint8_t *buf, size_t len, int max_depth);

void cbor_dec_init(struct cbor_dec *d, const uint8_t *buf, size_t len);
/* Read one head (and the content of strings). Returns 0 or CTAP2_ERR_INVALID_CBOR. */
int cbor_next(struct cbor_dec *d, struct cbor_item *it);
/* Skip one complete item. Returns 0 or CTAP2_ERR_INVALID_CBOR. */
int cbor_skip(struct cbor_dec *d);
/* Read a whole item and return where it starts and how long it is. */
int cbor_raw(struct cbor_dec *d, const uint8_t **start, size_t *len);

/* 1 if it is a text string equal to the NUL-terminated s. */
int cbor_text_is(const struct cbor_item *it, const char *s);

#endif /* PCL_CBOR_H */
