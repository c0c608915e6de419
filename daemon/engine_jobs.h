/*
 * engine_jobs.h - helpers on approved media, seen from the engine (engine_jobs.c).
 */
#ifndef PCL_DAEMON_ENGINE_JOBS_H
#define PCL_DAEMON_ENGINE_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pollfd;
struct engine;
struct dev_entry;

/* Ask the parent to start a helper; 0 or negative errno. client: control client to
 * relay the helper's lines to, or -1. uid: a wipe's operator (IPC_JOB_AUTOMATIC when no
 * one asked), named on its certificate with the approval's reference. */
int engine_job_start(struct engine *e, const struct dev_entry *d, uint8_t kind, const char *block,
		     uint32_t mount_id, int client, uint32_t uid);
/* The mount table changed: start and stop transfer logging. */
void engine_mounts_changed(struct engine *e);
/* The feature's hooks: on_access, the mount table looked at again; on_leaving, a device's
 * helpers stop; on_tick, stopped helpers never reported gone are forgotten and waiting
 * wipes start. */
struct engine_hooks;
extern const struct engine_hooks engine_jobs_hooks;
/* The helpers' output channels: poll them, read what poll reported. */
size_t engine_jobs_pollfds(struct pollfd *p, size_t max);
void engine_jobs_service(struct engine *e, const struct pollfd *p, size_t n);
/* The parent reported job `id`'s exit (status, or the signal that killed it). */
void engine_job_exited(struct engine *e, uint32_t id, bool signaled, int code);

/* `portcullis wipe DEVICE` from control client `client`; 0, or negative errno with a
 * reason for the user in why. */
int engine_wipe_request(struct engine *e, int client, uint32_t uid, const char *device, char *why,
			size_t len);

#endif
