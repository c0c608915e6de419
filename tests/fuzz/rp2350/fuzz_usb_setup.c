/*
 * fuzz_usb_setup.c: libFuzzer harness for the RP2350 USB device driver's handling of
 * what a USB host sends (setup packets, OUT reports of any length, resets, suspends),
 * run on the host through the driver's struct rp_usb_hw seam. Invariants: EP0 never
 * offers more than one 64-byte packet, reports handed to the core are whole, the device
 * address fits 7 bits, and the interrupt lock is always released.
 *
 * Input: a sequence of operations, one opcode byte each, some followed by operands.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "rp2350.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t regs[0x120 / 4];
static uint32_t dp[4096 / 4];
static int locked;

static void nop(void)
{
}
static void lock(void)
{
	locked++;
}
static void unlock(void)
{
	locked--;
}

static const struct rp_usb_hw fake = {
    .regs = regs,
    .dpram = (volatile uint8_t *)dp,
    .reset = nop,
    .irq_enable = nop,
    .lock = lock,
    .unlock = unlock,
    .avail_delay = nop,
};

#define R(a) regs[((a)-USB_REGS) / 4]
#define D(a) dp[((a)-USB_DPRAM) / 4]

static void interrupt(uint32_t ints, uint32_t buff)
{
	R(USB_INTS) = ints;
	R(USB_BUFF_STATUS) = buff;
	rp_usb_irq();
	rp_usb_task();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t report[64];
	size_t i = 0;

	memset(regs, 0, sizeof regs);
	memset(dp, 0, sizeof dp);
	locked = 0;
	rp_usb_init(&fake, "0123456789ABCDEF");
	while (i < size) {
		uint8_t op = data[i++] % 7;
		switch (op) {
		case 0: /* SETUP packet */
			if (size - i < 8)
				return 0;
			memcpy(dp, data + i, 8);
			i += 8;
			interrupt(USB_INT_SETUP_REQ, 0);
			break;
		case 1: /* EP0 IN or OUT packet done */
			interrupt(USB_INT_BUFF_STATUS, i < size && (data[i++] & 1) ? 2u : 1u);
			break;
		case 2: /* EP1 IN done */
			interrupt(USB_INT_BUFF_STATUS, 1u << 2);
			break;
		case 3: { /* EP1 OUT report with the length the host chose */
			uint32_t len = i < size ? data[i++] : 64u;
			memset((uint8_t *)dp + 0x1c0, 0x5a, 64);
			D(USB_EP_OUT_BUF_CTRL(1)) = USB_BUF_FULL | (len & USB_BUF_LEN_MASK);
			interrupt(USB_INT_BUFF_STATUS, 1u << 3);
			break;
		}
		case 4:
			interrupt(USB_INT_BUS_RESET, 0);
			break;
		case 5:
			interrupt(i < size && (data[i++] & 1) ? USB_INT_DEV_SUSPEND
							      : USB_INT_DEV_RESUME,
				  0);
			break;
		default: /* the core takes a report and answers */
			if (rp_usb_rx(report) == 1 && report[0] != 0x5a)
				abort();
			(void)rp_usb_tx(report);
			break;
		}
		if ((D(USB_EP_IN_BUF_CTRL(0)) & USB_BUF_LEN_MASK) > 64 || R(USB_ADDR_ENDP) > 127 ||
		    locked != 0)
			abort();
	}
	return 0;
}
