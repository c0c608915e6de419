/*
 * control.h - the engine's control socket, for people (the portcullis CLI and the
 * desktop notifier). Two halves:
 *   - the transport (control.c): accept, the peer's credentials from SO_PEERCRED and
 *     SO_PEERGROUPS, one JSON request per line of at most CONTROL_LINE_MAX bytes, a limit
 *     of connections per uid, fair slots, an idle timeout;
 *   - the commands (control_cmd.c): a table of rows (name, who may call it, whether it
 *     produces security records, handler) that each feature registers; the dispatcher
 *     checks the caller against the row before the handler runs, records every refusal,
 *     and counts calls against the caller's rate (control_rate.c).
 * Who may call what is listed in docs/architecture.md ("The control socket").
 */
#ifndef PCL_DAEMON_CONTROL_H
#define PCL_DAEMON_CONTROL_H

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONTROL_LINE_MAX     16384
#define CONTROL_MAX_PER_UID  4	/* connections one ordinary user may hold at a time */
#define CONTROL_IDLE_SECONDS 10 /* a connection without a request is closed after this */
#define CONTROL_MAX_GROUPS   64 /* supplementary groups of a caller that are looked at */
#define CONTROL_MAX_COMMANDS 32

struct control;
struct engine;

/* Who is calling, from the kernel (SO_PEERCRED, SO_PEERGROUPS), never from the request. */
struct ctl_caller {
	uid_t uid;
	gid_t gid;
	gid_t groups[CONTROL_MAX_GROUPS];
	size_t n_groups;
	int client; /* the connection's handle, for a job's progress relay */
};

enum ctl_who {
	CTL_ANYONE,  /* any local user */
	CTL_ROOT,    /* root only */
	CTL_HANDLER, /* anyone may ask; the handler decides from the caller (e.g. wipe) */
};

/* What becomes of the connection after the answer. */
enum ctl_next {
	CTL_CLOSE, /* one request, one answer */
	CTL_WATCH, /* follow the records the caller may see */
	CTL_RELAY, /* follow a job's progress lines */
};

struct ctl_call {
	struct engine *eng;
	const struct ctl_caller *caller;
	struct json_object *req;    /* the request object (borrowed) */
	struct json_object *answer; /* set by the handler, taken over; NULL: none */
	enum ctl_next next;
	char why[256]; /* the reason of a refusal (CTL_REFUSED) */
};

/* A handler's refusal of the caller: recorded in the trail and answered with why. */
#define CTL_REFUSED (-EACCES)

struct ctl_command {
	const char *name;
	enum ctl_who who;
	bool rated; /* may produce security records: counted against the caller's rate */
	int (*run)(struct ctl_call *call); /* 0, or CTL_REFUSED with call->why set */
};

/* The rows the engine's features register, defined beside their handlers. The
 * transport's own rows (devices, watch) are in control.c; the full list of commands and
 * who may call each is in docs/architecture.md ("The control socket"). */
extern const struct ctl_command eappr_commands[]; /* engine_approval.c */
extern const size_t eappr_n_commands;
extern const struct ctl_command engine_wipe_commands[]; /* engine_wipe_cmd.c */
extern const size_t engine_wipe_n_commands;

/* The transport (control.c). */
int control_open(struct control **out, const char *path, struct engine *e);
/* A feature's rows; 0, or -EEXIST (a name twice) or -ENOSPC. */
int control_register(struct control *c, const struct ctl_command *rows, size_t n);
/* Fill pollfds for the listening socket and clients; returns how many. */
size_t control_pollfds(struct control *c, struct pollfd *p, size_t max);
/* Handle whatever poll reported on those pollfds. */
void control_service(struct control *c, const struct pollfd *p, size_t n);
/* Periodic: close idle connections, record the refusals counted over the rate. */
void control_tick(struct control *c);
/* At the engine's stop: record what is still counted. */
void control_flush(struct control *c);
/* Send a record to every watching client that may see it (ctl_visible). */
void control_broadcast(struct control *c, struct json_object *rec);
/* Whether any client follows the records (control_broadcast sends to someone). */
bool control_watching(const struct control *c);
/* Send a helper's line to the client with this id (if still there); NULL closes it. */
void control_relay(struct control *c, int id, const char *line);

/* The command table and the dispatcher's pure parts (control_cmd.c), unit-tested. */
struct ctl_table {
	const struct ctl_command *rows[CONTROL_MAX_COMMANDS];
	size_t n;
};
int ctl_table_add(struct ctl_table *t, const struct ctl_command *rows, size_t n);
const struct ctl_command *ctl_table_find(const struct ctl_table *t, const char *name);
/* Parse one request line (len bytes, no newline): 0 with *req (the caller puts it) and
 * *cmd (inside *req), or -EINVAL with why set and *req NULL. */
int ctl_parse(const char *line, size_t len, struct json_object **req, const char **cmd, char *why,
	      size_t whylen);
/* Whether the row lets this caller in before the handler runs (why set when not). */
bool ctl_allowed(const struct ctl_command *c, const struct ctl_caller *who, char *why,
		 size_t whylen);
/* Whether the caller is in group gid (primary or supplementary). */
bool ctl_in_group(const struct ctl_caller *who, gid_t gid);
/* Whether a watcher of this uid may see the record: root sees every record, anyone else
 * the records about their own uid and device decisions (no other users' files, hashes,
 * programs or requests). */
bool ctl_visible(struct json_object *rec, uid_t uid);

/* Per-uid token buckets for calls that may produce security records (control_rate.c). */
#define CTL_RATE_BURST		 20   /* calls a uid may make at once */
#define CTL_RATE_REFILL_MS	 3000 /* then one call per this many milliseconds */
#define CTL_RATE_UIDS		 64
#define CTL_RATE_SUMMARY_SECONDS 10 /* at most one summary record per this interval */

struct ctl_bucket {
	bool used;
	uid_t uid;
	int64_t tokens_ms; /* tokens in units of CTL_RATE_REFILL_MS milliseconds' refill */
	int64_t last_ms;
	uint64_t over; /* calls refused over the rate since the last summary */
};

struct ctl_rate {
	struct ctl_bucket b[CTL_RATE_UIDS];
};

/* One call by uid at now_ms (monotonic): true if within the rate; false counts it. */
bool ctl_rate_take(struct ctl_rate *r, uid_t uid, int64_t now_ms);
/* Count a refusal of uid that is never recorded on its own (a connection over the
 * per-uid limit), for the next summary. */
void ctl_rate_note(struct ctl_rate *r, uid_t uid, int64_t now_ms);
/* The counts over the rate since the last drain (reset): how many uids were filled. */
size_t ctl_rate_drain(struct ctl_rate *r, uid_t *uids, uint64_t *counts, size_t max);

#endif
