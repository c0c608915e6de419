/*
 * bench_wipe_engine.c - measure what double buffering buys: the pattern generation rate
 * in memory, then wipe_run over a block device twice, with the worker thread and with
 * everything in one thread. Prints "name seconds" lines for bench.sh. Benchmark only
 * (root, a scratch loop device); its input is the command line.
 */
#include "wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint8_t key[WIPE_KEY_LEN] = {7};
	struct wipe_pattern *pat;
	uint8_t *buf;
	uint64_t size = 0;
	double t;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_wipe_engine BLOCKDEV\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_EXCL | O_DIRECT | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) != 0) {
		fprintf(stderr, "bench_wipe_engine: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* Pattern generation alone: 1 GiB in 4 MiB chunks. */
	if (wipe_pattern_new(&pat, key) != 0 || (buf = malloc(WIPE_CHUNK_DEFAULT)) == NULL)
		return 1;
	t = now();
	for (uint64_t off = 0; off < (1ull << 30); off += WIPE_CHUNK_DEFAULT)
		wipe_pattern_fill(pat, off, buf, WIPE_CHUNK_DEFAULT);
	printf("pattern_1GiB %.3f\n", now() - t);
	wipe_pattern_free(&pat);
	free(buf);

	for (int single = 1; single >= 0; single--) {
		struct wipe_params p = {.size = size, .verify = 1, .single_thread = single};
		struct wipe_result r;

		if (wipe_run(&wipe_fd_ops, &fd, key, &p, &r) != 0 || r.status != WIPE_OK) {
			fprintf(stderr, "bench_wipe_engine: wipe failed: %s\n", r.reason);
			return 1;
		}
		printf("%s_write %.3f\n%s_verify %.3f\n", single ? "single" : "double",
		       r.write_seconds, single ? "single" : "double", r.verify_seconds);
	}
	close(fd);
	return 0;
}
