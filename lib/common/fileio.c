/*
 * fileio.c - the one reader of whole files (see fileio.h). Linked by every process and
 * tool; the bytes read are the caller's to parse, nothing is interpreted here.
 */
#include "fileio.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
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
