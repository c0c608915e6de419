/*
 * an505.h: the few mps2-an505 (Arm SSE-200 FPGA image, as emulated by QEMU) peripherals the
 * token's QEMU builds use: the CMSDK APB timer (instruction counting under -icount) and
 * CMSDK UART0 (the host link). Linked by the mps2-an505 images only; no external input.
 */
#ifndef PCL_AN505_H
#define PCL_AN505_H

#include <stdint.h>

/* Start the free-running timer; an505_ticks() then counts up from 0. */
void an505_timer_start(void);
uint32_t an505_ticks(void);

/* Instructions per timer tick under `-icount shift=0` (one instruction per virtual
 * nanosecond), measured once against a loop of known length. */
uint32_t an505_insn_per_tick(void);

/* UART0 (QEMU -serial): blocking byte I/O, and a non-blocking receive (-1: nothing). */
void an505_uart_init(void);
void an505_uart_putc(uint8_t c);
int an505_uart_getc_nb(void);

/* Token board (token_board.c): timer, UART and RAM flash ready for the core. */
void an505_board_init(void);
/* Wait for the host's entropy frame (the DRBG seed) without consuming any report. */
void an505_board_wait_seed(void);

#endif
