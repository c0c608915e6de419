/*
 * fleet_store.c - the collector's fleet directory: one directory per council and PC with
 * the trail key, the verifier state, the witness checkpoint and the status counters.
 * Linked by the portcullis CLI. The directory is the IT provider's; its files are still
 * parsed strictly (a bad status file is an error naming file and line, never guessed).
 */
#include "fileio.h"
#include "fleet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool fleet_name_ok(const char *s)
{
	size_t l = strlen(s);

	if (l == 0 || l >= FLEET_NAME_MAX || s[0] == '-')
		return false;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
			return false;
	return true;
}

int64_t fleet_time(const char *ts)
{
	struct tm tm = {0};
	const char *rest;

	if (ts == NULL || (rest = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			;
	if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0)
		return -1;
	return (int64_t)timegm(&tm);
}

char *fleet_read_file(const char *path, size_t *len, size_t max)
{
	char *buf;
	int rc = pcl_read_file(path, max, PCL_READ_NOFOLLOW, &buf, len);

	if (rc != 0)
		errno = rc == -EFBIG ? EFBIG : -rc;
	return rc == 0 ? buf : NULL;
}

int fleet_write_file(const char *path, const char *data, size_t len, unsigned mode, bool durable)
{
	char tmp[4200];
	int fd, rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len || (durable && fsync(fd) != 0))
		rc = -errno ? -errno : -EIO;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
	return rc;
}

static void pc_file(char *out, size_t len, const struct fleet_paths *p, const struct fleet_pc *pc,
		    const char *name)
{
	snprintf(out, len, "%s/%s/%s/%s", p->fleet, pc->council, pc->pc, name);
}

/* The times of the last replays: FLEET_REPLAYS_MANY unix times, one space apart ("" from
 * a status written before they were kept: all 0). 0 or -EBADMSG. */
static int replays_at(const char *s, int64_t *at)
{
	for (int i = 0; i < FLEET_REPLAYS_MANY; i++)
		at[i] = 0;
	for (int i = 0; *s && i < FLEET_REPLAYS_MANY; i++) {
		char *end;
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (errno || end == s || v < 0 || (*end && *end != ' '))
			return -EBADMSG;
		at[i] = v;
		s = *end ? end + 1 : end;
	}
	return *s ? -EBADMSG : 0;
}

/* key=value lines; numbers are decimal, strings the rest of the line. */
int fleet_status_load(const struct fleet_paths *p, struct fleet_pc *pc)
{
	uint64_t stale = 0;
	char replay_at[80] = "";
	struct {
		const char *k;
		uint64_t *u;
		int64_t *i;
		char *s;
		size_t sl;
	} f[] = {
	    {"offset", &pc->offset, NULL, NULL, 0},
	    {"last-seq", &pc->last_seq, NULL, NULL, 0},
	    {"last-time", NULL, NULL, pc->last_time, sizeof(pc->last_time)},
	    {"checkpoint-seq", &pc->ckpt_seq, NULL, NULL, 0},
	    {"checkpoint-time", NULL, NULL, pc->ckpt_time, sizeof(pc->ckpt_time)},
	    {"bundle", NULL, NULL, pc->bundle, sizeof(pc->bundle)},
	    {"exceptions", &pc->exceptions, NULL, NULL, 0},
	    {"refusals", &pc->refusals, NULL, NULL, 0},
	    {"blocked", &pc->blocked, NULL, NULL, 0},
	    {"wipes-done", &pc->wipes_done, NULL, NULL, 0},
	    {"wipes-missed", &pc->wipes_missed, NULL, NULL, 0},
	    {"wipes-requested", &pc->wipes_requested, NULL, NULL, 0},
	    {"clock-jumps", &pc->clock_jumps, NULL, NULL, 0},
	    {"replays", &pc->replays, NULL, NULL, 0},
	    {"last-replay", NULL, NULL, pc->last_replay, sizeof(pc->last_replay)},
	    {"replays-at", NULL, NULL, replay_at, sizeof(replay_at)},
	    {"failures", &pc->failures, NULL, NULL, 0},
	    {"last-failure", NULL, NULL, pc->last_failure, sizeof(pc->last_failure)},
	    {"stale", &stale, NULL, NULL, 0},
	    {"gap-since", NULL, &pc->gap_since, NULL, 0},
	    {"verified-at", NULL, &pc->verified_at, NULL, 0},
	};
	char path[4200], *text, *line, *save = NULL;
	size_t len;
	unsigned lineno = 0, at_line = 0;
	int rc = 0;

	pc_file(path, sizeof(path), p, pc, "status");
	text = fleet_read_file(path, &len, 1 << 16);
	if (text == NULL)
		return errno == ENOENT ? 0 : -errno;
	for (line = strtok_r(text, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		size_t i, n = sizeof(f) / sizeof(f[0]);
		lineno++;
		if (eq == NULL) {
			rc = -EBADMSG;
			break;
		}
		*eq = '\0';
		for (i = 0; i < n && strcmp(f[i].k, line) != 0; i++)
			;
		if (i < n && f[i].s == replay_at)
			at_line = lineno;
		if (i == n) {
			rc = -EBADMSG;
		} else if (f[i].s) {
			snprintf(f[i].s, f[i].sl, "%s", eq + 1);
		} else {
			char *end;
			errno = 0;
			long long v = strtoll(eq + 1, &end, 10);
			if (errno || *end || end == eq + 1 || (f[i].u && v < 0))
				rc = -EBADMSG;
			else if (f[i].u)
				*f[i].u = (uint64_t)v;
			else
				*f[i].i = v;
		}
	}
	if (rc == 0 && replays_at(replay_at, pc->replay_at) != 0) {
		rc = -EBADMSG;
		fprintf(stderr, "portcullis: %s:%u: replays-at: not %d unix times\n", path, at_line,
			FLEET_REPLAYS_MANY);
	} else if (rc != 0) {
		fprintf(stderr, "portcullis: %s:%u: not a fleet status line\n", path, lineno);
	}
	free(text);
	pc->failing = pc->last_failure[0] != '\0';
	pc->stale = stale != 0;
	return rc;
}

/* Strings from trails (reasons, bundle, times) on one line, printable: a PC must not be
 * able to break the status file or a terminal. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

_Static_assert(FLEET_REPLAYS_MANY == 3, "replays-at is written as three times");

int fleet_status_save(const struct fleet_paths *p, const struct fleet_pc *in)
{
	struct fleet_pc copy = *in, *pc = &copy;
	char path[4200], buf[2048];
	int n;

	printable(copy.last_time);
	printable(copy.ckpt_time);
	printable(copy.bundle);
	printable(copy.last_failure);
	printable(copy.last_replay);
	n = snprintf(
	    buf, sizeof(buf),
	    "offset=%" PRIu64 "\nlast-seq=%" PRIu64 "\nlast-time=%s\ncheckpoint-seq=%" PRIu64
	    "\ncheckpoint-time=%s\nbundle=%s\nexceptions=%" PRIu64 "\nrefusals=%" PRIu64
	    "\nblocked=%" PRIu64 "\nwipes-done=%" PRIu64 "\nwipes-missed=%" PRIu64
	    "\nwipes-requested=%" PRIu64 "\nclock-jumps=%" PRIu64 "\nreplays=%" PRIu64
	    "\nlast-replay=%s\nreplays-at=%" PRId64 " %" PRId64 " %" PRId64 "\nfailures=%" PRIu64
	    "\nlast-failure=%s\nstale=%d\ngap-since=%" PRId64 "\nverified-at=%" PRId64 "\n",
	    pc->offset, pc->last_seq, pc->last_time, pc->ckpt_seq, pc->ckpt_time, pc->bundle,
	    pc->exceptions, pc->refusals, pc->blocked, pc->wipes_done, pc->wipes_missed,
	    pc->wipes_requested, pc->clock_jumps, pc->replays, pc->last_replay, pc->replay_at[0],
	    pc->replay_at[1], pc->replay_at[2], pc->failures, pc->failing ? pc->last_failure : "",
	    pc->stale ? 1 : 0, pc->gap_since, pc->verified_at);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EOVERFLOW;
	pc_file(path, sizeof(path), p, pc, "status");
	return fleet_write_file(path, buf, (size_t)n, 0640, false);
}

static int by_name(const void *a, const void *b)
{
	const struct fleet_pc *x = a, *y = b;
	int c = strcmp(x->council, y->council);

	return c ? c : strcmp(x->pc, y->pc);
}

int fleet_list(const struct fleet_paths *p, const char *council, struct fleet_pc **out)
{
	struct fleet_pc *v = NULL;
	int n = 0, cap = 0, rc = 0;
	DIR *top = opendir(p->fleet), *d;
	struct dirent *c, *e;
	char path[4200];
	struct stat st;

	*out = NULL;
	if (top == NULL) {
		fprintf(stderr, "portcullis: %s: %s\n", p->fleet, strerror(errno));
		return -errno;
	}
	while (rc == 0 && (c = readdir(top)) != NULL) {
		if (!fleet_name_ok(c->d_name) || (council && strcmp(council, c->d_name) != 0))
			continue;
		snprintf(path, sizeof(path), "%s/%s", p->fleet, c->d_name);
		if ((d = opendir(path)) == NULL)
			continue;
		while (rc == 0 && (e = readdir(d)) != NULL) {
			if (!fleet_name_ok(e->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s/%s/key", p->fleet, c->d_name,
				 e->d_name);
			if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				struct fleet_pc *nv = realloc(v, (size_t)cap * sizeof(*v));
				if (nv == NULL) {
					rc = -ENOMEM;
					break;
				}
				v = nv;
			}
			memset(&v[n], 0, sizeof(v[n]));
			/* fleet_name_ok: both names fit */
			memcpy(v[n].council, c->d_name, strlen(c->d_name) + 1);
			memcpy(v[n].pc, e->d_name, strlen(e->d_name) + 1);
			if (fleet_status_load(p, &v[n]) != 0) {
				/* a damaged status (it is not synced): start that PC over */
				struct fleet_pc fresh = {0};
				memcpy(fresh.council, v[n].council, sizeof(fresh.council));
				memcpy(fresh.pc, v[n].pc, sizeof(fresh.pc));
				v[n] = fresh;
			}
			n++;
		}
		closedir(d);
	}
	closedir(top);
	if (rc != 0) {
		free(v);
		return rc;
	}
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), by_name);
	*out = v;
	return n;
}

static bool enrolled(const struct fleet_pc *pcs, int n, const char *council, const char *pc)
{
	for (int i = 0; i < n; i++)
		if (strcmp(pcs[i].council, council) == 0 && strcmp(pcs[i].pc, pc) == 0)
			return true;
	return false;
}

int fleet_unenrolled(const struct fleet_paths *p, const char *council, const struct fleet_pc *pcs,
		     int n, FILE *out)
{
	DIR *top = opendir(p->collected), *d;
	struct dirent *c, *e;
	char path[4200];
	int count = 0;

	if (top == NULL)
		return 0; /* nothing collected yet */
	while ((c = readdir(top)) != NULL) {
		if (c->d_name[0] == '.' || (council && strcmp(council, c->d_name) != 0))
			continue;
		snprintf(path, sizeof(path), "%s/%s", p->collected, c->d_name);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' ||
			    (fleet_name_ok(c->d_name) && fleet_name_ok(e->d_name) &&
			     enrolled(pcs, n, c->d_name, e->d_name)))
				continue;
			count++;
			if (out && fleet_name_ok(c->d_name) && fleet_name_ok(e->d_name))
				fprintf(out,
					"FAIL %s/%s: records collected for no enrolled PC (a name "
					"declared by a PC of that council, or not enrolled yet)\n",
					c->d_name, e->d_name);
			else if (out)
				fprintf(out,
					"FAIL %s: a collected directory named with other "
					"characters than a-z, 0-9 and -\n",
					p->collected);
		}
		closedir(d);
	}
	closedir(top);
	return count;
}
