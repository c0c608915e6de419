/*
 * syncfail_shim.c - test-only LD_PRELOAD library: the disk fails every sync of the process
 * with EIO (pwritev2 with RWF_DSYNC, fdatasync, fsync) while the first byte of the file
 * `syncfail` in the test bed's directory (UMOCKDEV_DIR, which the daemon passes on to the
 * programs it starts) is not '0'; writes that ask for no sync go through. A test
 * turns it on while the daemon runs, to see what a trail that cannot be made durable
 * does to a grant. The file is mapped once at load (inherited across fork, no system call
 * afterwards, so it works inside seccomp filters). Test-only code.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

static volatile const char *flag;

__attribute__((constructor)) static void shim_init(void)
{
	const char *dir = getenv("UMOCKDEV_DIR");
	char path[4096];
	int fd;

	if (dir == NULL ||
	    (size_t)snprintf(path, sizeof(path), "%s/syncfail", dir) >= sizeof(path) ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	void *p = mmap(NULL, 1, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p != MAP_FAILED)
		flag = p;
}

static int failing(void)
{
	return flag != NULL && *flag != '0';
}

typedef ssize_t (*pwritev2_fn)(int, const struct iovec *, int, off_t, int);

static ssize_t call_pwritev2(const char *name, int fd, const struct iovec *iov, int n, off_t off,
			     int flags)
{
	pwritev2_fn real = (pwritev2_fn)dlsym(RTLD_NEXT, name);

	if ((flags & (RWF_DSYNC | RWF_SYNC)) && failing()) {
		errno = EIO;
		return -1;
	}
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, iov, n, off, flags);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int n, off_t off, int flags)
{
	return call_pwritev2("pwritev2", fd, iov, n, off, flags);
}

ssize_t pwritev64v2(int fd, const struct iovec *iov, int n, off_t off, int flags)
{
	return call_pwritev2("pwritev64v2", fd, iov, n, off, flags);
}

int fdatasync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");

	if (failing()) {
		errno = EIO;
		return -1;
	}
	return real != NULL ? real(fd) : -1;
}

int fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");

	if (failing()) {
		errno = EIO;
		return -1;
	}
	return real != NULL ? real(fd) : -1;
}
