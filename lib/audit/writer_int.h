/*
 * writer_int.h - the audit writer's private structure, shared by writer.c (appends and
 * syncs), open.c (enrolment, open with recovery, close), epoch.c (segments, checkpoints,
 * purges, tick) and flusher.c (group syncs, scheduled seals). Linked by the engine.
 */
#ifndef PCL_AUDIT_WRITER_INT_H
#define PCL_AUDIT_WRITER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "audit.h"
#include "audit_int.h"

struct audit_log {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *dir, *origin, *host_name;
	char boot_id[40];
	char *host_boot; /* "host.name":...,"boot_id":... JSON members, built at open */
	unsigned retention_months, interval_s;
	void (*now)(void *ctx, struct timespec *ts);
	void (*boot)(void *ctx, struct timespec *ts);
	void *now_ctx;
	int64_t last_ts_ms; /* @timestamp of the last record: timestamps never go back */
	/* Clock reference for jump detection: wall = ref_wall + (boot - ref_boot), exactly
	 * (ref_exact) or as an upper bound (a record of this boot seen at open). */
	int64_t ref_wall, ref_boot;
	bool ref_exact;

	struct audit_state st; /* secret: wiped on close */
	struct audit_hasher *hasher;
	int fd;	       /* current segment, written at seg_size */
	char month[8]; /* its month, YYYY-MM */
	off_t seg_size;
	/* The segment's bytes from tail_off to seg_size: written, not known to be on disk
	 * (everything before tail_off is). A durable append with no other caller waiting
	 * rewrites them with its own record in one pwritev2(RWF_DSYNC):
	 * one call instead of write + fdatasync. tail_over: more than AUDIT_TAIL_MAX bytes,
	 * not kept (the next sync makes them durable the usual way). */
	char *tail;
	size_t tail_len;
	off_t tail_off;
	bool tail_over, no_dsync;
	/* Intent file (intent.c): a durable append alone writes its record to the segment
	 * without a sync and the kept tail plus the record into the next slot with
	 * RWF_DSYNC; intent_seq: the last record made durable that way (the flusher then
	 * syncs the segment within its intent window, by intent_due_ms, monotonic).
	 * intent_fd -1: not in use (the segment is synced instead). */
	int intent_fd;
	uint64_t intent_gen, intent_seq;
	int64_t intent_due_ms;
	bool intent_replayed;	      /* at open: said in the trail by audit_intent_note */
	struct audit_intent replayed; /* what was put back (bytes NULL) */
	atomic_uint waiters;	      /* callers waiting for the lock in append() */
	uint64_t seq;		      /* last seq written */
	uint8_t head[AUDIT_HASH_LEN];
	uint64_t synced_seq;
	bool syncing;
	/* Group commit: syncs started so far, the seq the one in flight covers, and one
	 * condition per parity of the sync a waiter needs, so the end of a sync wakes only
	 * the records it made durable (and one writer to start the next). */
	uint64_t sync_gen, sync_target;
	pthread_cond_t synced[2];
	bool sealing; /* a checkpoint is between its record and the new epoch */
	int failed;   /* sticky negative errno: fail closed */
	time_t last_ckpt;
	char purged_month[8]; /* month of the last retention check */
	char *last_note;
	/* Flusher thread (flusher.c): group syncs of grouped records and scheduled seals. */
	pthread_t flusher;
	bool flusher_on, flusher_ready, flusher_stop, flusher_idle;
	pthread_cond_t flush_cond; /* CLOCK_MONOTONIC */
	unsigned group_ms, seal_delay_ms;
	uint64_t group_seq; /* last grouped record: the flusher makes it durable */
	bool seal_wanted;
	int64_t seal_due_ms; /* monotonic */
	uint64_t n_syncs, n_checkpoints, n_intents;
};

void audit_now(const struct audit_log *log, struct timespec *ts);
int64_t audit_boot_now(const struct audit_log *log);
void audit_timestamp(char out[64], int64_t ms);
void audit_month_of(char out[8], time_t t);
void audit_segment_path(char *out, size_t len, const char *dir, const char *month);
int audit_fsync_dir(const char *dir);
int audit_sync_locked(struct audit_log *log, uint64_t upto);
int audit_segment_switch(struct audit_log *log, const char *month);
struct audit_prep {
	char *fields; /* the caller's members as JSON, without the braces */
	size_t len;
	/* Members laid after fields in the same record (a group's common fields, serialised
	 * once for the group; not owned), or NULL. */
	const char *common;
	size_t common_len;
	char salt[33];
};
int audit_prepare(const struct audit_log *log, struct json_object *event, bool allow_reserved,
		  struct audit_prep *p);
int audit_commit(struct audit_log *log, enum audit_type type, struct audit_prep *p);
/* Like audit_commit; with dsync, write the record durably when that costs one call (see
 * tail above) and say so in *durable; otherwise as audit_commit, *durable false. */
int audit_commit_sync(struct audit_log *log, enum audit_type type, struct audit_prep *p, bool dsync,
		      bool *durable);
#define AUDIT_TAIL_MAX (64 * 1024)
/* The most a record's frame adds to its fields, besides host.name and boot_id: seq and
 * epoch (20 digits each), prev, type, @timestamp, salt, mac, punctuation, newline. */
#define AUDIT_FRAME_MAX 320
void audit_prep_free(struct audit_prep *p);
int audit_flusher_start(struct audit_log *log);
void audit_flusher_stop(struct audit_log *log);
void audit_flusher_kick(struct audit_log *log); /* lock held */
/* Records up to seq are durable through the intent file: the flusher syncs the segment
 * within its intent window (lock held). */
void audit_flusher_intent(struct audit_log *log, uint64_t seq);
int audit_checkpoint_locked(struct audit_log *log);
int audit_write_record(struct audit_log *log, enum audit_type type, struct json_object *event,
		       bool allow_reserved);
/* Intent file (intent.c). Open (create, preallocate) it and put the newest entry back
 * into its segment when a power cut took those bytes: 0 or <0 with diag (before the tail
 * recovery). Write one entry of the kept tail, from tail_off to the segment's end (lock held): 1
 * durable, 0 not possible (no room in a slot, the file not in use or failed: sync the segment). Say
 * a replay in the trail with a record (after the tail recovery, lock held). */
int audit_intent_open(struct audit_log *log, struct pcl_diag *diag);
int audit_intent_write(struct audit_log *log);
int audit_intent_note(struct audit_log *log);
/* Segments (epoch.c): scandir filter and order, and the last whole line of one (its
 * half-written tail dropped): 1 found, 0 none, <0 error. */
struct dirent;
int audit_is_segment(const struct dirent *d);
int audit_segment_cmp(const struct dirent **a, const struct dirent **b);
int audit_last_line(const char *path, char *buf, size_t cap, size_t *len);
/* Move to the next key epoch after a checkpoint record (lock held); sticky on failure. */
int audit_advance_epoch(struct audit_log *log);

#endif
