/*
 * clocks.c: RP2350 clock tree for the token: 12 MHz crystal (XOSC) -> clk_ref;
 * PLL_SYS 12 MHz x 125 = 1500 MHz VCO / 5 / 2 = 150 MHz -> clk_sys and clk_peri;
 * PLL_USB 12 MHz x 100 = 1200 MHz VCO / 5 / 5 = 48 MHz -> clk_usb; TIMER0 ticks at 1 us
 * from clk_ref. Register use per the RP2350 datasheet chapter 8. Linked by the rp2350
 * image; no input.
 */
#include "board.h"
#include "rp2350.h"

static void unreset(uint32_t bits)
{
	RP_CLR(RESETS_RESET) = bits;
	while ((RP_REG(RESETS_RESET_DONE) & bits) != bits)
		;
}

static void pll_start(uint32_t base, uint32_t fbdiv, uint32_t post1, uint32_t post2)
{
	RP_REG(PLL_CS(base)) = 1; /* REFDIV = 1 */
	RP_REG(PLL_FBDIV_INT(base)) = fbdiv;
	RP_CLR(PLL_PWR(base)) = PLL_PWR_PD | PLL_PWR_VCOPD;
	while (!(RP_REG(PLL_CS(base)) & PLL_CS_LOCK))
		;
	RP_REG(PLL_PRIM(base)) = (post1 << 16) | (post2 << 12);
	RP_CLR(PLL_PWR(base)) = PLL_PWR_POSTDIVPD;
}

void rp_clocks_init(void)
{
	/* Run clk_sys from clk_ref (glitchless mux) while the PLLs are rebuilt. */
	RP_CLR(CLK_SYS_CTRL) = 0x1u;
	while (RP_REG(CLK_SYS_SELECTED) != 0x1u)
		;

	/* Crystal: 1-15 MHz range; start-up delay in units of 256 cycles (~1 ms). */
	RP_REG(XOSC_STARTUP) = (RP_XOSC_HZ / 1000u + 255u) / 256u;
	RP_REG(XOSC_CTRL) = XOSC_CTRL_RANGE_1_15 | XOSC_CTRL_ENABLE;
	while (!(RP_REG(XOSC_STATUS) & XOSC_STATUS_STABLE))
		;
	RP_REG(CLK_REF_CTRL) = CLK_REF_SRC_XOSC;
	while (RP_REG(CLK_REF_SELECTED) != (1u << CLK_REF_SRC_XOSC))
		;
	RP_REG(CLK_REF_DIV) = CLK_DIV_1;

	RP_SET(RESETS_RESET) = RESET_PLL_SYS | RESET_PLL_USB;
	unreset(RESET_PLL_SYS | RESET_PLL_USB);
	pll_start(PLL_SYS_BASE, 125, 5, 2);
	pll_start(PLL_USB_BASE, 100, 5, 5);

	/* Slow the flash interface down first, then clk_sys: aux source pll_sys, then
	 * switch the glitchless mux to aux. */
	rp_flash_timing_init();
	RP_REG(CLK_SYS_DIV) = CLK_DIV_1;
	RP_REG(CLK_SYS_CTRL) = (0u << CLK_AUXSRC_SHIFT);
	RP_REG(CLK_SYS_CTRL) = (0u << CLK_AUXSRC_SHIFT) | CLK_SYS_SRC_AUX;
	while (RP_REG(CLK_SYS_SELECTED) != (1u << CLK_SYS_SRC_AUX))
		;

	RP_REG(CLK_PERI_DIV) = CLK_DIV_1;
	RP_REG(CLK_PERI_CTRL) = CLK_CTRL_ENABLE | (0u << CLK_AUXSRC_SHIFT); /* clk_sys */
	RP_REG(CLK_USB_DIV) = CLK_DIV_1;
	RP_REG(CLK_USB_CTRL) = CLK_CTRL_ENABLE | (0u << CLK_AUXSRC_SHIFT); /* pll_usb */

	/* 1 us ticks for TIMER0 from the 12 MHz clk_ref. */
	RP_REG(TICKS_TIMER0_CYCLES) = RP_XOSC_HZ / 1000000u;
	RP_REG(TICKS_TIMER0_CTRL) = 1;
	unreset(RESET_TIMER0 | RESET_IO_BANK0 | RESET_PADS_BANK0);
}

uint64_t rp_time_us(void)
{
	uint32_t hi, lo;

	/* Raw registers: no latching side effects; re-read if the high word moved. */
	do {
		hi = RP_REG(TIMER0_TIMERAWH);
		lo = RP_REG(TIMER0_TIMERAWL);
	} while (hi != RP_REG(TIMER0_TIMERAWH));
	return ((uint64_t)hi << 32) | lo;
}
