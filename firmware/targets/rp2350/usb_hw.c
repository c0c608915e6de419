/*
 * usb_hw.c: the RP2350 side of usb.c's hardware seam: the controller's register and
 * DPRAM addresses, its reset, its NVIC line, and the interrupt lock. Linked by the rp2350
 * image only; no input.
 */
#include "board.h"
#include "rp2350.h"

static void usb_reset(void)
{
	RP_SET(RESETS_RESET) = RESET_USBCTRL;
	RP_CLR(RESETS_RESET) = RESET_USBCTRL;
	while (!(RP_REG(RESETS_RESET_DONE) & RESET_USBCTRL))
		;
}

static void usb_irq_enable(void)
{
	RP_REG(NVIC_ISER(USBCTRL_IRQ / 32)) = 1u << (USBCTRL_IRQ % 32);
}

static void usb_avail_delay(void)
{
	/* 12 clk_sys cycles or more: clk_usb (48 MHz) must see the control word first. */
	for (volatile int i = 0; i < 12; i++)
		;
}

const struct rp_usb_hw rp_usb_hw_rp2350 = {
    .regs = (volatile uint32_t *)USB_REGS,
    .dpram = (volatile uint8_t *)USB_DPRAM,
    .reset = usb_reset,
    .irq_enable = usb_irq_enable,
    .lock = rp_irq_disable,
    .unlock = rp_irq_enable,
    .avail_delay = usb_avail_delay,
};
