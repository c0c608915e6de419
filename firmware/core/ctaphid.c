/*
 * ctaphid.c: the CTAPHID transport (CTAP 2.1 section 11.2): channel allocation, message
 * reassembly from 64-byte reports, PING, WINK, CBOR, MSG, CANCEL, KEEPALIVE, ERROR,
 * channel busy, transaction timeout and sequence checks. Linked by the token core.
 * Every report comes from the USB host and is untrusted; lengths are checked before use.
 */
#include <string.h>

#include "ctap_status.h"
#include "hal.h"
#include "token.h"

#define INIT_DATA	57
#define CONT_DATA	59
#define TRANSACTION_MS	500 /* longest gap between packets of one message */
#define KEEPALIVE_MS	100
#define CAPABILITY_WINK 0x01
#define CAPABILITY_CBOR 0x04

static struct {
	int active;
	uint32_t cid;
	uint8_t cmd;
	uint8_t seq;
	uint16_t bcnt;
	uint16_t got;
	uint64_t last_ms;
	uint8_t buf[CTAPHID_MAX_MSG];
} rx;

static uint8_t resp[CTAPHID_MAX_MSG];
static uint32_t next_cid = 1;
static uint32_t busy_cid; /* channel whose request is being processed, 0 when idle */
static struct token_config config;

static uint32_t get_cid(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_cid(uint8_t *p, uint32_t cid)
{
	p[0] = (uint8_t)(cid >> 24);
	p[1] = (uint8_t)(cid >> 16);
	p[2] = (uint8_t)(cid >> 8);
	p[3] = (uint8_t)cid;
}

static int send_msg(uint32_t cid, uint8_t cmd, const uint8_t *data, size_t len)
{
	uint8_t pkt[HAL_REPORT_LEN];
	size_t off = 0, n;
	uint8_t seq = 0;

	memset(pkt, 0, sizeof(pkt));
	put_cid(pkt, cid);
	pkt[4] = cmd;
	pkt[5] = (uint8_t)(len >> 8);
	pkt[6] = (uint8_t)len;
	n = len < INIT_DATA ? len : INIT_DATA;
	if (n)
		memcpy(pkt + 7, data, n);
	off = n;
	if (hal_usb_send(pkt) != 0)
		return -1;
	while (off < len) {
		memset(pkt + 4, 0, sizeof(pkt) - 4);
		pkt[4] = seq++;
		n = len - off < CONT_DATA ? len - off : CONT_DATA;
		memcpy(pkt + 5, data + off, n);
		off += n;
		if (hal_usb_send(pkt) != 0)
			return -1;
	}
	return 0;
}

static void send_error(uint32_t cid, uint8_t code)
{
	send_msg(cid, CTAPHID_ERROR, &code, 1);
}

static int cid_valid(uint32_t cid)
{
	return cid != 0 && cid != CTAPHID_BROADCAST_CID && cid < next_cid;
}

static void handle_init(uint32_t cid, const uint8_t *pkt)
{
	uint8_t r[17];
	uint32_t newcid;

	if ((pkt[5] << 8 | pkt[6]) != 8) {
		send_error(cid, CTAP1_ERR_INVALID_LENGTH);
		return;
	}
	if (cid == CTAPHID_BROADCAST_CID) {
		newcid = next_cid++;
		if (next_cid == CTAPHID_BROADCAST_CID)
			next_cid = 1; /* 4 billion INITs later: reuse */
	} else if (cid_valid(cid)) {
		newcid = cid; /* resynchronise: abort what the channel was sending */
		if (rx.active && rx.cid == cid)
			rx.active = 0;
	} else {
		send_error(cid, CTAP1_ERR_INVALID_CHANNEL);
		return;
	}
	memcpy(r, pkt + 7, 8);
	put_cid(r + 8, newcid);
	r[12] = 2; /* CTAPHID protocol version */
	r[13] = 0; /* device version major, minor, build */
	r[14] = 1;
	r[15] = 0;
	r[16] = CAPABILITY_WINK | CAPABILITY_CBOR;
	send_msg(cid, CTAPHID_INIT, r, sizeof(r));
}

static void dispatch(uint32_t cid, uint8_t cmd, const uint8_t *data, size_t len)
{
	size_t n;

	busy_cid = cid;
	switch (cmd) {
	case CTAPHID_PING:
		send_msg(cid, CTAPHID_PING, data, len);
		break;
	case CTAPHID_WINK:
		if (len != 0) {
			send_error(cid, CTAP1_ERR_INVALID_LENGTH);
			break;
		}
		hal_led(HAL_LED_WINK);
		send_msg(cid, CTAPHID_WINK, NULL, 0);
		break;
	case CTAPHID_CBOR:
		if (len == 0) {
			send_error(cid, CTAP1_ERR_INVALID_LENGTH);
			break;
		}
		hal_led(HAL_LED_ON);
		n = ctap2_request(data, len, resp, sizeof(resp));
		send_msg(cid, CTAPHID_CBOR, resp, n);
		hal_led(HAL_LED_OFF);
		break;
	case CTAPHID_MSG:
		hal_led(HAL_LED_ON);
		n = u2f_request(data, len, resp, sizeof(resp));
		send_msg(cid, CTAPHID_MSG, resp, n);
		hal_led(HAL_LED_OFF);
		break;
	default:
		send_error(cid, CTAP1_ERR_INVALID_COMMAND);
		break;
	}
	memset(resp, 0, sizeof(resp));
	busy_cid = 0;
}

static void handle_packet(const uint8_t *pkt)
{
	uint32_t cid = get_cid(pkt);
	size_t n;

	if (pkt[4] & 0x80) {
		uint8_t cmd = pkt[4];
		uint16_t bcnt = (uint16_t)(pkt[5] << 8 | pkt[6]);

		if (cid == 0) {
			send_error(cid, CTAP1_ERR_INVALID_CHANNEL);
			return;
		}
		if (cmd == CTAPHID_INIT) {
			handle_init(cid, pkt);
			return;
		}
		if (!cid_valid(cid)) {
			send_error(cid, CTAP1_ERR_INVALID_CHANNEL);
			return;
		}
		if (rx.active) {
			if (rx.cid != cid) {
				send_error(cid, CTAP1_ERR_CHANNEL_BUSY);
				return;
			}
			rx.active = 0;
			send_error(cid, CTAP1_ERR_INVALID_SEQ);
			return;
		}
		if (cmd == CTAPHID_CANCEL)
			return; /* nothing to cancel */
		if (bcnt > CTAPHID_MAX_MSG) {
			send_error(cid, CTAP1_ERR_INVALID_LENGTH);
			return;
		}
		n = bcnt < INIT_DATA ? bcnt : INIT_DATA;
		memcpy(rx.buf, pkt + 7, n);
		rx.cid = cid;
		rx.cmd = cmd;
		rx.bcnt = bcnt;
		rx.got = (uint16_t)n;
		rx.seq = 0;
		rx.last_ms = hal_time_ms();
		rx.active = 1;
	} else {
		if (!rx.active || rx.cid != cid)
			return; /* spurious continuation: ignored */
		if (pkt[4] != rx.seq) {
			rx.active = 0;
			send_error(cid, CTAP1_ERR_INVALID_SEQ);
			return;
		}
		n = rx.bcnt - rx.got < CONT_DATA ? rx.bcnt - rx.got : CONT_DATA;
		memcpy(rx.buf + rx.got, pkt + 5, n);
		rx.got = (uint16_t)(rx.got + n);
		rx.seq++;
		rx.last_ms = hal_time_ms();
	}
	if (rx.got == rx.bcnt) {
		rx.active = 0;
		dispatch(rx.cid, rx.cmd, rx.buf, rx.bcnt);
		memset(rx.buf, 0, rx.bcnt);
	}
}

int ctaphid_user_presence(void)
{
	uint8_t pkt[HAL_REPORT_LEN], st = CTAPHID_KEEPALIVE_UPNEEDED;
	uint64_t start = hal_time_ms(), last = 0, now;
	int rc, sent = 0;

	(void)hal_button_poll(); /* a touch from before the request does not count */
	hal_led(HAL_LED_WAIT_UP);
	for (;;) {
		if (hal_button_poll() == 1) {
			rc = 0;
			break;
		}
		now = hal_time_ms();
		if (now - start >= config.up_timeout_ms) {
			rc = CTAP2_ERR_USER_ACTION_TIMEOUT;
			break;
		}
		if (!sent || now - last >= KEEPALIVE_MS) {
			if (send_msg(busy_cid, CTAPHID_KEEPALIVE, &st, 1) != 0) {
				rc = CTAP2_ERR_KEEPALIVE_CANCEL; /* host gone */
				break;
			}
			sent = 1;
			last = now;
		}
		rc = hal_usb_recv(pkt, 20);
		if (rc < 0) {
			rc = CTAP2_ERR_KEEPALIVE_CANCEL;
			break;
		}
		if (rc == 0 || !(pkt[4] & 0x80))
			continue;
		if (get_cid(pkt) == busy_cid) {
			if (pkt[4] == CTAPHID_CANCEL || pkt[4] == CTAPHID_INIT) {
				rc = CTAP2_ERR_KEEPALIVE_CANCEL;
				break;
			}
			continue;
		}
		if (get_cid(pkt) != 0)
			send_error(get_cid(pkt), CTAP1_ERR_CHANNEL_BUSY);
	}
	hal_led(HAL_LED_ON);
	return rc;
}

int token_init(const struct token_config *cfg)
{
	memset(&rx, 0, sizeof(rx));
	next_cid = 1;
	busy_cid = 0;
	config = *cfg;
	hal_led(HAL_LED_OFF);
	return ctap2_init(cfg);
}

/* A message whose previous packet is more than TRANSACTION_MS old is dropped with
 * ERR_MSG_TIMEOUT: whatever arrives for it later is a spurious continuation. */
static void expire_stale_message(void)
{
	if (rx.active && hal_time_ms() - rx.last_ms > TRANSACTION_MS) {
		rx.active = 0;
		memset(rx.buf, 0, rx.got);
		send_error(rx.cid, CTAP1_ERR_TIMEOUT);
	}
}

int token_poll(uint32_t timeout_ms)
{
	uint8_t pkt[HAL_REPORT_LEN];
	uint64_t left;
	int rc;

	expire_stale_message();
	if (rx.active) {
		/* wake up just after the limit, counted from the last packet of the message */
		left = rx.last_ms + TRANSACTION_MS + 1 - hal_time_ms();
		if (timeout_ms > left)
			timeout_ms = (uint32_t)left;
	}
	rc = hal_usb_recv(pkt, timeout_ms);
	if (rc < 0)
		return rc;
	/* the gap is judged before the packet is: a late continuation completes nothing */
	expire_stale_message();
	if (rc > 0)
		handle_packet(pkt);
	return 0;
}
