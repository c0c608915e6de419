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

/* The rest (flash, touch, stop, clock, unique id) is struct sim_board (sim_board.h). */
struct sim {
	int listen_fd;
	int client[SIM_MAX_CLIENTS];
	int verbose;
};

extern struct sim sim;

#endif /* PCL_SIM_H */
