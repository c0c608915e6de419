/*
 * simflash.h: NOR-flash emulation for the token simulator and the token tests: pages that
 * erase to 0xff, programming that can only clear bits, optional file backing, and
 * power-cut injection (the Nth write is torn and every later operation fails).
 * Linked by portcullis-token-sim and the token tests. Trusts its caller.
 */
#ifndef PCL_SIMFLASH_H
#define PCL_SIMFLASH_H

#include <stddef.h>
#include <stdint.h>

struct simflash {
	uint8_t *mem;
	uint32_t page_size;
	uint32_t page_count;
	uint32_t align;
	int fd;	     /* backing file or -1 */
	long writes; /* erase + program operations so far */
	long cut_at; /* tear this write (0-based) and fail all later ones; -1: never */
	int dead;    /* power is "off": every operation fails */
	long erases; /* statistics for wear tests */
};

/* path NULL: memory only. An existing file of the right size is loaded; a missing one is
 * created erased. Returns 0 or -errno. */
int simflash_open(struct simflash *f, const char *path, uint32_t page_size, uint32_t page_count,
		  uint32_t align);
void simflash_close(struct simflash *f);
int simflash_read(struct simflash *f, uint32_t page, uint32_t off, void *buf, size_t len);
int simflash_erase(struct simflash *f, uint32_t page);
int simflash_program(struct simflash *f, uint32_t page, uint32_t off, const void *buf, size_t len);

#endif /* PCL_SIMFLASH_H */
