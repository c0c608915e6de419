/*
 * store.h: the token's persistent state on the HAL flash: master secret, PIN hash and
 * retries, discoverable credential slots (a double-buffered, checksummed record) and the
 * signature counter (wear-levelled over its own pages, never repeats across power loss).
 * Linked by the token core. Flash contents are trusted only after their checksum.
 */
#ifndef PCL_STORE_H
#define PCL_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_RK_SLOTS	    8
#define STORE_CRED_ID_LEN   64 /* version | nonce(12) | sealed(35) | tag(16) */
#define STORE_USER_ID_MAX   64
#define STORE_USER_NAME_MAX 64
#define STORE_PIN_RETRIES   8

struct store_rk {
	uint8_t used;
	uint8_t cred_protect;
	uint8_t user_id_len;
	uint8_t user_name_len;
	uint32_t seq; /* creation order: newest first in GetAssertion */
	uint8_t rp_id_hash[32];
	uint8_t cred_id[STORE_CRED_ID_LEN];
	uint8_t user_id[STORE_USER_ID_MAX];
	uint8_t user_name[STORE_USER_NAME_MAX];
};

struct store_state {
	uint8_t master[32]; /* wraps credential keys; never leaves the token */
	uint8_t pin_hash[16];
	uint8_t pin_set;
	uint8_t pin_retries;
	uint8_t min_pin_len;
	uint8_t pad;
	uint32_t rk_seq;
	struct store_rk rk[STORE_RK_SLOTS];
};

/* The state in RAM; store_commit() makes changes persistent. */
extern struct store_state store_st;

/* Load the state and counter from flash, creating a fresh state (new master secret) if
 * none is valid. Returns 0 or a CTAP status (CTAP1_ERR_OTHER: flash or RNG failure). */
int store_init(void);
/* Write store_st atomically (power loss keeps the old or the new state, never a mix). */
int store_commit(void);
/* Factory state: new master secret, no PIN, no credentials. The counter keeps counting. */
int store_reset(void);
/* Advance the signature counter and return its new value; the value is on flash before
 * it is returned. Returns 0 or a CTAP status; fails closed after any flash error. */
int store_counter_next(uint32_t *value);
uint32_t store_counter_peek(void);
/* Overwrite secret memory so the compiler cannot elide it. */
void store_wipe(void *p, size_t n);

#endif /* PCL_STORE_H */
