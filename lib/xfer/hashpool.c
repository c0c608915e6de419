/*
 * hashpool.c - worker threads that compute SHA-256 (OpenSSL EVP) of files
 * closed on the medium, off the writing process's critical path.
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

struct xfer_hashpool {
	pthread_mutex_t lock;
	pthread_cond_t more;  /* a job was queued or stop was set */
	pthread_cond_t space; /* a job was taken */
	pthread_cond_t idle;  /* queue empty and no job running */
	struct xfer_job *head, *tail;
	unsigned queued, running, queue_max, nthreads;
	bool stop;
	pthread_t threads[MAX_THREADS];
};

int xfer_sha256_fd(int fd, uint64_t expect, unsigned char digest[32], uint64_t *hashed)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *buf = malloc(CHUNK);
	int rc = 0;
	*hashed = 0;
	if (ctx == NULL || buf == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		/* A file longer than one chunk: read ahead (a small one costs no extra call). */
		if (*hashed == CHUNK)
			posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		ssize_t n = pread(fd, buf, CHUNK, (off_t)*hashed);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n)) {
			rc = -EIO;
			goto out;
		}
		*hashed += (uint64_t)n;
		/* A short read at the size seen at close is the end: a small file costs one
		 * read. Short of it, or a full chunk, read on (a file grown since is hashed
		 * whole and flagged by the caller). */
		if ((size_t)n < CHUNK && *hashed >= expect)
			break;
	}
	unsigned len = 0;
	if (!EVP_DigestFinal_ex(ctx, digest, &len) || len != 32)
		rc = -EIO;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return rc;
}

static void *worker(void *arg)
{
	struct xfer_hashpool *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->head == NULL && !p->stop)
			pthread_cond_wait(&p->more, &p->lock);
		if (p->head == NULL && p->stop)
			break;
		struct xfer_job *j = p->head;
		p->head = j->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->queued--;
		p->running++;
		pthread_cond_signal(&p->space);
		pthread_mutex_unlock(&p->lock);

		j->run(j);

		pthread_mutex_lock(&p->lock);
		p->running--;
		if (p->head == NULL && p->running == 0)
			pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->lock);
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
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->more, NULL);
	pthread_cond_init(&p->space, NULL);
	pthread_cond_init(&p->idle, NULL);
	for (unsigned i = 0; i < threads; i++) {
		int rc = pthread_create(&p->threads[i], NULL, worker, p);
		if (rc != 0) {
			xfer_hashpool_free(&p);
			return -rc;
		}
		p->nthreads++;
	}
	*out = p;
	return 0;
}

void xfer_hashpool_submit(struct xfer_hashpool *p, struct xfer_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&p->lock);
	while (p->queued >= p->queue_max)
		pthread_cond_wait(&p->space, &p->lock); /* back-pressure onto the kernel queue */
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->queued++;
	pthread_cond_signal(&p->more);
	pthread_mutex_unlock(&p->lock);
}

bool xfer_hashpool_full(struct xfer_hashpool *p)
{
	pthread_mutex_lock(&p->lock);
	bool full = p->queued >= p->queue_max;
	pthread_mutex_unlock(&p->lock);
	return full;
}

void xfer_hashpool_drain(struct xfer_hashpool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->head != NULL || p->running > 0)
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
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->more);
	pthread_cond_destroy(&p->space);
	pthread_cond_destroy(&p->idle);
	free(p);
	*pp = NULL;
}
