/*
 * writer.c - appends records to the audit trail: framing, hash chain, per-record MAC,
 * durable group commit and monthly segments (checkpoints, purges: epoch.c; open and
 * close: open.c; clocks and timestamps: clock.c). Linked by the engine (unprivileged);
 * the caller's event fields are trusted to be a json object of its own making; the trail
 * files are the engine's own.
 */
#include "audit.h"
#include "hex.h"
#include "audit_int.h"
#include "writer_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/rand.h>

void audit_segment_path(char *out, size_t len, const char *dir, const char *month)
{
	snprintf(out, len, "%s/trail-%s.jsonl", dir, month);
}

int audit_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* How a record was made durable when written (dsync_write). */
enum { DURABLE_NOT = 0, DURABLE_TRAIL = 1, DURABLE_INTENT = 2 };

/* The segment is on disk up to off (lock held): forget the kept bytes before it. */
static void tail_synced(struct audit_log *log, off_t off)
{
	size_t drop = (size_t)(off - log->tail_off);

	if (off <= log->tail_off)
		return;
	if (off == log->seg_size) {
		log->tail_len = 0;
		log->tail_over = false;
	} else if (!log->tail_over) {
		memmove(log->tail, log->tail + drop, log->tail_len - drop);
		log->tail_len -= drop;
	}
	log->tail_off = off;
}

/* Keep a copy of bytes just written at the end of the segment (lock held). */
static void tail_add(struct audit_log *log, const char *buf, size_t n)
{
	if (log->tail_over || log->tail == NULL || log->tail_len + n > AUDIT_TAIL_MAX) {
		log->tail_over = true;
		return;
	}
	memcpy(log->tail + log->tail_len, buf, n);
	log->tail_len += n;
}

/* Wait until everything written up to seq upto is on disk (lock held). One caller at a
 * time syncs, for every record written so far; the others wait for the sync that covers
 * them: the one in flight if it started after their record, else the next. */
int audit_sync_locked(struct audit_log *log, uint64_t upto)
{
	while (log->synced_seq < upto && log->failed == 0) {
		uint64_t target, gen;
		off_t off;
		int fd, r, e;

		if (log->syncing) {
			gen = log->sync_target >= upto ? log->sync_gen : log->sync_gen + 1;
			pthread_cond_wait(&log->synced[gen & 1], &log->lock);
			continue;
		}
		log->syncing = true;
		gen = ++log->sync_gen;
		target = log->sync_target = log->seq;
		off = log->seg_size;
		fd = log->fd;
		log->n_syncs++;
		pthread_mutex_unlock(&log->lock);
		r = fdatasync(fd);
		e = errno;
		pthread_mutex_lock(&log->lock);
		log->syncing = false;
		if (r != 0)
			log->failed = -e;
		else if (target > log->synced_seq)
			log->synced_seq = target;
		if (r == 0)
			tail_synced(log, off);
		pthread_cond_broadcast(&log->synced[gen & 1]);
		if (log->failed)
			pthread_cond_broadcast(&log->synced[(gen + 1) & 1]);
		else if (log->seq > log->synced_seq)
			pthread_cond_signal(&log->synced[(gen + 1) & 1]); /* the next syncer */
		pthread_cond_broadcast(&log->cond); /* waiters for the end of any sync */
	}
	return log->failed;
}

/* Open (creating) the segment of this month for appending (lock held). */
int audit_segment_switch(struct audit_log *log, const char *month)
{
	char path[4096];
	int fd, rc;
	off_t size;

	if (log->fd >= 0 && strcmp(month, log->month) == 0)
		return 0;
	if (log->fd >= 0) {
		rc = audit_sync_locked(log, log->seq);
		while (log->syncing)
			pthread_cond_wait(&log->cond, &log->lock);
		if (rc != 0)
			return rc;
		close(log->fd);
		log->fd = -1;
	}
	audit_segment_path(path, sizeof(path), log->dir, month);
	/* Written at seg_size, not O_APPEND: pwrite and pwritev2 need their offset. */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return log->failed = -errno;
	size = lseek(fd, 0, SEEK_END);
	/* What a crashed engine left in the page cache is on disk before the first durable
	 * append, which syncs only its own bytes. */
	if (size < 0 || fdatasync(fd) != 0 || (rc = audit_fsync_dir(log->dir)) != 0) {
		rc = size < 0 || rc == 0 ? -errno : rc;
		close(fd);
		return log->failed = rc;
	}
	log->fd = fd;
	log->seg_size = size;
	log->tail_len = 0;
	log->tail_off = size;
	log->tail_over = false;
	memcpy(log->month, month, 8);
	return 0;
}

static bool reserved(const char *k)
{
	if (strchr("sep@hbma", k[0]) == NULL || k[0] == '\0')
		return false; /* no name of the frame starts so: most of the caller's */
	static const char *const names[] = {"seq",     "epoch", "prev", "@timestamp", "host.name",
					    "boot_id", "salt",	"mac",	"audit"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(k, names[i]) == 0)
			return true;
	return strncmp(k, "audit.", 6) == 0;
}

/* Check the caller's fields and serialise them: body, a json object of blen bytes, is
 * json-c's, valid until event changes. Needs no lock. */
static int serialise(struct json_object *event, bool allow_reserved, const char **body,
		     size_t *blen)
{
	if (event == NULL || !json_object_is_type(event, json_type_object))
		return -EINVAL;
	if (!allow_reserved) {
		json_object_object_foreach(event, k0, v0)
		{
			(void)v0;
			if (reserved(k0))
				return -EINVAL;
		}
	}
	*body = json_object_to_json_string_ext(event, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	if (*body == NULL)
		return -ENOMEM;
	*blen = strlen(*body);
	if (*blen < 2 || (*body)[0] != '{' || (*body)[*blen - 1] != '}')
		return -EINVAL;
	if (*blen > AUDIT_RECORD_MAX)
		return -E2BIG;
	return 0;
}

/* The caller's members, serialised and kept without the braces (no salt yet). */
static int prepare_fields(struct json_object *event, bool allow_reserved, struct audit_prep *p)
{
	const char *body;
	size_t blen;
	int rc;

	memset(p, 0, sizeof(*p));
	if ((rc = serialise(event, allow_reserved, &body, &blen)) != 0)
		return rc;
	p->fields = strndup(body + 1, blen - 2); /* members without the braces */
	if (p->fields == NULL)
		return -ENOMEM;
	p->len = blen - 2;
	return 0;
}

/* Draw the salts of n prepared records: 16 random bytes each, drawn together (one call of
 * the random generator, and one of its fork checks, for up to 64 records). */
static int draw_salts(struct audit_prep *p, size_t n)
{
	uint8_t raw[64 * 16];

	for (size_t i = 0; i < n; i += 64) {
		size_t k = n - i < 64 ? n - i : 64;
		if (RAND_bytes(raw, (int)(k * 16)) != 1)
			return -EIO;
		for (size_t j = 0; j < k; j++)
			pcl_hex_encode(p[i + j].salt, raw + 16 * j, 16);
	}
	return 0;
}

/* Serialise the caller's fields and draw the salt; needs no lock. */
int audit_prepare(const struct audit_log *log, struct json_object *event, bool allow_reserved,
		  struct audit_prep *p)
{
	int rc = prepare_fields(event, allow_reserved, p);

	if (rc == 0 && (rc = draw_salts(p, 1)) != 0)
		audit_prep_free(p);
	(void)log;
	return rc;
}

/* The length of a prepared record's members: its own, then the common ones. */
static size_t members_len(const struct audit_prep *p)
{
	return p->len + (p->len && p->common_len ? 1 : 0) + p->common_len;
}

static int write_lines(struct audit_log *log, const char *buf, size_t n);

/* Make the kept tail and one line durable in one durable write (lock held), returning how:
 * DURABLE_INTENT: the line is written to the segment without a sync and the segment's
 * bytes from tail_off (the kept tail, the line included) go into the next slot of the
 * intent file with RWF_DSYNC, an overwrite of allocated bytes that commits no metadata;
 * the flusher syncs the segment within 1 s, or at once when 8 KiB wait.
 * DURABLE_TRAIL: no room in a slot (or the intent file failed), the kept tail and the
 * line rewritten into the segment with RWF_DSYNC (or synced). 0: not possible here, the
 * caller writes and syncs the usual way; <0 failed. A group sync in flight does not
 * matter: the bytes it covers are unchanged (rewritten as they were) and its end moves
 * tail_off only forward (tail_synced). */
static int dsync_write(struct audit_log *log, char *line, size_t n)
{
	struct iovec v[2] = {{log->tail, log->tail_len}, {line, n}};
	size_t want = log->tail_len + n;
	ssize_t w;
	int rc;

	if (log->tail_over || log->no_dsync || log->tail == NULL ||
	    log->tail_off + (off_t)log->tail_len != log->seg_size)
		return 0;
	if (log->intent_fd >= 0 && AUDIT_INTENT_HDR + want <= AUDIT_INTENT_SLOT) {
		off_t before = log->seg_size;
		if ((rc = write_lines(log, line, n)) != 0)
			return rc; /* cut back, failed closed */
		if (audit_intent_write(log) == 1)
			return DURABLE_INTENT;
		/* No entry (the intent file failed and is no longer used): when in doubt, the
		 * segment itself is synced before the record counts as durable. If that fails
		 * too, the record, never durable nor reported, is taken back as a failed write
		 * is, and the trail fails closed. */
		if (fdatasync(log->fd) != 0) {
			rc = -errno;
			if (ftruncate(log->fd, before) != 0)
				rc = -EIO;
			log->seg_size = before;
			log->tail_len -= n;
			return log->failed = rc;
		}
		log->n_syncs++;
		tail_synced(log, log->seg_size);
		return DURABLE_TRAIL;
	}
	w = pwritev2(log->fd, v, 2, log->tail_off, RWF_DSYNC);
	if (w < 0 && (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)) {
		log->no_dsync = true; /* an old kernel or filesystem: write + fdatasync */
		return 0;
	}
	/* Short (a full disk): the rest the usual way, to finish or to learn why not. */
	size_t done = w > 0 ? (size_t)w : 0;
	while (w > 0 && done < want) {
		if (done < log->tail_len)
			w = pwrite(log->fd, log->tail + done, log->tail_len - done,
				   log->tail_off + (off_t)done);
		else
			w = pwrite(log->fd, line + (done - log->tail_len), want - done,
				   log->seg_size + (off_t)(done - log->tail_len));
		done += w > 0 ? (size_t)w : 0;
		if (done == want && fdatasync(log->fd) != 0)
			w = -1;
	}
	if (done != want || w < 0) {
		rc = w < 0 ? -errno : -EIO;
		/* The kept bytes were rewritten as they were; take back a partial line. */
		if (ftruncate(log->fd, log->seg_size) != 0)
			rc = -EIO;
		return log->failed = rc;
	}
	log->n_syncs++;
	log->seg_size += (off_t)n;
	log->tail_len = 0;
	log->tail_off = log->seg_size;
	return DURABLE_TRAIL;
}

/* Frame, chain, MAC and write one prepared record (lock held); not yet durable. */
int audit_commit(struct audit_log *log, enum audit_type type, struct audit_prep *p)
{
	bool durable;

	return audit_commit_sync(log, type, p, false, &durable);
}

/* Append the string s at *at, before end; false when it does not fit. */
static bool put(char **at, const char *end, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(end - *at) < n)
		return false;
	memcpy(*at, s, n);
	*at += n;
	return true;
}

/* Append v in decimal at *at, before end; false when it does not fit. */
static bool put_u64(char **at, const char *end, uint64_t v)
{
	char d[21];
	size_t i = sizeof(d) - 1;

	d[i] = '\0';
	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return put(at, end, d + i);
}

/* Frame, chain and MAC one prepared record as the record after seq and head, at time ms,
 * into line (AUDIT_RECORD_MAX bytes); its length without the newline in *len and its hash
 * in hash. Nothing is written and nothing of log moves. */
static int frame_record(struct audit_log *log, enum audit_type type, const struct audit_prep *p,
			uint64_t seq, const uint8_t head[AUDIT_HASH_LEN], int64_t ms, char *line,
			size_t *len, uint8_t hash[AUDIT_HASH_LEN])
{
	static const char *const types[] = {"record", "checkpoint", "purge"};
	char ts_s[64], hex[AUDIT_HEX_LEN + 1];
	uint8_t mac[AUDIT_HASH_LEN];
	char *at = line, *end = line + AUDIT_RECORD_MAX;
	int rc;

	audit_timestamp(ts_s, ms);
	audit_hex(hex, head);
	/* {"seq":N,"epoch":N,"prev":"HEX","audit.type":"T","@timestamp":"TS",host and
	 * boot,"salt":"HEX" (put together by hand: a record's most frequent work). */
	if (!put(&at, end, "{\"seq\":") || !put_u64(&at, end, seq + 1) ||
	    !put(&at, end, ",\"epoch\":") || !put_u64(&at, end, log->st.epoch) ||
	    !put(&at, end, ",\"prev\":\"") || !put(&at, end, hex) ||
	    !put(&at, end, "\",\"audit.type\":\"") || !put(&at, end, types[type]) ||
	    !put(&at, end, "\",\"@timestamp\":\"") || !put(&at, end, ts_s) ||
	    !put(&at, end, "\",") || !put(&at, end, log->host_boot) ||
	    !put(&at, end, ",\"salt\":\"") || !put(&at, end, p->salt) || !put(&at, end, "\""))
		return -E2BIG;
	size_t n = (size_t)(at - line), mlen = members_len(p);
	*len = n + (mlen ? 1 + mlen : 0) + AUDIT_MAC_SUFFIX_LEN;
	if (*len + 1 > AUDIT_RECORD_MAX)
		return -E2BIG;
	if (mlen) {
		char *m = line + n;
		*m++ = ',';
		if (p->len) {
			memcpy(m, p->fields, p->len);
			m += p->len;
		}
		if (p->len && p->common_len)
			*m++ = ',';
		if (p->common_len)
			memcpy(m, p->common, p->common_len);
	}
	memcpy(line + *len - AUDIT_MAC_SUFFIX_LEN, ",\"mac\":\"", 8);
	memset(line + *len - 66, '0', AUDIT_HEX_LEN);
	memcpy(line + *len - 2, "\"}\n", 3);
	if ((rc = audit_hasher_record(log->hasher, line, *len, hash)) != 0 ||
	    (rc = audit_hasher_mac(log->hasher, hash, mac)) != 0)
		return rc;
	audit_hex(hex, mac);
	memcpy(line + *len - 66, hex, AUDIT_HEX_LEN);
	return 0;
}

/* The time of the next record after one at last_ms (ms since the epoch) and its month. */
static int64_t next_ms(const struct audit_log *log, int64_t last_ms, char month[8])
{
	struct timespec ts;
	int64_t ms;

	audit_now(log, &ts);
	/* Time only moves forward: after the clock steps back, records keep the time of
	 * their predecessor (and so its month's segment) until the clock catches up. */
	ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (ms < last_ms)
		ms = last_ms;
	audit_month_of(month, (time_t)(ms / 1000));
	return ms;
}

/* Records up to seq are written, the last with time ms and hash head; how durable
 * (DURABLE_*): in the segment, the threads waiting for a sync are woken; through the
 * intent file, the flusher is asked to sync the segment within its intent window, which
 * the threads waiting for the segment do not wait for (their own sync covers it). Called
 * with the lock held. */
static void written(struct audit_log *log, uint64_t seq, int64_t ms,
		    const uint8_t head[AUDIT_HASH_LEN], int how)
{
	log->seq = seq;
	if (how == DURABLE_TRAIL) {
		log->synced_seq = seq;
		pthread_cond_broadcast(&log->synced[0]);
		pthread_cond_broadcast(&log->synced[1]);
	} else if (how == DURABLE_INTENT) {
		audit_flusher_intent(log, seq);
	}
	log->last_ts_ms = ms;
	memcpy(log->head, head, AUDIT_HASH_LEN);
}

int audit_commit_sync(struct audit_log *log, enum audit_type type, struct audit_prep *p, bool dsync,
		      bool *durable)
{
	int64_t ms;
	char line[AUDIT_RECORD_MAX], month[8];
	uint8_t hash[AUDIT_HASH_LEN];
	size_t len, done = 0;
	ssize_t w = 0;
	int rc;

	*durable = false;
	if (log->failed)
		return log->failed;
	ms = next_ms(log, log->last_ts_ms, month);
	if ((rc = audit_segment_switch(log, month)) != 0 ||
	    (rc = frame_record(log, type, p, log->seq, log->head, ms, line, &len, hash)) != 0)
		return rc;

	int how = dsync ? dsync_write(log, line, len + 1) : DURABLE_NOT;
	if (how < 0)
		return how;
	*durable = how != DURABLE_NOT;
	while (!*durable && done < len + 1 &&
	       (w = pwrite(log->fd, line + done, len + 1 - done, log->seg_size + (off_t)done)) > 0)
		done += (size_t)w;
	if (!*durable && done != len + 1) {
		rc = w < 0 ? -errno : -EIO;
		/* Take back a partial line so the segment stays whole, then fail closed. */
		if (done > 0 && ftruncate(log->fd, log->seg_size) != 0)
			rc = -EIO;
		return log->failed = rc;
	}
	if (!*durable) {
		tail_add(log, line, len + 1);
		log->seg_size += (off_t)(len + 1);
	}
	written(log, log->seq + 1, ms, hash, how);
	return 0;
}

void audit_prep_free(struct audit_prep *p)
{
	free(p->fields);
	p->fields = NULL;
}

int audit_write_record(struct audit_log *log, enum audit_type type, struct json_object *event,
		       bool allow_reserved)
{
	struct audit_prep p;
	int rc = audit_prepare(log, event, allow_reserved, &p);

	if (rc == 0)
		rc = audit_commit(log, type, &p);
	audit_prep_free(&p);
	return rc;
}

/* Write framed lines at the end of the segment (lock held); the caller then moves the
 * chain. On a failure the segment is cut back to its whole lines and the trail fails
 * closed. */
static int write_lines(struct audit_log *log, const char *buf, size_t n)
{
	size_t done = 0;
	ssize_t w = 0;

	while (done < n &&
	       (w = pwrite(log->fd, buf + done, n - done, log->seg_size + (off_t)done)) > 0)
		done += (size_t)w;
	if (done != n) {
		int rc = w < 0 ? -errno : -EIO;
		if (done > 0 && ftruncate(log->fd, log->seg_size) != 0)
			rc = -EIO;
		return log->failed = rc;
	}
	tail_add(log, buf, n);
	log->seg_size += (off_t)n;
	return 0;
}

/* Frame and chain two prepared records, one after the other, and write both in one call:
 * with RWF_DSYNC (the kept tail too) when alone, else the usual write, which the caller
 * syncs (lock held). Records of two months' segments go one at a time. */
static int commit_pair(struct audit_log *log, struct audit_prep *p, bool alone, bool *durable)
{
	char month[8], month2[8];
	uint8_t head[AUDIT_HASH_LEN];
	size_t len0, len1;
	char *buf;
	int rc;

	*durable = false;
	if (log->failed)
		return log->failed;
	int64_t ms0 = next_ms(log, log->last_ts_ms, month), ms1 = next_ms(log, ms0, month2);
	if (strcmp(month, month2) != 0) {
		bool first;
		if ((rc = audit_commit_sync(log, AUDIT_T_RECORD, &p[0], false, &first)) != 0)
			return rc;
		return audit_commit_sync(log, AUDIT_T_RECORD, &p[1], alone, durable);
	}
	if ((buf = malloc(2 * AUDIT_RECORD_MAX)) == NULL)
		return -ENOMEM;
	if ((rc = audit_segment_switch(log, month)) != 0 ||
	    (rc = frame_record(log, AUDIT_T_RECORD, &p[0], log->seq, log->head, ms0, buf, &len0,
			       head)) != 0 ||
	    (rc = frame_record(log, AUDIT_T_RECORD, &p[1], log->seq + 1, head, ms1, buf + len0 + 1,
			       &len1, head)) != 0)
		goto out;
	int how = alone ? dsync_write(log, buf, len0 + len1 + 2) : DURABLE_NOT;
	if ((rc = how < 0 ? how : 0) != 0)
		goto out;
	*durable = how != DURABLE_NOT;
	if (!*durable && (rc = write_lines(log, buf, len0 + len1 + 2)) != 0)
		goto out;
	written(log, log->seq + 2, ms1, head, how);
out:
	free(buf);
	return rc;
}

/* Take the writer's lock to append records, counted among the waiters meanwhile (a
 * record written alone is synced at once only when none wait behind it), and wait while
 * a checkpoint seals the epoch (its sync drops the lock). */
static void lock_for_records(struct audit_log *log)
{
	atomic_fetch_add(&log->waiters, 1);
	pthread_mutex_lock(&log->lock);
	atomic_fetch_sub(&log->waiters, 1);
	while (log->sealing)
		pthread_cond_wait(&log->cond, &log->lock);
}

int audit_append_pair(struct audit_log *log, struct json_object *before, struct json_object *event)
{
	struct audit_prep p[2];
	bool durable;
	int rc;

	if (log == NULL)
		return -EINVAL;
	if ((rc = audit_prepare(log, before, false, &p[0])) != 0)
		return rc;
	if ((rc = audit_prepare(log, event, false, &p[1])) != 0) {
		audit_prep_free(&p[0]);
		return rc;
	}
	for (int i = 0; i < 2 && rc == 0; i++)
		if (p[i].len + AUDIT_FRAME_MAX + strlen(log->host_boot) > AUDIT_RECORD_MAX)
			rc = -E2BIG; /* known to fit before either is written */
	if (rc == 0) {
		lock_for_records(log);
		rc = commit_pair(log, p, atomic_load(&log->waiters) == 0, &durable);
		if (rc == 0 && !durable)
			rc = audit_sync_locked(log, log->seq);
		pthread_mutex_unlock(&log->lock);
	}
	audit_prep_free(&p[0]);
	audit_prep_free(&p[1]);
	return rc;
}

enum append_mode { APPEND_DURABLE, APPEND_DEFERRED, APPEND_GROUPED };

static int append(struct audit_log *log, struct json_object *event, enum append_mode mode)
{
	uint64_t mine;
	int rc;

	if (log == NULL)
		return -EINVAL;
	struct audit_prep p;
	rc = audit_prepare(log, event, false, &p);
	if (rc != 0)
		return rc;
	lock_for_records(log);
	/* Alone: the record and what is not yet on disk go in one RWF_DSYNC write; with
	 * others waiting, the group commit below shares one sync among them. */
	bool alone = mode == APPEND_DURABLE && atomic_load(&log->waiters) == 0, durable;
	rc = audit_commit_sync(log, AUDIT_T_RECORD, &p, alone, &durable);
	audit_prep_free(&p);
	mine = log->seq;
	if (rc == 0 && mode == APPEND_DURABLE && !durable)
		rc = audit_sync_locked(log, mine);
	else if (rc == 0 && mode == APPEND_GROUPED) {
		log->group_seq = mine;
		audit_flusher_kick(log);
	}
	pthread_mutex_unlock(&log->lock);
	return rc;
}

int audit_append(struct audit_log *log, struct json_object *event)
{
	return append(log, event, APPEND_DURABLE);
}

int audit_append_deferred(struct audit_log *log, struct json_object *event)
{
	return append(log, event, APPEND_DEFERRED);
}

int audit_append_grouped(struct audit_log *log, struct json_object *event)
{
	return append(log, event, APPEND_GROUPED);
}

#define GROUP_BYTES (256 * 1024) /* one write at most (a group of 4 KiB records: 64) */

/* Frame and chain the prepared records into buf, one write per GROUP_BYTES and per
 * month's segment (lock held). */
static int group_locked(struct audit_log *log, const struct audit_prep *p, size_t n, char *buf)
{
	uint64_t seq = log->seq;
	uint8_t head[AUDIT_HASH_LEN];
	int64_t last = log->last_ts_ms;
	size_t used = 0, len;
	char month[8];
	int rc;

	memcpy(head, log->head, AUDIT_HASH_LEN);
	for (size_t i = 0; i <= n; i++) {
		int64_t ms = i < n ? next_ms(log, last, month) : 0;
		/* What is framed goes out before another segment, a full buffer, or the end. */
		if (used > 0 && (i == n || strcmp(month, log->month) != 0 ||
				 used + AUDIT_RECORD_MAX > GROUP_BYTES)) {
			if ((rc = write_lines(log, buf, used)) != 0)
				return rc;
			written(log, seq, last, head, DURABLE_NOT);
			used = 0;
		}
		if (i == n)
			break;
		if ((rc = audit_segment_switch(log, month)) != 0 ||
		    (rc = frame_record(log, AUDIT_T_RECORD, &p[i], seq, head, ms, buf + used, &len,
				       head)) != 0)
			return rc;
		used += len + 1;
		seq++;
		last = ms;
	}
	return 0;
}

/* Check, serialise and salt a group's records (no lock): every one known to fit its line,
 * with the common members, none of which it may have itself. */
static int prepare_group(const struct audit_log *log, struct json_object *const *events, size_t n,
			 struct json_object *common, const char *cfields, size_t clen,
			 struct audit_prep *p)
{
	size_t frame = AUDIT_FRAME_MAX + strlen(log->host_boot);
	int rc;

	for (size_t i = 0; i < n; i++) {
		if ((rc = prepare_fields(events[i], false, &p[i])) != 0)
			return rc;
		p[i].common = cfields;
		p[i].common_len = clen;
		if (members_len(&p[i]) + frame > AUDIT_RECORD_MAX)
			return -E2BIG;
		if (clen == 0)
			continue;
		json_object_object_foreach(events[i], k, v)
		{
			(void)v;
			if (json_object_object_get_ex(common, k, NULL))
				return -EINVAL; /* twice in one record */
		}
	}
	return draw_salts(p, n);
}

int audit_append_group_common(struct audit_log *log, struct json_object *const *events, size_t n,
			      struct json_object *common)
{
	struct audit_prep *p, cp = {0};
	char *buf;
	int rc = 0;

	if (log == NULL || (n > 0 && events == NULL))
		return -EINVAL;
	if (n == 0)
		return 0;
	/* The common members serialised once, for every record of the group. */
	if (common != NULL && (rc = prepare_fields(common, false, &cp)) != 0)
		return rc;
	p = calloc(n, sizeof(*p));
	buf = malloc(GROUP_BYTES);
	if (p == NULL || buf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* Every record checked, serialised and known to fit its line before any is written:
	 * a bad one refuses the whole group. */
	rc = prepare_group(log, events, n, common, cp.fields, cp.len, p);
	if (rc == 0) {
		lock_for_records(log);
		rc = log->failed ? log->failed : group_locked(log, p, n, buf);
		if (log->seq > log->group_seq) { /* what was written, even short of a failure */
			log->group_seq = log->seq;
			audit_flusher_kick(log);
		}
		pthread_mutex_unlock(&log->lock);
	}
out:
	for (size_t i = 0; p != NULL && i < n; i++)
		audit_prep_free(&p[i]);
	audit_prep_free(&cp);
	free(p);
	free(buf);
	return rc;
}

int audit_append_group(struct audit_log *log, struct json_object *const *events, size_t n)
{
	return audit_append_group_common(log, events, n, NULL);
}

uint64_t audit_last_seq(const struct audit_log *log)
{
	return log->seq;
}

int audit_last_checkpoint(const struct audit_log *log, char *buf, size_t len)
{
	if (log->last_note == NULL)
		return -ENOENT;
	if ((size_t)snprintf(buf, len, "%s", log->last_note) >= len)
		return -ENOBUFS;
	return 0;
}
