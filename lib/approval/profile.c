/*
 * profile.c - parser of council profiles (see profile.h): "key = value" lines, '#'
 * comments, every key exactly once. Linked by the engine, the CLI and tests; the file
 * is the IT provider's, parsed as if hostile (bounded, known keys, checked values).
 */
#include "profile.h"

#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROFILE_MAX (64 * 1024)

static const char *const keys[] = {
    "council",	       "name",		 "approver-title",    "exceptions",
    "approval-for",    "wipe",		 "user-verification", "retention-months",
    "max-grant-hours", "council-sticks", "wipe-owed-days",    NULL};
/* council-sticks: absent means "any"; wipe-owed-days: 14 when absent */
#define OPTIONAL_KEYS	       ((1u << 9) | (1u << 10))
#define WIPE_OWED_DAYS_DEFAULT 14

static int choice(const char *v, const char *a, const char *b)
{
	return strcmp(v, a) == 0 ? 1 : strcmp(v, b) == 0 ? 0 : -1;
}

static int number(const char *v, unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || v[0] == '+' || x > max)
		return -1;
	*out = (unsigned)x;
	return 0;
}

static int apply(struct appr_profile *p, int k, const char *v)
{
	int c;
	size_t n = strlen(v);

	switch (k) {
	case 0:
		if (n == 0 || n >= sizeof(p->council) ||
		    strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
			return -1;
		strcpy(p->council, v);
		return 0;
	case 1:
		if (n >= sizeof(p->name))
			return -1;
		strcpy(p->name, v);
		return 0;
	case 2:
		if (n >= sizeof(p->approver_title))
			return -1;
		strcpy(p->approver_title, v);
		return 0;
	case 3:
		return (c = choice(v, "yes", "no")) < 0 ? -1 : (p->exceptions = c, 0);
	case 4:
		c = choice(v, "any-device", "storage");
		return c < 0 ? -1 : (p->classes = c ? APPR_CLASSES_ANY : APPR_CLASSES_STORAGE, 0);
	case 5:
		return (c = choice(v, "required", "no")) < 0 ? -1 : (p->wipe = c, 0);
	case 6:
		return (c = choice(v, "required", "preferred")) < 0 ? -1 : (p->uv = c, 0);
	case 7:
		return number(v, 120, &p->retention_months) || p->retention_months == 0 ? -1 : 0;
	case 8:
		return number(v, 24 * 31, &p->max_grant_hours);
	case 9:
		c = choice(v, "luks2", "any");
		return c < 0 ? -1
			     : (p->council_sticks = c ? APPR_STICKS_LUKS2 : APPR_STICKS_ANY, 0);
	case 10:
		return number(v, 365, &p->wipe_owed_days) || p->wipe_owed_days == 0 ? -1 : 0;
	}
	return -1;
}

static const char *const expected[] = {
    "an id of a-z, 0-9 and '-'", "text up to 127 bytes",
    "text up to 63 bytes",	 "yes or no",
    "any-device or storage",	 "required or no",
    "required or preferred",	 "months from 1 to 120",
    "hours from 0 to 744",	 "luks2 or any",
    "days from 1 to 365",
};

int appr_profile_parse(const char *buf, size_t len, const char *name, struct appr_profile *p,
		       struct pcl_diag *diag)
{
	char line[512];
	unsigned lineno = 0, seen = 0;

	memset(p, 0, sizeof(*p));
	p->wipe_owed_days = WIPE_OWED_DAYS_DEFAULT;
	for (size_t i = 0; i < len;) {
		size_t start = i;
		while (i < len && buf[i] != '\n')
			i++;
		size_t n = i - start;
		lineno++;
		i++;
		if (memchr(buf + start, '\0', n) || n >= sizeof(line)) {
			pcl_diag_set(diag, name, lineno, "NUL byte or line longer than %zu bytes",
				     sizeof(line) - 1);
			return -EINVAL;
		}
		memcpy(line, buf + start, n);
		line[n] = '\0';
		char *s = pcl_trim(line), *eq;
		if (*s == '\0' || *s == '#')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			pcl_diag_set(diag, name, lineno, "expected 'key = value'");
			return -EINVAL;
		}
		*eq = '\0';
		char *k = pcl_trim(s), *v = pcl_trim(eq + 1);
		int idx = -1;
		for (int j = 0; keys[j]; j++)
			if (strcmp(k, keys[j]) == 0)
				idx = j;
		if (idx < 0) {
			pcl_diag_set(diag, name, lineno, "unknown key '%.64s'", k);
			return -EINVAL;
		}
		if (seen & (1u << idx)) {
			pcl_diag_set(diag, name, lineno, "%s: given twice", k);
			return -EINVAL;
		}
		seen |= 1u << idx;
		if (apply(p, idx, v) != 0) {
			pcl_diag_set(diag, name, lineno, "%s: '%.64s' is not %s", k, v,
				     expected[idx]);
			return -EINVAL;
		}
	}
	for (int j = 0; keys[j]; j++)
		if (!(seen & (1u << j)) && !(OPTIONAL_KEYS & (1u << j))) {
			pcl_diag_set(diag, name, 0, "missing key '%s'", keys[j]);
			return -EINVAL;
		}
	return 0;
}

bool appr_profile_same(const struct appr_profile *a, const struct appr_profile *b)
{
	/* One line per key of keys[], in its order: a new key is compared here too. */
	return strcmp(a->council, b->council) == 0 && strcmp(a->name, b->name) == 0 &&
	       strcmp(a->approver_title, b->approver_title) == 0 &&
	       a->exceptions == b->exceptions && a->classes == b->classes && a->wipe == b->wipe &&
	       a->uv == b->uv && a->retention_months == b->retention_months &&
	       a->max_grant_hours == b->max_grant_hours && a->council_sticks == b->council_sticks &&
	       a->wipe_owed_days == b->wipe_owed_days;
}

int appr_profile_load(const char *spec, const char *dir, struct appr_profile *p,
		      struct pcl_diag *diag)
{
	char path[512];

	if (spec[0] == '/')
		snprintf(path, sizeof(path), "%s", spec);
	else
		snprintf(path, sizeof(path), "%s/%s.profile", dir, spec);
	char *buf;
	size_t len;
	int rc = pcl_read_file(path, PROFILE_MAX, PCL_READ_REGULAR, &buf, &len);

	if (rc != 0) {
		rc = rc == -EFBIG ? -EINVAL : rc;
		pcl_diag_set(diag, path, 0, "cannot read: %s",
			     rc == -EINVAL ? "not a regular file or too large" : strerror(-rc));
		return rc;
	}
	rc = appr_profile_parse(buf, len, path, p, diag);
	free(buf);
	return rc;
}
