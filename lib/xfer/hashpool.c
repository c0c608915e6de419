/*
 * hashpool.c - worker threads that compute SHA-256 (OpenSSL EVP) of files
 * closed on the medium, off the writing process's critical path: each worker
 * keeps one digest context and read buffer (wiped after each file), and takes
 * the jobs of one hand-over several at a time with one wake-up.
 * Linked by portcullis-xferwatch. Input: fds handed over by the tracker (the
 * file content itself is hashed, never interpreted).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/evp.h>

#include "xfer_internal.h"

#define MAX_THREADS 16
#define CHUNK	    (256 * 1024)
#define TAKE_MAX    8  /* jobs a worker takes per lock hold */
#define KICK_EVERY  16 /* jobs queued without a wake-up before one is sent anyway */

struct xfer_hashpool {
	pthread_mutex_t lock;
	pthread_cond_t more;  /* jobs were handed over or stop was set */
	pthread_cond_t space; /* a job was taken */
	pthread_cond_t idle;  /* queue empty and no job running */
	struct xfer_job *head, *tail;
	unsigned queued, running, queue_max, nthreads;
	unsigned share_div; /* the workers asked for (set before the first starts) */
	unsigned unkicked;  /* jobs queued since the workers were last woken */
	unsigned sleeping;  /* workers waiting on more */
	unsigned in_hook;   /* workers in on_idle */
	bool stop;
	EVP_MD *md; /* SHA-256, fetched once for every worker */
	void (*on_idle)(void *arg);
	void *idle_arg;
	pthread_t threads[MAX_THREADS];
};

struct pool_worker {
	struct xfer_hashpool *pool;
	struct xfer_hasher hasher;
};

int xfer_hasher_init(struct xfer_hasher *h, const EVP_MD *md)
{
	h->md = md;
	h->ctx = EVP_MD_CTX_new();
	h->buf = malloc(CHUNK);
	if (h->ctx == NULL || h->buf == NULL) {
		xfer_hasher_fini(h);
		return -ENOMEM;
	}
	return 0;
}

void xfer_hasher_fini(struct xfer_hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	free(h->buf);
	h->ctx = NULL;
	h->buf = NULL;
}

int xfer_hasher_fd(struct xfer_hasher *h, int fd, uint64_t expect, unsigned char digest[32],
		   uint64_t *hashed)
{
	size_t used = 0; /* bytes of the buffer holding the file's content */
	int rc = 0;
	*hashed = 0;
	if (!EVP_DigestInit_ex(h->ctx, h->md, NULL))
		return -ENOMEM;
	for (;;) {
		/* A file longer than one chunk: read ahead (a small one costs no extra call). */
		if (*hashed == CHUNK)
			posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		ssize_t n = pread(fd, h->buf, CHUNK, (off_t)*hashed);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		if ((size_t)n > used)
			used = (size_t)n;
		if (!EVP_DigestUpdate(h->ctx, h->buf, (size_t)n)) {
			rc = -EIO;
			break;
		}
		*hashed += (uint64_t)n;
		/* A short read at the size seen at close is the end: a small file costs one
		 * read. Short of it, or a full chunk, read on (a file grown since is hashed
		 * whole and flagged by the caller). */
		if ((size_t)n < CHUNK && *hashed >= expect)
			break;
	}
	unsigned len = 0;
	if (rc == 0 && (!EVP_DigestFinal_ex(h->ctx, digest, &len) || len != 32))
		rc = -EIO;
	/* The buffer outlives the file: none of its content stays in the watcher's memory. */
	explicit_bzero(h->buf, used);
	return rc;
}

int xfer_sha256_fd(int fd, uint64_t expect, unsigned char digest[32], uint64_t *hashed)
{
	struct xfer_hasher h;
	*hashed = 0;
	int rc = xfer_hasher_init(&h, EVP_sha256());
	if (rc == 0)
		rc = xfer_hasher_fd(&h, fd, expect, digest, hashed);
	xfer_hasher_fini(&h);
	return rc;
}

/* Wake workers for what was queued since the last wake-up (lock held): one wake-up per
 * sleeping worker that has a share of it, none while every worker is busy. */
static void kick_locked(struct xfer_hashpool *p)
{
	if (p->unkicked == 0)
		return;
	p->unkicked = 0;
	unsigned want = (p->queued + TAKE_MAX - 1) / TAKE_MAX;
	if (want >= p->sleeping)
		pthread_cond_broadcast(&p->more);
	else
		for (unsigned i = 0; i < want; i++)
			pthread_cond_signal(&p->more);
}

static void *worker(void *arg)
{
	struct pool_worker *w = arg;
	struct xfer_hashpool *p = w->pool;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->head == NULL && !p->stop) {
			p->sleeping++;
			pthread_cond_wait(&p->more, &p->lock);
			p->sleeping--;
		}
		if (p->head == NULL && p->stop)
			break;
		/* Several jobs per lock hold, leaving a share for the other workers. */
		unsigned share = (p->queued + p->share_div - 1) / p->share_div;
		if (share > TAKE_MAX)
			share = TAKE_MAX;
		struct xfer_job *batch = p->head, *last = p->head;
		unsigned k = 1;
		while (k < share && last->next != NULL) {
			last = last->next;
			k++;
		}
		p->head = last->next;
		last->next = NULL;
		if (p->head == NULL)
			p->tail = NULL;
		p->queued -= k;
		p->running += k;
		if (p->head == NULL)
			p->unkicked = 0; /* nothing left unwoken */
		pthread_cond_broadcast(&p->space);
		pthread_mutex_unlock(&p->lock);

		while (batch != NULL) {
			struct xfer_job *j = batch;
			batch = j->next;
			j->run(j, &w->hasher);
		}

		pthread_mutex_lock(&p->lock);
		p->running -= k;
		if (p->head == NULL && p->running == 0 && p->on_idle != NULL) {
			/* Nothing left in hand: the caller may send what waits (a drain waits
			 * for this call too). */
			p->in_hook++;
			pthread_mutex_unlock(&p->lock);
			p->on_idle(p->idle_arg);
			pthread_mutex_lock(&p->lock);
			p->in_hook--;
		}
		if (p->head == NULL && p->running == 0 && p->in_hook == 0)
			pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->lock);
	xfer_hasher_fini(&w->hasher);
	free(w);
	return NULL;
}

int xfer_hashpool_new(struct xfer_hashpool **out, unsigned threads, unsigned queue_max)
{
	struct xfer_hashpool *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	if (threads == 0)
		threads = 1;
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	p->queue_max = queue_max ? queue_max : 1;
	p->share_div = threads;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->more, NULL);
	pthread_cond_init(&p->space, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (p->md == NULL) {
		xfer_hashpool_free(&p);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < threads; i++) {
		struct pool_worker *w = calloc(1, sizeof(*w));
		int rc = w == NULL ? ENOMEM : xfer_hasher_init(&w->hasher, p->md) < 0 ? ENOMEM : 0;
		if (rc == 0) {
			w->pool = p;
			rc = pthread_create(&p->threads[i], NULL, worker, w);
		}
		if (rc != 0) {
			if (w != NULL)
				xfer_hasher_fini(&w->hasher);
			free(w);
			xfer_hashpool_free(&p);
			return -rc;
		}
		p->nthreads++;
	}
	*out = p;
	return 0;
}

void xfer_hashpool_on_idle(struct xfer_hashpool *p, void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&p->lock);
	p->on_idle = fn;
	p->idle_arg = arg;
	pthread_mutex_unlock(&p->lock);
}

void xfer_hashpool_submit(struct xfer_hashpool *p, struct xfer_job *j, bool defer)
{
	j->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->queued >= p->queue_max) {
		kick_locked(p); /* what waits unwoken must make the room */
		while (p->queued >= p->queue_max)
			pthread_cond_wait(&p->space, &p->lock); /* back-pressure onto the kernel */
	}
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->queued++;
	p->unkicked++;
	if (!defer || p->unkicked >= KICK_EVERY)
		kick_locked(p);
	pthread_mutex_unlock(&p->lock);
}

void xfer_hashpool_kick(struct xfer_hashpool *p)
{
	pthread_mutex_lock(&p->lock);
	kick_locked(p);
	pthread_mutex_unlock(&p->lock);
}

bool xfer_hashpool_idle(struct xfer_hashpool *p)
{
	pthread_mutex_lock(&p->lock);
	bool idle = p->head == NULL && p->running == 0;
	pthread_mutex_unlock(&p->lock);
	return idle;
}

bool xfer_hashpool_full(struct xfer_hashpool *p)
{
	pthread_mutex_lock(&p->lock);
	/* Jobs a worker has taken but not finished count too (up to TAKE_MAX each): the
	 * files in hand stay within the bound while opens are held back. */
	bool full = p->queued + p->running >= p->queue_max;
	pthread_mutex_unlock(&p->lock);
	return full;
}

void xfer_hashpool_drain(struct xfer_hashpool *p)
{
	pthread_mutex_lock(&p->lock);
	kick_locked(p);
	while (p->head != NULL || p->running > 0 || p->in_hook > 0)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void xfer_hashpool_free(struct xfer_hashpool **pp)
{
	struct xfer_hashpool *p = *pp;
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->more);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	EVP_MD_free(p->md);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->more);
	pthread_cond_destroy(&p->space);
	pthread_cond_destroy(&p->idle);
	free(p);
	*pp = NULL;
}
