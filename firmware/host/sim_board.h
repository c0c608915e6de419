/*
 * sim_board.h: the part of the board layer (firmware/hal/hal.h) that every host build of
 * the token shares: a file-backed simflash, getrandom(), CLOCK_MONOTONIC, a public unique
 * id derived from the state file's name, and the touch (SIGUSR1, or every check with
 * auto_touch). Linked by portcullis-token-sim (sim_hal.c adds its socket reports) and by
 * the test tool pcl-usbredir-dev (dev_token.c adds USB endpoints). Never in a product.
 */
#ifndef PCL_SIM_BOARD_H
#define PCL_SIM_BOARD_H

#include <signal.h>
#include <stdint.h>

#include "hal.h"
#include "simflash.h"

struct sim_board {
	struct simflash flash;
	int auto_touch;			      /* every touch check succeeds */
	volatile sig_atomic_t touch;	      /* SIGUSR1: one touch */
	volatile sig_atomic_t stop;	      /* SIGTERM or SIGINT: the main loop ends */
	uint64_t t0;			      /* CLOCK_MONOTONIC ms at open: hal_time_ms's zero */
	uint8_t unique_id[HAL_UNIQUE_ID_LEN]; /* FNV-1a of the state file's name */
};

extern struct sim_board sim_board;

/* Install the SIGUSR1, SIGTERM and SIGINT handlers, open state as the flash (page_size,
 * page_count, 4-byte writes), derive the unique id and start the clock. 0 or -errno (the
 * flash's open). */
int sim_board_open(const char *state, uint32_t page_size, uint32_t page_count);
void sim_board_close(void);
/* A command-line duration in milliseconds (0 to one hour) for option opt; -1 after a
 * "prog: opt: invalid milliseconds" message. */
int sim_board_parse_ms(const char *prog, const char *opt, const char *s, uint32_t *out);
/* CLOCK_MONOTONIC in milliseconds. */
uint64_t sim_board_now_ms(void);

#endif /* PCL_SIM_BOARD_H */
