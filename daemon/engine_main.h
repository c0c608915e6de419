/*
 * engine_main.h - the engine process (engine.c): set-up, then its poll loop. Linked by
 * the engine; called by engine_exec.c only.
 */
#ifndef PCL_DAEMON_ENGINE_MAIN_H
#define PCL_DAEMON_ENGINE_MAIN_H

#include <stdbool.h>
#include <sys/types.h>

#include "conf.h"

/* The engine process: returns its exit status. ipc_fd is its end of the socketpair.
 * first_start: the parent's first engine since boot (present-devices applies). */
/* restarted: why the previous engine ended, when this one replaces it ("killed by signal
 * 9", "exit status 1"; NULL at a service start): recorded as engine-restarted. */
int engine_main(const struct conf *c, int ipc_fd, uid_t uid, gid_t gid, bool first_start,
		const char *restarted);

#endif
