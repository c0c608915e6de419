/*
 * fleet.h - `portcullis fleet` on the IT provider's collector: the store of every
 * council's PCs (trail key, verifier state, witness checkpoint, counters), incremental
 * verification of the collected trails, status as text, JSON and Prometheus metrics.
 * Linked by the portcullis CLI. The collected trails come from PCs and are untrusted;
 * the fleet directory is the IT provider's own (written only by this tool).
 */
#ifndef PCL_TOOLS_FLEET_H
#define PCL_TOOLS_FLEET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define FLEET_DEFAULT_DIR	"/var/lib/portcullis-fleet"
#define FLEET_DEFAULT_COLLECTED "/srv/portcullis"
#define FLEET_NAME_MAX		64
/* Trails restored after a power cut this often within the window: a likely failing disk
 * (or someone cutting the power on purpose), flagged apart from a single power cut. */
#define FLEET_REPLAYS_MANY     3
#define FLEET_REPLAYS_WINDOW_S (7 * 86400)

/* Where things are: fleet/<council>/<pc>/{key,verify.state,witness,status},
 * fleet/<council>/{reports.log,purges.log} and the collected copy
 * collected/<council>/<pc>/trail-YYYY-MM.log (docs/it-provider-guide.md). */
struct fleet_paths {
	const char *fleet;
	const char *collected;
};

/* What `fleet status` shows of one PC; kept in fleet/<council>/<pc>/status. */
struct fleet_pc {
	char council[FLEET_NAME_MAX], pc[FLEET_NAME_MAX];
	uint64_t offset;    /* bytes of trail.log verified and counted */
	uint64_t last_seq;  /* last verified record */
	char last_time[40]; /* its @timestamp ("" = none yet) */
	uint64_t ckpt_seq;  /* last verified checkpoint (the witness) */
	char ckpt_time[40]; /* its @timestamp */
	char bundle[64];    /* council bundle version named by the trail ("" = none) */
	uint64_t exceptions, refusals, blocked;
	uint64_t wipes_done, wipes_missed, wipes_requested;
	uint64_t clock_jumps;	/* records dated before their predecessor, clock events */
	uint64_t replays;	/* audit-intent-replayed: trail restored after a power cut */
	char last_replay[40];	/* the last one's @timestamp ("" = none) */
	uint64_t failures;	/* verification failures, all runs */
	bool failing;		/* the last run did not verify */
	bool stale;		/* witness: no new checkpoint for interval + margin */
	char last_failure[200]; /* its first reason */
	int64_t gap_since;	/* unix time a gap in the collected copy was first seen */
	int64_t verified_at;	/* unix time of the last run over this PC */
	/* unix times of the last replays, newest first (0 = none): the failing-disk flag */
	int64_t replay_at[FLEET_REPLAYS_MANY];
};

/* Names of councils and PCs: 1-63 of [a-z0-9-], not starting with '-'. */
bool fleet_name_ok(const char *s);

/* Status file; a missing file gives a zeroed PC (0). -errno / -EBADMSG otherwise. */
int fleet_status_load(const struct fleet_paths *p, struct fleet_pc *pc);
int fleet_status_save(const struct fleet_paths *p, const struct fleet_pc *pc);

/* Every enrolled PC (a directory with a key) in council/pc order; count or -errno. */
int fleet_list(const struct fleet_paths *p, const char *council, struct fleet_pc **out);

/* Write a file whole through a temporary and rename; mode for a new file; durable: fsync
 * before the rename (keys, reports), not for what the next run rebuilds. 0 / -errno. */
int fleet_write_file(const char *path, const char *data, size_t len, unsigned mode, bool durable);
/* Read a whole small file (malloc'd, NUL-terminated); NULL with errno set. */
char *fleet_read_file(const char *path, size_t *len, size_t max);

struct fleet_verify_opts {
	int64_t now;		   /* collector clock, unix seconds */
	int64_t gap_grace_s;	   /* how long a hole may wait for a resent record */
	unsigned retention_months; /* the councils' retention (witness purge rule); 0 = 6 */
	unsigned interval_s;	   /* the PCs' checkpoint interval; 0 = 300 */
	unsigned margin_s;	   /* silence allowed beyond it before "stale"; 0 = 3600 */
};

/* Verify what arrived for one PC since the last run (fleet_verify.c) and check it against
 * the PC's witness (the last checkpoint verified here). Prints FAIL lines to out.
 * Returns 0 when the PC verified. */
int fleet_verify_pc(const struct fleet_paths *p, struct fleet_pc *pc,
		    const struct fleet_verify_opts *o, FILE *out);

/* The lines of a collected copy, ordered by seq (file order among equal seqs). */
struct fline {
	const char *p;
	size_t len;
	uint64_t seq; /* 0: no record framing (the verifier names the problem) */
	size_t idx;
	unsigned lineno;
};
int fleet_split(char *buf, size_t len, struct fline **out, size_t *n);

/* The council's report (fleet_report.c, fleet_chart.c). */
int fleet_cmd_report(int argc, char **argv);

/* Unix time of an RFC 3339 UTC @timestamp; -1 if it is not one. */
int64_t fleet_time(const char *ts);

/* Output (fleet_status.c). silent_after_s: a PC whose last record is older is silent. */
enum fleet_fmt { FLEET_TEXT, FLEET_JSON, FLEET_PROM };
/* Whether the PC's trail was restored FLEET_REPLAYS_MANY times within the window before
 * now (record times, the PC's clock). */
bool fleet_replays_many(const struct fleet_pc *p, int64_t now);
int fleet_print(FILE *f, enum fleet_fmt fmt, const struct fleet_pc *pcs, int n, int64_t now,
		int64_t silent_after_s);
/* The Prometheus textfile, written whole (tmp + rename) for node exporter. */
int fleet_write_prom(const char *path, const struct fleet_pc *pcs, int n, int64_t now,
		     int64_t silent_after_s, int unenrolled, const struct fleet_paths *p,
		     int64_t owed_days);

/* Collected directories (collected/<council>/<name>) of no enrolled PC: each is printed as
 * a FAIL line to out; returns their count (fleet_store.c). */
int fleet_unenrolled(const struct fleet_paths *p, const char *council, const struct fleet_pc *pcs,
		     int n, FILE *out);

/* The files of one PC's collected copy (fleet_copy.c): collected/<council>/<pc>/trail.log
 * (a copy from before monthly files) then trail-YYYY-MM.log by month; rsyslog appends to
 * the last. Count (0: nothing collected) or -errno; *out is malloc'd. */
struct fleet_file {
	char path[4480];
	char month[8]; /* "YYYY-MM"; "" for trail.log */
	uint64_t size;
};
int fleet_copy_files(const struct fleet_paths *p, const char *council, const char *pc,
		     struct fleet_file **out);
/* Bytes [offset, offset + max) of the files read as one stream, whole lines only
 * (malloc'd, NUL-terminated). NULL with *shrank when the copy is shorter than offset. */
char *fleet_copy_read(const struct fleet_file *f, int n, uint64_t offset, size_t max, size_t *len,
		      bool *shrank);

/* `fleet purge` (fleet_purge.c): the collected months older than the retention. */
int fleet_cmd_purge(int argc, char **argv);
/* Exclusive lock on fleet/.lock, held until exit: verify and purge never overlap.
 * The descriptor, or -1 (reason printed). */
int fleet_lock(const struct fleet_paths *p);

/* Owed wipes (fleet_owed.c). An open one older than its council profile's limit (the
 * PC records it, wipe.owed_days) is overdue; this many days when a record has none. */
#define FLEET_OWED_DAYS 14
struct json_object;
/* Note an owed wipe opened (wipe-owed) or closed (wipe-owed-closed) by a verified record
 * of PC pc, as one line to acc; other actions are ignored. */
void fleet_owed_note(FILE *acc, const char *pc, const char *action, struct json_object *rec);
/* Keep the lines of a verified run: appended to fleet/<council>/<pc>/owed.jsonl. */
int fleet_owed_commit(const struct fleet_paths *p, const struct fleet_pc *pc, const char *buf,
		      size_t len);
/* Forget them (the PC's trail is verified again from its start). */
void fleet_owed_reset(const struct fleet_paths *p, const struct fleet_pc *pc);
/* The open owed wipes of a council (NULL: every council): a JSON array of objects (ref,
 * council, pc, time, usb_hash, vid, pid, serial, capacity, age_days, state "wipe-owed" or
 * "wipe-owed-overdue"); 0 or -errno. *out is always set. */
int fleet_owed_list(const struct fleet_paths *p, const char *council, int64_t now,
		    int64_t limit_days, struct json_object **out);
int fleet_owed_counts(const struct fleet_paths *p, const char *council, int64_t now,
		      int64_t limit_days, int *open, int *overdue);
int fleet_cmd_owed(int argc, char **argv);
/* Per council: the open and overdue counts as Prometheus gauges (pcs in council order);
 * the open ones under a council's status table. */
void fleet_owed_prom(FILE *f, const struct fleet_paths *p, const struct fleet_pc *pcs, int n,
		     int64_t now, int64_t limit_days);
void fleet_owed_text(FILE *f, const struct fleet_paths *p, const char *council, int64_t now,
		     int64_t limit_days);

int fleet_cmd_verify(int argc, char **argv);
int fleet_cmd_status(int argc, char **argv);

#endif
