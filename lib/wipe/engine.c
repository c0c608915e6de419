/*
 * engine.c - the wipe engine: one pass of the keyed pattern over the whole medium,
 * flush, a full read-back that regenerates and compares, then an optional discard.
 * Double buffered: a worker thread produces chunk i+1 (pattern, or a read) while the
 * calling thread consumes chunk i (write, or compare), so the CPU work hides behind I/O.
 * Linked by portcullis-wiper and tests. The I/O seam is trusted code; the bytes read
 * back from the medium are untrusted (only compared, never interpreted).
 */
#include "wipe.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NSLOTS 2

struct slot {
	uint8_t *buf;
	uint64_t off;
	size_t len;
	int full; /* produced, waiting for the consumer */
	int err;  /* producer failure for this chunk (-errno, or 1 for a short read/write) */
};

struct engine;
typedef int (*stage_fn)(struct engine *e, struct slot *s);

struct engine {
	const struct wipe_io_ops *ops;
	void *io;
	const struct wipe_params *p;
	struct wipe_result *res;
	struct wipe_pattern *pat_worker, *pat_main;
	uint8_t *expect; /* consumer's regenerated pattern in the verify phase */
	struct slot slots[NSLOTS];
	uint64_t size;
	uint32_t chunk, block;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int abort;
	stage_fn produce;
	enum wipe_phase phase;
	struct timespec t0, phase_t0, last_report;
};

static double since(const struct timespec *a)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - a->tv_sec) + (double)(now.tv_nsec - a->tv_nsec) / 1e9;
}

static void fail(struct engine *e, enum wipe_status st, int err, uint64_t off, const char *what)
{
	struct wipe_result *r = e->res;

	if (r->status != WIPE_OK)
		return;
	r->status = st;
	r->err = err;
	r->first_bad = off;
	r->first_bad_block = off / e->block;
	snprintf(r->reason, sizeof(r->reason), "%s at byte %llu (block %llu)%s%s", what,
		 (unsigned long long)off, (unsigned long long)(off / e->block), err ? ": " : "",
		 err ? strerror(err) : "");
}

static void io_fail(struct engine *e, int err, uint64_t off, const char *op)
{
	char what[64];

	if (err == ENODEV || err == ENXIO || err == ENOMEDIUM || err == ESHUTDOWN) {
		snprintf(what, sizeof(what), "device gone during %s", op);
		fail(e, WIPE_ERR_GONE, err, off, what);
	} else if (err == ENOSPC || err == 0) {
		snprintf(what, sizeof(what), "device ended early (%s)", op);
		fail(e, WIPE_ERR_SHORT, err, off, what);
	} else {
		snprintf(what, sizeof(what), "I/O error on %s", op);
		fail(e, WIPE_ERR_IO, err, off, what);
	}
}

static void report(struct engine *e, uint64_t done, int force)
{
	struct wipe_progress pr;
	double iv = e->p->progress_interval > 0 ? e->p->progress_interval : 0.5;
	double t = since(&e->phase_t0);

	if (e->p->progress == NULL || (!force && since(&e->last_report) < iv))
		return;
	clock_gettime(CLOCK_MONOTONIC, &e->last_report);
	pr.phase = e->phase;
	pr.done = done;
	pr.total = e->size;
	pr.rate = t > 0 ? (double)done / t : 0;
	pr.elapsed = since(&e->t0);
	pr.eta = 0;
	if (pr.rate > 0) {
		pr.eta = (double)(e->size - done) / pr.rate;
		if (e->phase == WIPE_PHASE_WRITE && e->p->verify)
			pr.eta += (double)e->size / pr.rate;
	}
	e->p->progress(e->p->progress_ctx, &pr);
}

/* Write or read all of s, retrying partial transfers; 0, -errno, or 1 when short. */
static int full_io(struct engine *e, struct slot *s, int write)
{
	size_t done = 0;

	while (done < s->len) {
		ssize_t n = write
				? e->ops->pwrite(e->io, s->buf + done, s->len - done, s->off + done)
				: e->ops->pread(e->io, s->buf + done, s->len - done, s->off + done);
		if (n < 0) {
			if (n == -EINTR)
				continue;
			s->off += done;
			return (int)n;
		}
		if (n == 0) {
			s->off += done;
			return 1;
		}
		done += (size_t)n;
	}
	return 0;
}

static int produce_pattern(struct engine *e, struct slot *s)
{
	return wipe_pattern_fill(e->pat_worker, s->off, s->buf, s->len);
}

static int produce_read(struct engine *e, struct slot *s)
{
	return full_io(e, s, 0);
}

static int consume_write(struct engine *e, struct slot *s)
{
	int r = full_io(e, s, 1);

	if (r != 0) {
		io_fail(e, r == 1 ? 0 : -r, s->off, "write");
		return -1;
	}
	e->res->written = s->off + s->len;
	return 0;
}

static void diagnose(struct engine *e, const struct slot *s)
{
	size_t i = 0;
	uint64_t at, from;

	while (i + 16 <= s->len && memcmp(s->buf + i, e->expect + i, 16) == 0)
		i += 16;
	at = s->off + i;
	if (i + 16 <= s->len && wipe_pattern_locate(e->pat_main, s->buf + i, &from) == 0) {
		char what[120];

		snprintf(
		    what, sizeof(what),
		    "fake capacity, addresses wrap: read back the pattern written for byte %llu "
		    "(block %llu)",
		    (unsigned long long)from, (unsigned long long)(from / e->block));
		fail(e, WIPE_ERR_WRAPPED, 0, at, what);
		e->res->wrapped_to = from;
		return;
	}
	fail(e, WIPE_ERR_MISMATCH, 0, at, "read-back differs from the written pattern");
}

static int consume_compare(struct engine *e, struct slot *s)
{
	if (wipe_pattern_fill(e->pat_main, s->off, e->expect, s->len) != 0) {
		fail(e, WIPE_ERR_INTERNAL, 0, s->off, "pattern generation failed");
		return -1;
	}
	if (memcmp(s->buf, e->expect, s->len) != 0) {
		diagnose(e, s);
		return -1;
	}
	e->res->verified = s->off + s->len;
	return 0;
}

static void *worker(void *arg)
{
	struct engine *e = arg;
	uint64_t off = 0;

	for (unsigned i = 0; off < e->size; i++, off += e->chunk) {
		struct slot *s = &e->slots[i % NSLOTS];
		int r;

		pthread_mutex_lock(&e->mu);
		while (s->full && !e->abort)
			pthread_cond_wait(&e->cv, &e->mu);
		if (e->abort) {
			pthread_mutex_unlock(&e->mu);
			break;
		}
		pthread_mutex_unlock(&e->mu);
		s->off = off;
		s->len = e->size - off < e->chunk ? (size_t)(e->size - off) : e->chunk;
		r = e->produce(e, s);
		pthread_mutex_lock(&e->mu);
		s->err = r;
		s->full = 1;
		pthread_cond_broadcast(&e->cv);
		pthread_mutex_unlock(&e->mu);
		if (r != 0)
			break;
	}
	return NULL;
}

static int pipeline(struct engine *e, enum wipe_phase phase, stage_fn produce, stage_fn consume,
		    const char *op)
{
	pthread_t th;
	uint64_t off = 0;
	int rc = 0;

	e->phase = phase;
	e->produce = produce;
	e->abort = 0;
	for (int i = 0; i < NSLOTS; i++)
		e->slots[i].full = 0;
	clock_gettime(CLOCK_MONOTONIC, &e->phase_t0);
	if (!e->p->single_thread && pthread_create(&th, NULL, worker, e) != 0) {
		fail(e, WIPE_ERR_INTERNAL, 0, 0, "cannot start worker thread");
		return -1;
	}
	for (unsigned i = 0; off < e->size; i++, off += e->chunk) {
		struct slot *s = &e->slots[i % NSLOTS];
		uint64_t done;

		if (e->p->single_thread) {
			/* Measurement baseline: produce inline, nothing overlaps. */
			s->off = off;
			s->len = e->size - off < e->chunk ? (size_t)(e->size - off) : e->chunk;
			s->err = produce(e, s);
			s->full = 1;
		}
		pthread_mutex_lock(&e->mu);
		while (!s->full)
			pthread_cond_wait(&e->cv, &e->mu);
		pthread_mutex_unlock(&e->mu);
		if (s->err < 0 && produce == produce_pattern) {
			fail(e, WIPE_ERR_INTERNAL, 0, s->off, "pattern generation failed");
			rc = -1;
		} else if (s->err != 0) {
			io_fail(e, s->err == 1 ? 0 : -s->err, s->off, op);
			rc = -1;
		} else if (e->p->cancelled != NULL && e->p->cancelled(e->p->progress_ctx)) {
			fail(e, WIPE_ERR_CANCELLED, 0, s->off,
			     phase == WIPE_PHASE_WRITE ? "cancelled during the write pass"
						       : "cancelled during verification");
			rc = -1;
		} else {
			rc = consume(e, s);
		}
		/* Read the slot before handing it back: the worker refills it at once. */
		done = s->off + s->len;
		pthread_mutex_lock(&e->mu);
		s->full = 0;
		if (rc != 0)
			e->abort = 1;
		pthread_cond_broadcast(&e->cv);
		pthread_mutex_unlock(&e->mu);
		if (rc != 0)
			break;
		report(e, done, done == e->size);
	}
	if (!e->p->single_thread)
		pthread_join(th, NULL);
	return rc;
}

static int flush_dev(struct engine *e)
{
	int r = e->ops->flush ? e->ops->flush(e->io) : 0;

	if (r < 0) {
		io_fail(e, -r, e->res->written, "flush");
		return -1;
	}
	return 0;
}

static void engine_free(struct engine *e)
{
	for (int i = 0; i < NSLOTS; i++)
		free(e->slots[i].buf);
	free(e->expect);
	wipe_pattern_free(&e->pat_worker);
	wipe_pattern_free(&e->pat_main);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cv);
}

int wipe_run(const struct wipe_io_ops *ops, void *io_ctx, const uint8_t key[WIPE_KEY_LEN],
	     const struct wipe_params *p, struct wipe_result *res)
{
	struct engine e = {.ops = ops, .io = io_ctx, .p = p, .res = res};
	int r = 0;

	memset(res, 0, sizeof(*res));
	e.chunk = p->chunk ? p->chunk : WIPE_CHUNK_DEFAULT;
	e.block = p->block ? p->block : 512;
	e.size = p->size;
	if (ops == NULL || ops->pwrite == NULL || ops->pread == NULL || e.size == 0 ||
	    e.block % 16 != 0 || e.chunk % e.block != 0 || e.size % e.block != 0)
		return -EINVAL;
	pthread_mutex_init(&e.mu, NULL);
	pthread_cond_init(&e.cv, NULL);
	for (int i = 0; i < NSLOTS; i++)
		if (posix_memalign((void **)&e.slots[i].buf, WIPE_ALIGN, e.chunk) != 0)
			e.slots[i].buf = NULL;
	if (posix_memalign((void **)&e.expect, WIPE_ALIGN, e.chunk) != 0)
		e.expect = NULL;
	if (e.slots[0].buf == NULL || e.slots[1].buf == NULL || e.expect == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = wipe_pattern_new(&e.pat_worker, key)) != 0 ||
	    (r = wipe_pattern_new(&e.pat_main, key)) != 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &e.t0);
	e.last_report = e.t0;

	if (pipeline(&e, WIPE_PHASE_WRITE, produce_pattern, consume_write, "write") != 0 ||
	    flush_dev(&e) != 0)
		goto done;
	res->write_seconds = since(&e.phase_t0);
	if (p->verify) {
		if (pipeline(&e, WIPE_PHASE_VERIFY, produce_read, consume_compare, "read") != 0)
			goto done;
		res->verify_seconds = since(&e.phase_t0);
	}
	if (p->discard && ops->discard != NULL) {
		e.phase = WIPE_PHASE_DISCARD;
		/* A verified overwrite stands on its own: a refused discard is only noted. */
		res->discarded = ops->discard(io_ctx, 0, e.size) == 0;
	}
done:
	e.phase = WIPE_PHASE_DONE;
out:
	engine_free(&e);
	return r;
}

const char *wipe_status_name(enum wipe_status s)
{
	static const char *const names[] = {
	    [WIPE_OK] = "ok",
	    [WIPE_ERR_MISMATCH] = "mismatch",
	    [WIPE_ERR_WRAPPED] = "wrapped",
	    [WIPE_ERR_SHORT] = "short",
	    [WIPE_ERR_IO] = "io-error",
	    [WIPE_ERR_GONE] = "device-gone",
	    [WIPE_ERR_INTERNAL] = "internal",
	    [WIPE_ERR_CANCELLED] = "cancelled",
	    [WIPE_ERR_REFUSED] = "refused",
	};

	if ((unsigned)s < sizeof(names) / sizeof(names[0]))
		return names[s];
	return "unknown";
}

int wipe_status_parse(const char *name, enum wipe_status *out)
{
	for (int s = WIPE_OK; s <= WIPE_ERR_REFUSED; s++)
		if (strcmp(name, wipe_status_name((enum wipe_status)s)) == 0) {
			*out = (enum wipe_status)s;
			return 0;
		}
	return -EINVAL;
}
