/*
 * open.c - the audit writer's lifecycle: enrolment (new keys), open with crash recovery
 * (a half-written last line dropped, a checkpoint whose epoch was not advanced finished),
 * and close (pending seal and sync, keys wiped). Linked by the engine (and the CLI for
 * enrolment). The trail and state files are the engine's own but are parsed defensively;
 * a trail that does not match the state refuses to open.
 */
#include "audit.h"
#include "audit_int.h"
#include "writer_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#define DEFAULT_RETENTION 6
#define DEFAULT_INTERVAL  300

static int key_text(char **out, const char *origin, const uint8_t mac[32], const uint8_t pub[32])
{
	char hex[AUDIT_HEX_LEN + 1], vkey[512];
	size_t need;
	int rc = audit_vkey_format(vkey, sizeof(vkey), origin, pub);

	if (rc != 0)
		return rc;
	audit_hex(hex, mac);
	need = strlen(origin) + strlen(vkey) + 200;
	*out = malloc(need);
	if (*out != NULL)
		snprintf(*out, need,
			 "portcullis-audit-key 1\norigin %s\nmac-key %s\ncheckpoint-key %s\n",
			 origin, hex, vkey);
	explicit_bzero(hex, sizeof(hex));
	return *out ? 0 : -ENOMEM;
}

static bool valid_origin(const char *o)
{
	if (o == NULL || *o == '\0' || strlen(o) >= 200)
		return false;
	for (const unsigned char *p = (const unsigned char *)o; *p; p++)
		if (*p <= ' ' || *p == '+' || *p == 0x7f)
			return false;
	return true;
}

int audit_enrol(const struct audit_config *cfg, char **out, struct pcl_diag *diag)
{
	struct audit_state st;
	char path[4096];
	int rc;

	*out = NULL;
	if (!valid_origin(cfg->origin)) {
		pcl_diag_set(diag, "origin", 0,
			     "must be non-empty printable text without spaces "
			     "or '+', under 200 bytes");
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/state", cfg->dir);
	if (access(path, F_OK) == 0) {
		pcl_diag_set(diag, path, 0, "trail already enrolled (refusing to replace keys)");
		return -EEXIST;
	}
	if (mkdir(cfg->dir, 0750) != 0 && errno != EEXIST) {
		rc = -errno;
		pcl_diag_set(diag, cfg->dir, 0, "cannot create: %s", strerror(-rc));
		return rc;
	}
	/* An intent file left by an earlier trail in this directory names its segments: it
	 * must not be replayed into the new one. */
	snprintf(path, sizeof(path), "%s/intent", cfg->dir);
	if (unlink(path) != 0 && errno != ENOENT) {
		rc = -errno;
		pcl_diag_set(diag, path, 0, "cannot remove: %s", strerror(-rc));
		return rc;
	}
	memset(&st, 0, sizeof(st));
	snprintf(st.origin, sizeof(st.origin), "%s", cfg->origin);
	if (RAND_priv_bytes(st.mac_key, sizeof(st.mac_key)) != 1 ||
	    audit_ed25519_keygen(st.sign_priv, st.sign_pub) != 0 ||
	    audit_ed25519_keygen(st.next_priv, st.next_pub) != 0) {
		pcl_diag_set(diag, cfg->dir, 0, "key generation failed");
		audit_state_wipe(&st);
		return -EIO;
	}
	rc = audit_state_save(cfg->dir, &st);
	if (rc != 0)
		pcl_diag_set(diag, cfg->dir, 0, "cannot write state: %s", strerror(-rc));
	else
		rc = key_text(out, cfg->origin, st.mac_key, st.sign_pub);
	audit_state_wipe(&st);
	return rc;
}

/* Whether the record line was written in the boot named boot_id. */
static bool last_boot_is(const char *line, size_t len, const char *boot_id)
{
	struct json_object *o = NULL, *b;
	bool same;

	if (audit_record_parse(line, len, &o, NULL) != 0)
		return false;
	same = json_object_object_get_ex(o, "boot_id", &b) &&
	       json_object_is_type(b, json_type_string) &&
	       strcmp(json_object_get_string(b), boot_id) == 0;
	json_object_put(o);
	return same;
}

static int recover(struct audit_log *log, struct pcl_diag *diag)
{
	struct dirent **names = NULL;
	char path[4096], *buf = malloc(2 * AUDIT_RECORD_MAX);
	struct audit_frame f = {0};
	struct pcl_diag why = {0};
	size_t len = 0;
	int n, rc = 0, found = 0;
	bool same_boot = false;

	if (buf == NULL)
		return -ENOMEM;
	n = scandir(log->dir, &names, audit_is_segment, audit_segment_cmp);
	if (n < 0) {
		free(buf);
		return -errno;
	}
	for (int i = n - 1; i >= 0 && found == 0 && rc == 0; i--) {
		snprintf(path, sizeof(path), "%s/%s", log->dir, names[i]->d_name);
		found = audit_last_line(path, buf, 2 * AUDIT_RECORD_MAX, &len);
		if (found < 0)
			rc = found;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc == 0 && found == 1) {
		if (audit_frame_parse(buf, len, &f, &why) != 0 ||
		    audit_hasher_record(log->hasher, buf, len, log->head) != 0)
			rc = -EBADMSG;
		log->seq = f.seq;
		log->last_ts_ms = f.ts_ms;
		same_boot = rc == 0 && last_boot_is(buf, len, log->boot_id);
	}
	free(buf);
	if (rc != 0) {
		pcl_diag_set(diag, path, 0, "cannot recover the trail tail: %s",
			     why.msg[0] ? why.msg : strerror(-rc));
		return rc;
	}
	if (log->seq < log->st.ckpt_seq || f.epoch > log->st.epoch ||
	    (log->seq == log->st.ckpt_seq &&
	     CRYPTO_memcmp(log->head, log->st.ckpt_head, AUDIT_HASH_LEN) != 0)) {
		pcl_diag_set(diag, log->dir, 0,
			     "trail ends at seq %" PRIu64 " epoch %" PRIu64
			     " but the state has a checkpoint at seq %" PRIu64 " epoch %" PRIu64
			     ": trail truncated or replaced",
			     log->seq, f.epoch, log->st.ckpt_seq, log->st.epoch);
		return -EUCLEAN;
	}
	log->synced_seq = log->seq;
	/* The clock reference: a record of this boot bounds the wall clock from above (it was
	 * written at most the boot clock's seconds ago); otherwise the clock is taken as is. */
	struct timespec now;
	audit_now(log, &now);
	log->ref_boot = audit_boot_now(log);
	log->ref_wall = now.tv_sec;
	log->ref_exact = true;
	if (same_boot && log->boot == NULL && log->now != NULL)
		same_boot = false; /* wall-clock seam alone: the boot clock is the wall clock */
	if (same_boot) {
		log->ref_wall = log->last_ts_ms / 1000;
		log->ref_boot = 0;
		log->ref_exact = false;
	}
	/* Crash between a checkpoint record and the state update: finish the epoch. */
	if (found == 1 && f.type == AUDIT_T_CHECKPOINT && f.epoch == log->st.epoch &&
	    log->seq > log->st.ckpt_seq)
		return audit_advance_epoch(log);
	return 0;
}

static void read_boot_id(char out[40])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	snprintf(out, 40, "unknown");
	if (f != NULL) {
		if (fgets(out, 40, f) != NULL)
			out[strcspn(out, "\n")] = '\0';
		fclose(f);
	}
}

int audit_open(struct audit_log **out, const struct audit_config *cfg, struct pcl_diag *diag)
{
	struct audit_log *log;
	int rc;

	*out = NULL;
	if (cfg == NULL || cfg->dir == NULL || !valid_origin(cfg->origin) ||
	    cfg->host_name == NULL) {
		pcl_diag_set(diag, "audit config", 0,
			     "dir, a valid origin and host_name are required");
		return -EINVAL;
	}
	log = calloc(1, sizeof(*log));
	if (log == NULL)
		return -ENOMEM;
	pthread_mutex_init(&log->lock, NULL);
	pthread_cond_init(&log->cond, NULL);
	pthread_cond_init(&log->synced[0], NULL);
	pthread_cond_init(&log->synced[1], NULL);
	log->fd = -1;
	log->intent_fd = -1;
	log->tail = malloc(AUDIT_TAIL_MAX);
	log->dir = strdup(cfg->dir);
	log->origin = strdup(cfg->origin);
	log->host_name = strdup(cfg->host_name);
	log->retention_months = cfg->retention_months ? cfg->retention_months : DEFAULT_RETENTION;
	log->interval_s =
	    cfg->checkpoint_interval_s ? cfg->checkpoint_interval_s : DEFAULT_INTERVAL;
	log->now = cfg->now;
	log->boot = cfg->boot;
	log->now_ctx = cfg->now_ctx;
	log->group_ms = cfg->group_ms;
	log->seal_delay_ms = cfg->seal_delay_ms;
	if (cfg->boot_id)
		snprintf(log->boot_id, sizeof(log->boot_id), "%s", cfg->boot_id);
	else
		read_boot_id(log->boot_id);
	log->hasher = audit_hasher_new();
	struct json_object *hb = json_object_new_object();
	json_object_object_add(hb, "host.name",
			       json_object_new_string(log->host_name ? log->host_name : ""));
	json_object_object_add(hb, "boot_id", json_object_new_string(log->boot_id));
	const char *hbs = json_object_to_json_string_ext(hb, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE);
	log->host_boot = hbs && strlen(hbs) > 2 ? strndup(hbs + 1, strlen(hbs) - 2) : NULL;
	json_object_put(hb);
	if (!log->host_boot || !log->dir || !log->origin || !log->host_name || !log->hasher ||
	    !log->tail) {
		audit_close(&log);
		return -ENOMEM;
	}
	rc = audit_state_load(cfg->dir, &log->st);
	if (rc != 0) {
		pcl_diag_set(diag, cfg->dir, 0, "%s",
			     rc == -ENOENT ? "trail not enrolled (run: portcullis audit enrol)"
					   : "audit state unreadable or corrupt");
		audit_close(&log);
		return rc;
	}
	if (strcmp(log->st.origin, cfg->origin) != 0) {
		pcl_diag_set(diag, cfg->dir, 0, "origin \"%s\" differs from the enrolled \"%s\"",
			     cfg->origin, log->st.origin);
		audit_close(&log);
		return -EINVAL;
	}
	rc = audit_hasher_set_key(log->hasher, log->st.mac_key);
	if (rc == 0) {
		pthread_mutex_lock(&log->lock);
		/* The intent file first: the newest entry's bytes back into their segment when
		 * a power cut took them, so the tail recovery finds every durable record. */
		rc = audit_intent_open(log, diag);
		if (rc == 0)
			rc = recover(log, diag);
		if (rc == 0 && (rc = audit_intent_note(log)) != 0)
			pcl_diag_set(diag, cfg->dir, 0, "cannot record the intent replay: %s",
				     strerror(-rc));
		pthread_mutex_unlock(&log->lock);
	}
	if (rc != 0) {
		audit_close(&log);
		return rc;
	}
	struct timespec ts;
	audit_now(log, &ts);
	log->last_ckpt = ts.tv_sec;
	if ((rc = audit_flusher_start(log)) != 0) {
		pcl_diag_set(diag, cfg->dir, 0, "cannot start the flusher thread: %s",
			     strerror(-rc));
		audit_close(&log);
		return rc;
	}
	*out = log;
	return 0;
}

void audit_close(struct audit_log **logp)
{
	struct audit_log *log = logp ? *logp : NULL;

	if (log == NULL)
		return;
	audit_flusher_stop(log);
	pthread_mutex_lock(&log->lock);
	if (log->seal_wanted && log->fd >= 0)
		audit_checkpoint_locked(log); /* a requested seal is not dropped */
	if (log->fd >= 0) {
		audit_sync_locked(log, log->seq);
		while (log->syncing)
			pthread_cond_wait(&log->cond, &log->lock);
		close(log->fd);
	}
	if (log->intent_fd >= 0)
		close(log->intent_fd);
	pthread_mutex_unlock(&log->lock);
	audit_state_wipe(&log->st);
	audit_hasher_free(log->hasher);
	free(log->last_note);
	free(log->tail);
	free(log->dir);
	free(log->origin);
	free(log->host_name);
	free(log->host_boot);
	pthread_cond_destroy(&log->cond);
	pthread_cond_destroy(&log->synced[0]);
	pthread_cond_destroy(&log->synced[1]);
	pthread_mutex_destroy(&log->lock);
	explicit_bzero(log, sizeof(*log));
	free(log);
	*logp = NULL;
}
