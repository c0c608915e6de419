/*
 * audit.h - the tamper-evident audit trail: writer, key enrolment, verifier.
 * The writer is linked by the daemon's engine (unprivileged); the verifier and the
 * record parser by the portcullis CLI, which reads trails copied from untrusted PCs.
 * Format: docs/audit-format.md. Errors: 0 / count on success, negative errno on failure.
 */
#ifndef PCL_AUDIT_H
#define PCL_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "diag.h"

struct json_object;
struct audit_log;

#define AUDIT_RECORD_MAX 16384 /* bytes per record line, newline included */
/* A record may be dated at most this much before its predecessor (the writer never does). */
#define AUDIT_TIME_TOLERANCE_S 60

struct audit_config {
	const char *dir;		/* trail directory: monthly segments + state */
	const char *origin;		/* checkpoint origin line, e.g. "portcullis/<host-id>" */
	const char *host_name;		/* host.name of every record */
	unsigned retention_months;	/* segments older than this are purged; 0 = 6 */
	unsigned checkpoint_interval_s; /* checkpoint + key evolution period; 0 = 300 */
	const char *boot_id;		/* NULL: /proc/sys/kernel/random/boot_id */
	/* Clock seam: NULL uses clock_gettime(CLOCK_REALTIME). */
	void (*now)(void *ctx, struct timespec *ts);
	void *now_ctx;
	/* Boot-clock seam (shares now_ctx): NULL uses CLOCK_BOOTTIME, or, when `now` is set,
	 * the same seam (no clock jump can then be seen). */
	void (*boot)(void *ctx, struct timespec *ts);
	unsigned group_ms;	/* grouped records are durable at most this late; 0 = 10 */
	unsigned seal_delay_ms; /* audit_seal_soon: the checkpoint follows this late; 0 = 1000 */
};

/* The wall clock may disagree with the boot clock by this much before a purge is held. */
#define AUDIT_CLOCK_JUMP_S 120

/* Create the state of a new trail in cfg->dir (fails with -EEXIST if one exists) and
 * return in *key_text the key file for the IT provider (initial MAC key and first
 * checkpoint public key). The caller wipes (explicit_bzero) and frees *key_text. */
int audit_enrol(const struct audit_config *cfg, char **key_text, struct pcl_diag *diag);

/* Open an enrolled trail; recovers from a crash (drops a half-written last line). */
int audit_open(struct audit_log **out, const struct audit_config *cfg, struct pcl_diag *diag);

/* Append one event (json object of event fields; reserved names are refused with -EINVAL).
 * Durable (fdatasync, group commit across threads) before returning 0. After a write
 * failure every later call fails too (fail closed). The writer never seals on its own
 * account: a caller that wants the record sealed now (a security event) follows it with
 * audit_checkpoint, or with audit_seal_soon for a seal off its own path. */
int audit_append(struct audit_log *log, struct json_object *event);

/* Append one event that describes no action of its own (an observation, such as a device
 * seen before its decision): written and chained now, durable with the next audit_append,
 * checkpoint, tick or close, whichever comes first. Same errors as audit_append. */
int audit_append_deferred(struct audit_log *log, struct json_object *event);

/* Append an observation (as audit_append_deferred) and the event that follows it (as
 * audit_append) as two consecutive records that reach the disk in one write: the trail's
 * not yet synced bytes and both records in one RWF_DSYNC write when no other thread is
 * writing, else one write and the group commit's sync. Both are checked first: one that is
 * not a json object of the caller's fields, or too long for a record, refuses the pair
 * (-EINVAL, -E2BIG) and nothing is written. Same errors as audit_append otherwise. */
int audit_append_pair(struct audit_log *log, struct json_object *before, struct json_object *event);

/* Append one event of a stream (a file transfer record): written and chained now, made
 * durable by the trail's own flusher thread together with the others of its group, at most
 * group_ms after it was written (sooner with any audit_append). The caller never waits for
 * the disk; a power cut loses at most the records of the group in flight. Same errors as
 * audit_append (a failed group sync fails every later call). */
int audit_append_grouped(struct audit_log *log, struct json_object *event);

/* Append n events of a stream as one group: each is framed, chained and MACed as by
 * audit_append_grouped, and they are written together (one write for up to 256 KiB of
 * records), made durable by the flusher's next group sync. Every event is checked first:
 * one that is not a json object of the caller's fields, or too long for a record, refuses
 * the whole group (-EINVAL, -E2BIG) and nothing is written. Same errors as audit_append
 * otherwise. */
int audit_append_group(struct audit_log *log, struct json_object *const *events, size_t n);

/* As audit_append_group, each record made of the event's members followed by common's
 * (the fields every record of the stream shares, serialised once for the group; NULL: none).
 * common must be a json object of the caller's fields like the events; a member both in
 * it and in an event refuses the group (-EINVAL), as does any other bad event. */
int audit_append_group_common(struct audit_log *log, struct json_object *const *events, size_t n,
			      struct json_object *common);

/* Ask for a signed checkpoint seal_delay_ms from the first request on, written by the
 * flusher thread: a burst of requests gets one checkpoint. Returns the sticky error. */
int audit_seal_soon(struct audit_log *log);

/* Counters of the writer since open (for tests and benchmarks). */
struct audit_stats {
	uint64_t syncs;	      /* fdatasync calls on the trail */
	uint64_t checkpoints; /* checkpoints written */
	uint64_t durable_seq; /* every record up to this seq is on disk */
	uint64_t trail_seq;   /* ... in the segment itself (the rest: in the intent file) */
	uint64_t intents;     /* intent entries written (durable writes of decisions) */
};
void audit_get_stats(struct audit_log *log, struct audit_stats *out);

/* Signed checkpoint over everything so far, then key evolution. No-op when nothing new. */
int audit_checkpoint(struct audit_log *log);

/* Periodic: checkpoint when the interval elapsed, retention purge. Cheap when idle. */
int audit_tick(struct audit_log *log);

/* Last sequence number written (0 when empty). */
uint64_t audit_last_seq(const struct audit_log *log);

/* Copy the latest signed checkpoint note (C2SP signed note) into buf; -ENOENT if none. */
int audit_last_checkpoint(const struct audit_log *log, char *buf, size_t len);

/* Close; wipes the in-memory keys and NULLs *log. */
void audit_close(struct audit_log **log);

/* ---- verification (IT provider, offline) ---- */

struct audit_key {
	char origin[256];
	uint8_t mac_key[32]; /* epoch-0 MAC key (secret) */
	uint8_t pub[32];     /* epoch-0 checkpoint Ed25519 public key */
};

/* Parse a key file produced by audit_enrol. */
int audit_key_parse(struct audit_key *key, const char *text, size_t len, const char *name,
		    struct pcl_diag *diag);

struct audit_verify_result {
	uint64_t first_seq, last_seq; /* range seen (0, 0 when empty) */
	uint64_t records;	      /* accepted records, checkpoints included */
	uint64_t checkpoints, purges; /* accepted signed checkpoints and purge records */
	uint64_t duplicates;	      /* byte-identical repeats skipped (collector resends) */
	uint64_t unsealed;	      /* records after the last checkpoint (MAC only) */
	uint64_t epoch;		      /* key epoch at the end */
	uint64_t failures;	      /* problems reported */
	uint64_t last_ckpt_seq;	      /* seq covered by the last accepted checkpoint (0: none) */
	int64_t last_ckpt_time;	      /* its signed time line (unix seconds) */
	uint64_t purged_upto;	      /* highest seq erased by an accepted purge record (0: none) */
	uint64_t purge_seq;	      /* seq of that purge record */
};

/* One problem: seq (0 when not known), where, and why. */
typedef void (*audit_report_fn)(void *ctx, uint64_t seq, const char *file, unsigned line,
				const char *msg);

struct audit_verify_opts {
	const struct audit_key *key;   /* NULL: chain, sequence and signatures only */
	unsigned min_retention_months; /* purges of younger data fail; 0 = 6 */
	audit_report_fn report;
	void *report_ctx;
	bool collected; /* a collector's copy: byte-identical repeats are skipped, not failed */
};

struct audit_verifier;

int audit_verifier_new(struct audit_verifier **out, const struct audit_verify_opts *opts);
/* A signed checkpoint held elsewhere (collector): the trail must contain and match it. */
int audit_verifier_add_checkpoint(struct audit_verifier *v, const char *note, size_t len,
				  const char *name);
/* Feed records in order: one line (without its newline), or a whole file. */
void audit_verifier_feed_line(struct audit_verifier *v, const char *line, size_t len,
			      const char *file, unsigned lineno);
int audit_verifier_feed_file(struct audit_verifier *v, const char *path);
/* Final checks; fills *res; returns 0 when the trail verified, -EBADMSG otherwise. */
int audit_verifier_finish(struct audit_verifier *v, struct audit_verify_result *res);
void audit_verifier_free(struct audit_verifier **v);
/* The signed note of the last accepted checkpoint (valid until free), or NULL. */
const char *audit_verifier_last_note(const struct audit_verifier *v);

/* ---- witness (IT provider: the latest verified checkpoint of each PC, held off the PC) ----
 * Witness file syntax and rules: docs/audit-format.md ("Witness"). */

#define AUDIT_WITNESS_MARKS 24 /* first checkpoint seen in each of the last 24 months */

struct audit_witness_mark {
	uint64_t seq; /* checkpoint size */
	int64_t seen; /* witness clock (unix seconds) when it was first accepted */
};

struct audit_witness {
	char origin[256];
	uint64_t seq;	  /* records covered by the held checkpoint (0: none held yet) */
	uint8_t head[32]; /* its chain head H(seq) */
	int64_t time;	  /* its signed time line (PC clock) */
	uint64_t epoch;	  /* its key epoch */
	int64_t seen;	  /* witness clock when it was first accepted */
	int64_t checked;  /* witness clock of the last check */
	char *note;	  /* the held C2SP signed note (malloc'd) */
	size_t nmarks;	  /* oldest first */
	struct audit_witness_mark marks[AUDIT_WITNESS_MARKS];
};

struct audit_witness_opts {
	unsigned retention_months; /* 0 = 6 */
	unsigned interval_s;	   /* the PCs' checkpoint interval; 0 = 300 */
	unsigned margin_s;	   /* allowed silence beyond the interval; 0 = 3600 */
	int64_t now;		   /* witness clock, unix seconds */
	audit_report_fn report;	   /* witness findings: (ctx, seq, name, 0, why) */
	void *report_ctx;
};

struct audit_witness_result {
	struct audit_verify_result verify; /* of the collected trail */
	uint64_t held_seq;		   /* checkpoint held before the check (0: none) */
	uint64_t newest_seq;		   /* newest checkpoint in the collected trail (0: none) */
	uint64_t failures;		   /* verifier and witness findings */
	bool stale;			   /* no new checkpoint for longer than interval + margin */
	bool updated;			   /* the witness now holds newest_seq */
};

/* Parse a witness file (untrusted: it may have been edited); 0 or -EBADMSG with diag
 * naming the line. An empty witness (seq 0) is valid. Caller frees with _free. */
int audit_witness_parse(struct audit_witness *w, const char *text, size_t len, const char *name,
			struct pcl_diag *diag);
/* Text of a witness file (malloc'd). */
int audit_witness_format(const struct audit_witness *w, char **text);
/* Load (-ENOENT: none yet, *w empty) or save atomically (tmp, fsync, rename). */
int audit_witness_load(struct audit_witness *w, const char *path, struct pcl_diag *diag);
int audit_witness_save(const struct audit_witness *w, const char *path);
void audit_witness_free(struct audit_witness *w);
/* Before feeding the collected trail: make the held checkpoint a required one
 * (same prefix, no truncation below it). */
int audit_witness_attach(const struct audit_witness *w, struct audit_verifier *v, const char *name);
/* After feeding: finish the verifier, check seq never goes backwards, no accepted purge
 * erases a checkpoint the witness saw less than retention_months ago, and the PC is not
 * silent; when all is well advance *w to the newest checkpoint. Returns 0 clean,
 * -EBADMSG on any finding (stale alone is not a failure: res->stale). */
int audit_witness_check(struct audit_witness *w, struct audit_verifier *v, const char *name,
			const struct audit_witness_opts *o, struct audit_witness_result *res);

/* Incremental verification (collector). save: the state of a verifier that has accepted
 * every record so far (keyed, no failure) as malloc'd text holding secret key material
 * (the caller stores it 0600, wipes and frees it); -EINVAL otherwise. resume: load that
 * text into a new verifier made with the same key; feeding goes on after its last seq. */
int audit_verifier_save(const struct audit_verifier *v, char **text);
int audit_verifier_resume(struct audit_verifier *v, const char *text, size_t len);

/* ---- parsing for export (untrusted bytes) ---- */

/* Parse one record line into a json object (caller puts it); checks the fixed framing
 * (seq, epoch, prev, audit.type first, mac last). Does not check the MAC. */
int audit_record_parse(const char *line, size_t len, struct json_object **out,
		       struct pcl_diag *diag);

/* seq of a record line from its framing (no MAC check); -EBADMSG if not a record. */
int audit_line_seq(const char *line, size_t len, uint64_t *seq);

/* First seq of a trail file (for ordering files); -ENOENT when it has no record. */
int audit_file_first_seq(const char *path, uint64_t *seq);

#endif
