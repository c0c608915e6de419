/*
 * engine.h - the unprivileged engine of portcullisd: follows udev events, reads
 * device identities, decides by the rules, writes the audit trail, serves the
 * control socket, and asks the parent to carry out each decision.
 */
#ifndef PCL_DAEMON_ENGINE_H
#define PCL_DAEMON_ENGINE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "engine_device.h"
#include "rules.h"

#define ENGINE_MAX_CLIENTS 16
#define ENGINE_MAX_JOBS	   32 /* helpers on approved media at once */

struct engine;

/* The engine process: returns its exit status. ipc_fd is its end of the socketpair.
 * first_start: the parent's first engine since boot (present-devices applies). */
/* restarted: why the previous engine ended, when this one replaces it ("killed by signal
 * 9", "exit status 1"; NULL at a service start): recorded as engine-restarted. */
int engine_main(const struct conf *c, int ipc_fd, uid_t uid, gid_t gid, bool first_start,
		const char *restarted);

/* Ask the parent to carry out a request; 0 or the parent's negative errno. */
struct ipc_msg;
int engine_request(struct engine *e, struct ipc_msg *req);
/* The same; *fd: a descriptor the parent sent with its answer (a helper's channel), or
 * -1. Helper exits the parent reports meanwhile are kept and handled by the loop. */
int engine_request_fd(struct engine *e, struct ipc_msg *req, int *fd);

/* Record an event in the audit trail (fills the device fields from d when non-NULL),
 * and tell watching clients. 0 or negative errno: the caller then fails closed. */
int engine_record(struct engine *e, const char *action, const char *outcome,
		  const struct dev_entry *d, const char *reason, bool security);

/* Like engine_record, for an observation that grants nothing by itself (a device seen,
 * before its decision): written now, durable with the next record's disk sync, so an
 * insertion costs one sync before access, not two. */
int engine_observe(struct engine *e, const char *action, const struct dev_entry *d,
		   const char *reason);

/* Like engine_record, for a fact that has already happened and grants nothing (a device
 * removed): written now, made durable by the trail's flusher thread within its group
 * window, so the engine's main thread never waits for the disk on it. */
int engine_record_after(struct engine *e, const char *action, const struct dev_entry *d,
			const char *reason);

/* Record a prepared record (not taken over) and tell watching clients. */
int engine_record_json(struct engine *e, struct json_object *rec, bool security);
/* Like engine_record_json, for a record of a stream (a file transfer): made durable with
 * the others of its group by the trail's flusher thread, without waiting for the disk. */
int engine_record_grouped(struct engine *e, struct json_object *rec);
/* A signed checkpoint soon (after a security event took effect): written by the trail's
 * flusher thread, one for a burst of requests, never on the caller's path. */
void engine_seal(struct engine *e);
/* Relay a helper's line to control client `client`; NULL ends that client. */
void engine_job_progress(struct engine *e, int client, const char *line);

/* engine_usb.c: USB devices and interfaces. */
struct udev_device;
void engine_usb_event(struct engine *e, struct udev_device *dev, const char *action, bool at_start);
/* engine_block.c: removable media that do not come through USB. */
void engine_block_event(struct engine *e, struct udev_device *dev, const char *action);
/* Take a device's access away (recorded, then de-authorised by the parent). */
void engine_block_device(struct engine *e, struct dev_entry *d, const char *reason);
/* engine_remove.c: d is gone (reason: NULL, or why it is known gone): its helpers,
 * grant and marks end, the removal is recorded, and its record is forgotten. */
void engine_device_remove(struct engine *e, struct dev_entry *d, const char *reason);
/* Full rescan of sysfs (at start, and after a lost uevent). */
void engine_rescan(struct engine *e, bool at_start);

/* Carry out d's decision (authorise or take away the device, decide its interfaces). */
void engine_usb_apply(struct engine *e, struct dev_entry *d);

const struct conf *engine_conf(const struct engine *e);
const char *engine_host(const struct engine *e);
bool engine_first_start(const struct engine *e);
const struct rules *engine_rules(const struct engine *e);
struct udev *engine_udev(const struct engine *e);

#endif
