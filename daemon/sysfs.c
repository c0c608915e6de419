/*
 * sysfs.c - sysfs attribute access for portcullisd.
 * Linked by the parent (writes) and the engine (reads). Attribute contents read
 * here are kernel-provided but bounded and NUL-terminated before use.
 */
#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int attr_path(char *out, size_t len, const char *dir, const char *attr)
{
	int n = snprintf(out, len, "%s/%s", dir, attr);

	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

int sysfs_read(const char *dir, const char *attr, char *buf, size_t len)
{
	char path[512];
	int rc = attr_path(path, sizeof(path), dir, attr);

	if (rc != 0)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ssize_t n;
	do {
		n = read(fd, buf, len - 1);
	} while (n < 0 && errno == EINTR);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc != 0)
		return rc;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int sysfs_read_uint(const char *dir, const char *attr, unsigned long *out)
{
	char buf[32], *end;
	int rc = sysfs_read(dir, attr, buf, sizeof(buf));

	if (rc != 0)
		return rc;
	errno = 0;
	*out = strtoul(buf, &end, 10);
	if (errno != 0 || end == buf || *end != '\0')
		return -EINVAL;
	return 0;
}

int sysfs_write(const char *dir, const char *attr, const char *value)
{
	char path[512];
	int rc = attr_path(path, sizeof(path), dir, attr);

	if (rc != 0)
		return rc;
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	size_t len = strlen(value);
	ssize_t n;
	do {
		n = write(fd, value, len);
	} while (n < 0 && errno == EINTR);
	rc = n < 0 ? -errno : ((size_t)n == len ? 0 : -EIO);
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	return rc;
}
