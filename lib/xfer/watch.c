/*
 * watch.c - fanotify groups on an approved medium and the read loop.
 * xfer_watch_open() needs CAP_SYS_ADMIN (the root parent / the watcher);
 * xfer_watch_run() only needs the two descriptors it returns, and answers
 * permission events as soon as the tracker has decided. Buffers read from the
 * kernel go through the bounds-checking decoder.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/fanotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "diag.h"
#include "xfer.h"

#define CLOSE_MASK (FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE)
#define BUF_SIZE   16384
#define BATCH_MS   10 /* notification groups are read at most this often */
/* More than any one event of ours takes (metadata, a file handle and a name, twice for a
 * rename): a read that left this much of the buffer empty emptied the queue. */
#define EVENT_ROOM 4096

static int is_mount_root(const char *path)
{
	struct statx sx;
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx) < 0)
		return -errno;
	if (!S_ISDIR(sx.stx_mode))
		return -ENOTDIR;
	if (!(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return 1; /* cannot tell; the mark still applies to its mount */
	return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) ? 1 : 0;
}

static void open_fid_group(struct xfer_watch *w, const char *mp, unsigned qflag)
{
	int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME |
				   qflag,
			       O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(w->fid_reason, sizeof(w->fid_reason),
			 "fanotify_init(FAN_REPORT_DFID_NAME): %s", strerror(errno));
		return;
	}
	uint64_t masks[2] = {FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_ONDIR,
			     FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_ONDIR};
	int err = 0;
	for (int i = 0; i < 2; i++) {
		if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, masks[i], AT_FDCWD, mp) ==
		    0) {
			w->fid_fd = fd;
			w->fid_reason[0] = '\0';
			return;
		}
		err = errno;
		if (err != EINVAL)
			break;
	}
	/* fstatfs on the mount's own descriptor: the watcher's system call filter has no
	 * statfs (a path lookup it does not need). */
	struct statfs sf;
	unsigned long magic = fstatfs(w->mount_fd, &sf) == 0 ? (unsigned long)sf.f_type : 0;
	snprintf(w->fid_reason, sizeof(w->fid_reason),
		 "file-id events refused by this filesystem (magic 0x%lx): %s", magic,
		 strerror(err));
	close(fd);
}

/* What the permission and close groups are marked for. */
enum watch_mode {
	WATCH_ALL,    /* fanotify backend: opens (permission) and closes */
	WATCH_NAMES,  /* eBPF (fentry): neither; the names group alone */
	WATCH_CLOSES, /* eBPF (tracepoint): closes; opens come from the kernel's records */
};

/* Mark group fd for mask on the medium's filesystem, else on its mount. 0 or -errno. */
static int mark(int fd, uint64_t mask, const char *mountpoint, bool *filesystem)
{
	if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, AT_FDCWD, mountpoint) ==
	    0) {
		*filesystem = true;
		return 0;
	}
	if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_MOUNT, mask, AT_FDCWD, mountpoint) == 0) {
		*filesystem = false;
		return 0;
	}
	return -errno;
}

static int watch_open(struct xfer_watch *w, const char *mountpoint, bool unlimited_queue,
		      enum watch_mode mode, struct pcl_diag *diag)
{
	memset(w, 0, sizeof(*w));
	w->perm_fd = w->close_fd = w->fid_fd = w->mount_fd = -1;
	int rc = is_mount_root(mountpoint);
	if (rc <= 0) {
		pcl_diag_set(diag, mountpoint, 0, "%s",
			     rc == 0 ? "not a mount point" : strerror(-rc));
		return rc == 0 ? -EINVAL : rc;
	}
	w->mount_fd = open(mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (w->mount_fd < 0) {
		rc = -errno;
		pcl_diag_set(diag, mountpoint, 0, "open: %s", strerror(errno));
		return rc;
	}
	unsigned qflag = unlimited_queue ? FAN_UNLIMITED_QUEUE : 0;
	/* Opens block until answered: a group of their own, read at once. Closes
	 * block nobody: a notification group read in batches. O_NOATIME: hashing
	 * must not touch the medium's access times. */
	w->perm_fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | qflag,
				   O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NOATIME);
	w->close_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | qflag,
				    O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NOATIME);
	if (w->perm_fd < 0 || w->close_fd < 0) {
		rc = -errno;
		pcl_diag_set(diag, mountpoint, 0, "fanotify_init: %s", strerror(errno));
		goto fail;
	}
	/* Under eBPF the permission group waits unmarked, for failing closed. */
	bool perm_fs = true, close_fs = true;
	if (mode == WATCH_NAMES) {
		close(w->close_fd);
		w->close_fd = -1;
	} else if ((mode == WATCH_ALL &&
		    (rc = mark(w->perm_fd, FAN_OPEN_PERM, mountpoint, &perm_fs)) < 0) ||
		   (rc = mark(w->close_fd, CLOSE_MASK, mountpoint, &close_fs)) < 0) {
		pcl_diag_set(diag, mountpoint, 0, "fanotify_mark: %s", strerror(-rc));
		goto fail;
	}
	w->filesystem_mark = mode != WATCH_NAMES && perm_fs && close_fs;
	open_fid_group(w, mountpoint, qflag);
	/* Keep no fd on the medium: it would keep the mount busy (no eject). */
	close(w->mount_fd);
	w->mount_fd = -1;
	return 0;
fail:
	xfer_watch_close(w);
	return rc;
}

int xfer_watch_open(struct xfer_watch *w, const char *mountpoint, bool unlimited_queue,
		    struct pcl_diag *diag)
{
	return watch_open(w, mountpoint, unlimited_queue, WATCH_ALL, diag);
}

int xfer_watch_open_names(struct xfer_watch *w, const char *mountpoint, bool unlimited_queue,
			  struct pcl_diag *diag)
{
	return watch_open(w, mountpoint, unlimited_queue, WATCH_NAMES, diag);
}

int xfer_watch_open_closes(struct xfer_watch *w, const char *mountpoint, bool unlimited_queue,
			   struct pcl_diag *diag)
{
	return watch_open(w, mountpoint, unlimited_queue, WATCH_CLOSES, diag);
}

int xfer_watch_mark_opens(struct xfer_watch *w, const char *mountpoint)
{
	bool filesystem;
	if (w->perm_fd < 0)
		return -EBADF;
	return mark(w->perm_fd, FAN_OPEN_PERM, mountpoint, &filesystem);
}

int xfer_watch_unmark_opens(struct xfer_watch *w, const char *mountpoint)
{
	if (w->perm_fd < 0)
		return -EBADF;
	if (fanotify_mark(w->perm_fd, FAN_MARK_REMOVE | FAN_MARK_FILESYSTEM, FAN_OPEN_PERM,
			  AT_FDCWD, mountpoint) == 0 ||
	    fanotify_mark(w->perm_fd, FAN_MARK_REMOVE | FAN_MARK_MOUNT, FAN_OPEN_PERM, AT_FDCWD,
			  mountpoint) == 0)
		return 0;
	return -errno;
}

void xfer_watch_close(struct xfer_watch *w)
{
	if (w->perm_fd >= 0)
		close(w->perm_fd);
	if (w->close_fd >= 0)
		close(w->close_fd);
	if (w->fid_fd >= 0)
		close(w->fid_fd);
	if (w->mount_fd >= 0)
		close(w->mount_fd);
	w->perm_fd = w->close_fd = w->fid_fd = w->mount_fd = -1;
}

static int drain_events(int fd, struct xfer_tracker *t, unsigned char *buf, bool yield_when_busy,
			bool polled, bool *handled);

/* Drain one group; returns 0, or negative errno on a fatal error. polled: the caller polls
 * the group again, so a read that emptied the queue ends the drain. When it handled any
 * event but permission events, the tracker is told each read's end (its closed files go
 * to the hash workers in one hand-over) and the queue's end (what waits may be sent). */
static int drain(int fd, struct xfer_tracker *t, unsigned char *buf, bool yield_when_busy,
		 bool polled)
{
	bool handled = false;
	int rc = drain_events(fd, t, buf, yield_when_busy, polled, &handled);
	if (handled)
		xfer_tracker_flush(t, rc == 0 && !(yield_when_busy && xfer_tracker_busy(t)));
	return rc;
}

static int drain_events(int fd, struct xfer_tracker *t, unsigned char *buf, bool yield_when_busy,
			bool polled, bool *handled)
{
	for (;;) {
		if (*handled)
			xfer_tracker_flush(t, false);
		if (yield_when_busy && xfer_tracker_busy(t))
			return 0; /* leave closes queued; keep answering opens */
		ssize_t n = read(fd, buf, BUF_SIZE);
		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				xfer_tracker_note(t, "xfer-watch-failed",
						  "out of file descriptors reading events");
				return -errno;
			}
			return -errno;
		}
		if (n == 0)
			return 0;
		struct xfer_decoder d;
		struct xfer_event ev;
		struct pcl_diag diag = {0};
		int rc;
		xfer_decoder_init(&d, buf, (size_t)n);
		while ((rc = xfer_decoder_next(&d, &ev, &diag)) > 0) {
			uint32_t response = FAN_ALLOW;
			bool perm =
			    (ev.mask & (FAN_OPEN_PERM | FAN_ACCESS_PERM | FAN_OPEN_EXEC_PERM)) != 0;
			xfer_tracker_handle(t, &ev, &response);
			*handled = *handled || !perm;
			if (perm && ev.fd >= 0) {
				struct fanotify_response r = {.fd = ev.fd, .response = response};
				if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
					xfer_tracker_note(t, "xfer-response-failed",
							  strerror(errno));
				close(ev.fd);
			}
		}
		if (rc < 0) {
			char msg[PCL_DIAG_MSG_MAX + 300];
			pcl_diag_format(&diag, msg, sizeof(msg));
			xfer_tracker_note(t, "xfer-watch-failed", msg);
			return rc;
		}
		/* The queue was empty: poll says when more comes, without a read that
		 * fails with EAGAIN (one system call fewer per open). */
		if (polled && (size_t)n < BUF_SIZE - EVENT_ROOM)
			return 0;
	}
}

int xfer_watch_drain(int fd, struct xfer_tracker *t, bool yield_when_busy)
{
	_Alignas(struct fanotify_event_metadata) unsigned char buf[BUF_SIZE];
	return drain(fd, t, buf, yield_when_busy, false);
}

int xfer_watch_drain_once(int fd, struct xfer_tracker *t)
{
	_Alignas(struct fanotify_event_metadata) unsigned char buf[BUF_SIZE];
	return drain(fd, t, buf, false, true);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int xfer_watch_run(struct xfer_watch *w, struct xfer_tracker *t, volatile sig_atomic_t *stop)
{
	_Alignas(struct fanotify_event_metadata) unsigned char buf[BUF_SIZE];
	int batched[2] = {w->close_fd, w->fid_fd};
	long last[2] = {0, 0};
	/* Processes wait on this thread at every open: let it run first (needs
	 * CAP_SYS_NICE; without it the default priority stays). */
	setpriority(PRIO_PROCESS, (id_t)gettid(), -10);
	while (!*stop) {
		struct pollfd p[3] = {{.fd = w->perm_fd, .events = POLLIN}};
		int slot[3] = {-1, -1, -1};
		nfds_t np = 1;
		long now = now_ms(), timeout = 200;
		bool busy = xfer_tracker_busy(t);
		for (int i = 0; i < 2; i++) {
			if (batched[i] < 0)
				continue;
			long wait = last[i] + BATCH_MS - now;
			if (wait <= 0 && !busy) {
				slot[np] = i;
				p[np++] = (struct pollfd){.fd = batched[i], .events = POLLIN};
			} else if ((wait > 0 ? wait : BATCH_MS) < timeout) {
				timeout = wait > 0 ? wait : BATCH_MS;
			}
		}
		int n = poll(p, np, (int)timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents) {
			int rc = drain(w->perm_fd, t, buf, false, true);
			if (rc < 0)
				return rc;
		}
		for (nfds_t i = 1; i < np; i++) {
			if (!p[i].revents)
				continue;
			int rc = drain(p[i].fd, t, buf, true, true);
			if (rc < 0)
				return rc;
			last[slot[i]] = now_ms();
		}
	}
	/* Answer what is still queued so no process stays blocked on us. */
	int rc = drain(w->perm_fd, t, buf, false, false);
	for (int i = 0; i < 2 && rc == 0; i++)
		if (batched[i] >= 0)
			rc = drain(batched[i], t, buf, false, false);
	return rc;
}
