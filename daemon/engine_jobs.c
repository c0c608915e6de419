/*
 * engine_jobs.c - the engine's side of the helpers on approved media: it notices an
 * approved medium being mounted (/proc/self/mountinfo), asks the parent to start
 * portcullis-xferwatch on it, stops the watch when the medium goes, and turns the
 * helpers' output into audit records. Each helper's output arrives on its own channel,
 * a socketpair end the parent passed with its answer; the parent reports every helper's
 * exit. The transfer log never silently stops: a watch that ends, or whose channel
 * closes, while its medium is still mounted, or that cannot be started, is a security
 * record and the device is de-authorised. Linked by the engine. The helpers are the
 * project's own root programs, but what they report (file paths, names) comes from the
 * medium and its users: each line is parsed with json-c, flattened, bounded, and only
 * then recorded, the engine's own fields (the device's) laid over the helper's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "engine_approval.h"
#include "engine_council.h"
#include "engine_jobs.h"
#include "engine_usb.h"
#include "engine_xferlog.h"
#include "ipc.h"
#include "jsonx.h"
#include "log.h"
#include "mountinfo.h"
#include "sysfs.h"

#define MAX_JOBS     ENGINE_MAX_JOBS
#define LINE_MAX_LEN 16384 /* one record line of a helper */

struct job {
	bool used;
	uint8_t kind;
	uint32_t id;		/* the number the parent knows it by (never 0) */
	struct dev_slot of;	/* its device's record (engine_device_of) */
	char dev[IPC_NAME_MAX]; /* its device's port, for records and the log */
	char block[IPC_NAME_MAX];
	uint32_t mount_id;
	int client;   /* control client waiting for a wipe's progress, or -1 */
	int stopping; /* ticks since the helper was told to stop (0: running) */
	int fd;	      /* its output channel, -1 once closed */
	bool exited;  /* the parent reported its exit */
	bool failed;  /* its end was unexpected and has been acted on */
	bool outcome; /* a wipe: its outcome line has come */
	size_t len;
	char buf[LINE_MAX_LEN];
};

/* A wipe waiting for the device's stopping transfer-log helpers to let go of the medium
 * (their open files keep the filesystem, and so the disk, busy after the unmount). */
struct pending_wipe {
	bool used;
	struct dev_slot of;
	char dev[IPC_NAME_MAX];
	int client;
	uint32_t uid; /* who asked, or IPC_JOB_AUTOMATIC */
	char reason[96];
};

static struct job jobs[MAX_JOBS];
static struct pending_wipe pending[MAX_JOBS];
static uint32_t job_serial;

static bool same_device(struct dev_slot a, struct dev_slot b)
{
	return a.slot == b.slot && a.busnum == b.busnum && a.devnum == b.devnum;
}

static struct job *job_by_id(uint32_t id)
{
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].used && jobs[i].id == id)
			return &jobs[i];
	return NULL;
}

static void job_free(struct job *j)
{
	if (j->used && j->fd >= 0)
		close(j->fd);
	memset(j, 0, offsetof(struct job, buf));
	j->fd = -1;
}

static void run_pending(struct engine *e);

/* Both ends seen (exit reported, channel closed): the slot is free again. */
static void job_maybe_free(struct engine *e, struct job *j)
{
	if (j->used && j->exited && j->fd < 0) {
		job_free(j);
		run_pending(e);
	}
}

static struct job *job_for_mount(uint32_t id)
{
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].used && !jobs[i].stopping && jobs[i].kind == IPC_JOB_XFER &&
		    jobs[i].mount_id == id)
			return &jobs[i];
	return NULL;
}

/* Tell the helper to stop. Its slot is kept until it has exited and its channel closed
 * (its last records in), or a few ticks have passed, so a wipe can wait for it. */
static void job_stop(struct engine *e, struct job *j)
{
	struct ipc_msg req = {.type = IPC_JOB_STOP};

	if (j->stopping)
		return;
	j->stopping = 1;
	req.u.stop.job = j->id;
	if (!j->exited)
		engine_request(e, &req); /* -ENOENT: it has exited, its report is on its way */
	job_maybe_free(e, j);
}

int engine_job_start(struct engine *e, const struct dev_entry *d, uint8_t kind, const char *block,
		     uint32_t mount_id, int client, uint32_t uid)
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
	if (kind == IPC_JOB_WIPE) {
		req.u.job.uid = uid;
		eappr_reference(d, req.u.job.ref, sizeof(req.u.job.ref));
	}
	do
		job_serial++;
	while (job_serial == 0 || job_by_id(job_serial) != NULL);
	req.u.job.job = job_serial;
	int fd = -1;
	int rc = engine_request_fd(e, &req, &fd);
	if (rc == 0 && fd < 0)
		rc = -EPROTO; /* started, but no channel: it is stopped, never left unheard */
	if (rc != 0) {
		if (rc == -EPROTO) {
			struct ipc_msg stop = {.type = IPC_JOB_STOP, .u.stop.job = job_serial};
			engine_request(e, &stop);
		}
		return rc;
	}
	job_free(j);
	j->used = true;
	j->id = job_serial;
	j->fd = fd;
	j->len = 0;
	j->kind = kind;
	j->mount_id = mount_id;
	j->client = client;
	j->of = engine_device_ref(d);
	snprintf(j->dev, sizeof(j->dev), "%s", d->id.sysname);
	snprintf(j->block, sizeof(j->block), "%s", block);
	return 0;
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

static int start_wipe(struct engine *e, struct dev_entry *d, int client, uint32_t uid,
		      const char *reason, char *why, size_t len);

/* The size in bytes of the whole disk a mounted block device (its sysfs path) is part of;
 * 0 when sysfs does not say. */
static uint64_t disk_bytes(const char *syspath)
{
	char dir[PATH_MAX], part[8];
	unsigned long sectors = 0;

	snprintf(dir, sizeof(dir), "%s", syspath);
	if (sysfs_read(dir, "partition", part, sizeof(part)) == 0) {
		char *slash = strrchr(dir, '/');
		if (slash != NULL)
			*slash = '\0'; /* a partition's directory lies in its disk's */
	}
	return sysfs_read_uint(dir, "size", &sectors) == 0 ? (uint64_t)sectors * 512 : 0;
}

/* Every filesystem of d is unmounted: the transfer is over. If its exception asks for a
 * wipe at the end, the wipe starts now, before the medium can leave unwiped. */
static void transfer_ended(struct engine *e, struct dev_slot of)
{
	struct dev_entry *d = engine_device_of(e, of);
	char why[256];

	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].used && !jobs[i].stopping && jobs[i].kind == IPC_JOB_XFER &&
		    same_device(jobs[i].of, of))
			return; /* another of its filesystems is still mounted */
	if (d == NULL || !eappr_wipe_due(d))
		return;
	int rc =
	    start_wipe(e, d, -1, IPC_JOB_AUTOMATIC,
		       "the exception requires a wipe once the transfer is over", why, sizeof(why));
	if (rc == -EBUSY) {
		log_warn("%s: the wipe its exception requires did not start: %s", d->id.sysname,
			 why);
		engine_record(e, "wipe-refused", "failure", d, why, true);
	} else if (rc != 0) {
		eappr_wipe_refused(e, d, why); /* tried again, a bounded number of times */
	}
}

/* A disk of a device allowed read-only, mounted read-write: BLKROSET does not stop a
 * filesystem mounted before it. Blocked and recorded; true if so. */
static bool read_only_breached(struct engine *e, struct dev_entry *d, const char *block)
{
	char reason[160];

	if (d == NULL || d->state != DEV_ALLOWED ||
	    !(eappr_read_only(d) || engine_council_read_only(d)))
		return false;
	snprintf(reason, sizeof(reason), "%s is mounted read-write %s: access withdrawn", block,
		 eappr_read_only(d) ? "under a read-only exception"
				    : "but is a plain council stick, read-only");
	log_err("%s: %s", d->id.sysname, reason);
	engine_record(e, "medium-read-only", "failure", d, reason, true);
	engine_deny_device(e, d, "mounted read-write under a read-only exception");
	return true;
}

void engine_mounts_changed(struct engine *e)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	static char line[PCL_MOUNT_PATH_MAX * 2 + 512];
	static struct pcl_mount m;
	bool seen[MAX_JOBS] = {false};

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char link[64], *real;
		if (pcl_mountinfo_line(line, strlen(line), &m) != 0 || m.major == 0)
			continue;
		unsigned id = m.id, maj = m.major, min = m.minor;
		struct job *j = job_for_mount(id);
		if (j != NULL) {
			seen[j - jobs] = true;
			if (m.writable) /* remounted read-write */
				read_only_breached(e, engine_device_of(e, j->of), j->block);
			continue;
		}
		snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", maj, min);
		if ((real = realpath(link, NULL)) == NULL)
			continue;
		struct dev_entry *d = owner(e, real);
		const char *block = strrchr(real, '/');
		if (d != NULL && block != NULL && ipc_name_valid(block + 1, IPC_NAME_MAX) == 0 &&
		    !(m.writable && read_only_breached(e, d, block + 1))) {
			int rc = engine_job_start(e, d, IPC_JOB_XFER, block + 1, id, -1, 0);
			if (rc != 0 && rc != -ENOENT) {
				/* Mounted, and nothing records its transfers: fail closed. (ENOENT:
				 * unmounted again before the parent looked; nothing to log.) */
				char why[160];
				snprintf(why, sizeof(why), "transfer logging not started on %s: %s",
					 block + 1, strerror(-rc));
				log_err("%s: %s", d->id.sysname, why);
				engine_record(e, "xfer-watch-failed", "failure", d, why, true);
				engine_deny_device(e, d,
						   "transfers could not be logged: blocked until "
						   "the Clerk acts");
			} else if (rc == 0 && (j = job_for_mount(id)) != NULL)
				seen[j - jobs] = true;
			if (rc == 0)
				eappr_medium_mounted(d, disk_bytes(real));
		}
		free(real);
	}
	fclose(f);
	struct dev_slot ended[MAX_JOBS];
	size_t n_ended = 0;
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].used && !jobs[i].stopping && jobs[i].kind == IPC_JOB_XFER && !seen[i]) {
			ended[n_ended++] = jobs[i].of;
			job_stop(e, &jobs[i]); /* unmounted */
		}
	for (size_t i = 0; i < n_ended; i++)
		transfer_ended(e, ended[i]);
}

static void jobs_leaving(struct engine *e, const struct dev_entry *d)
{
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].used && engine_device_is(d, jobs[i].of))
			job_stop(e, &jobs[i]);
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

static int job_line(struct engine *e, struct job *j, const char *line)
{
	struct json_object *in = json_tokener_parse(line), *rec;

	if (in == NULL || !json_object_is_type(in, json_type_object)) {
		json_object_put(in);
		return -EBADMSG;
	}
	struct dev_entry *d = engine_device_of(e, j->of);
	struct json_object *progress;
	if (json_object_object_get_ex(in, "progress", &progress)) {
		/* A wipe's progress goes to the user who asked, not into the trail. */
		if (j->client >= 0)
			engine_job_progress(e, j->client, line);
		json_object_put(in);
		return 0;
	}
	/* The helper's fields, the engine's over them (engine_xferlog.c). */
	struct exlog_src src = {d ? engine_device_json(d) : NULL, j->block, j->dev};
	rec = exlog_record(&src, in);
	json_object_put(src.device);
	json_object_put(in);
	if (rec == NULL)
		return -ENOMEM;
	/* First use: the owner's notice says what will happen to the stick. */
	if (d != NULL &&
	    strcmp(jsonx_get_str(rec, "event.action") ?: "", "xfer-watch-started") == 0)
		jsonx_set_str(rec, "wipe.plan", eappr_wipe_plan(d));
	const char *action = jsonx_get_str(rec, "event.action");
	/* Transfer records are durable in groups; security records each on their own. */
	int rc = j->kind == IPC_JOB_XFER && !security_action(action)
		     ? engine_record_grouped(e, rec)
		     : engine_record_json(e, rec, security_action(action));
	if (j->kind == IPC_JOB_WIPE && action != NULL)
		j->outcome = true;
	if (j->kind == IPC_JOB_XFER && d != NULL && action != NULL &&
	    strcmp(action, "file-written") == 0)
		eappr_owed_written(d); /* a council stick taken out owes its wipe */
	if (j->kind == IPC_JOB_WIPE && d != NULL && action != NULL &&
	    strcmp(action, "wipe-done") != 0)
		engine_deny_device(e, d, "the wipe did not complete: the medium stays blocked");
	else if (j->kind == IPC_JOB_WIPE && d != NULL && action != NULL)
		eappr_medium_wiped(e, d);
	/* The transfer log could not keep up or failed: no more unlogged transfers. */
	if (j->kind == IPC_JOB_XFER && d != NULL && action != NULL &&
	    (strcmp(action, "xfer-fail-closed") == 0 || strcmp(action, "xfer-watch-failed") == 0))
		engine_deny_device(e, d,
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
			busy |= jobs[i].used && same_device(jobs[i].of, pending[p].of);
		if (busy)
			continue;
		struct pending_wipe w = pending[p];
		struct dev_entry *d = engine_device_of(e, w.of);
		char why[256];
		pending[p].used = false;
		if (d == NULL) {
			if (w.client >= 0)
				engine_job_progress(e, w.client, NULL);
			continue;
		}
		int rc = start_wipe(e, d, w.client, w.uid, w.reason[0] ? w.reason : NULL, why,
				    sizeof(why));
		if (rc != 0 && rc != -EBUSY && w.uid == IPC_JOB_AUTOMATIC && eappr_wipe_due(d)) {
			eappr_wipe_refused(e, d, why); /* due at eject: tried again, bounded */
		} else if (rc != 0) {
			log_warn("%s: the wipe did not start: %s", w.dev, why);
			engine_record(e, "wipe-refused", "failure", d, why, true);
			if (w.client >= 0)
				engine_job_progress(e, w.client, NULL);
		}
	}
}

/* A transfer log ended (exit, or channel closed) without being told to. Unless its
 * medium has just been unmounted (the watch saw it first), transfers to it would go
 * unrecorded from now on: a security record, and the device is de-authorised. */
static void watch_lost(struct engine *e, struct job *j, const char *why)
{
	uint32_t id = j->id;

	if (j->failed || j->stopping)
		return;
	engine_mounts_changed(e); /* an unmount not yet seen stops the job normally */
	if ((j = job_by_id(id)) == NULL || j->stopping || j->failed)
		return;
	j->failed = true;
	struct dev_entry *d = engine_device_of(e, j->of);
	char reason[200];
	snprintf(reason, sizeof(reason), "the transfer log of %s stopped: %s", j->block, why);
	log_err("%s: %s", j->dev, reason);
	engine_record(e, "xfer-watch-lost", "failure", d, reason, true);
	if (d != NULL && d->state == DEV_ALLOWED)
		engine_deny_device(e, d,
				   "transfers could not be logged: blocked until the Clerk acts");
	if ((j = job_by_id(id)) != NULL) {
		job_stop(e, j); /* if it still runs, with its output unheard */
	}
}

/* The channel closed: the helper has exited, or no longer speaks. */
static void channel_closed(struct engine *e, struct job *j)
{
	uint32_t id = j->id;

	if (j->len > 0 && j->len < sizeof(j->buf)) {
		j->buf[j->len] = '\0'; /* a last line without its newline */
		job_line(e, j, j->buf);
	}
	j->len = 0;
	close(j->fd);
	j->fd = -1;
	if (j->kind == IPC_JOB_WIPE && j->client >= 0) {
		engine_job_progress(e, j->client, NULL);
		j->client = -1;
	}
	if (j->kind == IPC_JOB_XFER && !j->stopping)
		watch_lost(e, j, "its output channel closed");
	if ((j = job_by_id(id)) != NULL)
		job_maybe_free(e, j);
}

/* A transfer log's run of file records at start, recorded as one group (engine_xferlog.c):
 * where the lines left to job_line begin. */
static char *take_group(struct engine *e, struct job *j, char *start)
{
	struct dev_entry *d = engine_find(e, j->dev);
	struct exlog_src src = {d ? engine_device_json(d) : NULL, j->block, j->dev};
	bool written = false;
	char *rest = exlog_take(e, &src, start, &written);

	json_object_put(src.device);
	if (written && d != NULL)
		eappr_owed_written(d); /* a council stick taken out owes its wipe */
	return rest;
}

/* Read what the helper wrote; every complete line is recorded. */
static void read_channel(struct engine *e, struct job *j)
{
	uint32_t id = j->id;

	for (;;) {
		ssize_t n = recv(j->fd, j->buf + j->len, sizeof(j->buf) - 1 - j->len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			channel_closed(e, j);
			return;
		}
		j->len += (size_t)n;
		j->buf[j->len] = '\0';
		char *start = j->buf, *nl;
		for (;;) {
			if (j->kind == IPC_JOB_XFER && j->client < 0)
				start = take_group(e, j, start);
			if ((nl = strchr(start, '\n')) == NULL)
				break;
			*nl = '\0';
			if (job_line(e, j, start) != 0)
				log_warn("a helper sent a malformed or unrecordable line");
			/* Recording can act on the job (a wipe's failure, a block). */
			if ((j = job_by_id(id)) == NULL || j->fd < 0)
				return;
			start = nl + 1;
		}
		j->len = (size_t)(j->buf + j->len - start);
		memmove(j->buf, start, j->len);
		if (j->len == sizeof(j->buf) - 1) {
			log_warn("%s: a helper's line is too long: dropped", j->dev);
			j->len = 0;
		}
	}
}

size_t engine_jobs_pollfds(struct pollfd *p, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < MAX_JOBS && n < max; i++)
		if (jobs[i].used && jobs[i].fd >= 0)
			p[n++] = (struct pollfd){jobs[i].fd, POLLIN, 0};
	return n;
}

void engine_jobs_service(struct engine *e, const struct pollfd *p, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		for (size_t i = 0; i < MAX_JOBS; i++)
			if (jobs[i].used && jobs[i].fd == p[k].fd) {
				read_channel(e, &jobs[i]);
				break;
			}
	}
}

void engine_job_exited(struct engine *e, uint32_t id, bool signaled, int code)
{
	struct job *j = job_by_id(id);
	char why[96];

	if (j == NULL)
		return; /* a job this engine no longer knows */
	if (signaled)
		snprintf(why, sizeof(why), "its helper was killed by signal %d", code);
	else
		snprintf(why, sizeof(why), "its helper exited with status %d", code);
	log_info("%s: %s job on %s ended: %s", j->dev,
		 j->kind == IPC_JOB_XFER ? "transfer-log" : "wipe", j->block, why);
	if (j->fd >= 0)
		read_channel(e, j); /* its last lines first (the channel may close here) */
	if ((j = job_by_id(id)) == NULL)
		return;
	j->exited = true;
	struct dev_entry *d = engine_device_of(e, j->of);
	if (j->failed) {
		/* Already acted on when its channel closed: the exit completes the record. */
		engine_observe(e, "helper-exited", d, why);
	} else if (j->kind == IPC_JOB_XFER && !j->stopping) {
		watch_lost(e, j, why);
	} else if (j->kind == IPC_JOB_WIPE && !j->outcome) {
		char reason[200];
		snprintf(reason, sizeof(reason), "the wipe of %s ended without an outcome: %s",
			 j->block, why);
		engine_record(e, "wipe-failed", "failure", d, reason, true);
		j->outcome = true;
		if (d != NULL)
			engine_deny_device(e, d,
					   "the wipe did not complete: the medium stays blocked");
	}
	if ((j = job_by_id(id)) != NULL)
		job_maybe_free(e, j);
}

/* Wipes due at eject that did not start are tried again once their time has come, a
 * bounded number of times (eappr_wipe_refused counts and records them). */
static void retry_wipes(struct engine *e)
{
	char why[256];
	int64_t now = (int64_t)time(NULL);

	for (size_t i = 0; i < ENGINE_MAX_DEVICES; i++) {
		struct dev_entry *d = engine_device_in_slot(e, i);
		if (d == NULL || !eappr_wipe_retry_due(d, now))
			continue;
		int rc = start_wipe(e, d, -1, IPC_JOB_AUTOMATIC,
				    "the wipe due once the transfer is over, tried again", why,
				    sizeof(why));
		if (rc == -EBUSY)
			log_info("%s: in use again: the wipe starts at the next eject",
				 d->id.sysname);
		else if (rc != 0)
			eappr_wipe_refused(e, d, why);
	}
}

/* The earliest time a refused wipe is to be tried again (0: none). */
static int64_t jobs_next_due(const struct engine *e)
{
	int64_t first = 0;
	size_t i = 0;

	for (const struct dev_entry *d; (d = engine_device_next(e, &i)) != NULL;) {
		int64_t at = eappr_wipe_retry_at(d);
		if (at != 0 && (first == 0 || at < first))
			first = at;
	}
	return first;
}

static void jobs_tick(struct engine *e)
{
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].used && jobs[i].stopping && ++jobs[i].stopping > 2)
			job_free(&jobs[i]); /* never reported gone: forgotten */
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

static int start_wipe(struct engine *e, struct dev_entry *d, int client, uint32_t uid,
		      const char *reason, char *why, size_t len)
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
		if (!jobs[i].used || !engine_device_is(d, jobs[i].of))
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
				pending[p] = (struct pending_wipe){.used = true,
								   .of = engine_device_ref(d),
								   .client = client,
								   .uid = uid};
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
	int rc = engine_job_start(e, d, IPC_JOB_WIPE, disk, 0, client, uid);
	if (rc != 0)
		snprintf(why, len, "the wipe could not start: %s", strerror(-rc));
	return rc;
}

int engine_wipe_request(struct engine *e, int client, uint32_t uid, const char *device, char *why,
			size_t len)
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
	return start_wipe(e, d, client, uid, NULL, why, len);
}

const struct engine_hooks engine_jobs_hooks = {
    .name = "jobs",
    .on_access = engine_mounts_changed,
    .on_leaving = jobs_leaving,
    .on_tick = jobs_tick,
    .next_due = jobs_next_due,
    .on_due = retry_wipes,
};
