/*
 * test_hashpool.c - unit tests of the hash workers (lib/xfer/hashpool.c): each worker's
 * reused context and read buffer give every file its own right digest, whatever ran
 * before on that worker (files shorter and longer than one 256 KiB read, empty, grown
 * after close); jobs queued without a wake-up run once kicked, and a full queue wakes the
 * workers itself; the idle hook is called once all is done. Real files in a temporary
 * directory; digests checked against OpenSSL's one-shot EVP_Digest. Test program only.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "xfer_internal.h"

#define CHUNK  (256 * 1024)
#define NFILES 7
#define NJOBS  70

/* Sizes around the read size: the reused buffer must never leak a previous file. */
static const size_t sizes[NFILES] = {0, 3, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17, 4096};

struct job {
	struct xfer_job job;
	int fd;
	uint64_t expect;
	unsigned char digest[32];
	uint64_t hashed;
	int rc;
	struct xfer_hasher *used;
	atomic_int *done;
};

static void run(struct xfer_job *xj, struct xfer_hasher *h)
{
	struct job *j = (struct job *)xj;
	j->used = h;
	j->rc = xfer_hasher_fd(h, j->fd, j->expect, j->digest, &j->hashed);
	atomic_fetch_add(j->done, 1);
}

static atomic_int idle_calls;

static void on_idle(void *arg)
{
	(void)arg;
	atomic_fetch_add(&idle_calls, 1);
}

/* A file of n pseudo-random bytes (seeded by seed) in dir; its fd and its digest. */
static int make_file(const char *dir, int i, size_t n, unsigned seed, unsigned char digest[32])
{
	char path[128];
	snprintf(path, sizeof(path), "%s/f%d", dir, i);
	unsigned char *data = malloc(n ? n : 1);
	assert_non_null(data);
	for (size_t k = 0; k < n; k++) {
		seed = seed * 1103515245u + 12345u;
		data[k] = (unsigned char)(seed >> 16);
	}
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	unsigned len = 0;
	assert_true(EVP_Digest(data, n, digest, &len, EVP_sha256(), NULL));
	free(data);
	return fd;
}

static void rm_dir(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void workers_reuse_their_hasher_and_hash_every_file_right(void **state)
{
	(void)state;
	char dir[64];
	snprintf(dir, sizeof(dir), "/tmp/xfer-pool-XXXXXX");
	assert_non_null(mkdtemp(dir));
	unsigned char want[NFILES][32];
	int fds[NFILES];
	for (int i = 0; i < NFILES; i++)
		fds[i] = make_file(dir, i, sizes[i], (unsigned)i + 7, want[i]);

	struct xfer_hashpool *p = NULL;
	atomic_int done = 0;
	atomic_store(&idle_calls, 0);
	/* 3 workers, 5 queued at most: the submitter meets back-pressure with jobs unwoken. */
	assert_int_equal(xfer_hashpool_new(&p, 3, 5), 0);
	xfer_hashpool_on_idle(p, on_idle, NULL);
	struct job *jobs = calloc(NJOBS, sizeof(*jobs));
	assert_non_null(jobs);
	for (int i = 0; i < NJOBS; i++) {
		jobs[i] = (struct job){.job.run = run,
				       .fd = fds[i % NFILES],
				       .expect = sizes[i % NFILES],
				       .done = &done};
		xfer_hashpool_submit(p, &jobs[i].job, true); /* never kicked by hand */
	}
	xfer_hashpool_drain(p);
	assert_int_equal(atomic_load(&done), NJOBS);
	assert_true(xfer_hashpool_idle(p));
	assert_true(atomic_load(&idle_calls) >= 1); /* the drain waited for the hook too */

	int reused = 0;
	for (int i = 0; i < NJOBS; i++) {
		assert_int_equal(jobs[i].rc, 0);
		assert_int_equal(jobs[i].hashed, sizes[i % NFILES]);
		assert_memory_equal(jobs[i].digest, want[i % NFILES], 32);
		assert_non_null(jobs[i].used);
		for (int k = 0; k < i && !reused; k++)
			reused = jobs[k].used == jobs[i].used;
	}
	assert_true(reused); /* 70 jobs on 3 workers: a context served several files */
	xfer_hashpool_free(&p);
	assert_null(p);
	free(jobs);
	for (int i = 0; i < NFILES; i++)
		close(fds[i]);
	rm_dir(dir);
}

/* Deferred jobs run once kicked; a file grown since its close is hashed whole. */
static void kicked_jobs_run_and_grown_file_is_hashed_whole(void **state)
{
	(void)state;
	char dir[64];
	snprintf(dir, sizeof(dir), "/tmp/xfer-pool-XXXXXX");
	assert_non_null(mkdtemp(dir));
	unsigned char small[32], grown[32];
	int fd_small = make_file(dir, 0, 100, 1, small);
	/* Closed at CHUNK + 5 bytes, grown to 2 * CHUNK + 9 before it is hashed. */
	int fd_grown = make_file(dir, 1, 2 * CHUNK + 9, 2, grown);

	struct xfer_hashpool *p = NULL;
	atomic_int done = 0;
	assert_int_equal(xfer_hashpool_new(&p, 2, 64), 0);
	struct job a = {.job.run = run, .fd = fd_small, .expect = 100, .done = &done};
	struct job b = {.job.run = run, .fd = fd_grown, .expect = CHUNK + 5, .done = &done};
	xfer_hashpool_submit(p, &a.job, true);
	xfer_hashpool_submit(p, &b.job, true);
	xfer_hashpool_kick(p);
	while (atomic_load(&done) < 2) /* no drain: only the kick wakes the workers */
		usleep(1000);
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.hashed, 100);
	assert_memory_equal(a.digest, small, 32);
	assert_int_equal(b.rc, 0);
	assert_int_equal(b.hashed, 2 * CHUNK + 9);
	assert_memory_equal(b.digest, grown, 32);

	/* The one-file helper agrees. */
	unsigned char d[32];
	uint64_t hashed = 0;
	assert_int_equal(xfer_sha256_fd(fd_grown, CHUNK + 5, d, &hashed), 0);
	assert_int_equal(hashed, 2 * CHUNK + 9);
	assert_memory_equal(d, grown, 32);
	xfer_hashpool_free(&p);
	close(fd_small);
	close(fd_grown);
	rm_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(workers_reuse_their_hasher_and_hash_every_file_right),
	    cmocka_unit_test(kicked_jobs_run_and_grown_file_is_hashed_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
