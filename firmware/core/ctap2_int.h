/*
 * ctap2_int.h: declarations shared by the CTAP2 files of the token core. Layers, each
 * calling only those below it: the dispatcher (ctap2.c); the commands (ctap2_cred.c,
 * ctap2_assert.c, ctap2_pin.c, u2f.c); request parsing (ctap2_parse.c) and credential IDs
 * (ctap2_credid.c). Not for boards.
 */
#ifndef PCL_CTAP2_INT_H
#define PCL_CTAP2_INT_H

#include <stddef.h>
#include <stdint.h>

#include "cbor.h"
#include "store.h"
#include "token.h"

#define CTAP2_MAKE_CREDENTIAL	 0x01
#define CTAP2_GET_ASSERTION	 0x02
#define CTAP2_GET_INFO		 0x04
#define CTAP2_CLIENT_PIN	 0x06
#define CTAP2_RESET		 0x07
#define CTAP2_GET_NEXT_ASSERTION 0x08
#define CTAP2_SELECTION		 0x0b

#define CTAP2_PERM_MC 0x01
#define CTAP2_PERM_GA 0x02

#define FLAG_UP 0x01
#define FLAG_UV 0x04
#define FLAG_AT 0x40
#define FLAG_ED 0x80

extern const uint8_t ctap2_aaguid[16];
extern struct token_config ctap2_config;

/* A credential as carried in its ID: the private key and its policy. */
struct ctap2_cred {
	uint8_t sk[32];
	uint8_t cred_protect;
	uint8_t rk;
	uint8_t reserved;
};

/* ctap2_credid.c. Seal cred under the master secret, bound to rp_id_hash, into
 * id[STORE_CRED_ID_LEN]. */
int ctap2_wrap(const struct ctap2_cred *cred, const uint8_t rp_id_hash[32], uint8_t *id);
/* Open an ID; 0 when it is ours and bound to rp_id_hash, -1 otherwise. */
int ctap2_unwrap(const uint8_t *id, size_t len, const uint8_t rp_id_hash[32],
		 struct ctap2_cred *cred);

/* ctap2_parse.c. Iterate a map with unsigned keys: calls fn for each key with the decoder at the
 * value. fn must consume exactly the value. Returns 0 or a CTAP status. */
typedef int (*ctap2_field_fn)(void *ctx, uint64_t key, struct cbor_dec *d);
int ctap2_parse_map(const uint8_t *buf, size_t len, ctap2_field_fn fn, void *ctx);
/* Read one item of the given major type (CTAP2_ERR_CBOR_UNEXPECTED_TYPE otherwise). */
int ctap2_get(struct cbor_dec *d, uint8_t major, struct cbor_item *it);
int ctap2_get_bool(struct cbor_dec *d, int *b);
/* Take a whole item of the given major type as raw bytes for later parsing. */
int ctap2_get_raw(struct cbor_dec *d, uint8_t major, const uint8_t **p, size_t *n);

#define HAVE_CDH       0x01
#define HAVE_RP	       0x02
#define HAVE_USER      0x04
#define HAVE_PARAMS    0x08
#define HAVE_PIN_PARAM 0x10
#define HAVE_PIN_PROTO 0x20

/* Walk a text-keyed map, calling fn(ctx, key, d) for each entry (unknown keys: fn leaves
 * the value unread and it is skipped). */
typedef int (*ctap2_text_field_fn)(void *ctx, const struct cbor_item *key, struct cbor_dec *d);
int ctap2_parse_text_map(struct cbor_dec *d, ctap2_text_field_fn fn, void *ctx);

struct ctap2_opts {
	int rk, up, uv;
	int has_up;
};
int ctap2_parse_opts(const uint8_t *p, size_t n, struct ctap2_opts *o);

/* Iterate an array of PublicKeyCredentialDescriptors; fn gets each "id". */
typedef int (*ctap2_desc_fn)(void *ctx, const struct cbor_item *id);
int ctap2_each_desc(const uint8_t *p, size_t n, ctap2_desc_fn fn, void *ctx);

/* ctap2_pin.c: pinUvAuthParam handling shared by MC and GA: 0 with *uv set, or a CTAP status. */
int ctap2_pin_gate(uint32_t have, const struct cbor_item *param, uint64_t proto,
		   const struct cbor_item *cdh, uint8_t perm, const uint8_t *rp_id_hash, int *uv);
/* ctap2_credid.c: the signature counter of authenticator data, big-endian. */
void ctap2_put_be32(uint8_t *p, uint32_t v);

int ctap2_make_credential(const uint8_t *req, size_t len, struct cbor_enc *out);
int ctap2_get_assertion(const uint8_t *req, size_t len, struct cbor_enc *out);
int ctap2_get_next_assertion(struct cbor_enc *out);
void ctap2_assert_forget(void);

void ctap2_pin_init(void);
int ctap2_client_pin(const uint8_t *req, size_t len, struct cbor_enc *out);
/* Check pinUvAuthParam over msg with the current pinUvAuthToken, its permission and its
 * rpId binding. Returns 0 or a CTAP status. */
int ctap2_pin_check(uint64_t proto, const uint8_t *param, size_t plen, const uint8_t *msg,
		    size_t mlen, uint8_t perm, const uint8_t rp_id_hash[32]);

#endif /* PCL_CTAP2_INT_H */
