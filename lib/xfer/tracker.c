/*
 * tracker.c - turns decoded fanotify events into transfer records.
 * Linked by portcullis-xferwatch. At FAN_OPEN_PERM the opening process is
 * still blocked, so its uid and executable are taken then (remembered between
 * the opens of a living process: pidcache.c) (and the file may be
 * scanned by clamd and refused); at close the record is completed and the
 * content hashed by the pool. Events come from the decoder (bounds-checked);
 * /proc and clamd answers are treated as untrusted. Under the eBPF backend's
 * tracepoint mode the opens come from the kernel's records instead of
 * FAN_OPEN_PERM (xfer_tracker_opened), and the closes from fanotify as here.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/fanotify.h>

#include "xfer_internal.h"
#include "hex.h"

#define BUCKETS	    8192
#define MAX_ENTRIES 65536
#define NAME_CACHE  64

struct open_ent {
	struct open_ent *next;
	pid_t pid;
	dev_t dev;
	ino_t ino;
	unsigned count;
	uid_t uid, euid;
	char *exe;
};

struct xfer_tracker {
	struct xfer_config cfg;
	struct xfer_device dev; /* points into owned[] */
	char *owned[4];
	char *mountpoint;
	size_t mplen;
	const struct xfer_sink_ops *sink;
	void *sink_arg;
	const struct xfer_proc_ops *proc;
	void *proc_arg;
	const struct xfer_scan_ops *scan;
	void *scan_arg;
	int mount_fd;
	struct xfer_obs obs;
	char backend[16];
	char backend_reason[256];
	pthread_mutex_t sink_lock;
	atomic_bool failed_closed;
	struct xfer_hashpool *pool;
	atomic_bool reading;	    /* the event thread is between reads of one drain */
	int proc_fd;		    /* /proc/self/fd, for the paths of open files; -1: none */
	struct xfer_pidcache *pids; /* NULL: every lookup asks t->proc */
	const struct xfer_open_feed *feed; /* eBPF tracepoint mode: the kernel's opens */
	bool gate_only; /* eBPF: permission events only hold opens back or refuse them */
	struct open_ent *table[BUCKETS];
	unsigned nentries;
	pthread_mutex_t names_lock; /* user-name cache, used by the workers */
	struct {
		uid_t uid;
		bool valid;
		char name[64];
	} names[NAME_CACHE];
};

/* A closed file on its way to a record: built, hashed and emitted by a worker. */
struct close_job {
	struct xfer_job job;
	struct xfer_tracker *t;
	int fd;
	pid_t pid;
	const char *action;
	const char *attribution;
	bool have_info;
	struct xfer_proc_info_short {
		uid_t uid, euid;
	} ids;
	char *exe;
	off_t size_at_close;
	char comm[16]; /* the kernel's task name (eBPF backend), "" for none */
};

static void emit(struct xfer_tracker *t, struct json_object *rec)
{
	pthread_mutex_lock(&t->sink_lock);
	t->sink->record(t->sink_arg, rec);
	pthread_mutex_unlock(&t->sink_lock);
	json_object_put(rec);
}

/* Name of uid, cached (NSS lookups are slow); "" when it has none. */
static void user_name(struct xfer_tracker *t, uid_t uid, char *out, size_t len)
{
	unsigned slot = uid % NAME_CACHE;
	pthread_mutex_lock(&t->names_lock);
	if (t->names[slot].valid && t->names[slot].uid == uid) {
		snprintf(out, len, "%s", t->names[slot].name);
		pthread_mutex_unlock(&t->names_lock);
		return;
	}
	pthread_mutex_unlock(&t->names_lock);
	struct passwd pw, *res = NULL;
	char buf[1024];
	out[0] = '\0';
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		snprintf(out, len, "%s", pw.pw_name);
	pthread_mutex_lock(&t->names_lock);
	t->names[slot].uid = uid;
	t->names[slot].valid = true;
	snprintf(t->names[slot].name, sizeof(t->names[slot].name), "%s", out);
	pthread_mutex_unlock(&t->names_lock);
}

static struct json_object *file_record(struct xfer_tracker *t, const char *action, int fd,
				       pid_t pid, const struct xfer_proc_info *pi,
				       const char *attribution);

/* Who pid is now (event thread): remembered from an earlier open when still valid. */
static int proc_lookup(struct xfer_tracker *t, pid_t pid, struct xfer_proc_info *pi)
{
	return xfer_pidcache_lookup(t->pids, t->proc, t->proc_arg, pid, pi);
}

static void run_close_job(struct xfer_job *job, struct xfer_hasher *h)
{
	struct close_job *j = (struct close_job *)job;
	struct xfer_tracker *t = j->t;
	struct xfer_proc_info pi = {.uid = j->ids.uid, .euid = j->ids.euid};
	if (j->have_info)
		snprintf(pi.exe, sizeof(pi.exe), "%s", j->exe ? j->exe : "");
	struct json_object *rec =
	    file_record(t, j->action, j->fd, j->pid, j->have_info ? &pi : NULL, j->attribution);
	if (j->comm[0])
		xfer_rec_set_str(rec, "process.name", j->comm);
	unsigned char digest[32];
	uint64_t hashed = 0;
	int err = xfer_hasher_fd(h, j->fd, (uint64_t)j->size_at_close, digest, &hashed);
	if (err == 0) {
		char hex[65];
		pcl_hex_encode(hex, digest, 32);
		xfer_rec_set_str(rec, "file.hash.sha256", hex);
		xfer_rec_set_int(rec, "file.size", (int64_t)hashed);
		if ((uint64_t)j->size_at_close != hashed)
			xfer_rec_set_bool(rec, "portcullis.changed_after_close", true);
	} else {
		xfer_rec_set_int(rec, "file.size", (int64_t)j->size_at_close);
		xfer_rec_set_str(rec, "portcullis.hash_error", strerror(-err));
	}
	emit(t, rec);
	close(j->fd);
	free(j->exe);
	free(j);
}

static unsigned bucket(pid_t pid, dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev * 31u ^ (uint64_t)pid;
	return (unsigned)((h ^ (h >> 29)) % BUCKETS);
}

static struct open_ent **find(struct xfer_tracker *t, pid_t pid, dev_t dev, ino_t ino)
{
	struct open_ent **pp = &t->table[bucket(pid, dev, ino)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->pid == pid && (*pp)->dev == dev && (*pp)->ino == ino)
			return pp;
	return pp;
}

/* Opens whose close never came (refused elsewhere, merged close events):
 * drop those of processes that have exited. */
static void purge_dead(struct xfer_tracker *t)
{
	for (unsigned i = 0; i < BUCKETS; i++) {
		struct open_ent **pp = &t->table[i];
		while (*pp) {
			struct open_ent *e = *pp;
			if (kill(e->pid, 0) < 0 && errno == ESRCH) {
				*pp = e->next;
				free(e->exe);
				free(e);
				t->nentries--;
			} else {
				pp = &e->next;
			}
		}
	}
}

static void remember(struct xfer_tracker *t, pid_t pid, dev_t dev, ino_t ino,
		     const struct xfer_proc_info *pi)
{
	struct open_ent **pp = find(t, pid, dev, ino);
	if (*pp) {
		(*pp)->count++;
		return;
	}
	if (t->nentries >= MAX_ENTRIES)
		purge_dead(t);
	if (t->nentries >= MAX_ENTRIES)
		return; /* the close falls back to a lookup at close time */
	struct open_ent *e = calloc(1, sizeof(*e));
	if (e == NULL || (e->exe = strdup(pi->exe)) == NULL) {
		free(e);
		return;
	}
	e->pid = pid;
	e->dev = dev;
	e->ino = ino;
	e->count = 1;
	e->uid = pi->uid;
	e->euid = pi->euid;
	*pp = e;
	t->nentries++;
}

/* Take one open of (pid, file) off the table; 0 and *pi filled when found. */
static int forget(struct xfer_tracker *t, pid_t pid, const struct stat *st,
		  struct xfer_proc_info *pi)
{
	struct open_ent **pp = find(t, pid, st->st_dev, st->st_ino);
	struct open_ent *e = *pp;
	if (e == NULL)
		return -ENOENT;
	pi->uid = e->uid;
	pi->euid = e->euid;
	snprintf(pi->exe, sizeof(pi->exe), "%s", e->exe);
	if (--e->count == 0) {
		*pp = e->next;
		free(e->exe);
		free(e);
		t->nentries--;
	}
	return 0;
}

/* Path of fd relative to the mount point (absolute if it lies elsewhere): the kernel's own
 * path of the open file, its link in /proc/self/fd (read through a descriptor of that
 * directory kept open: no walk of the path at each file). */
static void rel_path(struct xfer_tracker *t, int fd, char *out, size_t len, bool *outside)
{
	char link[64], buf[4096];
	ssize_t n;
	if (t->proc_fd >= 0) {
		snprintf(link, sizeof(link), "%d", fd);
		n = readlinkat(t->proc_fd, link, buf, sizeof(buf) - 1);
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, buf, sizeof(buf) - 1);
	}
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	*outside = false;
	if (strncmp(buf, t->mountpoint, t->mplen) == 0 &&
	    (buf[t->mplen] == '/' || buf[t->mplen] == '\0')) {
		const char *r = buf + t->mplen;
		while (*r == '/')
			r++;
		snprintf(out, len, "%s", r);
	} else {
		*outside = true;
		snprintf(out, len, "%s", buf);
	}
}

static struct json_object *file_record(struct xfer_tracker *t, const char *action, int fd,
				       pid_t pid, const struct xfer_proc_info *pi,
				       const char *attribution)
{
	struct json_object *rec = xfer_rec_new(action, &t->dev, &t->cfg, &t->obs);
	char rel[4096];
	bool outside;
	rel_path(t, fd, rel, sizeof(rel), &outside);
	xfer_rec_set_path(rec, "file.path", &t->cfg, rel);
	if (outside)
		xfer_rec_set_bool(rec, "portcullis.path_outside_mount", true);
	char name[64] = "";
	if (pi != NULL)
		user_name(t, pi->uid, name, sizeof(name));
	xfer_rec_set_actor(rec, pid, pi, name, attribution);
	return rec;
}

static void fail_closed(struct xfer_tracker *t, const char *reason)
{
	if (t->cfg.on_overflow != XFER_OVERFLOW_FAIL_CLOSED)
		return;
	if (atomic_exchange(&t->failed_closed, true))
		return;
	struct json_object *rec = xfer_rec_new("xfer-fail-closed", &t->dev, &t->cfg, &t->obs);
	xfer_rec_set_str(rec, "message", reason);
	emit(t, rec);
	if (t->sink->fail_closed)
		t->sink->fail_closed(t->sink_arg, reason);
}

static int on_open_perm(struct xfer_tracker *t, const struct xfer_event *ev, uint32_t *response)
{
	struct stat st;
	*response = FAN_ALLOW;
	if (ev->fd < 0 || fstat(ev->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (t->gate_only && !atomic_load(&t->failed_closed))
		return 0; /* the opener is known from the kernel's record */
	struct xfer_proc_info pi;
	int prc = proc_lookup(t, ev->pid, &pi);
	if (atomic_load(&t->failed_closed)) {
		*response = FAN_DENY;
		struct json_object *rec =
		    file_record(t, "open-denied", ev->fd, ev->pid, prc == 0 ? &pi : NULL, "open");
		xfer_rec_set_str(rec, "message", "transfer log failed closed");
		emit(t, rec);
		return 0;
	}
	if (t->scan != NULL && st.st_size > 0) {
		char sig[256];
		int rc = t->scan->scan(t->scan_arg, ev->fd, sig, sizeof(sig));
		if (rc != 0) {
			*response = FAN_DENY;
			struct json_object *rec =
			    file_record(t, rc > 0 ? "malware-blocked" : "malware-scan-failed",
					ev->fd, ev->pid, prc == 0 ? &pi : NULL, "open");
			xfer_rec_set_int(rec, "file.size", (int64_t)st.st_size);
			if (rc > 0)
				xfer_rec_set_str(rec, "portcullis.malware.signature", sig);
			else
				xfer_rec_set_str(rec, "message", strerror(-rc));
			emit(t, rec);
			return 0;
		}
	}
	if (prc == 0)
		remember(t, ev->pid, st.st_dev, st.st_ino, &pi);
	return 0;
}

static int on_close(struct xfer_tracker *t, const struct xfer_event *ev)
{
	struct stat st;
	if (fstat(ev->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(ev->fd);
		return 0;
	}
	static const uint64_t bits[2] = {FAN_CLOSE_WRITE, FAN_CLOSE_NOWRITE};
	static const char *const actions[2] = {"file-written", "file-read"};
	int fd = ev->fd;
	int rc = 0;
	for (int i = 0; i < 2; i++) {
		if (!(ev->mask & bits[i]))
			continue;
		bool both = (ev->mask & FAN_CLOSE) == FAN_CLOSE;
		int jfd = fd;
		if (both && i == 0 && (jfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
			continue;
		struct close_job *job = calloc(1, sizeof(*job));
		if (job == NULL) {
			rc = -ENOMEM;
			close(jfd);
			continue;
		}
		struct xfer_proc_info pi;
		job->attribution = "open";
		job->have_info = true;
		int found = forget(t, ev->pid, &st, &pi);
		if (found < 0 && t->feed != NULL && t->feed->fetch(t->feed->arg) == 0)
			found = forget(t, ev->pid, &st, &pi); /* recorded before this close */
		if (found < 0) {
			job->attribution = "close"; /* opened before the watch, or table full */
			job->have_info = proc_lookup(t, ev->pid, &pi) == 0;
		}
		/* Gone, or exiting (no executable left): what the kernel recorded at its exit. */
		if (found < 0 && (!job->have_info || pi.exe[0] == '\0') && t->feed != NULL &&
		    t->feed->exited(t->feed->arg, ev->pid, &pi) == 0) {
			job->attribution = "exit";
			job->have_info = true;
		}
		if (job->have_info) {
			job->ids.uid = pi.uid;
			job->ids.euid = pi.euid;
			job->exe = strdup(pi.exe);
		}
		job->job.run = run_close_job;
		job->t = t;
		job->fd = jfd;
		job->pid = ev->pid;
		job->action = actions[i];
		job->size_at_close = st.st_size;
		xfer_hashpool_submit(t->pool, &job->job, true);
	}
	return rc;
}

static int on_fid(struct xfer_tracker *t, const struct xfer_event *ev)
{
	const char *action = NULL;
	/* A regular file created on the medium is opened for writing, so its
	 * file-written record covers it: only directories get file-created. */
	if ((ev->mask & FAN_CREATE) && (ev->mask & FAN_ONDIR))
		action = "file-created";
	else if (ev->mask & FAN_DELETE)
		action = "file-deleted";
	else if (ev->mask & FAN_RENAME)
		action = "file-renamed";
	if (action == NULL)
		return 0;
	/* An fd on the medium only for this event: a lasting one would keep the
	 * mount busy and the user could not eject the medium. Not O_PATH, which
	 * open_by_handle_at refuses; a directory open raises no event of ours
	 * (the marks have no FAN_ONDIR for opens). */
	int mfd = t->mount_fd >= 0 ? t->mount_fd
				   : open(t->mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct json_object *rec = xfer_rec_new(action, &t->dev, &t->cfg, &t->obs);
	for (unsigned i = 0; i < ev->nfid; i++) {
		const struct xfer_fid *f = &ev->fid[i];
		const char *field = f->info_type == FAN_EVENT_INFO_TYPE_OLD_DFID_NAME
					? "portcullis.file.old_path"
					: "file.path";
		if (f->name == NULL)
			continue;
		char dir[4096] = "";
		struct file_handle *fh = malloc(sizeof(*fh) + f->handle_bytes);
		if (fh != NULL) {
			fh->handle_bytes = f->handle_bytes;
			fh->handle_type = f->handle_type;
			memcpy(fh->f_handle, f->handle, f->handle_bytes);
			int dfd = mfd >= 0 ? open_by_handle_at(mfd, fh, O_PATH | O_CLOEXEC) : -1;
			free(fh);
			if (dfd >= 0) {
				bool outside;
				rel_path(t, dfd, dir, sizeof(dir), &outside);
				close(dfd);
			}
		}
		char full[8192];
		if (f->name_len == 1 && f->name[0] == '.')
			snprintf(full, sizeof(full), "%s", dir);
		else
			snprintf(full, sizeof(full), "%s%s%s", dir, dir[0] ? "/" : "", f->name);
		xfer_rec_set_path(rec, field, &t->cfg, full);
	}
	if (mfd >= 0 && mfd != t->mount_fd)
		close(mfd);
	xfer_rec_set_str(rec, "file.type", (ev->mask & FAN_ONDIR) ? "dir" : "file");
	struct xfer_proc_info pi;
	int prc = proc_lookup(t, ev->pid, &pi);
	char name[64] = "";
	if (prc == 0)
		user_name(t, pi.uid, name, sizeof(name));
	xfer_rec_set_actor(rec, ev->pid, prc == 0 ? &pi : NULL, name, "after");
	emit(t, rec);
	return 0;
}

void xfer_tracker_overflow(struct xfer_tracker *t, const char *message)
{
	struct json_object *rec = xfer_rec_new("xfer-overflow", &t->dev, &t->cfg, &t->obs);
	xfer_rec_set_str(rec, "message", message);
	xfer_rec_set_str(rec, "portcullis.on_overflow",
			 t->cfg.on_overflow == XFER_OVERFLOW_FAIL_CLOSED ? "fail-closed"
									 : "continue");
	emit(t, rec);
	fail_closed(t, message);
}

int xfer_tracker_handle(struct xfer_tracker *t, const struct xfer_event *ev, uint32_t *response)
{
	*response = FAN_ALLOW;
	if (ev->mask & FAN_Q_OVERFLOW) {
		xfer_tracker_overflow(t, "fanotify queue overflow: events were lost");
		if (ev->fd >= 0)
			close(ev->fd);
		return 0;
	}
	if (ev->mask & (FAN_OPEN_PERM | FAN_ACCESS_PERM | FAN_OPEN_EXEC_PERM))
		return on_open_perm(t, ev, response);
	if (ev->fd < 0)
		return on_fid(t, ev);
	if (ev->mask & FAN_CLOSE)
		return on_close(t, ev);
	close(ev->fd);
	return 0;
}

void xfer_tracker_note(struct xfer_tracker *t, const char *action, const char *message)
{
	struct json_object *rec = xfer_rec_new(action, &t->dev, &t->cfg, &t->obs);
	if (message)
		xfer_rec_set_str(rec, "message", message);
	xfer_rec_set_str(rec, "portcullis.mountpoint", t->mountpoint);
	if (strcmp(action, "xfer-watch-started") == 0 && t->backend[0]) {
		xfer_rec_set_str(rec, "xfer.backend", t->backend);
		xfer_rec_set_str(rec, "xfer.backend_reason", t->backend_reason);
	}
	emit(t, rec);
	if (strcmp(action, "xfer-watch-failed") == 0)
		fail_closed(t, message ? message : "transfer watch failed");
}

void xfer_tracker_opened(struct xfer_tracker *t, pid_t pid, dev_t dev, ino_t ino,
			 const struct xfer_proc_info *pi)
{
	remember(t, pid, dev, ino, pi);
}

void xfer_tracker_set_open_feed(struct xfer_tracker *t, const struct xfer_open_feed *feed)
{
	t->feed = feed;
}

void xfer_tracker_set_gate_only(struct xfer_tracker *t)
{
	t->gate_only = true;
}

void xfer_tracker_set_backend(struct xfer_tracker *t, const char *backend, const char *reason)
{
	snprintf(t->backend, sizeof(t->backend), "%s", backend ? backend : "");
	snprintf(t->backend_reason, sizeof(t->backend_reason), "%s", reason ? reason : "");
}

void xfer_tracker_closed(struct xfer_tracker *t, int fd, bool written, pid_t pid,
			 const struct xfer_proc_info *pi, const char *attribution, off_t size,
			 const char *comm)
{
	struct close_job *job = calloc(1, sizeof(*job));
	if (job == NULL) {
		close(fd);
		xfer_tracker_unhashed(t, written, NULL, pid, pi, attribution, size, comm,
				      strerror(ENOMEM));
		return;
	}
	job->attribution = attribution;
	job->have_info = pi != NULL;
	if (pi != NULL) {
		job->ids.uid = pi->uid;
		job->ids.euid = pi->euid;
		job->exe = strdup(pi->exe);
	}
	snprintf(job->comm, sizeof(job->comm), "%s", comm ? comm : "");
	job->job.run = run_close_job;
	job->t = t;
	job->fd = fd;
	job->pid = pid;
	job->action = written ? "file-written" : "file-read";
	job->size_at_close = size;
	xfer_hashpool_submit(t->pool, &job->job, true);
}

void xfer_tracker_unhashed(struct xfer_tracker *t, bool written, const char *path, pid_t pid,
			   const struct xfer_proc_info *pi, const char *attribution, off_t size,
			   const char *comm, const char *why)
{
	struct json_object *rec =
	    xfer_rec_new(written ? "file-written" : "file-read", &t->dev, &t->cfg, &t->obs);
	if (path != NULL) {
		if (strncmp(path, t->mountpoint, t->mplen) == 0 &&
		    (path[t->mplen] == '/' || path[t->mplen] == '\0')) {
			const char *r = path + t->mplen;
			while (*r == '/')
				r++;
			xfer_rec_set_path(rec, "file.path", &t->cfg, r);
		} else {
			xfer_rec_set_path(rec, "file.path", &t->cfg, path);
			xfer_rec_set_bool(rec, "portcullis.path_outside_mount", true);
		}
	}
	char name[64] = "";
	if (pi != NULL)
		user_name(t, pi->uid, name, sizeof(name));
	xfer_rec_set_actor(rec, pid, pi, name, attribution);
	if (comm != NULL && comm[0])
		xfer_rec_set_str(rec, "process.name", comm);
	xfer_rec_set_int(rec, "file.size", (int64_t)size);
	xfer_rec_set_str(rec, "portcullis.hash_error", why);
	emit(t, rec);
}

/* A worker finished the last job in hand: the records are out unless more events are
 * being read. */
static void pool_idle(void *arg)
{
	struct xfer_tracker *t = arg;
	if (atomic_load(&t->reading) || t->sink->idle == NULL)
		return;
	pthread_mutex_lock(&t->sink_lock);
	t->sink->idle(t->sink_arg);
	pthread_mutex_unlock(&t->sink_lock);
}

void xfer_tracker_flush(struct xfer_tracker *t, bool drained)
{
	atomic_store(&t->reading, !drained);
	xfer_hashpool_kick(t->pool);
	if (drained && xfer_hashpool_idle(t->pool))
		pool_idle(t);
}

bool xfer_tracker_busy(struct xfer_tracker *t)
{
	return xfer_hashpool_full(t->pool);
}

bool xfer_tracker_failed_closed(const struct xfer_tracker *t)
{
	return atomic_load(&t->failed_closed);
}

void xfer_tracker_set_observability(struct xfer_tracker *t, bool fid_events, const char *reason)
{
	t->obs.fid_events = fid_events;
	snprintf(t->obs.reason, sizeof(t->obs.reason), "%s", reason ? reason : "");
}

int xfer_tracker_new(struct xfer_tracker **out, const struct xfer_tracker_params *p)
{
	if (p->config == NULL || p->sink == NULL || p->sink->record == NULL ||
	    p->mountpoint == NULL || p->mountpoint[0] != '/')
		return -EINVAL;
	struct xfer_tracker *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	pthread_mutex_init(&t->sink_lock, NULL);
	pthread_mutex_init(&t->names_lock, NULL);
	atomic_init(&t->failed_closed, false);
	atomic_init(&t->reading, false);
	t->proc_fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t->cfg = *p->config;
	if (p->device) { /* own copies: the caller's strings may go away */
		const char *src[4] = {p->device->id, p->device->serial, p->device->approval_id,
				      p->device->fstype};
		for (int i = 0; i < 4; i++)
			if (src[i] != NULL && (t->owned[i] = strdup(src[i])) == NULL) {
				xfer_tracker_free(&t);
				return -ENOMEM;
			}
		t->dev = (struct xfer_device){.id = t->owned[0],
					      .serial = t->owned[1],
					      .approval_id = t->owned[2],
					      .fstype = t->owned[3]};
	}
	t->mountpoint = strdup(p->mountpoint);
	if (t->mountpoint == NULL) {
		xfer_tracker_free(&t);
		return -ENOMEM;
	}
	t->mplen = strlen(t->mountpoint);
	while (t->mplen > 1 && t->mountpoint[t->mplen - 1] == '/')
		t->mountpoint[--t->mplen] = '\0';
	t->sink = p->sink;
	t->sink_arg = p->sink_arg;
	t->proc = p->proc ? p->proc : &xfer_proc_procfs;
	/* Remembering needs the real pids of /proc: not with a caller's own lookup. */
	if (p->proc == NULL && xfer_pidcache_new(&t->pids) < 0) {
		xfer_tracker_free(&t);
		return -ENOMEM;
	}
	t->proc_arg = p->proc_arg;
	t->scan = p->scan;
	t->scan_arg = p->scan_arg;
	if (t->scan == NULL && t->cfg.clamd_socket[0]) {
		t->scan = &xfer_scan_clamd;
		t->scan_arg = &t->cfg;
	}
	t->mount_fd = p->mount_fd;
	t->obs.fid_events = true;
	int rc = xfer_hashpool_new(&t->pool, t->cfg.hash_threads, t->cfg.queue_max);
	if (rc < 0) {
		xfer_tracker_free(&t);
		return rc;
	}
	xfer_hashpool_on_idle(t->pool, pool_idle, t);
	*out = t;
	return 0;
}

void xfer_tracker_drain(struct xfer_tracker *t)
{
	if (t->pool)
		xfer_hashpool_drain(t->pool);
}

void xfer_tracker_free(struct xfer_tracker **tp)
{
	struct xfer_tracker *t = *tp;
	if (t == NULL)
		return;
	if (t->pool) {
		xfer_hashpool_drain(t->pool);
		xfer_hashpool_free(&t->pool);
	}
	for (unsigned i = 0; i < BUCKETS; i++) {
		struct open_ent *e = t->table[i], *n;
		for (; e; e = n) {
			n = e->next;
			free(e->exe);
			free(e);
		}
	}
	xfer_pidcache_free(&t->pids);
	for (int i = 0; i < 4; i++)
		free(t->owned[i]);
	pthread_mutex_destroy(&t->sink_lock);
	pthread_mutex_destroy(&t->names_lock);
	xfer_config_wipe(&t->cfg);
	free(t->mountpoint);
	if (t->proc_fd >= 0)
		close(t->proc_fd);
	free(t);
	*tp = NULL;
}
