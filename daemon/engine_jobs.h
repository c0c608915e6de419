/*
 * engine_jobs.h - helpers on approved media, seen from the engine (engine_jobs.c).
 */
#ifndef PCL_DAEMON_ENGINE_JOBS_H
#define PCL_DAEMON_ENGINE_JOBS_H

#include <stddef.h>
#include <stdint.h>

struct engine;
struct dev_entry;

/* Ask the parent to start a helper; 0 or negative errno. client: control client to
 * relay the helper's lines to, or -1. */
int engine_job_start(struct engine *e, const struct dev_entry *d, uint8_t kind, const char *block,
		     uint32_t mount_id, int client);
/* The mount table changed: start and stop transfer logging. */
void engine_mounts_changed(struct engine *e);
/* A device went away: stop its helpers. */
void engine_jobs_device_gone(struct engine *e, const char *sysname);
/* Periodic: forget stopped helpers that never closed their feed, start waiting wipes. */
void engine_jobs_tick(struct engine *e);
/* Feeds: a control client that presented a job's token gets a handle (>= 0, or -1 for
 * no such job); lines and the close of a handle whose job has ended are ignored. */
int engine_feed_find(const char *token);
int engine_feed_line(struct engine *e, int handle, const char *line);
void engine_feed_closed(struct engine *e, int handle);

/* `portcullis wipe DEVICE` from control client `client`; 0, or negative errno with a
 * reason for the user in why. */
int engine_wipe_request(struct engine *e, int client, const char *device, char *why, size_t len);

#endif
