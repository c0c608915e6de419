/*
 * fileio.h - read a whole file (or descriptor) into memory, with a size cap, and replace
 * a whole file atomically. Linked by every process and tool that reads a configuration,
 * a policy, a key, a checkpoint or /proc/self/mountinfo, and by the engine for the state
 * files it keeps. The bytes are not interpreted here: they are as trusted as the file
 * they came from, and the caller parses them.
 */
#ifndef PCL_FILEIO_H
#define PCL_FILEIO_H

#include <stddef.h>

/* Refuse anything but a regular file (a directory, a FIFO, a device): -EINVAL. */
#define PCL_READ_REGULAR 0x1u
/* Refuse a path whose last component is a symbolic link: -ELOOP (O_NOFOLLOW). */
#define PCL_READ_NOFOLLOW 0x2u

/* Read fd to its end. On success returns 0 with *out a malloc'd buffer of *len bytes
 * followed by a NUL (the bytes themselves may hold NULs: a caller wanting text checks),
 * which the caller frees (wiping it first if it is a secret: no other copy is left in
 * freed memory). Fails with -EFBIG when there are more than max bytes, -ENOMEM,
 * or the read's -errno; *out is then NULL. fd is not closed. */
int pcl_read_fd(int fd, size_t max, char **out, size_t *len);

/* Open path (O_RDONLY, O_CLOEXEC, O_NOCTTY) and read it as pcl_read_fd does; flags is 0
 * or PCL_READ_REGULAR and PCL_READ_NOFOLLOW. Fails as pcl_read_fd, or with the open's -errno. */
int pcl_read_file(const char *path, size_t max, unsigned flags, char **out, size_t *len);

/* A short reason for a failure of the two above ("larger than the limit", or
 * strerror): for messages that name the file. */
const char *pcl_read_strerror(int rc);

/* Replace path with len bytes of buf, whole or not at all: written to "path.new" (mode,
 * O_NOFOLLOW), synced, renamed over path, and the directory synced, so that after a crash
 * path holds either its old or its new bytes. Returns 0 or the failing call's -errno
 * (-EIO for a short write); "path.new" is removed on failure. */
int pcl_write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode);

#endif
