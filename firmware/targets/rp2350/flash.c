/*
 * flash.c: the token store's flash region (the last 64 KiB of the 2 MiB flash, see
 * link.ld) through the RP2350 boot ROM's flash routines (datasheet 5.4: connect_internal_
 * flash, flash_exit_xip, flash_range_erase/program, flash_flush_cache, flash_enter_cmd_xip)
 * and the BOOTSEL button, which shares the flash chip select. While XIP is off nothing may
 * run from flash, so those paths live in RAM (.ramfunc) with interrupts disabled. Power-
 * cut safety is the core's (store.c); this file only erases and programs what it is asked.
 * Linked by the rp2350 image; page/offset/length come from the core and are range-checked.
 */
#include <string.h>

#include "board.h"
#include "rp2350.h"

#define RAMFUNC __attribute__((section(".ramfunc"), noinline))

#define ROM_LOOKUP_PTR	     0x16u /* 16-bit pointer to rom_table_lookup (Arm) */
#define RT_FLAG_FUNC_ARM_SEC 0x0004u
#define ROM_CODE(a, b)	     ((uint32_t)(a) | (uint32_t)(b) << 8)
#define FLASH_SECTOR	     4096u
#define FLASH_BLOCK_ERASE    0x20u /* 4 KiB sector erase command */
#define FLASH_PROG_PAGE	     256u
#define XIP_BASE	     0x10000000u

typedef void *(*rom_lookup_fn)(uint32_t code, uint32_t mask);
typedef void (*rom_void_fn)(void);
typedef void (*rom_erase_fn)(uint32_t addr, size_t count, uint32_t block_size, uint8_t cmd);
typedef void (*rom_program_fn)(uint32_t addr, const uint8_t *data, size_t count);

extern uint8_t __store_start[], __store_size[];

static struct {
	rom_void_fn connect, exit_xip, flush_cache, enter_xip;
	rom_erase_fn erase;
	rom_program_fn program;
} rom;

static uint8_t prog_buf[FLASH_PROG_PAGE];

static void *rom_func(uint32_t code)
{
	uintptr_t p = ROM_LOOKUP_PTR;

	/* Hide the constant from the compiler: it is a ROM address, not a null pointer. */
	__asm__("" : "+r"(p));
	rom_lookup_fn lookup = (rom_lookup_fn)(uintptr_t)(*(const volatile uint16_t *)p);
	return lookup(code, RT_FLAG_FUNC_ARM_SEC);
}

int rp_flash_init(void)
{
	rom.connect = (rom_void_fn)rom_func(ROM_CODE('I', 'F'));
	rom.exit_xip = (rom_void_fn)rom_func(ROM_CODE('E', 'X'));
	rom.erase = (rom_erase_fn)rom_func(ROM_CODE('R', 'E'));
	rom.program = (rom_program_fn)rom_func(ROM_CODE('R', 'P'));
	rom.flush_cache = (rom_void_fn)rom_func(ROM_CODE('F', 'C'));
	rom.enter_xip = (rom_void_fn)rom_func(ROM_CODE('C', 'X'));
	if (!rom.connect || !rom.exit_xip || !rom.erase || !rom.program || !rom.flush_cache ||
	    !rom.enter_xip)
		return -1;
	if ((uintptr_t)__store_size != RP_STORE_PAGE_SIZE * RP_STORE_PAGE_COUNT)
		return -1;
	return 0;
}

/* QSPI clock = clk_sys / CLKDIV. 150 MHz / 4 = 37.5 MHz stays inside the W25Q16JV's
 * limits for every read command the ROM may choose (50 MHz for plain 03h reads), whatever
 * divider the boot ROM picked for its slower boot clock. RXDELAY 1 = sample half a
 * clk_sys cycle later. Written from RAM: XIP must be idle while its timing changes. */
static RAMFUNC void qmi_timing_safe(void)
{
	uint32_t t = RP_REG(QMI_M0_TIMING);
	t &= ~(QMI_TIMING_CLKDIV_MASK | QMI_TIMING_RXDELAY_MASK);
	RP_REG(QMI_M0_TIMING) = t | 4u | (1u << QMI_TIMING_RXDELAY_SHIFT);
}

void rp_flash_timing_init(void)
{
	rp_irq_disable();
	qmi_timing_safe();
	rp_irq_enable();
}

/* Runs from RAM: XIP is unavailable between exit_xip and enter_xip. */
static RAMFUNC void flash_op(int erase, uint32_t off, const uint8_t *data, size_t len)
{
	rp_irq_disable();
	rom.connect();
	rom.exit_xip();
	if (erase)
		rom.erase(off, len, FLASH_SECTOR, FLASH_BLOCK_ERASE);
	else
		rom.program(off, data, len);
	rom.flush_cache();
	rom.enter_xip(); /* the ROM's generic serial XIP mode: slower reads, always valid */
	qmi_timing_safe();
	rp_irq_enable();
}

static uint32_t store_offset(uint32_t page)
{
	return (uint32_t)((uintptr_t)__store_start - XIP_BASE) + page * RP_STORE_PAGE_SIZE;
}

const uint8_t *rp_flash_page(uint32_t page)
{
	return __store_start + page * RP_STORE_PAGE_SIZE;
}

int rp_flash_erase_page(uint32_t page)
{
	if (page >= RP_STORE_PAGE_COUNT)
		return -1;
	flash_op(1, store_offset(page), NULL, RP_STORE_PAGE_SIZE);
	return 0;
}

int rp_flash_program(uint32_t page, uint32_t off, const uint8_t *src, size_t len)
{
	if (page >= RP_STORE_PAGE_COUNT || off > RP_STORE_PAGE_SIZE ||
	    len > RP_STORE_PAGE_SIZE - off)
		return -1;
	/* The ROM programs whole 256-byte flash pages. NOR programming only clears bits, so
	 * bytes outside [off, off+len) are written as 0xff and keep their contents. */
	while (len > 0) {
		uint32_t base = off & ~(FLASH_PROG_PAGE - 1), in = off - base;
		size_t n = FLASH_PROG_PAGE - in < len ? FLASH_PROG_PAGE - in : len;
		memset(prog_buf, 0xff, sizeof prog_buf);
		memcpy(prog_buf + in, src, n);
		flash_op(0, store_offset(page) + base, prog_buf, FLASH_PROG_PAGE);
		off += (uint32_t)n;
		src += n;
		len -= n;
	}
	return 0;
}

/* BOOTSEL shares QSPI chip select: float CSn, read it, restore (datasheet 2.3.x pico
 * boards: the button pulls CSn low). Flash is unreachable meanwhile, hence RAM. */
static RAMFUNC int bootsel_sample(void)
{
	uint32_t ctrl = RP_REG(IO_QSPI_SS_CTRL);
	int pressed;

	rp_irq_disable();
	RP_REG(IO_QSPI_SS_CTRL) = (ctrl & ~IO_CTRL_OEOVER_MASK) | IO_CTRL_OEOVER_DISABLE;
	for (volatile int i = 0; i < 1000; i++)
		;
	pressed = !(RP_REG(SIO_GPIO_HI_IN) & SIO_GPIO_HI_IN_QSPI_CSN);
	RP_REG(IO_QSPI_SS_CTRL) = ctrl;
	rp_irq_enable();
	return pressed;
}

int rp_bootsel_pressed(void)
{
	return bootsel_sample();
}
