/*
 * verify.c - offline verification of an audit trail: hash chain, per-record MACs under
 * the evolving epoch keys, signed checkpoints and their key certification chain, sequence
 * continuity, purge records, and checkpoints held elsewhere (truncation). The verifier's
 * saved state (a collector's incremental run) is verify_state.c.
 * Linked by the CLI (IT provider); every byte of the trail is untrusted.
 */
#include "audit.h"
#include "audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#define MAX_REPORTS 1000

static void fail(struct audit_verifier *v, uint64_t seq, const char *file, unsigned line,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void fail(struct audit_verifier *v, uint64_t seq, const char *file, unsigned line,
		 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	v->res.failures++;
	if (v->opts.report == NULL || v->reports > MAX_REPORTS)
		return;
	if (++v->reports > MAX_REPORTS) {
		v->opts.report(v->opts.report_ctx, 0, file, line, "further failures not shown");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->opts.report(v->opts.report_ctx, seq, file, line, msg);
}

int audit_key_parse(struct audit_key *key, const char *text, size_t len, const char *name,
		    struct pcl_diag *diag)
{
	static const char *const fields[] = {"portcullis-audit-key 1", "origin ", "mac-key ",
					     "checkpoint-key "};
	const char *p = text, *end = text + len;
	char vname[256], val[600];
	int rc = 0;

	memset(key, 0, sizeof(*key));
	for (unsigned i = 0; i < 4 && rc == 0; i++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t fl = strlen(fields[i]), l;
		if (eol == NULL || (size_t)(eol - p) < fl || memcmp(p, fields[i], fl) != 0) {
			pcl_diag_set(diag, name, i + 1, "expected \"%s...\"", fields[i]);
			rc = -EBADMSG;
			break;
		}
		l = (size_t)(eol - p) - fl;
		if (i > 0 && (l == 0 || l >= sizeof(val) || memchr(p + fl, '\0', l))) {
			pcl_diag_set(diag, name, i + 1, "field %.*s: bad length", (int)fl - 1,
				     fields[i]);
			rc = -EBADMSG;
			break;
		}
		if (i > 0) {
			memcpy(val, p + fl, l);
			val[l] = '\0';
		}
		if (i == 1 && l < sizeof(key->origin))
			memcpy(key->origin, val, l + 1);
		else if (i == 1)
			rc = -EBADMSG;
		if (i == 2 && audit_unhex(key->mac_key, val, l) != 0) {
			pcl_diag_set(diag, name, 3, "field mac-key: not 64 lower-case hex digits");
			rc = -EBADMSG;
		}
		if (i == 3 && (audit_vkey_parse(val, vname, sizeof(vname), key->pub) != 0 ||
			       strcmp(vname, key->origin) != 0)) {
			pcl_diag_set(diag, name, 4,
				     "field checkpoint-key: not a verifier key for the origin");
			rc = -EBADMSG;
		}
		p = eol + 1;
	}
	explicit_bzero(val, sizeof(val));
	if (rc == 0 && p != end) {
		pcl_diag_set(diag, name, 5, "unexpected text after checkpoint-key");
		rc = -EBADMSG;
	}
	if (rc != 0)
		explicit_bzero(key, sizeof(*key));
	return rc;
}

int audit_verifier_new(struct audit_verifier **out, const struct audit_verify_opts *opts)
{
	struct audit_verifier *v = calloc(1, sizeof(*v));

	*out = NULL;
	if (v == NULL)
		return -ENOMEM;
	v->opts = *opts;
	if (v->opts.min_retention_months == 0)
		v->opts.min_retention_months = 6;
	v->hasher = audit_hasher_new();
	v->ring = calloc(AUDIT_VERIFY_RING, sizeof(*v->ring));
	if (v->hasher == NULL || v->ring == NULL) {
		audit_verifier_free(&v);
		return -ENOMEM;
	}
	if (opts->key) {
		v->key = *opts->key;
		v->keyed = true;
		snprintf(v->origin, sizeof(v->origin), "%s", v->key.origin);
		memcpy(v->mac_key, v->key.mac_key, 32);
		if (audit_hasher_set_key(v->hasher, v->mac_key) != 0) {
			audit_verifier_free(&v);
			return -EIO;
		}
	}
	*out = v;
	return 0;
}

void audit_verifier_free(struct audit_verifier **vp)
{
	struct audit_verifier *v = vp ? *vp : NULL;

	if (v == NULL)
		return;
	audit_hasher_free(v->hasher);
	free(v->ring);
	free(v->pubs);
	free(v->pub_set);
	free(v->last_note);
	for (size_t i = 0; i < v->next_ext; i++)
		free(v->ext[i].note);
	explicit_bzero(v, sizeof(*v));
	free(v);
	*vp = NULL;
}

int audit_verifier_add_checkpoint(struct audit_verifier *v, const char *note, size_t len,
				  const char *name)
{
	struct ext_ckpt *e;
	const char *sep = NULL;

	if (v->next_ext >= AUDIT_VERIFY_MAX_EXT)
		return -ENOSPC;
	e = &v->ext[v->next_ext];
	for (const char *p = note; p + 1 < note + len; p++)
		if (p[0] == '\n' && p[1] == '\n')
			sep = p;
	if (sep == NULL || audit_ckpt_parse(&e->c, note, (size_t)(sep - note) + 1) != 0 ||
	    e->c.purge)
		return -EBADMSG;
	e->note = malloc(len);
	if (e->note == NULL)
		return -ENOMEM;
	memcpy(e->note, note, len);
	e->len = len;
	snprintf(e->name, sizeof(e->name), "%s", name);
	v->next_ext++;
	return 0;
}

void audit_verifier_set_pub(struct audit_verifier *v, uint64_t epoch, const uint8_t pub[32])
{
	memcpy(v->pub, pub, 32);
	v->pub_known = true;
	if (epoch >= 1u << 24)
		return;
	if (epoch >= v->npubs) {
		size_t n = (size_t)epoch * 2 + 16;
		void *a = realloc(v->pubs, n * 32), *b;
		if (a == NULL)
			return;
		v->pubs = a;
		b = realloc(v->pub_set, n);
		if (b == NULL)
			return;
		v->pub_set = b;
		memset(v->pub_set + v->npubs, 0, n - v->npubs);
		v->npubs = n;
	}
	memcpy(v->pubs[epoch], pub, 32);
	v->pub_set[epoch] = true;
}

/* Load the MAC key of an epoch (keys only evolve forwards). */
static int mac_key_for(struct audit_verifier *v, uint64_t epoch)
{
	uint8_t next[32];

	if (epoch < v->key_epoch || epoch > AUDIT_MAX_EPOCH)
		return -ERANGE;
	if (epoch == v->key_epoch)
		return 0;
	while (v->key_epoch < epoch) {
		if (audit_kdf_next(next, v->mac_key, v->key_epoch) != 0)
			return -EIO;
		memcpy(v->mac_key, next, 32);
		v->key_epoch++;
	}
	explicit_bzero(next, sizeof(next));
	return audit_hasher_set_key(v->hasher, v->mac_key);
}

static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *s;

	if (!json_object_object_get_ex(o, k, &s) || !json_object_is_type(s, json_type_string))
		return NULL;
	return json_object_get_string(s);
}

const char *audit_verifier_last_note(const struct audit_verifier *v)
{
	return v->last_note;
}

static void fmt_ts(char out[32], int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The purge's description of the last erased record (audit.purge_last_*): it must match
 * the signed note, be older than `before`, and match the record itself when the trail
 * (a collector's copy) still holds it. Returns false after reporting. */
static bool purge_last(struct audit_verifier *v, const struct audit_frame *f, struct json_object *o,
		       const struct audit_ckpt *c, int64_t *last_ms, const char *file,
		       unsigned lineno)
{
	struct json_object *js;
	const char *hx = get_str(o, "audit.purge_last_hash"),
		   *lt = get_str(o, "audit.purge_last_time");
	uint8_t h[AUDIT_HASH_LEN];
	char a[32], b[32];
	int64_t lseq;

	if (!json_object_object_get_ex(o, "audit.purge_last_seq", &js) ||
	    !json_object_is_type(js, json_type_int) || (lseq = json_object_get_int64(js)) < 1 ||
	    hx == NULL || audit_unhex(h, hx, strlen(hx)) != 0 || lt == NULL ||
	    audit_ts_parse(lt, strlen(lt), last_ms) != 0) {
		fail(v, f->seq, file, lineno,
		     "purge record lacks audit.purge_last_seq, audit.purge_last_hash or "
		     "audit.purge_last_time (the last erased record)");
		return false;
	}
	if ((uint64_t)lseq != c->size || memcmp(h, c->head, AUDIT_HASH_LEN) != 0) {
		fail(v, f->seq, file, lineno,
		     "purge names seq %" PRId64 " as the last erased record but its signed note "
		     "says seq %" PRIu64,
		     lseq, c->size);
		return false;
	}
	if (*last_ms / 1000 >= audit_month_start(c->before)) {
		fmt_ts(a, *last_ms);
		fail(v, f->seq, file, lineno,
		     "purge before %s erases seq %" PRIu64 " dated %s, which is not before it",
		     c->before, c->size, a);
		return false;
	}
	if (f->has_ts && f->ts_ms + AUDIT_TIME_TOLERANCE_S * 1000 < *last_ms) {
		fmt_ts(a, f->ts_ms);
		fmt_ts(b, *last_ms);
		fail(v, f->seq, file, lineno,
		     "purge dated %s is older than the record seq %" PRIu64 " (%s) it erases", a,
		     c->size, b);
		return false;
	}
	if (v->started && c->size >= v->res.first_seq && c->size <= v->last_seq) {
		const struct ring_slot *s = &v->ring[c->size % AUDIT_VERIFY_RING];
		if (s->seq == c->size &&
		    (memcmp(s->hash, c->head, AUDIT_HASH_LEN) != 0 || s->ts_ms != *last_ms)) {
			fail(v, f->seq, file, lineno,
			     "purge describes seq %" PRIu64 " otherwise than the trail's record "
			     "(hash or time differ): forged purge",
			     c->size);
			return false;
		}
	}
	return true;
}

/* A checkpoint or purge record: signature, key certification, coverage. */
/* The signed note of a checkpoint or purge record: by the trail's origin, with the key
 * certified for the record's epoch (or, before any, the key the record names, its MAC
 * vouching for it), verifying, and about this epoch and kind; *c its content. */
static bool note_verifies(struct audit_verifier *v, const struct audit_frame *f, const char *note,
			  const char *vkey, bool mac_ok, const char *file, unsigned lineno,
			  struct audit_ckpt *c)
{
	bool purge = f->type == AUDIT_T_PURGE;
	char name[256];
	uint8_t pub[32];
	size_t tl;

	if (audit_vkey_parse(vkey, name, sizeof(name), pub) != 0) {
		fail(v, f->seq, file, lineno,
		     "%s record lacks a valid note, audit.key or @timestamp",
		     purge ? "purge" : "checkpoint");
		return false;
	}
	if (v->origin[0] == '\0')
		snprintf(v->origin, sizeof(v->origin), "%s", name);
	if (strcmp(name, v->origin) != 0) {
		fail(v, f->seq, file, lineno, "signed by \"%s\", expected origin \"%s\"", name,
		     v->origin);
		return false;
	}
	if (v->pub_known && memcmp(pub, v->pub, 32) != 0) {
		fail(v, f->seq, file, lineno,
		     "signed with a key not certified for epoch %" PRIu64 " (re-signed?)",
		     f->epoch);
		return false;
	}
	if (!v->pub_known && !mac_ok && v->keyed) {
		fail(v, f->seq, file, lineno, "signing key of epoch %" PRIu64 " unknown", f->epoch);
		return false;
	}
	if (!v->pub_known)
		audit_verifier_set_pub(v, f->epoch,
				       pub); /* authenticated by this record's MAC (if keyed) */
	if (audit_note_verify(note, strlen(note), v->origin, v->pub, &tl) != 0 ||
	    audit_ckpt_parse(c, note, tl) != 0) {
		fail(v, f->seq, file, lineno, "%s signature does not verify",
		     purge ? "purge" : "checkpoint");
		return false;
	}
	if (strcmp(c->origin, v->origin) != 0 || c->epoch != f->epoch || c->purge != purge) {
		fail(v, f->seq, file, lineno, "signed note names another origin, epoch or kind");
		return false;
	}
	return true;
}

/* A verified purge note made at ts: within the retention, and counted; the trail may
 * start where it ends. */
static void purge_record(struct audit_verifier *v, const struct audit_frame *f,
			 struct json_object *o, const struct audit_ckpt *c, const char *ts,
			 const char *file, unsigned lineno)
{
	char month[8], limit[8];

	memcpy(month, ts, 7);
	month[7] = '\0';
	int y = atoi(month), m = atoi(month + 5) - (int)v->opts.min_retention_months;
	while (m < 1) {
		m += 12;
		y--;
	}
	snprintf(limit, sizeof(limit), "%04u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u);
	if (strcmp(c->before, limit) > 0) {
		fail(v, f->seq, file, lineno,
		     "purge of records up to %s at %s breaks the %u-month retention", c->before,
		     month, v->opts.min_retention_months);
		return;
	}
	int64_t last_ms;
	if (!purge_last(v, f, o, c, &last_ms, file, lineno))
		return;
	if (c->size + 1 == v->res.first_seq &&
	    memcmp(c->head, v->start_prev, AUDIT_HASH_LEN) == 0 &&
	    strcmp(v->start_month, c->before) >= 0 &&
	    v->start_ts_ms + AUDIT_TIME_TOLERANCE_S * 1000 >= last_ms)
		v->purge_ok = true;
	v->res.purges++;
	if (c->size > v->res.purged_upto) {
		v->res.purged_upto = c->size;
		v->res.purge_seq = f->seq;
	}
}

/* A verified checkpoint note: over the records before it, and the key chain moved on to
 * the next epoch's key it certifies. */
static void checkpoint_record(struct audit_verifier *v, const struct audit_frame *f,
			      const struct audit_ckpt *c, const char *note,
			      const uint8_t prev_hash[32], const char *file, unsigned lineno)
{
	if (!c->has_next) {
		fail(v, f->seq, file, lineno, "checkpoint certifies no next key");
		return;
	}
	/* A validly signed checkpoint still moves the key chain on, so one bad record
	 * is reported once rather than for every later epoch. */
	if (c->size + 1 != f->seq || memcmp(c->head, prev_hash, AUDIT_HASH_LEN) != 0) {
		fail(v, f->seq, file, lineno,
		     "checkpoint over seq %" PRIu64 " does not match the records before it",
		     c->size);
	} else {
		v->res.checkpoints++;
		v->res.last_ckpt_seq = c->size;
		v->res.last_ckpt_time = c->time;
		free(v->last_note);
		v->last_note = strdup(note);
	}
	audit_verifier_set_pub(v, f->epoch, v->pub);
	audit_verifier_set_pub(v, f->epoch + 1, c->next);
	v->epoch = f->epoch + 1;
	v->last_ckpt_seq = f->seq;
}

static void signed_record(struct audit_verifier *v, const struct audit_frame *f, const char *line,
			  size_t len, const uint8_t prev_hash[32], bool mac_ok, const char *file,
			  unsigned lineno)
{
	struct json_object *o = NULL;
	struct audit_ckpt c;
	bool purge = f->type == AUDIT_T_PURGE;

	if (audit_record_parse(line, len, &o, NULL) != 0) {
		fail(v, f->seq, file, lineno, "%s record is not valid JSON",
		     purge ? "purge" : "checkpoint");
		return;
	}
	const char *note = get_str(o, purge ? "audit.purge" : "audit.checkpoint");
	const char *vkey = get_str(o, "audit.key"), *ts = get_str(o, "@timestamp");
	if (!note || !vkey || !ts || strlen(ts) < 7) {
		fail(v, f->seq, file, lineno,
		     "%s record lacks a valid note, audit.key or @timestamp",
		     purge ? "purge" : "checkpoint");
	} else if (note_verifies(v, f, note, vkey, mac_ok, file, lineno, &c)) {
		if (purge)
			purge_record(v, f, o, &c, ts, file, lineno);
		else
			checkpoint_record(v, f, &c, note, prev_hash, file, lineno);
	}
	json_object_put(o);
}

/* Time only moves forward, and a segment holds the records of its own UTC month. */
static void check_time(struct audit_verifier *v, const struct audit_frame *f, const char *file,
		       unsigned lineno)
{
	char a[32], b[32];
	time_t t;
	struct tm tm;

	if (!f->has_ts) {
		fail(v, f->seq, file, lineno,
		     "@timestamp missing, not the fifth member, or not YYYY-MM-DDTHH:MM:SS.mmmZ");
		return;
	}
	if (v->have_ts && f->ts_ms + AUDIT_TIME_TOLERANCE_S * 1000 < v->max_ts_ms) {
		fmt_ts(a, f->ts_ms);
		fmt_ts(b, v->max_ts_ms);
		fail(v, f->seq, file, lineno,
		     "dated %s, before an earlier record's %s: time goes backwards by more than "
		     "%d s",
		     a, b, AUDIT_TIME_TOLERANCE_S);
	}
	if (v->file_month[0]) {
		t = (time_t)(f->ts_ms / 1000);
		gmtime_r(&t, &tm);
		strftime(a, sizeof(a), "%Y-%m", &tm);
		if (strcmp(a, v->file_month) != 0)
			fail(v, f->seq, file, lineno,
			     "dated %s but stored in the segment of %s (a segment holds its UTC "
			     "month)",
			     a, v->file_month);
	}
	if (!v->have_ts || f->ts_ms > v->max_ts_ms)
		v->max_ts_ms = f->ts_ms;
	v->have_ts = true;
}

/* A record at or before the last one: a collector's byte-identical copy is counted, any
 * other is a failure. */
static void repeated(struct audit_verifier *v, const struct audit_frame *f,
		     const struct ring_slot *slot, const uint8_t hash[AUDIT_HASH_LEN],
		     const char *file, unsigned lineno)
{
	bool same = slot->seq == f->seq && memcmp(slot->hash, hash, AUDIT_HASH_LEN) == 0;

	if (same && v->opts.collected)
		v->res.duplicates++;
	else if (same)
		fail(v, f->seq, file, lineno,
		     "seq %" PRIu64 " repeated after seq %" PRIu64
		     " (a byte-identical copy: only a collector's copy may repeat records)",
		     f->seq, v->last_seq);
	else
		fail(v, f->seq, file, lineno,
		     "out of order or replaced (already at seq %" PRIu64 ")", v->last_seq);
}

/* The first record seen: where the trail (or the collector's copy) starts. */
static void first_record(struct audit_verifier *v, const struct audit_frame *f, const char *line,
			 size_t len, const char *file, unsigned lineno)
{
	struct json_object *o = NULL;
	const char *ts;

	v->res.first_seq = f->seq;
	v->start_ts_ms = f->ts_ms;
	memcpy(v->start_prev, f->prev, AUDIT_HASH_LEN);
	if (audit_record_parse(line, len, &o, NULL) == 0 && (ts = get_str(o, "@timestamp")) &&
	    strlen(ts) >= 7)
		snprintf(v->start_month, sizeof(v->start_month), "%.7s", ts);
	json_object_put(o);
	v->epoch = f->epoch;
	if (f->seq == 1) {
		static const uint8_t zero[AUDIT_HASH_LEN];
		if (memcmp(f->prev, zero, AUDIT_HASH_LEN) != 0 || f->epoch != 0)
			fail(v, 1, file, lineno, "first record must have epoch 0 and zero prev");
		if (v->keyed)
			audit_verifier_set_pub(v, 0, v->key.pub);
	}
	v->started = true;
}

/* The record's epoch and, on a keyed trail, its MAC: true when the MAC verifies. */
static bool epoch_and_mac(struct audit_verifier *v, const struct audit_frame *f,
			  const uint8_t hash[AUDIT_HASH_LEN], const char *file, unsigned lineno)
{
	uint8_t mac[AUDIT_HASH_LEN];

	if (f->epoch != v->epoch) {
		fail(v, f->seq, file, lineno,
		     "epoch %" PRIu64 " where %" PRIu64 " was expected (key changed without "
		     "a checkpoint)",
		     f->epoch, v->epoch);
		if (f->epoch != v->epoch + 1 || !v->pub_known)
			v->pub_known = false;
		v->epoch = f->epoch;
	}
	if (!v->keyed)
		return false;
	if (mac_key_for(v, f->epoch) != 0) {
		fail(v, f->seq, file, lineno,
		     "epoch %" PRIu64 " goes backwards or is implausibly large", f->epoch);
		return false;
	}
	if (audit_hasher_mac(v->hasher, hash, mac) != 0 ||
	    CRYPTO_memcmp(mac, f->mac, AUDIT_HASH_LEN) != 0) {
		fail(v, f->seq, file, lineno,
		     "MAC does not verify under the epoch %" PRIu64 " key "
		     "(altered or forged)",
		     f->epoch);
		return false;
	}
	return true;
}

void audit_verifier_feed_line(struct audit_verifier *v, const char *line, size_t len,
			      const char *file, unsigned lineno)
{
	struct audit_frame f;
	uint8_t hash[AUDIT_HASH_LEN], prev_hash[AUDIT_HASH_LEN];
	struct pcl_diag why = {0};
	struct ring_slot *slot;

	if (audit_frame_parse(line, len, &f, &why) != 0) {
		fail(v, 0, file, lineno, "%s", why.msg);
		return;
	}
	if (audit_hasher_record(v->hasher, line, len, hash) != 0) {
		fail(v, f.seq, file, lineno, "cannot hash record");
		return;
	}
	slot = &v->ring[f.seq % AUDIT_VERIFY_RING];
	if (v->started && f.seq <= v->last_seq) {
		repeated(v, &f, slot, hash, file, lineno);
		return;
	}
	memcpy(prev_hash, v->started ? v->last_hash : f.prev, AUDIT_HASH_LEN);
	if (!v->started) {
		first_record(v, &f, line, len, file, lineno);
	} else if (f.seq != v->last_seq + 1) {
		fail(v, f.seq, file, lineno, "gap: records %" PRIu64 "..%" PRIu64 " missing",
		     v->last_seq + 1, f.seq - 1);
	} else if (memcmp(f.prev, v->last_hash, AUDIT_HASH_LEN) != 0) {
		fail(v, f.seq, file, lineno,
		     "prev does not match seq %" PRIu64 " (altered, inserted or reordered)",
		     v->last_seq);
	}
	bool mac_ok = epoch_and_mac(v, &f, hash, file, lineno);
	check_time(v, &f, file, lineno);
	if (f.type != AUDIT_T_RECORD)
		signed_record(v, &f, line, len, prev_hash, mac_ok, file, lineno);
	for (size_t i = 0; i < v->next_ext; i++) {
		struct ext_ckpt *e = &v->ext[i];
		if (e->c.size == f.seq) {
			e->seen = true;
			if (memcmp(e->c.head, hash, AUDIT_HASH_LEN) != 0)
				fail(v, f.seq, file, lineno,
				     "checkpoint %s: head does not match the trail", e->name);
		}
	}
	v->last_seq = f.seq;
	memcpy(v->last_hash, hash, AUDIT_HASH_LEN);
	slot->seq = f.seq;
	memcpy(slot->hash, hash, AUDIT_HASH_LEN);
	slot->ts_ms = f.ts_ms;
	v->res.records++;
}

int audit_verifier_feed_file(struct audit_verifier *v, const char *path)
{
	size_t cap = 1 << 20, have = 0;
	char *buf = malloc(cap);
	const char *base = strrchr(path, '/');

	/* A segment named by its month holds only records of that month. */
	base = base ? base + 1 : path;
	v->file_month[0] = '\0';
	if (strlen(base) == 19 && strncmp(base, "trail-", 6) == 0 &&
	    strcmp(base + 13, ".jsonl") == 0)
		snprintf(v->file_month, sizeof(v->file_month), "%.7s", base + 6);
	unsigned lineno = 0;
	bool skipping = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || buf == NULL) {
		int e = fd < 0 ? errno : ENOMEM;
		free(buf);
		if (fd >= 0)
			close(fd);
		v->file_month[0] = '\0';
		fail(v, 0, path, 0, "cannot read: %s", strerror(e));
		return -e;
	}
	while ((n = read(fd, buf + have, cap - have)) > 0) {
		char *p = buf, *end = buf + have + (size_t)n, *nl;
		while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			lineno++;
			if (!skipping)
				audit_verifier_feed_line(v, p, (size_t)(nl - p), path, lineno);
			skipping = false;
			p = nl + 1;
		}
		have = (size_t)(end - p);
		if (have >= AUDIT_RECORD_MAX && !skipping) {
			fail(v, 0, path, lineno + 1, "line longer than %d bytes", AUDIT_RECORD_MAX);
			skipping = true;
		}
		if (skipping)
			have = 0;
		else
			memmove(buf, p, have);
	}
	if (n < 0)
		fail(v, 0, path, lineno, "read error: %s", strerror(errno));
	if (have > 0 && !skipping)
		fail(v, 0, path, lineno + 1,
		     "incomplete record at end of file (no newline): not accepted");
	close(fd);
	free(buf);
	v->file_month[0] = '\0';
	return 0;
}

int audit_verifier_finish(struct audit_verifier *v, struct audit_verify_result *res)
{
	size_t tl;

	if (!v->started)
		fail(v, 0, "trail", 0, "no records");
	else if (v->res.first_seq > 1 && !v->purge_ok)
		fail(v, v->res.first_seq, "trail", 0,
		     "trail starts at seq %" PRIu64 ": records 1..%" PRIu64
		     " missing and no signed purge record accounts for them",
		     v->res.first_seq, v->res.first_seq - 1);
	for (size_t i = 0; i < v->next_ext; i++) {
		struct ext_ckpt *e = &v->ext[i];
		if (strcmp(e->c.origin, v->origin) != 0)
			fail(v, 0, e->name, 0, "checkpoint origin \"%s\" is not the trail's",
			     e->c.origin);
		else if (v->purge_ok && e->c.size < v->res.first_seq)
			continue; /* purged with its records; the purge record accounts for it */
		else if (e->c.epoch >= v->npubs || !v->pub_set[e->c.epoch])
			fail(v, 0, e->name, 0,
			     "signed for epoch %" PRIu64 ", which the trail does not reach "
			     "(trail truncated?)",
			     e->c.epoch);
		else if (audit_note_verify(e->note, e->len, v->origin, v->pubs[e->c.epoch], &tl) !=
			 0)
			fail(v, 0, e->name, 0, "checkpoint signature does not verify");
		else if (e->c.size > v->last_seq)
			fail(v, 0, e->name, 0,
			     "truncated: checkpoint covers %" PRIu64
			     " records, trail ends at %" PRIu64,
			     e->c.size, v->last_seq);
		else if (!e->seen && e->c.size >= v->res.first_seq)
			fail(v, 0, e->name, 0, "record %" PRIu64 " of the checkpoint is missing",
			     e->c.size);
	}
	v->res.last_seq = v->last_seq;
	v->res.epoch = v->epoch;
	v->res.unsealed =
	    v->last_seq - (v->last_ckpt_seq ? v->last_ckpt_seq : v->res.first_seq - 1);
	if (!v->started)
		v->res.unsealed = 0;
	*res = v->res;
	return v->res.failures ? -EBADMSG : 0;
}
