/*
 * tokentest.h: helpers for the token unit tests: drive the core through CTAPHID reports
 * on the test board layer (firmware/host/test_hal.c). Linked by the token unit tests.
 */
#ifndef PCL_TOKENTEST_H
#define PCL_TOKENTEST_H

#include <stddef.h>
#include <stdint.h>

#include "test_hal.h"

/* Fresh token: erased 16 x 4 KiB flash, token_init() with a short presence timeout. */
void tt_boot(void);
/* Power cycle keeping flash, then token_init(). Returns its status. */
int tt_reboot(void);
/* Queue one message as reports (released at at_ms). */
void tt_send(uint32_t cid, uint8_t cmd, const uint8_t *data, size_t len, uint64_t at_ms);
/* Let the core handle everything queued. */
void tt_run(void);
/* Reassemble the next message from the token; keepalives are counted and skipped.
 * Returns the command byte, or -1 when nothing (complete) was sent. */
int tt_recv(uint32_t *cid, uint8_t *buf, size_t cap, size_t *len, int *keepalives);
/* INIT on the broadcast channel; returns the new channel id. */
uint32_t tt_channel(void);
/* One CTAP2 request over CTAPHID_CBOR; returns the response length (status byte first). */
size_t tt_ctap2(uint32_t cid, const uint8_t *req, size_t len, uint8_t *resp, size_t cap);
void tt_packet(uint8_t *pkt, uint32_t cid, uint8_t cmd_or_seq);

#endif
