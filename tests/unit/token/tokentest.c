/*
 * tokentest.c: CTAPHID message helpers for the token unit tests (see tokentest.h).
 * Linked by the token unit tests only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ctap_status.h"
#include "token.h"
#include "tokentest.h"

static const struct token_config cfg = {.up_timeout_ms = 2000, .reset_window_ms = 10000};

void tt_boot(void)
{
	thal_reset(4096, 16, 4);
	assert_int_equal(token_init(&cfg), 0);
}

int tt_reboot(void)
{
	thal_power_cycle();
	return token_init(&cfg);
}

void tt_packet(uint8_t *pkt, uint32_t cid, uint8_t cmd_or_seq)
{
	memset(pkt, 0, 64);
	pkt[0] = (uint8_t)(cid >> 24);
	pkt[1] = (uint8_t)(cid >> 16);
	pkt[2] = (uint8_t)(cid >> 8);
	pkt[3] = (uint8_t)cid;
	pkt[4] = cmd_or_seq;
}

void tt_send(uint32_t cid, uint8_t cmd, const uint8_t *data, size_t len, uint64_t at_ms)
{
	uint8_t pkt[64];
	size_t off, n;
	uint8_t seq = 0;

	tt_packet(pkt, cid, cmd);
	pkt[5] = (uint8_t)(len >> 8);
	pkt[6] = (uint8_t)len;
	n = len < 57 ? len : 57;
	if (n)
		memcpy(pkt + 7, data, n);
	thal_push_at(pkt, at_ms);
	for (off = n; off < len; off += n) {
		tt_packet(pkt, cid, seq++);
		n = len - off < 59 ? len - off : 59;
		memcpy(pkt + 5, data + off, n);
		thal_push_at(pkt, at_ms);
	}
}

void tt_run(void)
{
	int i;

	for (i = 0; i < 200; i++)
		assert_int_equal(token_poll(10), 0);
}

int tt_recv(uint32_t *cid, uint8_t *buf, size_t cap, size_t *len, int *keepalives)
{
	uint8_t pkt[64];
	size_t bcnt, got, n;
	uint8_t seq = 0;
	int cmd;

	for (;;) {
		if (!thal_pop(pkt))
			return -1;
		if (pkt[4] == CTAPHID_KEEPALIVE) {
			if (keepalives)
				(*keepalives)++;
			continue;
		}
		break;
	}
	assert_true(pkt[4] & 0x80);
	cmd = pkt[4];
	*cid = (uint32_t)pkt[0] << 24 | (uint32_t)pkt[1] << 16 | (uint32_t)pkt[2] << 8 | pkt[3];
	bcnt = (size_t)pkt[5] << 8 | pkt[6];
	assert_true(bcnt <= cap);
	n = bcnt < 57 ? bcnt : 57;
	memcpy(buf, pkt + 7, n);
	for (got = n; got < bcnt; got += n) {
		assert_true(thal_pop(pkt));
		assert_int_equal(pkt[4], seq++);
		n = bcnt - got < 59 ? bcnt - got : 59;
		memcpy(buf + got, pkt + 5, n);
	}
	*len = bcnt;
	return cmd;
}

uint32_t tt_channel(void)
{
	uint8_t nonce[8] = {1, 2, 3, 4, 5, 6, 7, 8}, r[64];
	uint32_t cid;
	size_t len;

	tt_send(CTAPHID_BROADCAST_CID, CTAPHID_INIT, nonce, 8, 0);
	tt_run();
	assert_int_equal(tt_recv(&cid, r, sizeof(r), &len, NULL), CTAPHID_INIT);
	assert_int_equal(cid, CTAPHID_BROADCAST_CID);
	assert_int_equal(len, 17);
	assert_memory_equal(r, nonce, 8);
	return (uint32_t)r[8] << 24 | (uint32_t)r[9] << 16 | (uint32_t)r[10] << 8 | r[11];
}

size_t tt_ctap2(uint32_t cid, const uint8_t *req, size_t len, uint8_t *resp, size_t cap)
{
	uint32_t rcid;
	size_t n;
	int cmd;

	tt_send(cid, CTAPHID_CBOR, req, len, thal_now);
	tt_run();
	cmd = tt_recv(&rcid, resp, cap, &n, NULL);
	assert_int_equal(rcid, cid);
	if (cmd == CTAPHID_ERROR) {
		fail_msg("CTAPHID error 0x%02x", resp[0]);
	}
	assert_int_equal(cmd, CTAPHID_CBOR);
	return n;
}
