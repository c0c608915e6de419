/*
 * sim.h: state shared by the simulator's main loop and its board layer (sim_hal.c).
 * Linked by portcullis-token-sim only.
 */
#ifndef PCL_SIM_H
#define PCL_SIM_H

#include <signal.h>
#include <stdint.h>

#include "simflash.h"

#define SIM_MAX_CLIENTS 8

struct sim {
	struct simflash flash;
	int listen_fd;
	int client[SIM_MAX_CLIENTS];
	int auto_touch;
	int verbose;
	volatile sig_atomic_t touch;
	volatile sig_atomic_t stop;
	uint64_t t0;
	uint8_t unique_id[8];
};

extern struct sim sim;
void sim_clock_start(void);

#endif /* PCL_SIM_H */
