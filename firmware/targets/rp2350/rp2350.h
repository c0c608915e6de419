/*
 * rp2350.h: the RP2350 registers the Portcullis token board uses, from the RP2350
 * datasheet (register lists of RESETS, CLOCKS, XOSC, PLL, TICKS, IO_BANK0, PADS_BANK0,
 * IO_QSPI, SIO, TRNG, OTP, USBCTRL and the Cortex-M33 SCB/NVIC/SysTick). Linked by the
 * rp2350 image only; no external input. No pico-sdk: addresses are written out here.
 */
#ifndef PCL_RP2350_H
#define PCL_RP2350_H

#include <stdint.h>

#define RP_REG(a) (*(volatile uint32_t *)(uintptr_t)(a))
/* Atomic register aliases (datasheet 2.1.3): +0x1000 XOR, +0x2000 SET, +0x3000 CLR. */
#define RP_SET(a) RP_REG((uintptr_t)(a) + 0x2000u)
#define RP_CLR(a) RP_REG((uintptr_t)(a) + 0x3000u)

/* ---- RESETS ---- */
#define RESETS_BASE	  0x40020000u
#define RESETS_RESET	  (RESETS_BASE + 0x0)
#define RESETS_RESET_DONE (RESETS_BASE + 0x8)
#define RESET_IO_BANK0	  (1u << 6)
#define RESET_PADS_BANK0  (1u << 9)
#define RESET_PLL_SYS	  (1u << 14)
#define RESET_PLL_USB	  (1u << 15)
#define RESET_TIMER0	  (1u << 23)
#define RESET_TRNG	  (1u << 25)
#define RESET_USBCTRL	  (1u << 28)

/* ---- XOSC ---- */
#define XOSC_BASE	     0x40048000u
#define XOSC_CTRL	     (XOSC_BASE + 0x00)
#define XOSC_STATUS	     (XOSC_BASE + 0x04)
#define XOSC_STARTUP	     (XOSC_BASE + 0x0c)
#define XOSC_CTRL_RANGE_1_15 0xaa0u
#define XOSC_CTRL_ENABLE     (0xfabu << 12)
#define XOSC_STATUS_STABLE   (1u << 31)

/* ---- PLL_SYS / PLL_USB ---- */
#define PLL_SYS_BASE	  0x40050000u
#define PLL_USB_BASE	  0x40058000u
#define PLL_CS(b)	  ((b) + 0x0)
#define PLL_PWR(b)	  ((b) + 0x4)
#define PLL_FBDIV_INT(b)  ((b) + 0x8)
#define PLL_PRIM(b)	  ((b) + 0xc)
#define PLL_CS_LOCK	  (1u << 31)
#define PLL_PWR_PD	  (1u << 0)
#define PLL_PWR_POSTDIVPD (1u << 3)
#define PLL_PWR_VCOPD	  (1u << 5)

/* ---- CLOCKS (each clock: CTRL, DIV, SELECTED) ---- */
#define CLOCKS_BASE	 0x40010000u
#define CLK_REF_CTRL	 (CLOCKS_BASE + 0x30)
#define CLK_REF_DIV	 (CLOCKS_BASE + 0x34)
#define CLK_REF_SELECTED (CLOCKS_BASE + 0x38)
#define CLK_SYS_CTRL	 (CLOCKS_BASE + 0x3c)
#define CLK_SYS_DIV	 (CLOCKS_BASE + 0x40)
#define CLK_SYS_SELECTED (CLOCKS_BASE + 0x44)
#define CLK_PERI_CTRL	 (CLOCKS_BASE + 0x48)
#define CLK_PERI_DIV	 (CLOCKS_BASE + 0x4c)
#define CLK_USB_CTRL	 (CLOCKS_BASE + 0x60)
#define CLK_USB_DIV	 (CLOCKS_BASE + 0x64)
#define CLK_CTRL_ENABLE	 (1u << 11)
#define CLK_DIV_1	 (1u << 16) /* integer divisor in bits 31:16 */
#define CLK_REF_SRC_XOSC 0x2u
#define CLK_SYS_SRC_AUX	 0x1u /* clksrc_clk_sys_aux, AUXSRC 0 = pll_sys */
#define CLK_AUXSRC_SHIFT 5

/* ---- TICKS (1 us ticks for timers from clk_ref) ---- */
#define TICKS_BASE	    0x40108000u
#define TICKS_TIMER0_CTRL   (TICKS_BASE + 0x18)
#define TICKS_TIMER0_CYCLES (TICKS_BASE + 0x1c)

/* ---- TIMER0: 64-bit microsecond counter ---- */
#define TIMER0_BASE	0x400b0000u
#define TIMER0_TIMERAWH (TIMER0_BASE + 0x24)
#define TIMER0_TIMERAWL (TIMER0_BASE + 0x28)

/* ---- GPIO ---- */
#define IO_BANK0_BASE	       0x40028000u
#define IO_GPIO_CTRL(n)	       (IO_BANK0_BASE + 0x4 + 8u * (n))
#define GPIO_FUNC_SIO	       5u
#define PADS_BANK0_BASE	       0x40038000u
#define PADS_GPIO(n)	       (PADS_BANK0_BASE + 0x4 + 4u * (n))
#define PAD_PUE		       (1u << 3)
#define PAD_PDE		       (1u << 2)
#define PAD_SCHMITT	       (1u << 1)
#define PAD_IE		       (1u << 6)
#define PAD_OD		       (1u << 7)
#define PAD_ISO		       (1u << 8) /* RP2350: pad isolation, set at reset */
#define IO_QSPI_BASE	       0x40030000u
#define IO_QSPI_SS_CTRL	       (IO_QSPI_BASE + 0x1c)
#define IO_CTRL_OEOVER_SHIFT   14
#define IO_CTRL_OEOVER_MASK    (3u << IO_CTRL_OEOVER_SHIFT)
#define IO_CTRL_OEOVER_DISABLE (2u << IO_CTRL_OEOVER_SHIFT)

#define SIO_BASE		0xd0000000u
#define SIO_GPIO_IN		(SIO_BASE + 0x004)
#define SIO_GPIO_HI_IN		(SIO_BASE + 0x008)
#define SIO_GPIO_OUT_SET	(SIO_BASE + 0x018)
#define SIO_GPIO_OUT_CLR	(SIO_BASE + 0x020)
#define SIO_GPIO_OUT_XOR	(SIO_BASE + 0x028)
#define SIO_GPIO_OE_SET		(SIO_BASE + 0x038)
#define SIO_GPIO_OE_CLR		(SIO_BASE + 0x040)
#define SIO_GPIO_HI_IN_QSPI_CSN (1u << 27)

/* ---- QMI (XIP flash interface), window 0 = the flash on chip select 0 ---- */
#define QMI_BASE		 0x400d0000u
#define QMI_M0_TIMING		 (QMI_BASE + 0x0c)
#define QMI_TIMING_CLKDIV_MASK	 0xffu
#define QMI_TIMING_RXDELAY_SHIFT 8
#define QMI_TIMING_RXDELAY_MASK	 (7u << QMI_TIMING_RXDELAY_SHIFT)

/* ---- TRNG ---- */
#define TRNG_BASE	       0x400f0000u
#define TRNG_RNG_IMR	       (TRNG_BASE + 0x100)
#define TRNG_RNG_ISR	       (TRNG_BASE + 0x104)
#define TRNG_RNG_ICR	       (TRNG_BASE + 0x108)
#define TRNG_CONFIG	       (TRNG_BASE + 0x10c)
#define TRNG_VALID	       (TRNG_BASE + 0x110)
#define TRNG_EHR_DATA(i)       (TRNG_BASE + 0x114 + 4u * (i))
#define TRNG_RND_SOURCE_ENABLE (TRNG_BASE + 0x12c)
#define TRNG_SAMPLE_CNT1       (TRNG_BASE + 0x130)
#define TRNG_SW_RESET	       (TRNG_BASE + 0x140)
#define TRNG_RST_BITS_COUNTER  (TRNG_BASE + 0x1bc)
#define TRNG_ISR_AUTOCORR_ERR  (1u << 1)
#define TRNG_ISR_ERRORS	       0xeu

/* ---- OTP (ECC-corrected 16-bit rows, read through OTP_DATA) ---- */
#define OTP_DATA_BASE	0x40130000u
#define OTP_ROW_CHIPID0 0x000u /* CHIPID0..3: the 64-bit device id */

/* ---- USB controller ---- */
#define USB_DPRAM	 0x50100000u
#define USB_REGS	 0x50110000u
#define USB_ADDR_ENDP	 (USB_REGS + 0x00)
#define USB_MAIN_CTRL	 (USB_REGS + 0x40)
#define USB_SIE_CTRL	 (USB_REGS + 0x4c)
#define USB_SIE_STATUS	 (USB_REGS + 0x50)
#define USB_BUFF_STATUS	 (USB_REGS + 0x58)
#define USB_EP_STALL_ARM (USB_REGS + 0x68)
#define USB_MUXING	 (USB_REGS + 0x74)
#define USB_PWR		 (USB_REGS + 0x78)
#define USB_INTE	 (USB_REGS + 0x90)
#define USB_INTS	 (USB_REGS + 0x98)

#define USB_MAIN_CTRL_CONTROLLER_EN  (1u << 0)
#define USB_MAIN_CTRL_PHY_ISO	     (1u << 2)
#define USB_SIE_CTRL_EP0_INT_1BUF    (1u << 29)
#define USB_SIE_CTRL_PULLUP_EN	     (1u << 16)
#define USB_SIE_CTRL_PULLDOWN_EN     (1u << 15)
#define USB_SIE_STATUS_BUS_RESET     (1u << 19)
#define USB_SIE_STATUS_SETUP_REC     (1u << 17)
#define USB_SIE_STATUS_RESUME	     (1u << 11)
#define USB_SIE_STATUS_SUSPENDED     (1u << 4)
#define USB_MUXING_TO_PHY	     (1u << 0)
#define USB_MUXING_SOFTCON	     (1u << 3)
#define USB_PWR_VBUS_DETECT	     (1u << 2)
#define USB_PWR_VBUS_DETECT_OVERRIDE (1u << 3)
#define USB_INT_BUFF_STATUS	     (1u << 4)
#define USB_INT_BUS_RESET	     (1u << 12)
#define USB_INT_DEV_SUSPEND	     (1u << 14)
#define USB_INT_DEV_RESUME	     (1u << 15)
#define USB_INT_SETUP_REQ	     (1u << 16)

/* DPRAM layout: setup packet, endpoint and buffer control words, buffers. */
#define USB_DPRAM_SETUP		   (USB_DPRAM + 0x000)
#define USB_EP_IN_CTRL(n)	   (USB_DPRAM + 0x008 + 8u * ((n)-1))
#define USB_EP_OUT_CTRL(n)	   (USB_DPRAM + 0x00c + 8u * ((n)-1))
#define USB_EP_IN_BUF_CTRL(n)	   (USB_DPRAM + 0x080 + 8u * (n))
#define USB_EP_OUT_BUF_CTRL(n)	   (USB_DPRAM + 0x084 + 8u * (n))
#define USB_EP0_BUF		   (USB_DPRAM + 0x100)
#define USB_EP_CTRL_ENABLE	   (1u << 31)
#define USB_EP_CTRL_INT_1BUF	   (1u << 29)
#define USB_EP_CTRL_TYPE_INTERRUPT (3u << 26)
#define USB_BUF_FULL		   (1u << 15)
#define USB_BUF_LAST		   (1u << 14)
#define USB_BUF_DATA1		   (1u << 13)
#define USB_BUF_STALL		   (1u << 11)
#define USB_BUF_AVAILABLE	   (1u << 10)
#define USB_BUF_LEN_MASK	   0x3ffu

#define USBCTRL_IRQ 14u

/* ---- Cortex-M33 system control ---- */
#define SCB_VTOR     0xe000ed08u
#define SYST_CSR     0xe000e010u
#define SYST_RVR     0xe000e014u
#define SYST_CVR     0xe000e018u
#define NVIC_ISER(n) (0xe000e100u + 4u * (n))
#define NVIC_ICER(n) (0xe000e180u + 4u * (n))

/* ---- Clock plan ---- */
#define RP_XOSC_HZ 12000000u
#define RP_SYS_HZ  150000000u

static inline void rp_irq_disable(void)
{
	__asm__ volatile("cpsid i" ::: "memory");
}

static inline void rp_irq_enable(void)
{
	__asm__ volatile("cpsie i" ::: "memory");
}

#endif
