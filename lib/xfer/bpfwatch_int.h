/*
 * bpfwatch_int.h - the eBPF backend's state, shared by its two halves: bpfwatch.c (the
 * program's load, its records of opens, closes and exits, the closed files waiting to be
 * hashed) and bpfrun.c (the run loop: when the ring and the groups are read, holding opens
 * back). Linked by portcullis-xferwatch; the state is the watcher's own.
 */
#ifndef PCL_XFER_BPFWATCH_INT_H
#define PCL_XFER_BPFWATCH_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "xfer.h"
#include "xfer_internal.h"

struct xfer_prog;
struct ring_buffer;

#define OPEN_BUCKETS 8192
#define OPEN_MAX     65536 /* files open on the medium at once that we remember */
#define EXE_CACHE    256
#define EXITED	     1024 /* tracepoint mode: exits of processes with an io_uring, kept */
#define EXITED_HASH  2048 /* their buckets by process id (a power of two) */

struct open_rec {
	struct open_rec *next;
	uint64_t cookie;
	pid_t pid;
	uid_t uid, euid;
	char comm[16];
	char *exe;  /* NULL: unknown */
	char *path; /* NULL: the kernel could not resolve it */
};

/* Fentry: a closed file that waits to be opened for hashing (opens held back, or no room
 * in the hash queue), with who wrote it. */
struct waiting {
	struct xfer_closeq_item item; /* first: the list's link */
	char *path;
	uint64_t ino;
	bool written;
	pid_t pid;
	uid_t uid, euid;
	char *exe; /* NULL: unknown */
	const char *attribution;
	off_t size;
	char comm[16];
};

struct exe_ent {
	uint64_t ino;
	uint32_t dev;
	char *path;
};

/* A process with an io_uring that exited: who it was, for its files' closes. Kept by its
 * exact process id (a hash with chains), the oldest going first when all are in use; dropped
 * when another process with that id exits. */
struct exited {
	pid_t pid;	/* 0: free */
	uint64_t start; /* the process's start time (0: unknown) */
	uid_t uid, euid;
	char *exe;     /* NULL: unknown */
	unsigned next; /* the next in its bucket: index + 1, 0 for none */
};

struct xfer_bpf {
	struct xfer_prog *skel;
	struct ring_buffer *rb;
	struct xfer_tracker *t;
	bool tracepoint; /* opens at tp_btf/sys_exit, closes from fanotify (fentry refused) */
	dev_t dev;
	uint32_t kdev;
	uint64_t dropped_seen;
	int error;
	unsigned nopen;
	struct open_rec *table[OPEN_BUCKETS];
	struct exe_ent exe[EXE_CACHE];
	struct exited exited[EXITED];	   /* a ring in the order they came */
	unsigned exited_head[EXITED_HASH]; /* each bucket's first: index + 1, 0 for none */
	unsigned exited_seq;		   /* where the next goes: the oldest, when full */
	struct xfer_open_feed feed;
	bool held;	 /* the permission group is marked to hold opens back */
	bool overflowed; /* fentry: closed files had to be logged unhashed (the list full) */
	struct xfer_closeq waiting; /* fentry: closed files not yet opened for hashing */
};

/* The watch starts: the records go to t (and, in tracepoint mode, t asks the ring for the
 * open of a close it does not know). */
void xfer_bpfw_attach(struct xfer_bpf *b, struct xfer_tracker *t);
/* Everything the ring holds now, then what the kernel could not put in it. 0 or negative
 * errno. */
int xfer_bpfw_consume(struct xfer_bpf *b);
/* Fentry: the closed files that waited, opened and handed over in the order they were
 * closed, while they may go (finishing: all of them, logged unhashed where they may not). */
void xfer_bpfw_run_waiting(struct xfer_bpf *b, bool finishing);

#endif
