/*
 * board.h: the RP2350 board layer of the Portcullis token (no pico-sdk): clocks and
 * time, the USB HID device, flash through the boot ROM, button, LED and TRNG. hal.c turns
 * these into the core's HAL. Linked by the rp2350 image only.
 */
#ifndef PCL_RP2350_BOARD_H
#define PCL_RP2350_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* Pico 2 wiring (hardware/wiring.svg): LED on GP25, touch button GP15 to GND. */
#define RP_PIN_LED    25u
#define RP_PIN_BUTTON 15u
#define RP_REPORT_LEN 64u

/* clocks.c */
void rp_clocks_init(void);
uint64_t rp_time_us(void);

/* usb.c: full-speed HID device, EP0 control + EP1 interrupt IN/OUT, 64-byte reports.
 * The interrupt handler only records events; rp_usb_task() does the work.
 * The controller is reached through this seam: usb_hw.c has the RP2350's, the host unit
 * tests a register file in memory. */
struct rp_usb_hw {
	volatile uint32_t *regs; /* USBCTRL_REGS */
	volatile uint8_t *dpram; /* USBCTRL_DPRAM (the first 0x200 bytes are used) */
	void (*reset)(void);	 /* pulse the controller's reset, wait until done */
	void (*irq_enable)(void);
	void (*lock)(void); /* keep rp_usb_irq() out while events are taken */
	void (*unlock)(void);
	void (*avail_delay)(void); /* settle time before a buffer's AVAILABLE bit is set */
};
extern const struct rp_usb_hw rp_usb_hw_rp2350;
void rp_usb_init(const struct rp_usb_hw *hw, const char serial[17]);
void rp_usb_irq(void);
void rp_usb_task(void);
int rp_usb_configured(void);
int rp_usb_suspended(void);
int rp_usb_rx(uint8_t report[RP_REPORT_LEN]); /* 1: a report was taken, 0: none */
int rp_usb_tx_busy(void);
int rp_usb_tx(const uint8_t report[RP_REPORT_LEN]); /* 0, or -1 if not configured/busy */

/* usb_desc.c: descriptors; returns the length, 0 if there is no such descriptor. */
size_t rp_usb_descriptor(uint16_t w_value, uint16_t w_index, const uint8_t **out, uint8_t *scratch,
			 size_t scratch_len, const char *serial);

/* flash.c: the store region through the boot ROM's flash routines. */
#define RP_STORE_PAGE_SIZE  4096u
#define RP_STORE_PAGE_COUNT 16u
int rp_flash_init(void);
void rp_flash_timing_init(void); /* call before clk_sys goes to 150 MHz */
int rp_flash_erase_page(uint32_t page);
int rp_flash_program(uint32_t page, uint32_t off, const uint8_t *src, size_t len);
const uint8_t *rp_flash_page(uint32_t page);
int rp_bootsel_pressed(void);

/* io.c: button, LED, TRNG, unique id. */
void rp_gpio_init(void);
int rp_button_down(void);
void rp_led_set(int on);
int rp_trng_read(uint32_t out[6]);
void rp_unique_id(uint8_t id[8]);

#endif
