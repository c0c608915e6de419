/*
 * engine_audit.c - the engine's audit sink: JSON lines in <audit-log>/events.jsonl,
 * each fsync'd before the caller acts on it. Linked by the engine; records are
 * built by the engine from validated device identities.
 */
#include "engine_audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jsonx.h"

struct eaudit {
	int fd;
	char host[256];
};

int eaudit_open(struct eaudit **out, const char *dir, const char *host_name)
{
	char path[512];
	struct eaudit *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (a->fd < 0) {
		int rc = -errno;
		free(a);
		return rc;
	}
	snprintf(a->host, sizeof(a->host), "%s", host_name);
	*out = a;
	return 0;
}

int eaudit_append(struct eaudit *a, struct json_object *rec, bool security)
{
	struct timespec ts;
	struct tm tm;
	char stamp[64];

	(void)security;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + n, sizeof(stamp) - n, ".%06ldZ", ts.tv_nsec / 1000);
	if (jsonx_set_str(rec, "@timestamp", stamp) != 0 ||
	    jsonx_set_str(rec, "host.name", a->host) != 0)
		return -ENOMEM;
	size_t len;
	const char *s = json_object_to_json_string_length(rec, JSON_C_TO_STRING_PLAIN, &len);
	char *line = malloc(len + 1);
	if (line == NULL)
		return -ENOMEM;
	memcpy(line, s, len);
	line[len] = '\n';
	ssize_t w = write(a->fd, line, len + 1);
	free(line);
	if (w != (ssize_t)(len + 1))
		return w < 0 ? -errno : -EIO;
	if (fdatasync(a->fd) != 0)
		return -errno;
	return 0;
}

void eaudit_close(struct eaudit **a)
{
	if (*a == NULL)
		return;
	close((*a)->fd);
	free(*a);
	*a = NULL;
}
