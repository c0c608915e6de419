/*
 * diag.h - diagnostics for parsers of configuration and untrusted input.
 * Linked by every process and tool. A parser that fails fills a pcl_diag with
 * "file:line: message" so the user sees exactly which input and which line.
 */
#ifndef PCL_DIAG_H
#define PCL_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define PCL_DIAG_MSG_MAX 256

struct pcl_diag {
	char file[256];		    /* input name (a path, "<descriptors>", ...) */
	unsigned line;		    /* 1-based line, 0 when not line-oriented */
	char msg[PCL_DIAG_MSG_MAX]; /* what is wrong, naming the field */
};

/* Set a diagnostic; a NULL diag is allowed and ignored. */
void pcl_diag_set(struct pcl_diag *d, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void pcl_diag_vset(struct pcl_diag *d, const char *file, unsigned line, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* Format as "file:line: message" ("file: message" when line is 0; the message alone when
 * file is "", a diagnostic about no input but the thing the caller named, e.g. a disk). */
void pcl_diag_format(const struct pcl_diag *d, char *buf, size_t len);

/* For line-oriented parsers: strip spaces and tabs from both ends of s, and a trailing
 * CR, in place. Returns the first byte kept. */
char *pcl_trim(char *s);

#endif
