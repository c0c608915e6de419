/*
 * rules.h - the USBGuard rule language: parser, indexed first-match
 * matcher, and the rule line `usbguard generate-policy` writes for a device.
 * Linked by the engine, the CLI and tests. Rule files are configuration
 * written by the administrator (trusted for intent, not for syntax); device
 * identities passed to rules_decide() carry device-controlled strings.
 */
#ifndef PCL_RULES_H
#define PCL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "usbdev.h"

struct rules;

enum rules_target { RULES_ALLOW, RULES_BLOCK, RULES_REJECT };

struct rules_decision {
	enum rules_target target; /* RULES_BLOCK when nothing matched */
	bool matched;
	const char *file; /* owned by the rule set; NULL when nothing matched */
	unsigned line;
	const char *text;
	uint64_t iface_allow; /* for allow: bit i set = dev->ifaces[i] is to be authorised */
};

/*
 * Parse a rule file / buffer. On success *out holds the rule set and 0 is
 * returned. On any error no rule set is returned (fail closed): -EINVAL with
 * up to max_diags "file:line: message" diagnostics in diags (n_diags = number
 * of errors found, which may exceed max_diags), or -errno for I/O.
 */
int rules_load_file(const char *path, struct rules **out, struct pcl_diag *diags, size_t max_diags,
		    size_t *n_diags);
int rules_parse_buffer(const char *name, const char *buf, size_t len, struct rules **out,
		       struct pcl_diag *diags, size_t max_diags, size_t *n_diags);

/* First matching rule wins; no match = block. Never allocates; thread-safe on a const set. */
void rules_decide(const struct rules *r, const struct usbdev *dev, struct rules_decision *out);
size_t rules_count(const struct rules *r);
void rules_free(struct rules **r);

/*
 * Write the rule `usbguard generate-policy` writes for dev (default options)
 * with target t, without a newline. Returns the length, -ENOSPC when buf is
 * too small (buf then holds a truncated, NUL-terminated line), -EINVAL.
 */
int rules_format_device(const struct usbdev *dev, enum rules_target t, char *buf, size_t len);

/* Name of a target: "allow", "block", "reject". */
const char *rules_target_name(enum rules_target t);

#endif
