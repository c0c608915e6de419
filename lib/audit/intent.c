/*
 * intent.c - the trail's intent file: a decision's record made durable by one overwrite
 * of a preallocated slot instead of a sync of the growing segment (which would commit the
 * filesystem's metadata too), and its replay into the segment at open after a power cut.
 * Linked by the engine. The intent file is the engine's own but is read at open as
 * untrusted bytes: audit_intent_parse checks every field and the checksum, and nothing is
 * written into the trail that is not a whole set of records under the current MAC key.
 */
#include "audit.h"
#include "audit_int.h"
#include "writer_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "record.h"

static const char magic[8] = {'P', 'C', 'L', 'I', 'N', 'T', '1', '\n'};

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* SHA-256 of the header's first 40 bytes and the payload, in up to two parts. */
static int entry_sum(uint8_t out[AUDIT_HASH_LEN], const uint8_t *hdr, const void *a, size_t alen,
		     const void *b, size_t blen)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(c, hdr, AUDIT_INTENT_SUM_OFF) == 1 &&
		 (alen == 0 || EVP_DigestUpdate(c, a, alen) == 1) &&
		 (blen == 0 || EVP_DigestUpdate(c, b, blen) == 1) &&
		 EVP_DigestFinal_ex(c, out, NULL) == 1;

	EVP_MD_CTX_free(c);
	return ok ? 0 : -EIO;
}

static bool valid_month(const uint8_t *m)
{
	for (int i = 0; i < 7; i++)
		if (i == 4 ? m[i] != '-' : (m[i] < '0' || m[i] > '9'))
			return false;
	int mo = (m[5] - '0') * 10 + (m[6] - '0');
	return m[7] == '\0' && mo >= 1 && mo <= 12;
}

int audit_intent_parse(const uint8_t *slot, size_t n, struct audit_intent *e, struct pcl_diag *d)
{
	uint8_t sum[AUDIT_HASH_LEN];
	uint64_t off, len;

	memset(e, 0, sizeof(*e));
	if (n < AUDIT_INTENT_HDR) {
		pcl_diag_set(d, "<intent>", 0, "slot of %zu bytes is shorter than a header", n);
		return -EBADMSG;
	}
	if (memcmp(slot, magic, sizeof(magic)) != 0) {
		bool zero = true;
		for (size_t i = 0; i < AUDIT_INTENT_HDR && zero; i++)
			zero = slot[i] == 0;
		if (zero)
			return -ENOENT; /* never written */
		pcl_diag_set(d, "<intent>", 0, "magic: not an intent entry");
		return -EBADMSG;
	}
	off = get64(slot + 24);
	len = (uint64_t)slot[32] | (uint64_t)slot[33] << 8 | (uint64_t)slot[34] << 16 |
	      (uint64_t)slot[35] << 24;
	if (!valid_month(slot + 16)) {
		pcl_diag_set(d, "<intent>", 0, "month: not YYYY-MM");
		return -EBADMSG;
	}
	if (slot[36] | slot[37] | slot[38] | slot[39]) {
		pcl_diag_set(d, "<intent>", 0, "reserved bytes are not zero");
		return -EBADMSG;
	}
	if (len == 0 || len > n - AUDIT_INTENT_HDR) {
		pcl_diag_set(d, "<intent>", 0, "length %" PRIu64 " does not fit the slot", len);
		return -EBADMSG;
	}
	if (off > AUDIT_INTENT_OFF_MAX) {
		pcl_diag_set(d, "<intent>", 0, "offset %" PRIu64 " out of range", off);
		return -EBADMSG;
	}
	if (entry_sum(sum, slot, slot + AUDIT_INTENT_HDR, (size_t)len, NULL, 0) != 0)
		return -EIO;
	if (CRYPTO_memcmp(sum, slot + AUDIT_INTENT_SUM_OFF, AUDIT_HASH_LEN) != 0) {
		pcl_diag_set(d, "<intent>", 0, "checksum mismatch (a torn or altered entry)");
		return -EBADMSG;
	}
	if (slot[AUDIT_INTENT_HDR + len - 1] != '\n') {
		pcl_diag_set(d, "<intent>", 0, "bytes do not end a record line");
		return -EBADMSG;
	}
	e->gen = get64(slot + 8);
	if (e->gen == 0 || e->gen > AUDIT_INTENT_GEN_MAX) {
		pcl_diag_set(d, "<intent>", 0, "generation %" PRIu64 " out of range", e->gen);
		return -EBADMSG;
	}
	memcpy(e->month, slot + 16, 8);
	e->off = off;
	e->len = (size_t)len;
	e->bytes = (const char *)slot + AUDIT_INTENT_HDR;
	return 0;
}

int audit_intent_write(struct audit_log *log)
{
	uint8_t hdr[AUDIT_INTENT_HDR] = {0};
	uint64_t gen = log->intent_gen + 1;
	size_t n = log->tail_len, want = AUDIT_INTENT_HDR + n;
	struct iovec v[2] = {{hdr, sizeof(hdr)}, {log->tail, n}};
	ssize_t w;

	if (log->intent_fd < 0 || n == 0 || want > AUDIT_INTENT_SLOT || log->tail_over ||
	    gen > AUDIT_INTENT_GEN_MAX)
		return 0;
	memcpy(hdr, magic, sizeof(magic));
	put64(hdr + 8, gen);
	memcpy(hdr + 16, log->month, 8);
	put64(hdr + 24, (uint64_t)log->tail_off);
	for (int i = 0; i < 4; i++)
		hdr[32 + i] = (uint8_t)(n >> (8 * i));
	if (entry_sum(hdr + AUDIT_INTENT_SUM_OFF, hdr, log->tail, n, NULL, 0) != 0)
		return 0;
	w = pwritev2(log->intent_fd, v, 2, (off_t)((gen % AUDIT_INTENT_SLOTS) * AUDIT_INTENT_SLOT),
		     RWF_DSYNC);
	/* The generation is spent even when the write failed: a torn slot may hold it. */
	log->intent_gen = gen;
	if (w != (ssize_t)want) {
		/* An error or a short write: the slot is torn (its checksum fails at open) and
		 * the file is not used again; the caller syncs the segment itself. */
		close(log->intent_fd);
		log->intent_fd = -1;
		return 0;
	}
	log->n_intents++;
	return 1;
}

/* Every line of the entry is a record of the current epoch with a valid MAC, chained
 * to the line before it; 0 or -EBADMSG with the reason in d. */
static int entry_records(struct audit_log *log, const struct audit_intent *e, struct pcl_diag *d)
{
	uint8_t hash[AUDIT_HASH_LEN], mac[AUDIT_HASH_LEN];
	struct audit_frame f;
	size_t at = 0, k = 0;

	while (at < e->len) {
		const char *nl = memchr(e->bytes + at, '\n', e->len - at);
		size_t len = (size_t)(nl - (e->bytes + at));
		k++;
		if (audit_frame_parse(e->bytes + at, len, &f, d) != 0)
			return -EBADMSG;
		if (f.epoch != log->st.epoch) {
			pcl_diag_set(d, "<intent>", (unsigned)k,
				     "record of epoch %" PRIu64 " (the trail is at epoch %" PRIu64
				     ")",
				     f.epoch, log->st.epoch);
			return -EBADMSG;
		}
		if (k > 1 && CRYPTO_memcmp(f.prev, hash, AUDIT_HASH_LEN) != 0) {
			pcl_diag_set(d, "<intent>", (unsigned)k, "prev does not chain");
			return -EBADMSG;
		}
		if (audit_hasher_record(log->hasher, e->bytes + at, len, hash) != 0 ||
		    audit_hasher_mac(log->hasher, hash, mac) != 0)
			return -EIO;
		if (CRYPTO_memcmp(mac, f.mac, AUDIT_HASH_LEN) != 0) {
			pcl_diag_set(d, "<intent>", (unsigned)k, "record MAC does not verify");
			return -EBADMSG;
		}
		at += len + 1;
	}
	return 0;
}

/* Put the newest entry's bytes into its segment when they are not there (open, before
 * the tail recovery): 1 written, 0 nothing to do, <0 refused with the reason in diag. */
static int replay(struct audit_log *log, const struct audit_intent *e, struct pcl_diag *diag)
{
	char path[4096], *have = NULL;
	struct pcl_diag why = {0};
	struct stat sb;
	ssize_t r = 0;
	int fd, rc = 0;

	audit_segment_path(path, sizeof(path), log->dir, e->month);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return 0; /* a month purged since: nothing to put back */
	if (fd < 0 || fstat(fd, &sb) != 0) {
		rc = -errno;
		pcl_diag_set(diag, path, 0, "cannot open for the intent replay: %s", strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if ((uint64_t)sb.st_size < e->off) {
		/* Everything before off was on disk when the entry was written: a hole here
		 * would put records after missing ones. Refuse, visibly. */
		pcl_diag_set(diag, path, 0,
			     "segment is %jd bytes, shorter than the intent entry's start at "
			     "offset %" PRIu64
			     ": records before it are missing (trail truncated or replaced)",
			     (intmax_t)sb.st_size, e->off);
		close(fd);
		return -EUCLEAN;
	}
	if ((uint64_t)sb.st_size >= e->off + e->len) {
		have = malloc(e->len);
		if (have == NULL) {
			close(fd);
			return -ENOMEM;
		}
		r = pread(fd, have, e->len, (off_t)e->off);
		if (r == (ssize_t)e->len && memcmp(have, e->bytes, e->len) == 0) {
			free(have);
			close(fd);
			return 0; /* already there */
		}
		free(have);
	}
	if ((rc = entry_records(log, e, &why)) != 0) {
		/* Named: the intent file, the entry's line, the segment and offset it is for. */
		char ipath[4096];
		snprintf(ipath, sizeof(ipath), "%s/intent", log->dir);
		pcl_diag_set(diag, ipath, why.line,
			     "entry %" PRIu64 " for trail-%s.jsonl offset %" PRIu64
			     " refused, nothing written: %s",
			     e->gen, e->month, e->off, why.msg[0] ? why.msg : strerror(-rc));
		close(fd);
		return rc;
	}
	size_t done = 0;
	while (done < e->len &&
	       (r = pwrite(fd, e->bytes + done, e->len - done, (off_t)(e->off + done))) > 0)
		done += (size_t)r;
	if (done != e->len || fdatasync(fd) != 0) {
		rc = done != e->len && r == 0 ? -EIO : -errno;
		pcl_diag_set(diag, path, 0, "cannot write the intent entry back: %s",
			     strerror(-rc));
		close(fd);
		return rc;
	}
	close(fd);
	return 1;
}

int audit_intent_open(struct audit_log *log, struct pcl_diag *diag)
{
	char path[4096];
	uint8_t *slot = malloc(AUDIT_INTENT_SLOT), *best = malloc(AUDIT_INTENT_SLOT);
	struct audit_intent e, newest = {0};
	struct stat sb;
	bool found = false;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/intent", log->dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (slot == NULL || best == NULL || fd < 0 || fstat(fd, &sb) != 0) {
		rc = slot == NULL || best == NULL ? -ENOMEM : -errno;
		pcl_diag_set(diag, path, 0, "cannot open: %s", strerror(-rc));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = -EINVAL;
		pcl_diag_set(diag, path, 0, "not a regular file");
		goto out;
	}
	/* The newest whole entry; torn or altered slots are skipped (never reported durable:
	 * a record is durable only once its whole entry is). */
	for (off_t at = 0; at + AUDIT_INTENT_SLOT <= sb.st_size && at < AUDIT_INTENT_FILE;
	     at += AUDIT_INTENT_SLOT) {
		if (pread(fd, slot, AUDIT_INTENT_SLOT, at) != AUDIT_INTENT_SLOT) {
			rc = -EIO;
			pcl_diag_set(diag, path, 0, "cannot read the slot at %jd", (intmax_t)at);
			goto out;
		}
		if (audit_intent_parse(slot, AUDIT_INTENT_SLOT, &e, NULL) != 0 ||
		    (found && e.gen <= newest.gen))
			continue;
		memcpy(best, slot, AUDIT_INTENT_SLOT);
		newest = e;
		newest.bytes = (const char *)best + AUDIT_INTENT_HDR;
		found = true;
	}
	if (found) {
		log->intent_gen = newest.gen;
		rc = replay(log, &newest, diag);
		if (rc < 0)
			goto out;
		if (rc == 1) {
			log->replayed = newest;
			log->replayed.bytes = NULL;
			log->intent_replayed = true;
		}
		rc = 0;
	}
	/* Preallocated and written: an overwrite of its slots changes no metadata that a
	 * data sync must commit. A file of another size, or with holes, is made anew; when
	 * that fails (a full disk), the file is not used and every durable append syncs the
	 * segment as it would without it. */
	if (sb.st_size != AUDIT_INTENT_FILE || sb.st_blocks * 512 < AUDIT_INTENT_FILE) {
		memset(slot, 0, AUDIT_INTENT_SLOT);
		int err = ftruncate(fd, 0) != 0 ? -errno : 0;
		for (off_t at = 0; err == 0 && at < AUDIT_INTENT_FILE; at += AUDIT_INTENT_SLOT)
			if (pwrite(fd, slot, AUDIT_INTENT_SLOT, at) != AUDIT_INTENT_SLOT)
				err = -ENOSPC;
		if (err == 0 && fsync(fd) != 0)
			err = -errno;
		if (err == 0)
			err = audit_fsync_dir(log->dir);
		if (err != 0) {
			if (ftruncate(fd, 0) == 0)
				(void)fsync(fd);
			goto out; /* rc 0: opened without the intent file */
		}
	}
	if (fchmod(fd, 0600) != 0) {
		rc = -errno;
		pcl_diag_set(diag, path, 0, "cannot set mode 0600: %s", strerror(-rc));
		goto out;
	}
	log->intent_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	free(slot);
	if (best != NULL)
		explicit_bzero(best, AUDIT_INTENT_SLOT);
	free(best);
	return rc;
}

int audit_intent_note(struct audit_log *log)
{
	struct json_object *ev;
	int rc;

	if (!log->intent_replayed)
		return 0;
	log->intent_replayed = false;
	ev = json_object_new_object();
	pcl_record_head(ev, PCL_KIND_EVENT, "audit-intent-replayed", NULL, NULL);
	json_object_object_add(ev, "audit.replay_segment",
			       json_object_new_string(log->replayed.month));
	json_object_object_add(ev, "audit.replay_offset",
			       json_object_new_int64((int64_t)log->replayed.off));
	json_object_object_add(ev, "audit.replay_bytes",
			       json_object_new_int64((int64_t)log->replayed.len));
	json_object_object_add(ev, "audit.replay_generation",
			       json_object_new_int64((int64_t)log->replayed.gen));
	rc = audit_write_record(log, AUDIT_T_RECORD, ev, true);
	json_object_put(ev);
	if (rc == 0)
		rc = audit_sync_locked(log, log->seq);
	return rc;
}
