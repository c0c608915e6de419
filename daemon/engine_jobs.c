/*
 * engine_jobs.c - the engine's side of the helpers on approved media: it notices an
 * approved medium being mounted (/proc/self/mountinfo), asks the parent to start
 * portcullis-xferwatch on it, stops the watch when the medium goes, and turns the
 * helpers' output (arriving on the control socket after the job's token) into audit
 * records. Linked by the engine. The helpers are the project's own root programs, but
 * what they report (file paths, names) comes from the medium and its users: each line
 * is parsed with json-c, flattened, bounded, and only then recorded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "engine_approval.h"
#include "engine_jobs.h"
#include "ipc.h"
#include "jsonx.h"
#include "log.h"
#include "sysfs.h"

#define MAX_JOBS 32
_Static_assert(MAX_JOBS <= 64, "a feed handle keeps the slot in its low 6 bits");

struct job {
	bool used;
	uint8_t kind;
	char token[IPC_TOKEN_LEN + 1];
	char dev[IPC_NAME_MAX];
	char block[IPC_NAME_MAX];
	uint32_t mount_id;
	int client;	 /* control client waiting for a wipe's progress, or -1 */
	int stopping;	 /* ticks since the helper was told to stop (0: running) */
	bool ended;	 /* its feed closed: the helper has exited */
	unsigned serial; /* which use of this slot: a feed names (serial, slot) */
};

/* A wipe waiting for the device's stopping transfer-log helpers to let go of the medium
 * (their open files keep the filesystem, and so the disk, busy after the unmount). */
struct pending_wipe {
	bool used;
	char dev[IPC_NAME_MAX];
	int client;
	char reason[96];
};

static struct job jobs[MAX_JOBS];
static struct pending_wipe pending[MAX_JOBS];
static unsigned job_serial;

/* A feed's handle: the slot and the use of it, so a helper's connection that outlives its
 * job (the slot freed and taken again) can never speak for the next one. */
static int handle_of(size_t slot)
{
	return (int)((jobs[slot].serial << 6) | slot);
}

static struct job *job_of(int handle)
{
	struct job *j;

	if (handle < 0)
		return NULL;
	j = &jobs[(unsigned)handle & 63];
	return j->used && j->serial == (unsigned)handle >> 6 ? j : NULL;
}

static void new_token(char out[IPC_TOKEN_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[IPC_TOKEN_LEN / 2];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		abort(); /* no randomness: nothing can be trusted */
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[IPC_TOKEN_LEN] = '\0';
}

static struct job *job_for_mount(uint32_t id)
{
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].used && !jobs[i].stopping && jobs[i].kind == IPC_JOB_XFER &&
		    jobs[i].mount_id == id)
			return &jobs[i];
	return NULL;
}

/* Tell the helper to stop. Its slot is kept until its feed closes (the helper exited,
 * its last records in) or a few ticks have passed, so a wipe can wait for it. */
static void job_stop(struct engine *e, struct job *j)
{
	struct ipc_msg req = {.type = IPC_JOB_STOP};

	if (j->stopping)
		return;
	snprintf(req.u.stop.token, sizeof(req.u.stop.token), "%s", j->token);
	if (engine_request(e, &req) == -ENOENT || j->ended)
		memset(j, 0, sizeof(*j)); /* the helper already ended */
	else
		j->stopping = 1;
}

int engine_job_start(struct engine *e, const struct dev_entry *d, uint8_t kind, const char *block,
		     uint32_t mount_id, int client)
{
	struct job *j = NULL;

	for (size_t i = 0; i < MAX_JOBS && j == NULL; i++)
		if (!jobs[i].used)
			j = &jobs[i];
	if (j == NULL)
		return -ENOSPC;
	struct ipc_msg req = {.type = IPC_JOB_START};
	req.u.job.kind = kind;
	snprintf(req.u.job.dev.name, sizeof(req.u.job.dev.name), "%s", d->id.sysname);
	req.u.job.dev.busnum = d->busnum;
	req.u.job.dev.devnum = d->devnum;
	snprintf(req.u.job.block, sizeof(req.u.job.block), "%s", block);
	req.u.job.mount_id = mount_id;
	new_token(j->token);
	memcpy(req.u.job.token, j->token, sizeof(j->token));
	j->used = true;
	j->serial = ++job_serial & 0xffffff;
	j->kind = kind;
	j->mount_id = mount_id;
	j->client = client;
	snprintf(j->dev, sizeof(j->dev), "%s", d->id.sysname);
	snprintf(j->block, sizeof(j->block), "%s", block);
	int rc = engine_request(e, &req);
	if (rc != 0)
		memset(j, 0, sizeof(*j));
	return rc;
}

/* The allowed USB device a sysfs block path belongs to: a path component that is the
 * name of an allowed device ("/sys/devices/.../1-2/1-2:1.0/host3/.../block/sdb/sdb1"). */
static struct dev_entry *owner(struct engine *e, const char *syspath)
{
	char copy[PATH_MAX];
	struct dev_entry *found = NULL;

	snprintf(copy, sizeof(copy), "%s", syspath);
	for (char *save = NULL, *c = strtok_r(copy, "/", &save); c;
	     c = strtok_r(NULL, "/", &save)) {
		struct dev_entry *d = engine_find(e, c);
		if (d != NULL && !d->medium)
			found = d; /* the deepest one: a stick behind a hub, not the hub */
	}
	return found && found->state == DEV_ALLOWED ? found : NULL;
}

static int start_wipe(struct engine *e, struct dev_entry *d, int client, const char *reason,
		      char *why, size_t len);

/* Every filesystem of d is unmounted: the transfer is over. If its exception asks for a
 * wipe at the end, the wipe starts now, before the medium can leave unwiped. */
static void transfer_ended(struct engine *e, const char *sysname)
{
	struct dev_entry *d = engine_find(e, sysname);
	char why[256];

	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].used && !jobs[i].stopping && jobs[i].kind == IPC_JOB_XFER &&
		    strcmp(jobs[i].dev, sysname) == 0)
			return; /* another of its filesystems is still mounted */
	if (d == NULL || !eappr_wipe_due(d))
		return;
	if (start_wipe(e, d, -1, "the exception requires a wipe once the transfer is over", why,
		       sizeof(why)) != 0) {
		log_warn("%s: the wipe its exception requires did not start: %s", sysname, why);
		engine_record(e, "wipe-refused", "failure", d, why, true);
	}
}

void engine_mounts_changed(struct engine *e)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	bool seen[MAX_JOBS] = {false};

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned id, parent, maj, min;
		char link[64], *real;
		if (sscanf(line, "%u %u %u:%u", &id, &parent, &maj, &min) != 4 || maj == 0)
			continue;
		struct job *j = job_for_mount(id);
		if (j != NULL) {
			seen[j - jobs] = true;
			continue;
		}
		snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", maj, min);
		if ((real = realpath(link, NULL)) == NULL)
			continue;
		struct dev_entry *d = owner(e, real);
		const char *block = strrchr(real, '/');
		if (d != NULL && block != NULL && ipc_name_valid(block + 1, IPC_NAME_MAX) == 0) {
			int rc = engine_job_start(e, d, IPC_JOB_XFER, block + 1, id, -1);
			if (rc != 0)
				log_warn("%s: transfer logging not started on %s: %s",
					 d->id.sysname, block + 1, strerror(-rc));
			else if ((j = job_for_mount(id)) != NULL)
				seen[j - jobs] = true;
			if (rc == 0)
				eappr_medium_mounted(d);
		}
		free(real);
	}
	fclose(f);
	char ended[MAX_JOBS][IPC_NAME_MAX];
	size_t n_ended = 0;
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].used && !jobs[i].stopping && jobs[i].kind == IPC_JOB_XFER && !seen[i]) {
			memcpy(ended[n_ended++], jobs[i].dev, IPC_NAME_MAX);
			job_stop(e, &jobs[i]); /* unmounted */
		}
	for (size_t i = 0; i < n_ended; i++)
		transfer_ended(e, ended[i]);
}

void engine_jobs_device_gone(struct engine *e, const char *sysname)
{
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].used && strcmp(jobs[i].dev, sysname) == 0)
			job_stop(e, &jobs[i]);
}

int engine_feed_find(const char *token)
{
	if (token == NULL || strlen(token) != IPC_TOKEN_LEN)
		return -1;
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].used && CRYPTO_memcmp(jobs[i].token, token, IPC_TOKEN_LEN) == 0)
			return handle_of(i);
	return -1;
}

/* Nested objects become dotted keys: {"file":{"path":"a"}} -> {"file.path":"a"}. */
static void flatten(struct json_object *out, const char *prefix, struct json_object *in)
{
	json_object_object_foreach(in, k, v)
	{
		char key[256];
		int n = prefix ? snprintf(key, sizeof(key), "%s.%s", prefix, k)
			       : snprintf(key, sizeof(key), "%s", k);
		if (n < 0 || (size_t)n >= sizeof(key))
			continue;
		if (json_object_is_type(v, json_type_object))
			flatten(out, key, v);
		else
			json_object_object_add(out, key, json_object_get(v));
	}
}

static bool security_action(const char *a)
{
	static const char *const list[] = {
	    "xfer-overflow", "xfer-fail-closed",      "malware-blocked",   "malware-scan-failed",
	    "open-denied",   "xfer-medium-read-only", "xfer-watch-failed", "wipe-done",
	    "wipe-failed",   "wipe-refused"};

	for (size_t i = 0; a && i < sizeof(list) / sizeof(list[0]); i++)
		if (strcmp(a, list[i]) == 0)
			return true;
	return false;
}

int engine_feed_line(struct engine *e, int handle, const char *line)
{
	struct job *j = job_of(handle);
	struct json_object *in = json_tokener_parse(line), *rec;

	if (j == NULL || in == NULL || !json_object_is_type(in, json_type_object)) {
		json_object_put(in);
		return -EBADMSG;
	}
	struct dev_entry *d = engine_find(e, j->dev);
	struct json_object *progress;
	if (json_object_object_get_ex(in, "progress", &progress)) {
		/* A wipe's progress goes to the user who asked, not into the trail. */
		if (j->client >= 0)
			engine_job_progress(e, j->client, line);
		json_object_put(in);
		return 0;
	}
	rec = d ? engine_device_json(d) : json_object_new_object();
	flatten(rec, NULL, in);
	json_object_put(in);
	/* The helper's own clock becomes event.created; the trail stamps @timestamp. */
	struct json_object *ts;
	if (json_object_object_get_ex(rec, "@timestamp", &ts)) {
		json_object_object_add(rec, "event.created", json_object_get(ts));
		json_object_object_del(rec, "@timestamp");
	}
	jsonx_set_str(rec, "volume.device_name", j->block);
	jsonx_set_str(rec, "usb.port", j->dev);
	const char *action = jsonx_get_str(rec, "event.action");
	/* Transfer records are durable in groups; security records each on their own. */
	int rc = j->kind == IPC_JOB_XFER && !security_action(action)
		     ? engine_record_grouped(e, rec)
		     : engine_record_json(e, rec, security_action(action));
	if (j->kind == IPC_JOB_WIPE && d != NULL && action != NULL &&
	    strcmp(action, "wipe-done") != 0)
		engine_block_device(e, d, "the wipe did not complete: the medium stays blocked");
	else if (j->kind == IPC_JOB_WIPE && d != NULL && action != NULL)
		eappr_medium_wiped(d);
	/* The transfer log could not keep up or failed: no more unlogged transfers. */
	if (j->kind == IPC_JOB_XFER && d != NULL && action != NULL &&
	    (strcmp(action, "xfer-fail-closed") == 0 || strcmp(action, "xfer-watch-failed") == 0))
		engine_block_device(e, d,
				    "transfers could not be logged: blocked until the Clerk acts");
	if (j->client >= 0)
		engine_job_progress(e, j->client, line);
	json_object_put(rec);
	return rc;
}

/* Start the wipes whose devices have no helper left. */
static void run_pending(struct engine *e)
{
	for (size_t p = 0; p < MAX_JOBS; p++) {
		bool busy = false;
		if (!pending[p].used)
			continue;
		for (size_t i = 0; i < MAX_JOBS; i++)
			busy |= jobs[i].used && strcmp(jobs[i].dev, pending[p].dev) == 0;
		if (busy)
			continue;
		struct pending_wipe w = pending[p];
		struct dev_entry *d = engine_find(e, w.dev);
		char why[256];
		pending[p].used = false;
		if (d == NULL) {
			if (w.client >= 0)
				engine_job_progress(e, w.client, NULL);
			continue;
		}
		if (start_wipe(e, d, w.client, w.reason[0] ? w.reason : NULL, why, sizeof(why)) !=
		    0) {
			log_warn("%s: the wipe did not start: %s", w.dev, why);
			engine_record(e, "wipe-refused", "failure", d, why, true);
			if (w.client >= 0)
				engine_job_progress(e, w.client, NULL);
		}
	}
}

void engine_feed_closed(struct engine *e, int handle)
{
	struct job *j = job_of(handle);

	if (j == NULL)
		return; /* its job was already forgotten */
	if (j->kind == IPC_JOB_WIPE) {
		if (j->client >= 0)
			engine_job_progress(e, j->client, NULL);
		memset(j, 0, sizeof(*j));
	} else if (j->stopping) {
		memset(j, 0, sizeof(*j));
		run_pending(e);
	} else {
		j->ended = true; /* ended on its own (unmount seen first, or a failure) */
	}
}

void engine_jobs_tick(struct engine *e)
{
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].used && jobs[i].stopping && ++jobs[i].stopping > 2)
			memset(&jobs[i], 0, sizeof(jobs[i])); /* its feed never closed */
	run_pending(e);
}

/* The whole-disk block device of an allowed USB device, if it has one. */
static int medium_disk(struct engine *e, const struct dev_entry *d, char *out, size_t len)
{
	DIR *dir = opendir("/sys/class/block");
	int rc = -ENODEV;

	if (dir == NULL)
		return -errno;
	for (struct dirent *de; rc != 0 && (de = readdir(dir)) != NULL;) {
		char link[300], part[8], *real;
		if (de->d_name[0] == '.' || ipc_name_valid(de->d_name, IPC_NAME_MAX) != 0)
			continue;
		snprintf(link, sizeof(link), "/sys/class/block/%s", de->d_name);
		if ((real = realpath(link, NULL)) == NULL)
			continue;
		if (owner(e, real) == d && sysfs_read(real, "partition", part, sizeof(part)) != 0 &&
		    strlen(de->d_name) < len) {
			strcpy(out, de->d_name);
			rc = 0;
		}
		free(real);
	}
	closedir(dir);
	return rc;
}

static int start_wipe(struct engine *e, struct dev_entry *d, int client, const char *reason,
		      char *why, size_t len)
{
	char disk[IPC_NAME_MAX];

	if (d->state != DEV_ALLOWED) {
		snprintf(why, len, "%s is not an approved medium", d->id.sysname);
		return -EPERM;
	}
	if (medium_disk(e, d, disk, sizeof(disk)) != 0) {
		snprintf(why, len, "%s has no storage medium to wipe", d->id.sysname);
		return -ENODEV;
	}
	bool stopping = false;
	for (size_t i = 0; i < MAX_JOBS; i++) {
		if (!jobs[i].used || strcmp(jobs[i].dev, d->id.sysname) != 0)
			continue;
		if (!jobs[i].stopping || jobs[i].kind == IPC_JOB_WIPE) {
			snprintf(why, len, "%s is still mounted or being wiped: unmount it first",
				 d->id.sysname);
			return -EBUSY;
		}
		stopping = true;
	}
	if (stopping) {
		/* Unmounted, its transfer log still letting go: start once it has. */
		for (size_t p = 0; p < MAX_JOBS; p++)
			if (!pending[p].used) {
				pending[p] = (struct pending_wipe){.used = true, .client = client};
				snprintf(pending[p].dev, sizeof(pending[p].dev), "%s",
					 d->id.sysname);
				snprintf(pending[p].reason, sizeof(pending[p].reason), "%s",
					 reason ? reason : "");
				return 0;
			}
		snprintf(why, len, "too many wipes waiting");
		return -EBUSY;
	}
	if (engine_record(e, "wipe-requested", "success", d, reason, false) != 0) {
		snprintf(why, len, "the audit trail cannot be written");
		return -EIO;
	}
	int rc = engine_job_start(e, d, IPC_JOB_WIPE, disk, 0, client);
	if (rc != 0)
		snprintf(why, len, "the wipe could not start: %s", strerror(-rc));
	return rc;
}

int engine_wipe_request(struct engine *e, int client, const char *device, char *why, size_t len)
{
	struct dev_entry *d = device ? engine_find(e, device) : NULL;

	if (d == NULL || d->medium) {
		snprintf(why, len, "no such USB device: %s", device ? device : "(none)");
		return -ENODEV;
	}
	if (d->state != DEV_ALLOWED) {
		snprintf(why, len, "%s is not an approved medium", device);
		return -EPERM;
	}
	engine_mounts_changed(e); /* the mount table as it is now, not at the last event */
	return start_wipe(e, d, client, NULL, why, len);
}
