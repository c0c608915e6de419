/*
 * fileio.c - the one reader of whole files and the one atomic writer (see fileio.h).
 * Linked by every process and tool; the bytes read are the caller's to parse, nothing is
 * interpreted here.
 */
#include "fileio.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIRST_CHUNK 65536u

int pcl_read_fd(int fd, size_t max, char **out, size_t *len)
{
	/* Grow to at most max + 1 bytes: the byte past max tells a file that is too large. */
	size_t cap = max < FIRST_CHUNK ? max + 1 : FIRST_CHUNK, n = 0;
	char *buf = malloc(cap + 1);

	*out = NULL;
	*len = 0;
	if (max >= SIZE_MAX / 2) {
		free(buf);
		return -EINVAL;
	}
	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			size_t ncap = cap > max / 2 ? max + 1 : cap * 2;
			char *nb;

			if (n > max) {
				explicit_bzero(buf, n);
				free(buf);
				return -EFBIG;
			}
			/* not realloc: the old block is wiped before it is freed, so a secret
			 * read here (a key) leaves no copy behind */
			nb = malloc(ncap + 1);
			if (nb == NULL) {
				explicit_bzero(buf, n);
				free(buf);
				return -ENOMEM;
			}
			memcpy(nb, buf, n);
			explicit_bzero(buf, n);
			free(buf);
			buf = nb;
			cap = ncap;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int rc = -errno;

			explicit_bzero(buf, n);
			free(buf);
			return rc;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		explicit_bzero(buf, n);
		free(buf);
		return -EFBIG;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int pcl_read_file(const char *path, size_t max, unsigned flags, char **out, size_t *len)
{
	struct stat st;
	int fd, rc;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
			    ((flags & PCL_READ_NOFOLLOW) != 0 ? O_NOFOLLOW : 0));
	if (fd < 0)
		return -errno;
	if ((flags & PCL_READ_REGULAR) != 0) {
		if (fstat(fd, &st) != 0) {
			rc = -errno;
			close(fd);
			return rc;
		}
		if (!S_ISREG(st.st_mode)) {
			close(fd);
			return -EINVAL;
		}
		if ((unsigned long long)st.st_size > max) {
			close(fd);
			return -EFBIG;
		}
	}
	rc = pcl_read_fd(fd, max, out, len);
	close(fd);
	return rc;
}

const char *pcl_read_strerror(int rc)
{
	switch (rc) {
	case -EFBIG:
		return "larger than the limit";
	case -EINVAL:
		return "not a regular file";
	default:
		return strerror(-rc);
	}
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Sync the directory holding path, so that a rename in it is durable. */
static int sync_dir_of(const char *path)
{
	char copy[4096];
	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return -ENAMETOOLONG;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) != 0 ? -errno : 0;
	close(fd);
	return rc;
}

int pcl_write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
		      (mode_t)mode);
	if (fd < 0)
		return -errno;
	int rc = write_all(fd, buf, len);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	return sync_dir_of(path);
}
