/*
 * startup.c: RP2350 reset path for the Portcullis token: the Cortex-M33 vector table, the
 * IMAGE_DEF metadata block the boot ROM requires before it runs a flash image (RP2350
 * datasheet 5.9.5, minimum Arm IMAGE_DEF), copying .data (with the RAM-resident flash
 * routines) and clearing .bss, then main(). Linked by the rp2350 image; no input.
 */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "rp2350.h"

extern uint32_t __stack_top, __data_start, __data_end, __data_load, __bss_start, __bss_end;
int main(void);
void rp_reset_handler(void);
void rp_fault_handler(void);

/* Minimum Arm IMAGE_DEF: PICOBIN_BLOCK_MARKER_START; IMAGE_TYPE item (0x42, 1 word) with
 * flags EXE | security S | CPU Arm | chip RP2350 (0x1021); LAST item (0xff) whose size is
 * the 1 word of items before it; link 0 (a loop of this block only); MARKER_END. */
__attribute__((section(".image_def"), used)) static const uint32_t rp_image_def[5] = {
    0xffffded3u, 0x10210142u, 0x000001ffu, 0x00000000u, 0xab123579u,
};

void rp_fault_handler(void)
{
	/* A fault is a firmware bug: stop here (the watchdog is not armed, so the token stays
	 * dead until replugged rather than running in an unknown state). */
	rp_irq_disable();
	for (;;)
		__asm__ volatile("wfi");
}

static void unused_irq(void)
{
	rp_fault_handler();
}

#define RP_IRQ_COUNT 52
typedef void (*rp_vector)(void);

__attribute__((section(".vectors"), used)) static const rp_vector rp_vectors[16 + RP_IRQ_COUNT] = {
    [0] = (rp_vector)(uintptr_t)&__stack_top,
    [1] = rp_reset_handler,
    [2] = rp_fault_handler, /* NMI */
    [3] = rp_fault_handler, /* HardFault */
    [4] = rp_fault_handler, /* MemManage */
    [5] = rp_fault_handler, /* BusFault */
    [6] = rp_fault_handler, /* UsageFault */
    [7] = rp_fault_handler, /* SecureFault */
    [11] = unused_irq,	    /* SVCall */
    [14] = unused_irq,	    /* PendSV */
    [15] = unused_irq,	    /* SysTick */
    [16 + USBCTRL_IRQ] = rp_usb_irq,
};

void rp_reset_handler(void)
{
	uint32_t *src = &__data_load, *dst = &__data_start;

	RP_REG(SCB_VTOR) = (uint32_t)(uintptr_t)rp_vectors;
	while (dst < &__data_end)
		*dst++ = *src++;
	for (dst = &__bss_start; dst < &__bss_end;)
		*dst++ = 0;
	(void)main();
	rp_fault_handler();
}
