/*
 * io_fd.c - the engine's I/O seam over a block-device fd: pwrite, pread, BLKDISCARD,
 * fdatasync. Linked by portcullis-wiper; the fd was opened O_EXCL by the root parent
 * and is trusted to be the approved medium. Only these four syscalls (plus ioctl) run
 * here, so the wiper's seccomp list stays short.
 */
#include "wipe.h"

#include <errno.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

static ssize_t fd_pwrite(void *ctx, const void *buf, size_t len, uint64_t off)
{
	ssize_t n = pwrite(*(int *)ctx, buf, len, (off_t)off);

	return n < 0 ? -errno : n;
}

static ssize_t fd_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(*(int *)ctx, buf, len, (off_t)off);

	return n < 0 ? -errno : n;
}

static int fd_discard(void *ctx, uint64_t off, uint64_t len)
{
	uint64_t range[2] = {off, len};

	if (ioctl(*(int *)ctx, BLKDISCARD, range) != 0)
		return -errno;
	return 0;
}

static int fd_flush(void *ctx)
{
	return fdatasync(*(int *)ctx) == 0 ? 0 : -errno;
}

const struct wipe_io_ops wipe_fd_ops = {
    .pwrite = fd_pwrite,
    .pread = fd_pread,
    .discard = fd_discard,
    .flush = fd_flush,
};
