/*
 * epoch.c - audit writer epochs: the trail's segment files, signed checkpoints with
 * MAC/signing key evolution (old keys erased), retention purges, the clock check and the
 * periodic tick. Linked by the engine. Trail files are the engine's own but are parsed
 * defensively.
 */
#include "audit.h"
#include "record.h"
#include "audit_int.h"
#include "writer_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

int audit_segment_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int audit_is_segment(const struct dirent *d)
{
	size_t l = strlen(d->d_name);

	return l == 19 && strncmp(d->d_name, "trail-", 6) == 0 &&
	       strcmp(d->d_name + 13, ".jsonl") == 0;
}

/* Last complete line of a segment; drops a half-written tail. 1 found, 0 none, <0 error. */
int audit_last_line(const char *path, char *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW), rc = 0;
	off_t size, start;
	ssize_t n;
	char *nl, *prev;

	if (fd < 0)
		return -errno;
	size = lseek(fd, 0, SEEK_END);
	start = size > (off_t)cap ? size - (off_t)cap : 0;
	n = size < 0 ? -1 : pread(fd, buf, (size_t)(size - start), start);
	if (n < 0 || n != size - start) {
		close(fd);
		return -EIO;
	}
	nl = memrchr(buf, '\n', (size_t)n);
	if (nl == NULL && start > 0) {
		close(fd);
		return -EBADMSG; /* a line longer than any record */
	}
	if (nl != buf + n - 1) {
		/* Half a record from a crash: it was never acknowledged; drop it. */
		off_t keep = nl ? start + (nl - buf) + 1 : 0;
		if (ftruncate(fd, keep) != 0 || fsync(fd) != 0)
			rc = -errno;
	}
	close(fd);
	if (rc != 0 || nl == NULL)
		return rc;
	prev = nl > buf ? memrchr(buf, '\n', (size_t)(nl - buf)) : NULL;
	if (prev == NULL && start > 0)
		return -EBADMSG;
	prev = prev ? prev + 1 : buf;
	*len = (size_t)(nl - prev);
	memmove(buf, prev, *len);
	return 1;
}

/* Advance to the next epoch after a checkpoint record was written (lock held). */
int audit_advance_epoch(struct audit_log *log)
{
	struct audit_state next = log->st;
	int rc;

	next.epoch = log->st.epoch + 1;
	if ((rc = audit_kdf_next(next.mac_key, log->st.mac_key, log->st.epoch)) != 0)
		goto out;
	memcpy(next.sign_priv, log->st.next_priv, 32);
	memcpy(next.sign_pub, log->st.next_pub, 32);
	if ((rc = audit_ed25519_keygen(next.next_priv, next.next_pub)) != 0)
		goto out;
	next.ckpt_seq = log->seq;
	memcpy(next.ckpt_head, log->head, AUDIT_HASH_LEN);
	if ((rc = audit_state_save(log->dir, &next)) != 0)
		goto out;
	audit_state_wipe(&log->st);
	log->st = next;
	rc = audit_hasher_set_key(log->hasher, log->st.mac_key);
out:
	audit_state_wipe(&next);
	if (rc != 0)
		log->failed = rc;
	return rc;
}

/* Write a signed note record of the given type (lock held). */
static int signed_record(struct audit_log *log, enum audit_type type, struct audit_ckpt *c,
			 const char *action, struct json_object *extra)
{
	char text[1024], vkey[512], *note = NULL;
	struct json_object *ev;
	int rc;

	snprintf(c->origin, sizeof(c->origin), "%s", log->origin);
	if ((rc = audit_ckpt_format(text, sizeof(text), c)) != 0 ||
	    (rc = audit_note_sign(&note, text, log->origin, log->st.sign_priv, log->st.sign_pub)) !=
		0 ||
	    (rc = audit_vkey_format(vkey, sizeof(vkey), log->origin, log->st.sign_pub)) != 0) {
		json_object_put(extra);
		return rc;
	}
	ev = extra ? extra : json_object_new_object();
	json_object_object_add(ev, "event.action", json_object_new_string(action));
	json_object_object_add(ev, type == AUDIT_T_PURGE ? "audit.purge" : "audit.checkpoint",
			       json_object_new_string(note));
	json_object_object_add(ev, "audit.key", json_object_new_string(vkey));
	rc = audit_write_record(log, type, ev, true);
	json_object_put(ev);
	if (rc == 0 && type == AUDIT_T_CHECKPOINT) {
		free(log->last_note);
		log->last_note = note;
		note = NULL;
	}
	free(note);
	if (rc == 0)
		rc = audit_sync_locked(log, log->seq);
	return rc;
}

int audit_checkpoint_locked(struct audit_log *log)
{
	struct audit_ckpt c = {0};
	struct timespec ts;
	int rc;

	while (log->sealing)
		pthread_cond_wait(&log->cond, &log->lock);
	if (log->failed)
		return log->failed;
	if (log->seq == log->st.ckpt_seq)
		return 0; /* nothing new since the last checkpoint */
	audit_now(log, &ts);
	c.size = log->seq;
	memcpy(c.head, log->head, AUDIT_HASH_LEN);
	c.time = ts.tv_sec;
	c.epoch = log->st.epoch;
	c.has_next = true;
	memcpy(c.next, log->st.next_pub, 32);
	log->sealing = true;
	rc = signed_record(log, AUDIT_T_CHECKPOINT, &c, "audit-checkpoint", NULL);
	if (rc == 0)
		rc = audit_advance_epoch(log);
	log->sealing = false;
	pthread_cond_broadcast(&log->cond);
	if (rc == 0) {
		log->last_ckpt = ts.tv_sec;
		log->n_checkpoints++;
		log->seal_wanted = false; /* a requested seal is covered by this one */
	}
	return rc;
}

int audit_checkpoint(struct audit_log *log)
{
	int rc;

	if (log == NULL)
		return -EINVAL;
	pthread_mutex_lock(&log->lock);
	rc = audit_checkpoint_locked(log);
	pthread_mutex_unlock(&log->lock);
	return rc;
}

/* month - n, both YYYY-MM */
static void month_minus(char out[8], const char *m, unsigned n)
{
	int y = atoi(m), mo = atoi(m + 5) - 1 - (int)n;

	while (mo < 0) {
		mo += 12;
		y--;
	}
	snprintf(out, 8, "%04u-%02u", (unsigned)y % 10000u, (unsigned)(mo + 1) % 100u);
}

/* Erase every segment older than the retention period, after a signed purge record. */
static int purge_locked(struct audit_log *log, const char *now_month)
{
	struct dirent **names = NULL;
	char before[8], path[4096], *buf;
	struct audit_ckpt c = {0};
	struct audit_frame f;
	struct timespec ts;
	size_t len = 0;
	int n, last = -1, rc = 0;

	while (log->sealing)
		pthread_cond_wait(&log->cond, &log->lock);
	month_minus(before, now_month, log->retention_months);
	n = scandir(log->dir, &names, audit_is_segment, audit_segment_cmp);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++)
		if (strncmp(names[i]->d_name + 6, before, 7) < 0)
			last = i;
	buf = malloc(2 * AUDIT_RECORD_MAX);
	if (last >= 0 && buf != NULL) {
		snprintf(path, sizeof(path), "%s/%s", log->dir, names[last]->d_name);
		rc = audit_last_line(path, buf, 2 * AUDIT_RECORD_MAX, &len);
		if (rc == 1 && audit_frame_parse(buf, len, &f, NULL) == 0 &&
		    audit_hasher_record(log->hasher, buf, len, c.head) == 0) {
			audit_now(log, &ts);
			c.size = f.seq;
			c.time = ts.tv_sec;
			c.epoch = log->st.epoch;
			c.purge = true;
			memcpy(c.before, before, 8);
			struct json_object *ex = json_object_new_object();
			char hex[AUDIT_HEX_LEN + 1], lts[64];
			audit_hex(hex, c.head);
			audit_timestamp(lts, f.ts_ms);
			json_object_object_add(ex, "audit.purge_before",
					       json_object_new_string(before));
			/* The last erased record: the verifier checks the first kept record
			 * against it, and a collector's copy still holds it. */
			json_object_object_add(ex, "audit.purge_last_seq",
					       json_object_new_int64((int64_t)f.seq));
			json_object_object_add(ex, "audit.purge_last_hash",
					       json_object_new_string(hex));
			json_object_object_add(ex, "audit.purge_last_time",
					       json_object_new_string(lts));
			rc = signed_record(log, AUDIT_T_PURGE, &c, "audit-purge", ex);
		} else if (rc >= 0) {
			rc = rc == 0 ? 0 : -EBADMSG; /* empty old segment: nothing to name */
		}
		for (int i = 0; i <= last && rc >= 0; i++) {
			snprintf(path, sizeof(path), "%s/%s", log->dir, names[i]->d_name);
			if (unlink(path) != 0)
				rc = -errno;
		}
		if (rc >= 0)
			rc = audit_fsync_dir(log->dir);
	} else if (buf == NULL) {
		rc = -ENOMEM;
	}
	free(buf);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc < 0 ? rc : 0;
}

/* The wall clock against the boot clock since the reference (lock held). A jump is
 * recorded as a security event (with a checkpoint) and holds every retention purge for
 * the rest of this boot (state "purge-hold"): the data is kept. */
static int clock_check(struct audit_log *log, time_t wall)
{
	int64_t boot = audit_boot_now(log), expected = log->ref_wall + (boot - log->ref_boot);
	char exp_s[64], found_s[64];
	struct json_object *ev;
	int rc;

	if (wall <= expected + AUDIT_CLOCK_JUMP_S &&
	    (!log->ref_exact || wall >= expected - AUDIT_CLOCK_JUMP_S))
		return 0;
	audit_timestamp(exp_s, expected * 1000);
	audit_timestamp(found_s, (int64_t)wall * 1000);
	ev = json_object_new_object();
	pcl_record_head(ev, PCL_KIND_ALERT, "audit-clock-jump", NULL, NULL);
	json_object_object_add(ev, "audit.clock_expected", json_object_new_string(exp_s));
	json_object_object_add(ev, "audit.clock_found", json_object_new_string(found_s));
	json_object_object_add(ev, "audit.purge_held", json_object_new_boolean(1));
	while (log->sealing)
		pthread_cond_wait(&log->cond, &log->lock);
	rc = audit_write_record(log, AUDIT_T_RECORD, ev, true);
	json_object_put(ev);
	/* The new clock is the reference from now on: one record per jump. */
	log->ref_wall = wall;
	log->ref_boot = boot;
	log->ref_exact = true;
	if (rc == 0 && strcmp(log->st.purge_hold, log->boot_id) != 0) {
		snprintf(log->st.purge_hold, sizeof(log->st.purge_hold), "%s", log->boot_id);
		rc = audit_state_save(log->dir, &log->st);
		if (rc != 0)
			log->failed = rc;
	}
	if (rc == 0)
		rc = audit_sync_locked(log, log->seq);
	if (rc == 0)
		rc = audit_checkpoint_locked(log);
	return rc;
}

int audit_tick(struct audit_log *log)
{
	struct timespec ts;
	char month[8];
	int rc = 0;

	if (log == NULL)
		return -EINVAL;
	audit_now(log, &ts);
	audit_month_of(month, ts.tv_sec);
	pthread_mutex_lock(&log->lock);
	if (log->failed)
		rc = log->failed;
	if (rc == 0)
		rc = clock_check(log, ts.tv_sec);
	if (rc == 0 && strcmp(log->st.purge_hold, log->boot_id) != 0 &&
	    strcmp(month, log->purged_month) != 0) {
		rc = purge_locked(log, month);
		if (rc == 0)
			memcpy(log->purged_month, month, 8);
	}
	if (rc == 0 && ts.tv_sec - log->last_ckpt >= (time_t)log->interval_s)
		rc = audit_checkpoint_locked(log);
	/* Deferred records after the last grouped one (the flusher syncs up to that one and
	 * whatever came before it); a no-op when synced. */
	if (rc == 0 && log->fd >= 0 && log->seq > log->group_seq)
		rc = audit_sync_locked(log, log->seq);
	pthread_mutex_unlock(&log->lock);
	return rc;
}
