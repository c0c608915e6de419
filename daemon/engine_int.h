/*
 * engine_int.h - the engine's own state, shared by its loop (engine.c) and the services
 * every feature uses (engine_core.c). Linked by the engine only; no feature includes it.
 */
#ifndef PCL_DAEMON_ENGINE_INT_H
#define PCL_DAEMON_ENGINE_INT_H

#include <libudev.h>

#include "engine.h"
#include "engine_kuevent.h"
#include "ipc.h"

struct control;

struct engine {
	const struct conf *conf;
	int ipc_fd;
	uint32_t next_id;
	struct udev *udev;
	struct udev_monitor *mon;
	struct ekuev kuev; /* the kernel's own uevents: usb devices before udevd's rules */
	struct rules *rules;
	struct audit_log *audit;
	struct control *ctl;
	int mountinfo;	  /* /proc/self/mountinfo: POLLPRI when the mount table changes */
	bool first_start; /* the first engine since boot: present-devices applies */
	/* Helper exits the parent reported while a request waited for its answer. */
	struct ipc_msg exits[64];
	size_t n_exits;
	/* A request sent ahead of its answer (engine_request_early): its id until the answer
	 * is collected, and the answer once read (early_fd: the descriptor it carried, or -1;
	 * meaningful only while early_done). */
	uint32_t early_id;
	bool early_done;
	int early_err;
	int early_fd;
	char host[256];
	/* The control socket, as the core reaches it: set by the loop at set-up, so that the
	 * core calls no module above it. */
	void (*tell)(struct control *ctl, struct json_object *rec);
	void (*relay)(struct control *ctl, int client, const char *line);
	bool (*watching)(const struct control *ctl); /* NULL: always */
};

/* A helper's exit the parent reported, kept for the loop to handle. */
void engine_keep_exit(struct engine *e, const struct ipc_msg *m);

#endif
