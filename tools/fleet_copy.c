/*
 * fleet_copy.c - one PC's collected copy on the collector: the files rsyslog writes, one
 * per month (trail-YYYY-MM.log, named by the collector's clock; the newest is the one it
 * appends to) after an older single trail.log, read as one stream in that order. Linked
 * by the portcullis CLI; file names in the PC's directory are checked strictly, their
 * contents come from the PC and are untrusted (the verifier judges them).
 */
#include "fleet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* trail-YYYY-MM.log with a month 01-12 */
static bool month_name(const char *n)
{
	static const char d[] = "0123456789";

	return strlen(n) == 17 && strncmp(n, "trail-", 6) == 0 && strspn(n + 6, d) == 4 &&
	       n[10] == '-' && strspn(n + 11, d) == 2 && strcmp(n + 13, ".log") == 0 &&
	       strncmp(n + 11, "01", 2) >= 0 && strncmp(n + 11, "12", 2) <= 0;
}

static int by_file(const void *a, const void *b)
{
	const struct fleet_file *x = a, *y = b;

	/* trail.log (no month) first, then the months in order */
	if (!x->month[0] || !y->month[0])
		return x->month[0] ? 1 : y->month[0] ? -1 : 0;
	return strcmp(x->month, y->month);
}

int fleet_copy_files(const struct fleet_paths *p, const char *council, const char *pc,
		     struct fleet_file **out)
{
	char dir[4200];
	DIR *d;
	struct dirent *e;
	struct fleet_file *v = NULL;
	int n = 0, cap = 0;
	struct stat st;

	*out = NULL;
	snprintf(dir, sizeof(dir), "%s/%s/%s", p->collected, council, pc);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) != NULL) {
		bool legacy = strcmp(e->d_name, "trail.log") == 0;
		if (!legacy && !month_name(e->d_name))
			continue;
		if (n == cap) {
			struct fleet_file *nv =
			    realloc(v, (size_t)(cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (nv == NULL) {
				closedir(d);
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof(v[n]));
		snprintf(v[n].path, sizeof(v[n].path), "%s/%s", dir, e->d_name);
		if (!legacy)
			memcpy(v[n].month, e->d_name + 6, 7);
		if (lstat(v[n].path, &st) != 0 || !S_ISREG(st.st_mode))
			continue; /* not a regular file: not part of the copy */
		v[n].size = (uint64_t)st.st_size;
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), by_file);
	*out = v;
	return n;
}

char *fleet_copy_read(const struct fleet_file *f, int n, uint64_t offset, size_t max, size_t *len,
		      bool *shrank)
{
	uint64_t total = 0, pos = 0;
	size_t want, got = 0;
	char *buf;

	*len = 0;
	*shrank = false;
	for (int i = 0; i < n; i++)
		total += f[i].size;
	if (total < offset) {
		*shrank = true;
		return NULL;
	}
	want = total - offset > max ? max : (size_t)(total - offset);
	if ((buf = malloc(want + 1)) == NULL)
		return NULL;
	for (int i = 0; i < n && got < want; pos += f[i].size, i++) {
		if (pos + f[i].size <= offset)
			continue;
		uint64_t from = offset > pos ? offset - pos : 0;
		size_t take =
		    f[i].size - from < want - got ? (size_t)(f[i].size - from) : want - got;
		int fd = open(f[i].path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		size_t done = 0;
		if (fd < 0)
			break;
		while (done < take) {
			ssize_t r = pread(fd, buf + got + done, take - done, (off_t)(from + done));
			if (r <= 0)
				break;
			done += (size_t)r;
		}
		close(fd);
		got += done;
		if (done < take)
			break;
	}
	while (got > 0 && buf[got - 1] != '\n')
		got--; /* a line rsyslog is still writing waits for the next run */
	buf[got] = '\0';
	*len = got;
	errno = 0;
	return buf;
}
