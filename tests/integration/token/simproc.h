/*
 * simproc.h: start and stop portcullis-token-sim for the token integration tests.
 * Linked by the token tests only; trusts its environment (PCL_PREFIX).
 */
#ifndef PCL_SIMPROC_H
#define PCL_SIMPROC_H

#include <sys/types.h>

struct simproc {
	pid_t pid;
	char dir[256];
	char sock[300];
	char path[310]; /* "sim:" + sock */
	char state[300];
};

/* Make a scratch directory for the socket and state file. */
void simproc_setup(struct simproc *s);
/* Start the simulator with extra arguments (NULL-terminated); waits for its socket. */
void simproc_start(struct simproc *s, const char *const *args);
/* SIGTERM and wait; the state file stays. */
void simproc_stop(struct simproc *s);
/* Remove the scratch directory. */
void simproc_teardown(struct simproc *s);
/* Press the button: SIGUSR1 after delay_ms, from a helper thread. */
void simproc_touch_after(struct simproc *s, int delay_ms);

#endif
