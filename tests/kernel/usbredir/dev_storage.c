/*
 * dev_storage.c: the mass storage side of the sticks pcl-usbredir-dev presents: USB
 * bulk-only transport (command block wrapper, data, status wrapper) over a RAM disk of
 * 512-byte blocks, with the SCSI commands Linux's usb-storage and sd issue to a flash
 * stick: INQUIRY, TEST UNIT READY, REQUEST SENSE, READ CAPACITY(10), MODE SENSE(6/10),
 * PREVENT ALLOW MEDIUM REMOVAL, START STOP UNIT, SYNCHRONIZE CACHE(10), VERIFY(10), READ(10)
 * and WRITE(10); anything else fails with ILLEGAL REQUEST / invalid command. An invalid
 * command block wrapper stalls until the host's bulk-only reset.
 * Linked by pcl-usbredir-dev (a test tool); the bytes come from the guest through QEMU and
 * every length and block range is checked before use.
 */
#include <stdlib.h>
#include <string.h>

#include "urdev_storage.h"

#define BLOCK	  512u
#define CBW_SIG	  0x43425355u /* "USBC" */
#define CSW_SIG	  0x53425355u /* "USBS" */
#define CBW_LEN	  31u
#define CSW_LEN	  13u
#define SENSE_ILL 0x05 /* ILLEGAL REQUEST */

enum state { IDLE, DATA_IN, DATA_OUT, STATUS, STALLED };

static struct {
	uint8_t *disk;
	uint32_t blocks;
	const char *vendor, *product;
	enum state st;
	uint32_t tag, dlen, done; /* expected and transferred data bytes */
	uint8_t status;		  /* 0 passed, 1 failed */
	const uint8_t *in;	  /* data to send: into disk or resp */
	uint32_t in_len;
	uint8_t *out; /* where data from the host goes (NULL: discarded) */
	uint32_t out_len;
	uint8_t resp[64];
	uint8_t sense_key, asc;
} bot;

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

int storage_init(uint32_t blocks, const char *vendor, const char *product)
{
	free(bot.disk);
	bot.disk = calloc(blocks, BLOCK);
	bot.blocks = blocks;
	bot.vendor = vendor;
	bot.product = product;
	bot.st = IDLE;
	return bot.disk ? 0 : -1;
}

void storage_reset(void)
{
	bot.st = IDLE;
}

static void fail(uint8_t key, uint8_t asc)
{
	bot.status = 1;
	bot.sense_key = key;
	bot.asc = asc;
}

static void reply(uint32_t n)
{
	bot.in = bot.resp;
	bot.in_len = n;
}

static void pad_copy(uint8_t *dst, const char *s, size_t n)
{
	size_t l = strlen(s);

	memset(dst, ' ', n);
	memcpy(dst, s, l < n ? l : n);
}

/* Whether blocks [lba, lba + count) lie on the disk; the data pointer when they do. */
static uint8_t *blocks_at(const uint8_t *cdb, uint32_t *len)
{
	uint32_t lba = be32(cdb + 2), count = (uint32_t)(cdb[7] << 8 | cdb[8]);

	if (lba > bot.blocks || count > bot.blocks - lba) {
		fail(SENSE_ILL, 0x21); /* logical block address out of range */
		return NULL;
	}
	*len = count * BLOCK;
	return bot.disk + (size_t)lba * BLOCK;
}

static void execute(const uint8_t *cdb)
{
	uint8_t *p;
	uint32_t n;

	bot.status = 0;
	bot.in = NULL;
	bot.in_len = 0;
	bot.out = NULL;
	bot.out_len = 0;
	memset(bot.resp, 0, sizeof bot.resp);
	switch (cdb[0]) {
	case 0x00: /* TEST UNIT READY */
	case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
	case 0x1b: /* START STOP UNIT */
	case 0x35: /* SYNCHRONIZE CACHE(10) */
	case 0x2f: /* VERIFY(10) */
		break;
	case 0x12: /* INQUIRY (standard data only) */
		if (cdb[1] & 1) {
			fail(SENSE_ILL, 0x24); /* vital product data: invalid field in CDB */
			break;
		}
		bot.resp[1] = 0x80; /* removable medium, as most flash sticks say */
		bot.resp[2] = 0x06;
		bot.resp[3] = 0x02;
		bot.resp[4] = 31;
		pad_copy(bot.resp + 8, bot.vendor, 8);
		pad_copy(bot.resp + 16, bot.product, 16);
		pad_copy(bot.resp + 32, "1.00", 4);
		reply(36);
		break;
	case 0x03: /* REQUEST SENSE, fixed format; the sense is then cleared */
		bot.resp[0] = 0x70;
		bot.resp[2] = bot.sense_key;
		bot.resp[7] = 10;
		bot.resp[12] = bot.asc;
		bot.sense_key = bot.asc = 0;
		reply(18);
		break;
	case 0x25: /* READ CAPACITY(10) */
		put_be32(bot.resp, bot.blocks - 1);
		put_be32(bot.resp + 4, BLOCK);
		reply(8);
		break;
	case 0x1a: /* MODE SENSE(6): header only, not write-protected */
		bot.resp[0] = 3;
		reply(4);
		break;
	case 0x5a: /* MODE SENSE(10) */
		bot.resp[1] = 6;
		reply(8);
		break;
	case 0x28: /* READ(10) */
		p = blocks_at(cdb, &n);
		if (p) {
			bot.in = p;
			bot.in_len = n;
		}
		break;
	case 0x2a: /* WRITE(10) */
		p = blocks_at(cdb, &n);
		if (p) {
			bot.out = p;
			bot.out_len = n;
		}
		break;
	default:
		fail(SENSE_ILL, 0x20); /* invalid command operation code */
		break;
	}
}

int storage_out(const uint8_t *data, size_t len)
{
	if (bot.st == DATA_OUT) {
		size_t n = len < bot.dlen - bot.done ? len : bot.dlen - bot.done;

		if (bot.out && bot.done < bot.out_len)
			memcpy(bot.out + bot.done, data,
			       n < bot.out_len - bot.done ? n : bot.out_len - bot.done);
		bot.done += (uint32_t)n;
		if (bot.done == bot.dlen)
			bot.st = STATUS;
		return 0;
	}
	if (bot.st != IDLE || len != CBW_LEN ||
	    (uint32_t)(data[0] | data[1] << 8 | data[2] << 16 | (uint32_t)data[3] << 24) !=
		CBW_SIG ||
	    data[13] != 0 || data[14] < 1 || data[14] > 16) {
		bot.st = STALLED; /* invalid or unexpected: stall until the bulk-only reset */
		return -1;
	}
	bot.tag = (uint32_t)(data[4] | data[5] << 8 | data[6] << 16 | (uint32_t)data[7] << 24);
	bot.dlen = (uint32_t)(data[8] | data[9] << 8 | data[10] << 16 | (uint32_t)data[11] << 24);
	bot.done = 0;
	execute(data + 15);
	if (bot.dlen == 0)
		bot.st = STATUS;
	else
		bot.st = (data[12] & 0x80) ? DATA_IN : DATA_OUT;
	return 0;
}

int storage_in(uint8_t *buf, size_t len)
{
	if (bot.st == DATA_IN) {
		/* what the command has, at most what the host expects; short ends the stage */
		uint32_t have = bot.in_len < bot.dlen ? bot.in_len : bot.dlen;
		size_t n = have - bot.done < len ? have - bot.done : len;

		if (n)
			memcpy(buf, bot.in + bot.done, n);
		bot.done += (uint32_t)n;
		if (bot.done == have)
			bot.st = STATUS;
		return (int)n;
	}
	if (bot.st != STATUS || len < CSW_LEN)
		return -1;
	put_le32(buf, CSW_SIG);
	put_le32(buf + 4, bot.tag);
	put_le32(buf + 8, bot.dlen - bot.done); /* residue */
	buf[12] = bot.status;
	bot.st = IDLE;
	return CSW_LEN;
}
