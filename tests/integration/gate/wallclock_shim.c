/*
 * wallclock_shim.c - test-only LD_PRELOAD library: the wall clock (time, gettimeofday,
 * clock_gettime(CLOCK_REALTIME)) of the process reads the real one plus an offset in
 * seconds that the test writes into the file named by PCL_WALLCLOCK_FILE (8 bytes, host
 * order), so a test can step the daemon's wall clock back or forth while it runs. The
 * file is mapped once at load (inherited across fork, no system call afterwards, so it
 * works inside seccomp filters); monotonic and boot clocks are untouched, as after
 * `date -s`. Test-only code; the offset file is the test's own.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile const int64_t *offset;
static int (*real_clock_gettime)(clockid_t, struct timespec *);

__attribute__((constructor)) static void shim_init(void)
{
	const char *path = getenv("PCL_WALLCLOCK_FILE");
	int fd;

	real_clock_gettime =
	    (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	void *p = mmap(NULL, sizeof(int64_t), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p != MAP_FAILED)
		offset = p;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	int rc = real_clock_gettime ? real_clock_gettime(id, ts) : -1;

	if (rc == 0 && offset && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
		ts->tv_sec += (time_t)*offset;
	return rc;
}

time_t time(time_t *out)
{
	struct timespec ts;
	time_t t = clock_gettime(CLOCK_REALTIME, &ts) == 0 ? ts.tv_sec : (time_t)-1;

	if (out)
		*out = t;
	return t;
}

int gettimeofday(struct timeval *tv, void *tz)
{
	struct timespec ts;

	(void)tz;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}
