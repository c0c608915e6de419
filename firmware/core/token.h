/*
 * token.h: the entry points a board (or the host simulator) calls to run the token core,
 * and the internal interfaces between the core's layers. Linked by every token build.
 */
#ifndef PCL_TOKEN_H
#define PCL_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define CTAPHID_MAX_MSG 1200 /* largest CTAPHID message, also GetInfo maxMsgSize */

struct token_config {
	uint32_t up_timeout_ms;	  /* how long to wait for a touch (CTAP: 30 s) */
	uint32_t reset_window_ms; /* authenticatorReset only this long after power-up */
};

/* Power-up: load the store, make the PIN key agreement key and token. Returns 0 or a
 * CTAP status; on failure the board shows HAL_LED_ERROR and answers nothing. */
int token_init(const struct token_config *cfg);
/* Wait up to timeout_ms for a report and handle it (the board's main loop calls this
 * forever). While a message is incomplete it waits no longer than the CTAPHID limit
 * between packets, counted from the message's last packet. Returns 0, or a negative
 * value when hal_usb_recv failed. */
int token_poll(uint32_t timeout_ms);

/* ---- between layers (not for boards) ---- */

/* Ask for a touch on the channel being served, sending KEEPALIVE(UPNEEDED) and honouring
 * CANCEL. Returns 0, CTAP2_ERR_KEEPALIVE_CANCEL or CTAP2_ERR_USER_ACTION_TIMEOUT. */
int ctaphid_user_presence(void);

/* One CTAP2 request (command byte + CBOR); writes status byte + CBOR, returns its length. */
size_t ctap2_request(const uint8_t *req, size_t len, uint8_t *resp, size_t cap);
/* One CTAP1/U2F APDU; writes response data + status word, returns its length. */
size_t u2f_request(const uint8_t *apdu, size_t len, uint8_t *resp, size_t cap);
int ctap2_init(const struct token_config *cfg);

#endif /* PCL_TOKEN_H */
