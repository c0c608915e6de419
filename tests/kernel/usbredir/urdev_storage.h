/*
 * urdev_storage.h: a bulk-only mass storage function over a RAM disk (dev_storage.c),
 * used by the sticks of pcl-usbredir-dev (dev_sticks.c). Linked by pcl-usbredir-dev (a
 * test tool); its input is the guest's bulk transfers, checked there.
 */
#ifndef PCL_URDEV_STORAGE_H
#define PCL_URDEV_STORAGE_H

#include <stddef.h>
#include <stdint.h>

/* A zeroed disk of `blocks` 512-byte blocks; INQUIRY names vendor and product. 0 or -1. */
int storage_init(uint32_t blocks, const char *vendor, const char *product);
/* The class request "bulk-only mass storage reset": ready for a command again. */
void storage_reset(void);
/* A bulk OUT packet (a command block wrapper or data). 0, or -1 to stall. */
int storage_out(const uint8_t *data, size_t len);
/* A bulk IN request of up to len bytes (data or the status wrapper): the length sent, or
 * -1 to stall. */
int storage_in(uint8_t *buf, size_t len);

#endif /* PCL_URDEV_STORAGE_H */
