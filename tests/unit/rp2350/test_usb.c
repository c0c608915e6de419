/*
 * test_usb.c: cmocka tests of the RP2350 USB device driver (firmware/targets/rp2350/
 * usb.c) on the host, through its hardware seam: registers and DPRAM are memory, and the
 * test plays the controller (fills the setup packet, raises interrupt status, marks
 * buffers done). It checks enumeration (descriptors, SET_ADDRESS after the status stage,
 * SET_CONFIGURATION), data toggles, the OUT ring with NAK when full, IN flow control,
 * STALL of unknown requests, short reports dropped, bus reset and suspend.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "board.h"
#include "rp2350.h"

static uint32_t regs[0x120 / 4];
static uint32_t dpram_words[4096 / 4];
static int resets, irq_enabled, locked;

static void fake_reset(void)
{
	resets++;
}
static void fake_irq_enable(void)
{
	irq_enabled = 1;
}
static void fake_lock(void)
{
	locked++;
}
static void fake_unlock(void)
{
	locked--;
}
static void fake_delay(void)
{
}

static const struct rp_usb_hw fake = {
    .regs = regs,
    .dpram = (volatile uint8_t *)dpram_words,
    .reset = fake_reset,
    .irq_enable = fake_irq_enable,
    .lock = fake_lock,
    .unlock = fake_unlock,
    .avail_delay = fake_delay,
};

#define R(a)	regs[((a)-USB_REGS) / 4]
#define D(a)	dpram_words[((a)-USB_DPRAM) / 4]
#define DPB	((uint8_t *)dpram_words)
#define EP0_IN	USB_EP_IN_BUF_CTRL(0)
#define EP0_OUT USB_EP_OUT_BUF_CTRL(0)
#define EP1_IN	USB_EP_IN_BUF_CTRL(1)
#define EP1_OUT USB_EP_OUT_BUF_CTRL(1)

/* The controller raises an interrupt; the driver's handler runs, then its main-loop task. */
static void interrupt(uint32_t ints, uint32_t buff)
{
	R(USB_INTS) = ints;
	R(USB_BUFF_STATUS) = buff;
	rp_usb_irq();
	assert_int_equal(R(USB_BUFF_STATUS), buff); /* the handler wrote the bits back (W1C) */
	R(USB_INTS) = 0;
	rp_usb_task();
	assert_int_equal(locked, 0);
}

static void setup(uint8_t type, uint8_t req, uint16_t value, uint16_t index, uint16_t length)
{
	uint8_t s[8] = {type,
			req,
			(uint8_t)value,
			(uint8_t)(value >> 8),
			(uint8_t)index,
			(uint8_t)(index >> 8),
			(uint8_t)length,
			(uint8_t)(length >> 8)};
	memcpy(DPB, s, 8);
	interrupt(USB_INT_SETUP_REQ, 0);
	assert_true(R(USB_SIE_STATUS) & USB_SIE_STATUS_SETUP_REC); /* cleared by the driver */
}

/* The host took the IN packet on `ep`: the controller clears AVAILABLE, sets BUFF_STATUS. */
static void in_done(unsigned ep)
{
	uint32_t a = ep ? EP1_IN : EP0_IN;
	D(a) &= ~USB_BUF_AVAILABLE;
	interrupt(USB_INT_BUFF_STATUS, 1u << (2 * ep));
}

static void enumerate(void)
{
	rp_usb_init(&fake, "0011223344556677");
	interrupt(USB_INT_BUS_RESET, 0);
	setup(0x00, 5, 7, 0, 0); /* SET_ADDRESS 7 */
	in_done(0);
	setup(0x00, 9, 1, 0, 0); /* SET_CONFIGURATION 1 */
	in_done(0);
}

static int init_state(void **state)
{
	(void)state;
	memset(regs, 0, sizeof regs);
	memset(dpram_words, 0, sizeof dpram_words);
	resets = irq_enabled = locked = 0;
	return 0;
}

static void init_connects_as_device_with_phy_isolation_removed(void **state)
{
	(void)state;
	rp_usb_init(&fake, "0011223344556677");
	assert_int_equal(resets, 1);
	assert_true(irq_enabled);
	assert_int_equal(R(USB_MAIN_CTRL), USB_MAIN_CTRL_CONTROLLER_EN); /* PHY_ISO clear */
	assert_true(R(USB_SIE_CTRL) & USB_SIE_CTRL_PULLUP_EN);
	assert_false(R(USB_SIE_CTRL) & USB_SIE_CTRL_PULLDOWN_EN);
	assert_true(R(USB_MUXING) & USB_MUXING_TO_PHY);
	assert_true(R(USB_INTE) & USB_INT_SETUP_REQ);
	assert_false(rp_usb_configured());
}

static void get_device_descriptor_answers_on_ep0_with_data1(void **state)
{
	const uint8_t *desc;
	uint8_t scratch[64];
	size_t n = rp_usb_descriptor(0x0100, 0, &desc, scratch, sizeof scratch, "");

	(void)state;
	rp_usb_init(&fake, "0011223344556677");
	setup(0x80, 6, 0x0100, 0, 64);
	uint32_t c = D(EP0_IN);
	assert_int_equal(c & USB_BUF_LEN_MASK, n);
	assert_true(c & USB_BUF_FULL);
	assert_true(c & USB_BUF_AVAILABLE);
	assert_true(c & USB_BUF_DATA1);
	assert_memory_equal(DPB + 0x100, desc, n);
	/* the host asked for 8 bytes only: the driver sends 8 */
	setup(0x80, 6, 0x0100, 0, 8);
	assert_int_equal(D(EP0_IN) & USB_BUF_LEN_MASK, 8);
	/* data stage done: a zero-length OUT status packet (DATA1) is accepted */
	in_done(0);
	assert_int_equal(D(EP0_OUT), USB_BUF_DATA1 | USB_BUF_AVAILABLE);
}

static void set_address_applies_after_the_status_stage(void **state)
{
	(void)state;
	rp_usb_init(&fake, "0011223344556677");
	setup(0x00, 5, 42, 0, 0);
	assert_int_equal(D(EP0_IN) & USB_BUF_LEN_MASK, 0); /* ZLP status */
	assert_true(D(EP0_IN) & USB_BUF_DATA1);
	assert_int_equal(R(USB_ADDR_ENDP), 0); /* not yet: the status stage still uses 0 */
	in_done(0);
	assert_int_equal(R(USB_ADDR_ENDP), 42);
}

static void set_configuration_arms_the_out_endpoint(void **state)
{
	(void)state;
	enumerate();
	assert_true(rp_usb_configured());
	assert_true(D(USB_EP_IN_CTRL(1)) & USB_EP_CTRL_ENABLE);
	assert_int_equal(D(USB_EP_OUT_CTRL(1)) & 0xffff, 0x1c0);
	assert_int_equal((D(USB_EP_OUT_CTRL(1)) >> 26) & 3, 3); /* interrupt type */
	assert_int_equal(D(EP1_OUT), 64 | USB_BUF_AVAILABLE);	/* DATA0 first */
}

static void out_report(uint8_t fill, uint32_t len)
{
	memset(DPB + 0x1c0, fill, 64);
	D(EP1_OUT) = (D(EP1_OUT) & ~(USB_BUF_AVAILABLE | USB_BUF_LEN_MASK)) | USB_BUF_FULL | len;
	interrupt(USB_INT_BUFF_STATUS, 1u << 3);
}

static void out_reports_queue_in_order_and_nak_when_full(void **state)
{
	uint8_t r[64];

	(void)state;
	enumerate();
	for (uint8_t i = 0; i < 4; i++) {
		assert_true(D(EP1_OUT) & USB_BUF_AVAILABLE);
		/* toggles DATA0, DATA1, DATA0, ... */
		assert_int_equal(!!(D(EP1_OUT) & USB_BUF_DATA1), i % 2);
		out_report((uint8_t)(0xa0 + i), 64);
	}
	/* ring full: the buffer stays unavailable, so the controller NAKs the host */
	assert_false(D(EP1_OUT) & USB_BUF_AVAILABLE);
	assert_int_equal(rp_usb_rx(r), 1);
	assert_int_equal(r[0], 0xa0);
	assert_true(D(EP1_OUT) & USB_BUF_AVAILABLE); /* room again: re-armed */
	for (uint8_t i = 1; i < 4; i++) {
		assert_int_equal(rp_usb_rx(r), 1);
		assert_int_equal(r[63], 0xa0 + i);
	}
	assert_int_equal(rp_usb_rx(r), 0);
}

static void short_out_report_is_dropped(void **state)
{
	uint8_t r[64];

	(void)state;
	enumerate();
	out_report(0x55, 10);
	assert_int_equal(rp_usb_rx(r), 0);
	assert_true(D(EP1_OUT) & USB_BUF_AVAILABLE);
}

static void in_reports_wait_for_the_host_and_toggle(void **state)
{
	uint8_t r[64];

	(void)state;
	rp_usb_init(&fake, "0011223344556677");
	memset(r, 0x11, sizeof r);
	assert_int_equal(rp_usb_tx(r), -1); /* not configured */
	enumerate();
	assert_int_equal(rp_usb_tx(r), 0);
	assert_int_equal(D(EP1_IN), 64 | USB_BUF_FULL | USB_BUF_AVAILABLE);
	assert_memory_equal(DPB + 0x180, r, 64);
	assert_true(rp_usb_tx_busy());
	assert_int_equal(rp_usb_tx(r), -1); /* previous one not taken yet */
	in_done(1);
	assert_false(rp_usb_tx_busy());
	assert_int_equal(rp_usb_tx(r), 0);
	assert_true(D(EP1_IN) & USB_BUF_DATA1);
}

static void unknown_request_stalls_ep0(void **state)
{
	(void)state;
	rp_usb_init(&fake, "0011223344556677");
	setup(0x40, 0x77, 0, 0, 0); /* vendor request */
	assert_int_equal(R(USB_EP_STALL_ARM), 3);
	assert_true(D(EP0_IN) & USB_BUF_STALL);
	assert_true(D(EP0_OUT) & USB_BUF_STALL);
	R(USB_EP_STALL_ARM) = 0;
	setup(0x80, 6, 0x0700, 0, 64); /* other-speed configuration: none */
	assert_int_equal(R(USB_EP_STALL_ARM), 3);
	R(USB_EP_STALL_ARM) = 0;
	setup(0x80, 6, 0x2200, 0, 64); /* a HID report descriptor asked of the device */
	assert_int_equal(R(USB_EP_STALL_ARM), 3);
	R(USB_EP_STALL_ARM) = 0;
	setup(0x00, 9, 2, 0, 0); /* no configuration 2 */
	assert_int_equal(R(USB_EP_STALL_ARM), 3);
}

static void bus_reset_forgets_address_and_configuration(void **state)
{
	uint8_t r[64] = {0};

	(void)state;
	enumerate();
	assert_int_equal(R(USB_ADDR_ENDP), 7);
	interrupt(USB_INT_BUS_RESET, 0);
	assert_int_equal(R(USB_ADDR_ENDP), 0);
	assert_false(rp_usb_configured());
	assert_int_equal(D(USB_EP_OUT_CTRL(1)), 0);
	assert_int_equal(rp_usb_tx(r), -1);
}

static void suspend_and_resume_are_tracked(void **state)
{
	(void)state;
	enumerate();
	interrupt(USB_INT_DEV_SUSPEND, 0);
	assert_true(rp_usb_suspended());
	assert_true(rp_usb_configured());
	interrupt(USB_INT_DEV_RESUME, 0);
	assert_false(rp_usb_suspended());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(init_connects_as_device_with_phy_isolation_removed, init_state),
	    cmocka_unit_test_setup(get_device_descriptor_answers_on_ep0_with_data1, init_state),
	    cmocka_unit_test_setup(set_address_applies_after_the_status_stage, init_state),
	    cmocka_unit_test_setup(set_configuration_arms_the_out_endpoint, init_state),
	    cmocka_unit_test_setup(out_reports_queue_in_order_and_nak_when_full, init_state),
	    cmocka_unit_test_setup(short_out_report_is_dropped, init_state),
	    cmocka_unit_test_setup(in_reports_wait_for_the_host_and_toggle, init_state),
	    cmocka_unit_test_setup(unknown_request_stalls_ep0, init_state),
	    cmocka_unit_test_setup(bus_reset_forgets_address_and_configuration, init_state),
	    cmocka_unit_test_setup(suspend_and_resume_are_tracked, init_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
