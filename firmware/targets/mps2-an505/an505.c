/*
 * an505.c: timer and UART drivers for the mps2-an505 QEMU board (CMSDK APB timer0 and
 * UART0, secure aliases). Linked by the mps2-an505 self-test and token images. Registers
 * are the emulator's; the UART carries host bytes, which callers treat as untrusted.
 */
#include "an505.h"

#define REG(a) (*(volatile uint32_t *)(a))

#define TIMER0	     0x50000000u /* CMSDK APB timer 0, secure alias */
#define TIMER_CTRL   REG(TIMER0 + 0x0)
#define TIMER_VALUE  REG(TIMER0 + 0x4)
#define TIMER_RELOAD REG(TIMER0 + 0x8)

#define UART0		  0x50200000u /* CMSDK APB UART 0, secure alias */
#define UART_DATA	  REG(UART0 + 0x0)
#define UART_STATE	  REG(UART0 + 0x4)
#define UART_CTRL	  REG(UART0 + 0x8)
#define UART_BAUDDIV	  REG(UART0 + 0x10)
#define UART_STATE_TXFULL 1u
#define UART_STATE_RXFULL 2u

void an505_timer_start(void)
{
	TIMER_CTRL = 0;
	TIMER_RELOAD = 0xffffffffu;
	TIMER_VALUE = 0xffffffffu;
	TIMER_CTRL = 1; /* enable, internal clock, no interrupt */
}

uint32_t an505_ticks(void)
{
	return 0xffffffffu - TIMER_VALUE;
}

uint32_t an505_insn_per_tick(void)
{
	/* 4 instructions per iteration (subs, nop, nop, bne) x 250000 iterations. */
	uint32_t n = 250000u, t0, t1;
	t0 = an505_ticks();
	__asm__ volatile("1: subs %0, %0, #1\n\tnop\n\tnop\n\tbne 1b" : "+r"(n) : : "cc");
	t1 = an505_ticks();
	if (t1 == t0)
		return 0;
	return (1000000u + (t1 - t0) / 2) / (t1 - t0);
}

void an505_uart_init(void)
{
	UART_BAUDDIV = 16;
	UART_CTRL = 3; /* TX and RX enable */
}

void an505_uart_putc(uint8_t c)
{
	while (UART_STATE & UART_STATE_TXFULL)
		;
	UART_DATA = c;
}

int an505_uart_getc_nb(void)
{
	if (!(UART_STATE & UART_STATE_RXFULL))
		return -1;
	return (int)(UART_DATA & 0xffu);
}
