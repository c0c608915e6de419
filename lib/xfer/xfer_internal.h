/*
 * xfer_internal.h - helpers shared by the files of lib/xfer only.
 * Linked by portcullis-xferwatch through libxfer. Inputs are the tracker's own
 * values (already validated).
 */
#ifndef XFER_INTERNAL_H
#define XFER_INTERNAL_H

#include <json-c/json.h>
#include <openssl/evp.h>

#include "xfer.h"

struct xfer_obs {
	bool fid_events;
	char reason[128];
};

/* A new flat ECS record: event.created, event.*, device.*, observability.*. */
struct json_object *xfer_rec_new(const char *action, const struct xfer_device *dev,
				 const struct xfer_config *cfg, const struct xfer_obs *obs);
/* Set a flat ECS key ("file.hash.sha256"). */
void xfer_rec_set_str(struct json_object *rec, const char *path, const char *value);
void xfer_rec_set_int(struct json_object *rec, const char *path, int64_t value);
void xfer_rec_set_bool(struct json_object *rec, const char *path, bool value);
/* file.path (pseudonymised when configured). */
void xfer_rec_set_path(struct json_object *rec, const char *path, const struct xfer_config *cfg,
		       const char *relpath);
/* user.* and process.*; info may be NULL when the process was gone. */
void xfer_rec_set_actor(struct json_object *rec, pid_t pid, const struct xfer_proc_info *info,
			const char *user_name, const char *attribution);
/* "hmac-sha256:" + hex of HMAC-SHA256(key, in). */
int xfer_pseudonym(const struct xfer_config *cfg, const char *in, char *out, size_t outlen);

/* SHA-256 of files with a context and a read buffer made once and reused (one per worker
 * thread of the pool, never shared between threads). */
struct xfer_hasher {
	const EVP_MD *md;
	EVP_MD_CTX *ctx;
	unsigned char *buf;
};
int xfer_hasher_init(struct xfer_hasher *h, const EVP_MD *md);
void xfer_hasher_fini(struct xfer_hasher *h);
/* SHA-256 of a file's content from offset 0 to its end. expect: the size it had at close;
 * a short read that has reached it is taken as the end without one more read to see 0
 * (UINT64_MAX: read until a read returns 0). */
int xfer_hasher_fd(struct xfer_hasher *h, int fd, uint64_t expect, unsigned char digest[32],
		   uint64_t *hashed);
/* The same with a hasher made and freed for this one file. */
int xfer_sha256_fd(int fd, uint64_t expect, unsigned char digest[32], uint64_t *hashed);

/* Worker pool (hashpool.c): jobs build, hash and emit records off the
 * reader's critical path. A job is embedded in the caller's struct; run()
 * does the work with its worker's hasher and frees the job. A worker takes up to 8
 * queued jobs per lock hold, so at most queue_max jobs wait plus 8 per worker run. */
struct xfer_job {
	struct xfer_job *next;
	void (*run)(struct xfer_job *job, struct xfer_hasher *h);
};
struct xfer_hashpool;
int xfer_hashpool_new(struct xfer_hashpool **out, unsigned threads, unsigned queue_max);
/* Queue a job; blocks while queue_max jobs are pending (back-pressure). defer: wake no
 * worker yet (the caller queues more and calls xfer_hashpool_kick when done; 16 deferred
 * jobs or a full queue wake them anyway). */
void xfer_hashpool_submit(struct xfer_hashpool *p, struct xfer_job *job, bool defer);
/* Wake the workers for the jobs queued with defer. */
void xfer_hashpool_kick(struct xfer_hashpool *p);
/* fn(arg) on a worker thread, outside the pool's lock, each time the last job in hand is
 * done (queue empty, no job running); xfer_hashpool_idle may be true while it runs. */
void xfer_hashpool_on_idle(struct xfer_hashpool *p, void (*fn)(void *arg), void *arg);
/* Wakes the workers for deferred jobs, then waits until every job is done and every
 * on_idle call that followed has returned. */
void xfer_hashpool_drain(struct xfer_hashpool *p);
bool xfer_hashpool_full(struct xfer_hashpool *p);
/* No job queued or running. */
bool xfer_hashpool_idle(struct xfer_hashpool *p);
void xfer_hashpool_free(struct xfer_hashpool **p);

/* Who a process is, remembered between its opens (pidcache.c); the event thread's only. */
struct xfer_pidcache;
int xfer_pidcache_new(struct xfer_pidcache **out);
/* Whether this kernel lets processes be remembered (PIDFD_GET_INFO). */
bool xfer_pidcache_supported(const struct xfer_pidcache *c);
/* pi of pid: from the entry of the same living process (its uid and euid asked of its
 * pidfd, its executable read again), else from ops->lookup, remembered for next time.
 * 0 or negative errno (the process is gone); c NULL: ops->lookup alone. */
int xfer_pidcache_lookup(struct xfer_pidcache *c, const struct xfer_proc_ops *ops, void *arg,
			 pid_t pid, struct xfer_proc_info *pi);
/* How many lookups were answered from an entry (for tests and benchmarks). */
unsigned long xfer_pidcache_hits(const struct xfer_pidcache *c);
void xfer_pidcache_free(struct xfer_pidcache **c);

/* Closed files waiting to be opened for hashing (closeq.c; the eBPF backend under fentry):
 * first in, first out, at most max; the items are the caller's, linked through their
 * first member. */
struct xfer_closeq_item {
	struct xfer_closeq_item *next;
};
struct xfer_closeq {
	struct xfer_closeq_item *head, *tail;
	unsigned len, max;
};
void xfer_closeq_init(struct xfer_closeq *q, unsigned max);
/* 0, or -ENOSPC when max items wait already (the item is then not linked). */
int xfer_closeq_push(struct xfer_closeq *q, struct xfer_closeq_item *it);
/* The oldest item, unlinked; NULL when none waits. */
struct xfer_closeq_item *xfer_closeq_pop(struct xfer_closeq *q);
/* Whether the oldest waiting file may be opened now: not while opens are held back (this
 * thread answers them) nor while the hash queue is full; always once the log failed closed
 * (nothing is opened then: it is logged unhashed). */
bool xfer_closeq_may_go(bool held, bool busy, bool failed_closed);
/* Whether a file closed now must wait rather than be opened at once: when it may not go,
 * or behind others that wait (unless failed closed). */
bool xfer_closeq_must_wait(const struct xfer_closeq *q, bool held, bool busy, bool failed_closed);

#endif
