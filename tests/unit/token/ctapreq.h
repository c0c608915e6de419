/*
 * ctapreq.h - CTAP2 requests built with the core's own CBOR encoder, shared by the
 * token's unit tests and its benchmark. Test code only.
 */
#ifndef PCL_TOKEN_CTAPREQ_H
#define PCL_TOKEN_CTAPREQ_H

#include <stddef.h>
#include <stdint.h>

/* authenticatorMakeCredential (command byte included): client data hash, rp id, user
 * "u", ES256. Returns the length, or 0 when it did not fit in cap. */
size_t ctapreq_make_credential(uint8_t *buf, size_t cap, const uint8_t cdh[32], const char *rp_id);
/* The same for user id `user` (its bytes), a resident credential (option rk). */
size_t ctapreq_make_resident(uint8_t *buf, size_t cap, const uint8_t cdh[32], const char *rp_id,
			     const char *user);

#endif
