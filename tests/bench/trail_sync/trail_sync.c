/*
 * trail_sync.c - benchmark: the cost of one durable append of a 400-byte record line on a
 * filesystem, four ways: O_APPEND + fdatasync (the trail today), the same into a segment
 * preallocated with fallocate(FALLOC_FL_KEEP_SIZE), pwrite over bytes already written
 * (a segment preallocated and zero-filled: size and allocation unchanged, the floor, which
 * the trail cannot use without NUL or padding bytes in the file), and one append written
 * with pwritev2(RWF_DSYNC) instead of write + fdatasync. Rounds alternate; prints the
 * median per way.
 * Benchmark program; its arguments come from the person running it.
 *
 * usage: trail-sync-bench DIR [APPENDS_PER_ROUND] [ROUNDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define LINE 400
#define WAYS 4

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Milliseconds per durable append, way 0 append, 1 preallocated append, 2 overwrite,
 * 3 append with RWF_DSYNC. */
static double run(const char *path, int way, int n)
{
	char line[LINE];
	int fd;
	double t0;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | (way != 2 ? O_APPEND : 0) | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	memset(line, 'a', sizeof(line));
	line[LINE - 1] = '\n';
	if (way == 1 && fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)n * LINE + (1 << 20)) != 0)
		fprintf(stderr, "fallocate: %s\n", strerror(errno));
	if (way == 2) {
		for (int i = 0; i < n; i++)
			if (write(fd, line, LINE) != LINE)
				exit(1);
		if (fsync(fd) != 0)
			exit(1);
	}
	t0 = now();
	for (int i = 0; i < n; i++) {
		struct iovec v = {line, LINE};
		ssize_t w = way == 2   ? pwrite(fd, line, LINE, (off_t)i * LINE)
			    : way == 3 ? pwritev2(fd, &v, 1, -1, RWF_DSYNC)
				       : write(fd, line, LINE);
		if (w != LINE || (way != 3 && fdatasync(fd) != 0))
			exit(1);
	}
	t0 = (now() - t0) * 1000.0 / n;
	close(fd);
	unlink(path);
	return t0;
}

int main(int argc, char **argv)
{
	static const char *const names[WAYS] = {
	    "append + fdatasync", "append into a FALLOC_FL_KEEP_SIZE segment + fdatasync",
	    "overwrite in place (a zero-filled segment) + fdatasync (floor)",
	    "append with pwritev2(RWF_DSYNC), no fdatasync"};
	char path[4096];
	int n = argc > 2 ? atoi(argv[2]) : 200, rounds = argc > 3 ? atoi(argv[3]) : 5;
	double *ms[WAYS];

	if (argc < 2 || n < 1 || rounds < 1 || rounds > 1000) {
		fprintf(stderr, "usage: trail-sync-bench DIR [APPENDS_PER_ROUND] [ROUNDS]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/trail-sync-bench.%d", argv[1], (int)getpid());
	for (int w = 0; w < WAYS; w++)
		ms[w] = calloc((size_t)rounds, sizeof(double));
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < WAYS; k++) {
			int w = (r + k) % WAYS;
			ms[w][r] = run(path, w, n);
		}
	printf("| way | ms per durable append (median of %d rounds of %d) |\n|---|---|\n", rounds,
	       n);
	for (int w = 0; w < WAYS; w++) {
		qsort(ms[w], (size_t)rounds, sizeof(double), cmp);
		printf("| %s | %.3f |\n", names[w], ms[w][rounds / 2]);
		free(ms[w]);
	}
	return 0;
}
