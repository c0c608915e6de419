/*
 * test_hal.h: a board layer for tests and fuzzers: implements firmware/hal/hal.h with an
 * in-memory simflash (power-cut injection), queues of 64-byte reports released at chosen
 * virtual times, a virtual clock that advances while the core waits, and a button the
 * test presses. Linked by the token unit tests and fuzz harnesses, never by a product.
 */
#ifndef PCL_TEST_HAL_H
#define PCL_TEST_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "simflash.h"

extern struct simflash thal_flash;
extern uint64_t thal_now;      /* virtual milliseconds since power-up */
extern int thal_auto_touch;    /* every hal_button_poll() says "touched" */
extern uint64_t thal_touch_at; /* one touch becomes available at this time (0: none) */
extern int thal_led;	       /* last hal_led() mode */
extern int thal_rng_fail;      /* hal_rng() fails */
extern int thal_deterministic; /* hal_rng() from a fixed-seed generator (fuzzing) */

/* Fresh erased flash of the given geometry; clears queues, clock, button. */
void thal_reset(uint32_t page_size, uint32_t page_count, uint32_t align);
/* Keep the flash (and clear a power cut); clear queues, clock and button. */
void thal_power_cycle(void);
/* Queue a report from the host, delivered no earlier than at_ms. */
void thal_push_at(const uint8_t report[64], uint64_t at_ms);
void thal_push(const uint8_t report[64]);
/* Take the oldest report the token sent. Returns 1, or 0 when none is left. */
int thal_pop(uint8_t report[64]);
size_t thal_sent(void);
void thal_free(void);

#endif /* PCL_TEST_HAL_H */
