/*
 * bpfrun.c - the eBPF backend's run loop (xfer_bpf_run): when the ring buffer and the
 * fanotify groups are read, and holding the opens on the medium back while the hash queue
 * is full (hold_back). The records themselves are bpfwatch.c's. Linked by
 * portcullis-xferwatch, after its seccomp filter; reads the ring buffer's shared memory
 * and the kernel's fanotify events, decoded as untrusted elsewhere (bpfdecode.c, decode.c).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>

#include "xfer.h"
#include "xfer_internal.h"

#ifdef PCL_XFER_BPF
#include <bpf/libbpf.h>

#include "bpfwatch_int.h"

#define BATCH_MS 10  /* the names and close groups are read at most this often */
#define RING_MS	 100 /* tracepoint mode: the opens are read at least this often */
#define HOLD_MS	 50  /* tracepoint: opens go free this long after room and the last held */

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A group read in batches: polled when BATCH_MS have passed since its last read (and the
 * hash queue has room), else *timeout shortened to its turn. Its poll slot, or -1. */
static int batched(struct pollfd *p, nfds_t *np, int fd, long last, long now, bool busy,
		   long *timeout)
{
	long wait = last + BATCH_MS - now;
	if (fd < 0)
		return -1;
	if (wait <= 0 && !busy) {
		p[*np] = (struct pollfd){.fd = fd, .events = POLLIN};
		return (int)(*np)++;
	}
	if ((wait > 0 ? wait : BATCH_MS) < *timeout)
		*timeout = wait > 0 ? wait : BATCH_MS;
	return -1;
}

/* No open waits for the watcher, so a burst of files could fill the kernel's queues (and
 * fail closed) faster than they are hashed. While the hash queue is full the opens on the
 * medium wait: the permission group is marked and its events are answered only once there
 * is room (left unread until then: each is one blocked opener, its descriptor not yet made);
 * hold_ms after that the mark goes and opens run freely again. Under fentry hold_ms is 0:
 * this thread opens the closed files for hashing, which it must not do while the group is
 * marked (it would wait for its own answer); the closes that come meanwhile wait in
 * b->waiting. 0 or negative errno. */
static int hold_back(struct xfer_watch *w, const char *mountpoint, bool busy, long now,
		     long hold_ms, bool *held, long *room_since)
{
	int rc = 0;
	if (busy) {
		*room_since = 0;
		if (!*held && (rc = xfer_watch_mark_opens(w, mountpoint)) == 0)
			*held = true;
		return rc;
	}
	if (*room_since == 0)
		*room_since = now;
	if (*held && now - *room_since >= hold_ms &&
	    (rc = xfer_watch_unmark_opens(w, mountpoint)) == 0)
		*held = false;
	return rc;
}

/* Fentry: hold opens back at once when the closed files just handed over filled the hash
 * queue, rather than at the loop's next turn. 0 or negative errno. */
static int hold_now(struct xfer_bpf *b, struct xfer_watch *w, const char *mountpoint, bool denying,
		    long *room_since)
{
	int rc = 0;
	if (!b->tracepoint && !denying && !b->held && xfer_tracker_busy(b->t) &&
	    (rc = hold_back(w, mountpoint, true, 0, 0, &b->held, room_since)) < 0)
		xfer_tracker_note(b->t, "xfer-watch-failed", "cannot hold opens back");
	return rc;
}

int xfer_bpf_run(struct xfer_bpf *b, struct xfer_watch *w, const char *mountpoint,
		 struct xfer_tracker *t, volatile sig_atomic_t *stop)
{
	xfer_bpfw_attach(b, t);
	int rbfd = ring_buffer__epoll_fd(b->rb);
	long last_fid = 0, last_close = 0, last_ring = 0, room_since = 0;
	long hold_ms = b->tracepoint ? HOLD_MS : 0;
	bool denying = false;
	int rc = 0;
	while (!*stop && rc == 0) {
		struct pollfd p[4];
		nfds_t np = 0;
		int ring = -1, perm = -1;
		long now = now_ms(), timeout = 200;
		bool busy = xfer_tracker_busy(t);
		if (!denying &&
		    (rc = hold_back(w, mountpoint, busy, now, hold_ms, &b->held, &room_since)) < 0)
			xfer_tracker_note(t, "xfer-watch-failed", "cannot hold opens back");
		/* Fentry: the closed files that waited, now that opens run freely and while
		 * there is room; held back again at once when the queue is full. */
		if (rc == 0 && !b->tracepoint && b->waiting.head != NULL) {
			xfer_bpfw_run_waiting(b, false);
			xfer_tracker_flush(t, b->waiting.head == NULL);
			rc = hold_now(b, w, mountpoint, denying, &room_since);
		}
		/* The ring is read at most every BATCH_MS too: one wake-up per batch of records
		 * (the kernel signals only the first record after the reader caught up). The
		 * tracepoint mode's opens signal nothing: read when a close needs them, and here
		 * every RING_MS so that opens without closes do not fill the ring. */
		long rwait = last_ring + (b->tracepoint ? RING_MS : BATCH_MS) - now;
		if (rc == 0 && rwait <= 0 && b->tracepoint) {
			rc = xfer_bpfw_consume(b);
			last_ring = now;
			timeout = RING_MS;
		} else if (rwait <= 0) {
			ring = (int)np;
			p[np++] = (struct pollfd){.fd = rbfd, .events = POLLIN};
		} else {
			timeout = rwait;
		}
		/* Names events do not wait for the hash queue. */
		int fid = batched(p, &np, w->fid_fd, last_fid, now, false, &timeout);
		int clo = batched(p, &np, w->close_fd, last_close, now, busy, &timeout);
		/* Fentry: room is looked for as often as the closes group's turn comes. */
		if (!b->tracepoint && (busy || b->waiting.head != NULL) && timeout > BATCH_MS)
			timeout = BATCH_MS;
		/* Held opens are answered once there is room: a held or unmarked group is read. */
		if (denying || !busy) {
			perm = (int)np;
			p[np++] = (struct pollfd){.fd = w->perm_fd, .events = POLLIN};
		}
		if (rc == 0 && poll(p, np, (int)timeout) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (rc == 0 && ring >= 0 && p[ring].revents) {
			rc = xfer_bpfw_consume(b);
			last_ring = now_ms();
			/* The closed files to the workers in one hand-over. */
			xfer_tracker_flush(t, rc == 0 && b->waiting.head == NULL);
			if (rc == 0)
				rc = hold_now(b, w, mountpoint, denying, &room_since);
		}
		if (rc == 0 && clo >= 0 && p[clo].revents) {
			rc = xfer_watch_drain(w->close_fd, t, true);
			last_close = now_ms();
		}
		if (rc == 0 && fid >= 0 && p[fid].revents) {
			rc = xfer_watch_drain(w->fid_fd, t, false);
			last_fid = now_ms();
		}
		/* Tracepoint mode: each held open answered writes its record to the ring at
		 * the call's return, and nothing else reads the ring before a close needs it:
		 * read first, and answer only the opens that wait now (an opener quicker than
		 * this loop would otherwise run on through the mark, one answer after another),
		 * so that what waits unread is at most one answer per opener. The mark stays
		 * while held opens keep coming (the burst goes on): hold_ms counts from the
		 * last one, for unmarked opens would fill the ring as fast as they run, read
		 * only every BATCH_MS or later when the watcher lacks the CPU. */
		bool held_tp = b->tracepoint && b->held && !denying;
		if (rc == 0 && perm >= 0 && p[perm].revents && held_tp) {
			rc = xfer_bpfw_consume(b);
			last_ring = now_ms();
			if (room_since != 0)
				room_since = last_ring;
			if (rc == 0)
				rc = xfer_watch_drain_once(w->perm_fd, t);
		}
		/* (Not once held again meanwhile: fentry.) */
		if (rc == 0 && perm >= 0 && p[perm].revents && !held_tp &&
		    (denying || b->tracepoint || !b->held))
			rc = xfer_watch_drain(w->perm_fd, t, false);
		if (!denying && xfer_tracker_failed_closed(t)) {
			/* Failed closed: every later open on the medium is answered, refused. */
			int drc = xfer_watch_mark_opens(w, mountpoint);
			denying = drc == 0;
			if (drc < 0) {
				char msg[160];
				snprintf(msg, sizeof(msg), "cannot refuse later opens: %s",
					 strerror(-drc));
				xfer_tracker_note(t, "xfer-watch-failed", msg);
				return drc;
			}
		}
	}
	/* What is still in the ring and the groups. Fentry: opens go free first, for this
	 * thread opens the closed files that waited. */
	if (!b->tracepoint && b->held && !denying && xfer_watch_unmark_opens(w, mountpoint) == 0)
		b->held = false;
	if (rc == 0)
		rc = xfer_bpfw_consume(b);
	if (!b->tracepoint)
		xfer_bpfw_run_waiting(b, true);
	xfer_tracker_flush(t, false);
	if (rc == 0 && w->close_fd >= 0)
		rc = xfer_watch_drain(w->close_fd, t, false);
	if (rc == 0 && w->fid_fd >= 0)
		rc = xfer_watch_drain(w->fid_fd, t, false);
	if (rc == 0) /* no opener left waiting for us */
		rc = xfer_watch_drain(w->perm_fd, t, false);
	return rc;
}

#else /* built without clang, bpftool or libbpf */

int xfer_bpf_run(struct xfer_bpf *b, struct xfer_watch *w, const char *mountpoint,
		 struct xfer_tracker *t, volatile sig_atomic_t *stop)
{
	return -ENOTSUP;
}

#endif
