/*
 * fleet_verify.c - incremental verification of one PC's collected trail on the collector:
 * reads what rsyslog appended since the last run, orders it by seq (RELP resends arrive
 * late or twice), resumes the verifier where it stopped, counts what `fleet status` shows,
 * and keeps the last verified checkpoint as the PC's witness.
 * Linked by the portcullis CLI; the collected bytes come from the PC and are untrusted.
 */
#include "fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "audit.h"

#define REGION_MAX ((size_t)1 << 30) /* one run reads at most 1 GiB of a PC's copy */

struct report_ctx {
	struct fleet_pc *pc;
	FILE *out;
	bool first;
};

static void report(void *ctx, uint64_t seq, const char *file, unsigned line, const char *msg)
{
	struct report_ctx *r = ctx;

	(void)file;
	(void)line;
	if (r->out)
		fprintf(r->out, "FAIL %s/%s seq %" PRIu64 ": %s\n", r->pc->council, r->pc->pc, seq,
			msg);
	if (r->first) {
		snprintf(r->pc->last_failure, sizeof(r->pc->last_failure), "seq %" PRIu64 ": %s",
			 seq, msg);
		r->first = false;
	}
}

static int by_seq(const void *a, const void *b)
{
	const struct fline *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static const char *str_of(struct json_object *o, const char *k)
{
	struct json_object *s;

	if (!json_object_object_get_ex(o, k, &s) || !json_object_is_type(s, json_type_string))
		return NULL;
	return json_object_get_string(s);
}

/* The owed wipes opened and closed by the records of this run (fleet_owed.c), kept once
 * the run verifies. */
static FILE *owed_acc;

/* A record saying the trail was restored after a power cut (audit-intent-replayed): the
 * count, the last one's time and the times of the last few, newest first. */
static void note_replay(struct fleet_pc *pc, const char *ts)
{
	int64_t t = ts ? fleet_time(ts) : -1;

	pc->replays++;
	snprintf(pc->last_replay, sizeof(pc->last_replay), "%s", ts ? ts : "");
	memmove(&pc->replay_at[1], &pc->replay_at[0],
		(FLEET_REPLAYS_MANY - 1) * sizeof(pc->replay_at[0]));
	pc->replay_at[0] = t > 0 ? t : 0;
}

/* Count one new record into pc. */
static void count(struct fleet_pc *pc, const struct fline *l)
{
	struct json_object *o = NULL;
	const char *ts, *action, *type;
	struct json_object *bundle = NULL;

	if (audit_record_parse(l->p, l->len, &o, NULL) != 0)
		return;
	ts = str_of(o, "@timestamp");
	action = str_of(o, "event.action");
	type = str_of(o, "audit.type");
	json_object_object_get_ex(o, "council.bundle.version", &bundle);
	if (ts && pc->last_time[0] && fleet_time(ts) >= 0 &&
	    fleet_time(ts) < fleet_time(pc->last_time))
		pc->clock_jumps++;
	if (ts)
		snprintf(pc->last_time, sizeof(pc->last_time), "%s", ts);
	if (bundle != NULL && json_object_is_type(bundle, json_type_int))
		snprintf(pc->bundle, sizeof(pc->bundle), "%" PRId64, json_object_get_int64(bundle));
	if (type && strcmp(type, "checkpoint") == 0) {
		pc->ckpt_seq = l->seq;
		snprintf(pc->ckpt_time, sizeof(pc->ckpt_time), "%s", ts ? ts : "");
	}
	if (action) {
		if (strcmp(action, "exception-approved") == 0)
			pc->exceptions++;
		else if (strcmp(action, "exception-refused") == 0 ||
			 strcmp(action, "approver-refused") == 0 ||
			 strcmp(action, "policy-refused") == 0 ||
			 strcmp(action, "wipe-refused") == 0)
			pc->refusals++;
		else if (strcmp(action, "device-blocked") == 0 ||
			 strcmp(action, "device-rejected") == 0)
			pc->blocked++;
		else if (strcmp(action, "wipe-done") == 0)
			pc->wipes_done++;
		else if (strcmp(action, "wipe-missed") == 0)
			pc->wipes_missed++;
		else if (strcmp(action, "wipe-requested") == 0)
			pc->wipes_requested++;
		/* A take-out stick that left owing its wipe is the council's, not this PC's:
		 * it is settled on whichever PC wipes it (fleet_owed.c). */
		else if (strstr(action, "clock") != NULL)
			pc->clock_jumps++;
		else if (strcmp(action, "audit-intent-replayed") == 0)
			note_replay(pc, ts);
		if (owed_acc != NULL)
			fleet_owed_note(owed_acc, pc->pc, action, o);
	}
	json_object_put(o);
}

static int load_key(const struct fleet_paths *p, const struct fleet_pc *pc, struct audit_key *key)
{
	char path[4200], msg[600];
	struct pcl_diag diag = {0};
	size_t len;
	char *text;
	int rc;

	snprintf(path, sizeof(path), "%s/%s/%s/key", p->fleet, pc->council, pc->pc);
	if ((text = fleet_read_file(path, &len, 4096)) == NULL) {
		fprintf(stderr, "portcullis: %s: %s\n", path, strerror(errno));
		return -EIO;
	}
	rc = audit_key_parse(key, text, len, path, &diag);
	explicit_bzero(text, len);
	free(text);
	if (rc != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "portcullis: %s\n", msg);
	}
	return rc;
}

int fleet_split(char *buf, size_t len, struct fline **out, size_t *n)
{
	size_t cap = 1024, k = 0;
	struct fline *v = malloc(cap * sizeof(*v));
	char *p = buf, *end = buf + len, *nl;
	unsigned lineno = 0;

	if (v == NULL)
		return -ENOMEM;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lineno++;
		if (k == cap) {
			struct fline *nv = realloc(v, (cap *= 2) * sizeof(*v));
			if (nv == NULL) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[k] = (struct fline){.p = p, .len = (size_t)(nl - p), .idx = k, .lineno = lineno};
		if (audit_line_seq(p, v[k].len, &v[k].seq) != 0)
			v[k].seq = 0;
		k++;
		p = nl + 1;
	}
	qsort(v, k, sizeof(*v), by_seq);
	*out = v;
	*n = k;
	return 0;
}

/* The last seq a saved verifier state stands at ("last N ..." line); 0 if none. */
static uint64_t state_seq(const char *state)
{
	const char *l = strstr(state, "\nlast ");
	unsigned long long seq = 0;

	if (l == NULL || sscanf(l + 6, "%llu", &seq) != 1)
		return 0;
	return (uint64_t)seq;
}

static void witness_path(char *out, size_t len, const struct fleet_paths *p,
			 const struct fleet_pc *pc)
{
	snprintf(out, len, "%s/%s/%s/witness", p->fleet, pc->council, pc->pc);
}

/* No new checkpoint for longer than the PC's interval plus the margin. */
static bool stale(const struct audit_witness *w, const struct fleet_verify_opts *o, int64_t now)
{
	return w->seq == 0 || now - w->seen > o->interval_s + o->margin_s;
}

/* A failure before or instead of verifying: recorded in the PC's status, which keeps
 * the last good position, so that it stays visible every run. Returns -1. */
static int pc_failed(const struct fleet_paths *p, struct fleet_pc *pc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int pc_failed(const struct fleet_paths *p, struct fleet_pc *pc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pc->last_failure, sizeof(pc->last_failure), fmt, ap);
	va_end(ap);
	pc->failing = true;
	pc->failures++;
	fleet_status_save(p, pc);
	return -1;
}

/* The verifier where the last run stopped. The state and the status are written one
 * after the other: they must agree. false when the state is lost or damaged (it is not
 * synced to disk). */
static bool resume(struct audit_verifier *v, const char *spath, uint64_t last_seq)
{
	size_t slen = 0;
	char *state = fleet_read_file(spath, &slen, 1 << 20);
	bool resumed = state != NULL && state_seq(state) == last_seq &&
		       audit_verifier_resume(v, state, slen) == 0;

	if (state)
		explicit_bzero(state, slen);
	free(state);
	return resumed;
}

/* The state lost: the whole copy is verified again, against the witness, rather than
 * anything of the last runs trusted. pc goes back to what enrolment left (its failure
 * count kept), the state and the owed wipes are rebuilt from the start too. */
static void restart(const struct fleet_paths *p, struct fleet_pc *pc, const char *spath, FILE *out)
{
	struct fleet_pc fresh = {.failures = pc->failures};

	memcpy(fresh.council, pc->council, sizeof(fresh.council));
	memcpy(fresh.pc, pc->pc, sizeof(fresh.pc));
	if (out)
		fprintf(out,
			"NOTE %s/%s: verifier state missing or unreadable: verifying the "
			"collected copy from the start\n",
			pc->council, pc->pc);
	unlink(spath);
	fleet_owed_reset(p, pc);
	*pc = fresh;
}

/* Feed the lines, in seq order, counting each new record into n from seq cur on. A gap
 * younger than the grace time holds the run (*held): a resent record may still fill it. */
static void feed(struct audit_verifier *v, const struct fline *lines, size_t nl, uint64_t cur,
		 const char *trail, const struct fleet_verify_opts *o, struct fleet_pc *n,
		 bool *held)
{
	for (size_t i = 0; i < nl; i++) {
		const struct fline *l = &lines[i];
		if (l->seq > cur + 1 && (cur > 0 || i > 0)) {
			if (n->gap_since == 0)
				n->gap_since = o->now;
			if (o->now - n->gap_since < o->gap_grace_s) {
				*held = true;
				return;
			}
		}
		audit_verifier_feed_line(v, l->p, l->len, trail, l->lineno);
		if (l->seq > cur) {
			count(n, l);
			cur = l->seq;
		}
	}
}

/* A verified run kept: the verifier's state, then the status n (read up to offset
 * end), the witness and the owed wipes of the run (obuf). 0 or negative errno. */
static int commit(const struct fleet_paths *p, struct fleet_pc *pc, struct fleet_pc *n,
		  const struct audit_verifier *v, const struct audit_witness_result *wres,
		  struct audit_witness *w, const char *wpath, const char *spath, uint64_t end,
		  char **obuf, size_t *olen)
{
	char *saved = NULL;
	int rc = audit_verifier_save(v, &saved);

	if (rc == 0) {
		rc = fleet_write_file(spath, saved, strlen(saved), 0600, false);
		explicit_bzero(saved, strlen(saved));
		free(saved);
	}
	if (rc != 0)
		return rc;
	n->offset = end;
	n->last_seq = wres->verify.last_seq;
	n->gap_since = 0;
	n->failing = false;
	n->stale = wres->stale;
	n->last_failure[0] = '\0';
	if (audit_witness_save(w, wpath) != 0)
		fprintf(stderr, "portcullis: %s: cannot save the witness\n", wpath);
	*pc = *n;
	if (owed_acc != NULL && fclose(owed_acc) == 0 &&
	    fleet_owed_commit(p, pc, *obuf, *olen) != 0)
		fprintf(stderr, "portcullis: %s/%s: cannot keep its owed wipes\n", pc->council,
			pc->pc);
	owed_acc = NULL;
	return fleet_status_save(p, pc);
}

/* One verification run over one PC's collected copy: its paths, its witness and trail
 * key, the new bytes since the last run, and its status as this run finds it (n). */
struct pc_run {
	const struct fleet_paths *p;
	struct fleet_pc *pc, n;
	const struct fleet_verify_opts *o;
	FILE *out;
	char wpath[4200], trail[4200], spath[4200], name[2 * FLEET_NAME_MAX];
	struct audit_witness w;
	struct audit_key key;
	char *region;
	size_t len;
	struct report_ctx rctx;
};

static void run_free(struct pc_run *r)
{
	explicit_bzero(&r->key, sizeof(r->key));
	free(r->region);
	audit_witness_free(&r->w);
}

/* The witness, the trail key and the bytes collected since the last run. Returns 0 with
 * *done false when there is something to verify; otherwise the run's result, *done
 * true (a failure recorded, nothing collected yet, or nothing new). */
static int read_new(struct pc_run *r, bool *done)
{
	struct fleet_pc *pc = r->pc;
	struct pcl_diag diag = {0};
	struct fleet_file *files = NULL;
	char msg[600];
	bool shrank = false;

	*done = true;
	if (audit_witness_load(&r->w, r->wpath, &diag) != 0 && r->w.seq == 0 && diag.msg[0]) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		return pc_failed(r->p, pc, "witness: %.180s", msg);
	}
	bool now_stale = stale(&r->w, r->o, r->o->now), stale_changed = now_stale != pc->stale;
	pc->stale = r->n.stale = now_stale;
	if (load_key(r->p, pc, &r->key) != 0)
		return pc_failed(r->p, pc, "trail key unreadable");
	int nf = fleet_copy_files(r->p, pc->council, pc->pc, &files);
	if (nf == 0 && pc->last_seq == 0) {
		free(files);
		return fleet_status_save(r->p, pc); /* enrolled, nothing collected yet */
	}
	if (nf > 0)
		r->region = fleet_copy_read(files, nf, pc->offset, REGION_MAX, &r->len, &shrank);
	free(files);
	if (r->region == NULL || shrank) {
		const char *why = shrank ? "collected copy is shorter than already verified (cut?)"
					 : "collected copy unreadable";
		if (r->out)
			fprintf(r->out, "FAIL %s/%s: %s\n", pc->council, pc->pc, why);
		return pc_failed(r->p, pc, "%s", why);
	}
	if (r->len == 0 && !pc->failing) /* the status changes only when it turned stale */
		return stale_changed ? fleet_status_save(r->p, pc) : 0;
	*done = false;
	return 0;
}

/* Verify the new bytes, resuming from the saved state, and commit or record the failure.
 * *again: the saved state does not resume; start over from the first record. */
static int verify_new(struct pc_run *r, bool *again)
{
	struct fleet_pc *pc = r->pc;
	struct audit_witness_result wres;
	struct audit_witness_opts wo = {.retention_months = r->o->retention_months,
					.interval_s = r->o->interval_s,
					.margin_s = r->o->margin_s,
					.now = r->o->now,
					.report = report,
					.report_ctx = &r->rctx};
	struct audit_verify_opts vo = {
	    .key = &r->key, .report = report, .report_ctx = &r->rctx, .collected = true};
	struct audit_verifier *v = NULL;
	struct fline *lines = NULL;
	size_t nl = 0, olen = 0;
	char *obuf = NULL;
	bool held = false;

	*again = false;
	int rc = fleet_split(r->region, r->len, &lines, &nl);
	if (rc == 0)
		rc = audit_verifier_new(&v, &vo);
	if (rc == 0 && pc->last_seq > 0 && !resume(v, r->spath, pc->last_seq)) {
		audit_verifier_free(&v);
		free(lines);
		*again = true;
		return 0;
	}
	if (rc == 0 && pc->last_seq == 0 && audit_witness_attach(&r->w, v, r->wpath) != 0) {
		report(&r->rctx, 0, r->wpath, 0, "witness checkpoint unusable");
		rc = -EBADMSG;
	}
	r->n.last_failure[0] = '\0';
	owed_acc = rc == 0 ? open_memstream(&obuf, &olen) : NULL;
	if (rc == 0)
		feed(v, lines, nl, pc->last_seq, r->trail, r->o, &r->n, &held);
	if (rc == 0 && held) {
		/* nothing is committed: the next run reads the same bytes again */
		pc->gap_since = r->n.gap_since;
		rc = fleet_status_save(r->p, pc);
	} else if (rc == 0 && audit_witness_check(&r->w, v, r->name, &wo, &wres) == 0) {
		uint64_t replays = pc->replays;
		rc = commit(r->p, pc, &r->n, v, &wres, &r->w, r->wpath, r->spath,
			    pc->offset + r->len, &obuf, &olen);
		if (r->out && pc->replays > replays)
			fprintf(r->out,
				"NOTE %s/%s: the trail was restored after a power cut (%" PRIu64
				" new, last at %s)\n",
				pc->council, pc->pc, pc->replays - replays, pc->last_replay);
	} else {
		pc->gap_since = r->n.gap_since;
		rc = pc_failed(r->p, pc, "%s",
			       r->n.last_failure[0] ? r->n.last_failure : "verification failed");
	}
	if (owed_acc != NULL)
		fclose(owed_acc);
	owed_acc = NULL;
	free(obuf);
	audit_verifier_free(&v);
	free(lines);
	return rc;
}

int fleet_verify_pc(const struct fleet_paths *p, struct fleet_pc *pc,
		    const struct fleet_verify_opts *o, FILE *out)
{
	struct pc_run r = {.p = p, .pc = pc, .o = o, .out = out};
	bool done, again;

	r.n = *pc;
	r.rctx = (struct report_ctx){.pc = &r.n, .out = out, .first = true};
	snprintf(r.trail, sizeof(r.trail), "%s/%s/%s", p->collected, pc->council, pc->pc);
	snprintf(r.spath, sizeof(r.spath), "%s/%s/%s/verify.state", p->fleet, pc->council, pc->pc);
	pc->verified_at = r.n.verified_at = o->now;
	snprintf(r.name, sizeof(r.name), "%s/%s", pc->council, pc->pc);
	witness_path(r.wpath, sizeof(r.wpath), p, pc);
	int rc = read_new(&r, &done);
	if (!done)
		rc = verify_new(&r, &again);
	run_free(&r);
	if (!done && again) {
		restart(p, pc, r.spath, out);
		return fleet_verify_pc(p, pc, o, out);
	}
	return rc;
}
