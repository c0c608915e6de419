/*
 * xfer.h - transfer logging on approved media: fanotify event decoding, the
 * per-file transfer tracker, SHA-256 hashing pool, clamd scanning and the
 * watcher loop. Linked by portcullis-xferwatch (and later the portcullisd
 * roles that own the fanotify descriptors). Event buffers come from the kernel
 * and are bounds-checked as untrusted; clamd replies are untrusted.
 * Error convention: 0 or a count on success, negative errno on failure.
 */
#ifndef XFER_H
#define XFER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct json_object;
struct pcl_diag;

/* ---- decoder of fanotify event buffers (decode.c) ---- */

#define XFER_MAX_FIDS 3

struct xfer_fid {
	uint8_t info_type;	     /* FAN_EVENT_INFO_TYPE_FID, _DFID, _DFID_NAME, ... */
	int32_t fsid[2];	     /* __kernel_fsid_t */
	uint32_t handle_bytes;	     /* length of handle */
	int32_t handle_type;	     /* file_handle.handle_type */
	const unsigned char *handle; /* points into the decoded buffer */
	const char *name;	     /* NUL-terminated, in the buffer; NULL if none */
	size_t name_len;
};

struct xfer_event {
	uint64_t mask;
	int fd; /* FAN_NOFD (-1) when the group reports file ids */
	int32_t pid;
	unsigned nfid;
	struct xfer_fid fid[XFER_MAX_FIDS];
	bool has_pidfd;
	int pidfd;
	bool has_error;
	int32_t error;
	uint32_t error_count;
};

struct xfer_decoder {
	const unsigned char *buf;
	size_t len;
	size_t off;
	unsigned index; /* 1-based number of the event being decoded */
};

void xfer_decoder_init(struct xfer_decoder *d, const void *buf, size_t len);
/* 1: *ev filled; 0: end of buffer; -EBADMSG: malformed, diag names the
 * event number and field; decoding stops there. */
int xfer_decoder_next(struct xfer_decoder *d, struct xfer_event *ev, struct pcl_diag *diag);

/* ---- decoder of the eBPF program's ring-buffer records (bpfdecode.c) ---- */

enum { XFER_BPF_EV_OPEN = 1, XFER_BPF_EV_CLOSE = 2, XFER_BPF_EV_EXIT = 3, XFER_BPF_EV_GONE = 4 };

struct xfer_bpf_event {
	unsigned kind; /* XFER_BPF_EV_OPEN, _CLOSE, _EXIT (a process with an io_uring) or
			* _GONE (any other process's last thread exits) */
	pid_t pid;     /* the task's process (thread group id) */
	pid_t tid;
	uid_t uid, euid;
	uint32_t f_flags, f_mode;
	uint64_t cookie; /* pairs an open with its last close */
	uint64_t ino, size, exe_ino;
	uint64_t start_time;   /* exit, gone: the process's, ns since boot (0: unknown) */
	uint32_t exe_dev, dev; /* kernel encoding (major << 20 | minor) */
	char comm[16];	       /* NUL-terminated copy */
	char exe[256];	       /* open, exit: executable at the process's exec, "" if unknown */
	const char *path;      /* open: absolute, NUL-terminated, in the buffer; NULL if unknown */
	size_t path_len;
	bool written; /* close: the file was open for writing (FMODE_WRITE) */
	bool opened;  /* close: the open had completed (FMODE_OPENED) */
};

/* One record as the ring buffer hands it over. 0: *ev filled; -EBADMSG: malformed,
 * diag names the field. */
int xfer_bpf_decode(const void *buf, size_t len, struct xfer_bpf_event *ev, struct pcl_diag *diag);
/* The kernel's encoding of a device number (s_dev) for a user-space dev_t. */
uint32_t xfer_bpf_kdev(dev_t dev);

/* ---- configuration (config.c) ---- */

enum xfer_on_overflow { XFER_OVERFLOW_FAIL_CLOSED = 0, XFER_OVERFLOW_CONTINUE };
/* auto: eBPF when it loads (and no clamd scanning), else fanotify; bpf: eBPF or fail. */
enum xfer_backend {
	XFER_BACKEND_AUTO = 0,
	XFER_BACKEND_BPF,	     /* eBPF, fentry or else tracepoint mode */
	XFER_BACKEND_BPF_TRACEPOINT, /* eBPF in tracepoint mode only */
	XFER_BACKEND_FANOTIFY
};

#define XFER_KEY_MAX 64

struct xfer_config {
	enum xfer_on_overflow on_overflow;	/* on-overflow = fail-closed|continue */
	char clamd_socket[108];			/* clamd-socket = PATH; "" = no scanning */
	unsigned clamd_timeout_ms;		/* clamd-timeout-ms = N (default 10000) */
	unsigned retention_days;		/* retention-days = N (default 365) */
	bool pseudonymise;			/* pseudonymise = yes|no */
	unsigned char pseudo_key[XFER_KEY_MAX]; /* pseudonymise-key = HEX (16..64 bytes) */
	size_t pseudo_key_len;
	unsigned hash_threads;	   /* hash-threads = 1..16 (default 2) */
	unsigned queue_max;	   /* hash-queue = N pending files (default 1024) */
	bool unlimited_queue;	   /* unlimited-queue = yes|no (default no) */
	enum xfer_backend backend; /* xfer-backend = auto|bpf|bpf-tracepoint|fanotify (auto) */
	unsigned bpf_ring_kib;	   /* bpf-ring-kib = 4..65536, a power of two (default 8192) */
};

void xfer_config_defaults(struct xfer_config *c);
/* One "key = value" setting; diag names the key (file/line supplied by caller). */
int xfer_config_set(struct xfer_config *c, const char *key, const char *value, const char *file,
		    unsigned line, struct pcl_diag *diag);
/* A whole "key = value" text (comments with #); diag gives file:line. */
int xfer_config_parse(struct xfer_config *c, const char *text, size_t len, const char *file,
		      struct pcl_diag *diag);
/* Consistency of the whole configuration (after every setting is applied). */
int xfer_config_check(const struct xfer_config *c, const char *file, struct pcl_diag *diag);
/* Wipes the pseudonymisation key. */
void xfer_config_wipe(struct xfer_config *c);

/* ---- records (record.c) ---- */

/* Device identity and approval, supplied by the caller (the gate). */
struct xfer_device {
	const char *id;		 /* e.g. "0781:5581" */
	const char *serial;	 /* USB serial number, may be NULL */
	const char *approval_id; /* approval that let the device in, may be NULL */
	const char *fstype;	 /* filesystem type, may be NULL */
};

/* The notice shown at first insertion. Returns the length written (snprintf). */
int xfer_notice_text(unsigned retention_days, char *buf, size_t len);

/* ---- clamd client (clamd.c) ---- */

/* Parse one clamd reply ("fd[3]: OK", "stream: Sig FOUND", "...: msg ERROR").
 * 0 clean, 1 found (signature copied to sig), -EPROTO malformed/error. */
int xfer_clamd_parse_reply(const char *reply, size_t len, char *sig, size_t siglen);
/* Scan an open fd by passing it to clamd (zFILDES). 0 clean, 1 found, <0 error. */
int xfer_clamd_scan_fd(const char *socket_path, unsigned timeout_ms, int fd, char *sig,
		       size_t siglen);

/* ---- seams ---- */

struct xfer_proc_info {
	uid_t uid;  /* real uid */
	uid_t euid; /* effective uid */
	char exe[4096];
};

struct xfer_proc_ops {
	/* Fill info for pid at this moment; negative errno if the process is gone. */
	int (*lookup)(void *arg, pid_t pid, struct xfer_proc_info *info);
};
extern const struct xfer_proc_ops xfer_proc_procfs; /* reads /proc/PID/status and exe */
/* Real and effective uid from the text of /proc/PID/status; -EPROTO if absent. */
int xfer_parse_proc_status(const char *buf, size_t len, uid_t *uid, uid_t *euid);

struct xfer_scan_ops {
	/* 0 clean, 1 infected (sig filled), negative errno when the scan failed. */
	int (*scan)(void *arg, int fd, char *sig, size_t siglen);
};
/* Scans with clamd at config->clamd_socket; arg is the struct xfer_config. */
extern const struct xfer_scan_ops xfer_scan_clamd;

struct xfer_sink_ops {
	/* One record; called serialised (never concurrently); rec stays owned by the
	 * library and is released after the call (json_object_get to keep it). */
	void (*record)(void *arg, struct json_object *rec);
	/* Queue overflow or a broken watch under on-overflow = fail-closed: the caller
	 * switches the medium read-only / de-authorises it until the Clerk acts. */
	void (*fail_closed)(void *arg, const char *reason);
	/* Optional: every event read so far has its records emitted (the events' queues
	 * were drained and the hash workers are idle): what waits may be sent now. Called
	 * serialised with record, from the event thread or a hash worker. */
	void (*idle)(void *arg);
};

/* ---- tracker (tracker.c) ---- */

struct xfer_tracker;

struct xfer_tracker_params {
	const struct xfer_config *config;
	const struct xfer_device *device;
	const char *mountpoint; /* absolute, paths in records are relative to it */
	const struct xfer_sink_ops *sink;
	void *sink_arg;
	const struct xfer_proc_ops *proc; /* NULL: xfer_proc_procfs */
	void *proc_arg;
	const struct xfer_scan_ops *scan; /* NULL: clamd when config has a socket */
	void *scan_arg;
	int mount_fd; /* fd on the medium for open_by_handle_at; -1: the tracker opens the
		       * mount point for each name event (a lasting fd keeps the mount busy) */
};

int xfer_tracker_new(struct xfer_tracker **out, const struct xfer_tracker_params *p);
/* What the filesystem let us observe; reported in every record. */
void xfer_tracker_set_observability(struct xfer_tracker *t, bool fid_events, const char *reason);
/* Handle one decoded event. For permission events the caller keeps ev->fd and
 * answers with *response (FAN_ALLOW or FAN_DENY); for every other event the
 * tracker takes ownership of ev->fd. */
int xfer_tracker_handle(struct xfer_tracker *t, const struct xfer_event *ev, uint32_t *response);
/* Emit a record of the given action with extra message (start, stop, errors). */
void xfer_tracker_note(struct xfer_tracker *t, const char *action, const char *message);
/* The event thread handled what one read gave (closed files are queued for the hash
 * workers without waking them until this call). drained: the events' queue is empty for
 * now; once the workers are idle too the sink's idle is called. */
void xfer_tracker_flush(struct xfer_tracker *t, bool drained);
/* True while the worker queue is full (the caller should leave close events queued). */
bool xfer_tracker_busy(struct xfer_tracker *t);
/* True once the tracker failed closed (every later open is denied). */
bool xfer_tracker_failed_closed(const struct xfer_tracker *t);
/* Wait until every queued hash job has emitted its record. */
void xfer_tracker_drain(struct xfer_tracker *t);
void xfer_tracker_free(struct xfer_tracker **t);
/* The backend in use and why (xfer.backend, xfer.backend_reason of xfer-watch-started). */
void xfer_tracker_set_backend(struct xfer_tracker *t, const char *backend, const char *reason);
/* Events lost before they reached us: xfer-overflow, then fail closed per policy. */
void xfer_tracker_overflow(struct xfer_tracker *t, const char *message);
/* An open of (dev, ino) by process pid as the eBPF program recorded it in the kernel (its
 * tracepoint mode): its fanotify close is attributed to pi, as after FAN_OPEN_PERM. */
void xfer_tracker_opened(struct xfer_tracker *t, pid_t pid, dev_t dev, ino_t ino,
			 const struct xfer_proc_info *pi);
/* Where the opens come from the kernel's records (the eBPF backend's tracepoint mode). */
struct xfer_open_feed {
	/* Hand the opens recorded so far to xfer_tracker_opened: called once by a close whose
	 * open is not known yet (an open is recorded before its close can be queued). 0 or
	 * negative errno. */
	int (*fetch)(void *arg);
	/* A close whose open no record named, by a process gone or exiting: its identity as
	 * the kernel recorded it at its exit (a process with an io_uring). 0 with *pi filled,
	 * or -ENOENT. */
	int (*exited)(void *arg, pid_t pid, struct xfer_proc_info *pi);
	void *arg;
};
void xfer_tracker_set_open_feed(struct xfer_tracker *t, const struct xfer_open_feed *feed);
/* The eBPF backend: its permission group is marked only to hold opens back while the
 * watcher catches up, or to refuse them once failed closed; such an event is answered
 * (allowed, or refused and recorded) and nothing more. */
void xfer_tracker_set_gate_only(struct xfer_tracker *t);
/* A file closed on the medium, seen by the eBPF backend: fd (owned by the tracker from
 * here) is hashed by the pool and the record emitted; pi NULL when the process is
 * unknown; comm the kernel's task name ("" for none). */
void xfer_tracker_closed(struct xfer_tracker *t, int fd, bool written, pid_t pid,
			 const struct xfer_proc_info *pi, const char *attribution, off_t size,
			 const char *comm);
/* The same when the file could not be opened for hashing (renamed, deleted, path
 * unknown): the record says why in portcullis.hash_error. */
void xfer_tracker_unhashed(struct xfer_tracker *t, bool written, const char *path, pid_t pid,
			   const struct xfer_proc_info *pi, const char *attribution, off_t size,
			   const char *comm, const char *why);

/* ---- watcher (watch.c): fanotify groups and the read loop ---- */

struct xfer_watch {
	int perm_fd;  /* FAN_CLASS_CONTENT: FAN_OPEN_PERM, answered at once */
	int close_fd; /* FAN_CLASS_NOTIF, fd mode: close-write / close-nowrite, read in batches */
	int fid_fd;   /* FAN_CLASS_NOTIF + DFID_NAME: create/delete/rename, or -1 */
	int mount_fd; /* -1 after open: no fd may keep the medium's mount busy */
	bool filesystem_mark; /* FAN_MARK_FILESYSTEM (else FAN_MARK_MOUNT) */
	char fid_reason[128]; /* why fid events are unavailable */
};

/* Root side: open the groups and mark the medium at mountpoint. */
int xfer_watch_open(struct xfer_watch *w, const char *mountpoint, bool unlimited_queue,
		    struct pcl_diag *diag);
/* The same for the eBPF backend: only the names group is marked; the permission group
 * is opened but left unmarked until xfer_watch_mark_opens() (holding back, failing closed). */
int xfer_watch_open_names(struct xfer_watch *w, const char *mountpoint, bool unlimited_queue,
			  struct pcl_diag *diag);
/* The same for the eBPF backend's tracepoint mode: the close group is marked as well (the
 * kernel records the opens, fanotify hands over the closed files). */
int xfer_watch_open_closes(struct xfer_watch *w, const char *mountpoint, bool unlimited_queue,
			   struct pcl_diag *diag);
/* Mark the permission group so that every later open waits for an answer: refused once
 * the tracker failed closed; under eBPF, allowed when the watcher has caught up (held back
 * meanwhile). 0 or negative errno. */
int xfer_watch_mark_opens(struct xfer_watch *w, const char *mountpoint);
/* Remove that mark (eBPF: caught up, opens need not wait any more). 0 or negative errno. */
int xfer_watch_unmark_opens(struct xfer_watch *w, const char *mountpoint);
/* Read and dispatch what one group holds now (yield_when_busy: leave events queued
 * while the hash queue is full). 0 or negative errno. */
int xfer_watch_drain(int fd, struct xfer_tracker *t, bool yield_when_busy);
/* Read and dispatch one read's worth of a group (more only while reads come back full):
 * the events that wait now, not those that come while they are answered. 0 or negative
 * errno. */
int xfer_watch_drain_once(int fd, struct xfer_tracker *t);

/* ---- eBPF backend (bpfwatch.c): the program on the medium's filesystem ---- */

struct xfer_bpf;
/* Load and attach the program for the filesystem whose st_dev is dev, with a ring buffer
 * of ring_kib KiB: with fentry, else (a kernel that refuses fentry, or tracepoint_only)
 * in tracepoint mode,
 * which needs the close group (xfer_watch_open_closes). 0, with what was attached in d
 * (file "", for the watch's started record), or negative errno with why in d (no BTF, no
 * permission, not built, ...). */
int xfer_bpf_open(struct xfer_bpf **out, dev_t dev, unsigned ring_kib, bool tracepoint_only,
		  struct pcl_diag *d);
/* Consume the ring buffer (and the names group of w) until *stop; open records are kept
 * by the struct file they name, each close completes its record. In tracepoint mode the
 * opens go to the tracker and the close group of w completes them. 0 or negative errno. */
int xfer_bpf_run(struct xfer_bpf *b, struct xfer_watch *w, const char *mountpoint,
		 struct xfer_tracker *t, volatile sig_atomic_t *stop);
void xfer_bpf_close(struct xfer_bpf **b);
/* xfer.backend: "bpf" (fentry) or "bpf-tracepoint" (opens from the kernel, closes from
 * fanotify). */
const char *xfer_bpf_backend(const struct xfer_bpf *b);
/* Read and dispatch until *stop is set or a fatal error; answers permission
 * events as soon as the tracker decides. Returns 0 or negative errno. */
int xfer_watch_run(struct xfer_watch *w, struct xfer_tracker *t, volatile sig_atomic_t *stop);
void xfer_watch_close(struct xfer_watch *w);

#endif
