/*
 * diag.c - "file:line: message" diagnostics, and the small text helpers parsers share.
 * Linked by every process and tool; inputs are the caller's own strings or untrusted
 * bytes that the helpers only scan.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void pcl_diag_set(struct pcl_diag *d, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pcl_diag_vset(d, file, line, fmt, ap);
	va_end(ap);
}

void pcl_diag_vset(struct pcl_diag *d, const char *file, unsigned line, const char *fmt, va_list ap)
{
	if (d == NULL)
		return;
	snprintf(d->file, sizeof(d->file), "%s", file ? file : "<input>");
	d->line = line;
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
}

void pcl_diag_format(const struct pcl_diag *d, char *buf, size_t len)
{
	if (d->file[0] == '\0')
		snprintf(buf, len, "%s", d->msg);
	else if (d->line > 0)
		snprintf(buf, len, "%s:%u: %s", d->file, d->line, d->msg);
	else
		snprintf(buf, len, "%s: %s", d->file, d->msg);
}

char *pcl_trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}
