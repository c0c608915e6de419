/*
 * helpers.h - shared fixtures of the audit unit tests: temporary trails with a clock
 * seam, line-level file surgery for the attack tests, verification with captured reports.
 * Test-only code.
 */
#ifndef PCL_TEST_AUDIT_HELPERS_H
#define PCL_TEST_AUDIT_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "audit.h"

#define T0  1768435200 /* 2026-01-15T00:00:00Z: the tests' first day */
#define DAY 86400

struct trail {
	char dir[128];
	char *key_text;
	struct audit_key key;
	time_t now;  /* clock seam */
	time_t boot; /* boot-clock seam (trail_boot_clock), read through &now */
	struct audit_config cfg;
	struct audit_log *log;
};

struct vres {
	struct audit_verify_result r;
	int rc;
	char msgs[8192];
};

void trail_init(struct trail *t, time_t start);
void trail_open(struct trail *t);
void trail_append(struct trail *t, unsigned n, const char *user);
void trail_fini(struct trail *t);
/* From the next open on, the boot clock reads t->boot (else it follows the wall seam). */
void trail_boot_clock(struct trail *t);

/* Path of the segment of a month ("2026-11"). */
void seg_path(const struct trail *t, const char *month, char *out, size_t len);
char *slurp_file(const char *path, size_t *len);
void write_file(const char *path, const char *data, size_t len);
/* Lines of a file (malloc'd copies); returns count. */
size_t file_lines(const char *path, char ***lines);
void write_lines(const char *path, char **lines, size_t n);
void free_lines(char **lines, size_t n);

/* Verify the given files (in order) with the trail's key and optional external note. */
void verify_files(const struct trail *t, const char **files, size_t n, const char *ckpt,
		  struct vres *out);
void verify_dir(const struct trail *t, struct vres *out);
/* verify_files as for a collector's copy (byte-identical repeats skipped). */
void verify_collected(const struct trail *t, const char **files, size_t n, struct vres *out);

/* Assert a verification failed and its report holds `what` (printed when not), or that
 * it passed (its report printed when not). */
void expect_failure(const struct vres *v, const char *what);
void expect_clean(const struct vres *v);
/* The attacker's edits to a trail line: `from` replaced by `to` of the same length, in
 * place; the record's MAC recomputed with a key it holds (root on the PC, or stolen). */
void replace_in(char *line, const char *from, const char *to);
void reseal(char *line, const uint8_t key[32]);

#endif
