/*
 * mountinfo.c - parse one /proc/self/mountinfo line (see mountinfo.h). Linked by the
 * portcullisd parent and engine and by the wipe's pre-checks. The kernel writes the
 * table, but its mount points and sources are user-chosen text: fields are split on
 * spaces, bounded, octal escapes decoded, numbers checked.
 */
#include "mountinfo.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MI_FIELDS 32

/* A decimal number that fits an unsigned int, the whole field. */
static int number(const char *s, size_t n, unsigned *out)
{
	unsigned long v = 0;

	if (n == 0 || n > 10)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > UINT_MAX)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* Copy a field, decoding the kernel's \ooo escapes; -EINVAL if it does not fit. */
static int unescape(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (o + 1 >= outlen)
			return -EINVAL;
		if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			out[o++] =
			    (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return 0;
}

/* Does the comma-separated option list hold exactly `opt`? */
static bool has_option(const char *s, size_t n, const char *opt)
{
	size_t k = strlen(opt);

	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && s[j] != ',')
			j++;
		if (j - i == k && memcmp(s + i, opt, k) == 0)
			return true;
		i = j + 1;
	}
	return false;
}

int pcl_mountinfo_line(const char *l, size_t ll, struct pcl_mount *m)
{
	const char *f[MI_FIELDS];
	size_t fl[MI_FIELDS], nf = 0, sep = 0;

	memset(m, 0, sizeof(*m));
	while (ll > 0 && (l[ll - 1] == '\n' || l[ll - 1] == '\0'))
		ll--;
	if (memchr(l, '\0', ll) != NULL || memchr(l, '\n', ll) != NULL)
		return -EINVAL;
	for (size_t i = 0; i < ll;) {
		while (i < ll && l[i] == ' ')
			i++;
		if (i >= ll)
			break;
		if (nf == MI_FIELDS)
			return -EINVAL;
		f[nf] = l + i;
		while (i < ll && l[i] != ' ')
			i++;
		fl[nf] = (size_t)(l + i - f[nf]);
		if (fl[nf] == 1 && f[nf][0] == '-' && sep == 0 && nf >= 6)
			sep = nf;
		nf++;
	}
	/* id parent maj:min root mountpoint options [optional...] - fstype source super */
	if (nf < 10 || sep == 0 || sep + 3 >= nf)
		return -EINVAL;
	const char *colon = memchr(f[2], ':', fl[2]);
	if (colon == NULL || number(f[0], fl[0], &m->id) != 0 ||
	    number(f[1], fl[1], &m->parent) != 0 ||
	    number(f[2], (size_t)(colon - f[2]), &m->major) != 0 ||
	    number(colon + 1, fl[2] - (size_t)(colon - f[2]) - 1, &m->minor) != 0)
		return -EINVAL;
	if (unescape(f[4], fl[4], m->mountpoint, sizeof(m->mountpoint)) != 0 ||
	    unescape(f[sep + 2], fl[sep + 2], m->source, sizeof(m->source)) != 0)
		return -EINVAL;
	bool rw = has_option(f[5], fl[5], "rw"), ro = has_option(f[5], fl[5], "ro");
	if (rw == ro)
		return -EINVAL; /* the kernel always writes exactly one of them first */
	m->writable = rw && !has_option(f[sep + 3], fl[sep + 3], "ro");
	return 0;
}
