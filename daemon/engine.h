/*
 * engine.h - what every feature of the engine uses (engine_core.c): requests to the
 * parent, audit records, the engine's settings. The engine of portcullisd follows udev
 * events, decides by the rules, writes the audit trail, serves the control socket and
 * asks the parent to carry out each decision; its loop is engine.c (engine_main.h).
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

/* Ask the parent to carry out a request; 0 or the parent's negative errno. */
struct ipc_msg;
int engine_request(struct engine *e, struct ipc_msg *req);
/* The same; *fd: a descriptor the parent sent with its answer (a helper's channel), or
 * -1. Helper exits the parent reports meanwhile are kept and handled by the loop. */
int engine_request_fd(struct engine *e, struct ipc_msg *req, int *fd);
/* Send a request without waiting for its answer, which engine_answer_early returns (0, the
 * parent's negative errno, or -ENOENT when no request was sent early); *fd: a descriptor
 * the parent sent with it, or -1 (fd NULL: closed at once). One at a time; requests in
 * between are answered as usual. Collect it before the loop reads the parent's messages
 * again. */
void engine_request_early(struct engine *e, struct ipc_msg *req);
int engine_answer_early(struct engine *e, int *fd);

/* Record a prepared record (not taken over) and tell watching clients. */
int engine_record_json(struct engine *e, struct json_object *rec, bool security);
/* Like engine_record_json, for an observation that grants nothing by itself: durable
 * with the next record's disk sync (engine_observe). */
int engine_record_deferred(struct engine *e, struct json_object *rec);
/* An observation (as engine_record_deferred) and the record that follows it (as
 * engine_record_json, not security): both reach the trail in one write and one disk sync.
 * A pair the trail refuses whole is recorded one at a time. */
int engine_record_pair(struct engine *e, struct json_object *before, struct json_object *rec);
/* Like engine_record_json, for a record of a stream (a file transfer): made durable with
 * the others of its group by the trail's flusher thread, without waiting for the disk. */
int engine_record_grouped(struct engine *e, struct json_object *rec);
/* n such records (not taken over) appended as one group, each followed in the trail by
 * common's fields (the same for all, serialised once; NULL: none), and told to watching
 * clients with common's fields laid on them. -EINVAL or -E2BIG: one of them cannot be a
 * record (or has a field of common's), nothing was written (the caller takes them one at a
 * time); other errors as engine_record_grouped. */
int engine_record_group(struct engine *e, struct json_object *const *recs, size_t n,
			struct json_object *common);
/* on: the records written from now on are told to watching clients only at the call with
 * off (the device's grant done first: nothing but the trail's write before it). */
void engine_tell_later(struct engine *e, bool on);
/* A signed checkpoint soon (after a security event took effect): written by the trail's
 * flusher thread, one for a burst of requests, never on the caller's path. */
void engine_seal(struct engine *e);
/* Relay a helper's line to control client `client`; NULL ends that client. */
void engine_job_progress(struct engine *e, int client, const char *line);

const struct conf *engine_conf(const struct engine *e);
const char *engine_host(const struct engine *e);
bool engine_first_start(const struct engine *e);
const struct rules *engine_rules(const struct engine *e);
struct udev *engine_udev(const struct engine *e);

#endif
