/*
 * conf.h - portcullisd.conf: one "key = value" per line, '#' comments.
 * Linked by portcullisd and the portcullis CLI. The file is written by the IT provider
 * (root-owned) but is still parsed defensively: every error is "file:line: message".
 * Keys are documented in portcullisd.conf(5); conf_keys[] is the single list of them.
 */
#ifndef PCL_CONF_H
#define PCL_CONF_H

#include <stddef.h>

#include "diag.h"

#define CONF_PATH_MAX 256

enum conf_authorized_default {
	CONF_AUTH_NONE = 0,	/* authorized_default=0: nothing new until decided */
	CONF_AUTH_ALL = 1,	/* authorized_default=1 */
	CONF_AUTH_INTERNAL = 2, /* authorized_default=2: hard-wired devices only */
};

enum conf_present {
	CONF_PRESENT_APPLY_POLICY,
	CONF_PRESENT_ALLOW,
	CONF_PRESENT_BLOCK,
};

struct conf {
	char rules[CONF_PATH_MAX];
	char audit_log[CONF_PATH_MAX];
	char audit_origin[128]; /* "COUNCIL/PC" (audit-origin); "" = portcullis/<host name> */
	char state_dir[CONF_PATH_MAX];
	char control_socket[CONF_PATH_MAX];
	char engine_user[64];
	char profile[CONF_PATH_MAX]; /* council profile: a name or an absolute path; "" = none */
	char transfer_log[CONF_PATH_MAX]; /* portcullis-xferwatch options file; "" = defaults */
	char wipe_group[64];		  /* group whose members may wipe any approved medium */
	char boot_marker[CONF_PATH_MAX];  /* root's marker of the first start since boot */
	char wipe_key[CONF_PATH_MAX];	  /* this PC's Ed25519 key signing wipe certificates */
	int authorized_default;		  /* enum conf_authorized_default */
	int present_devices;		  /* enum conf_present */
	unsigned retention_months;
};

struct conf_key {
	const char *name;
	const char *doc; /* one line, for portcullisd.conf(5) and `portcullisd -h` */
};

/* Every key the parser accepts, terminated by { NULL, NULL }. */
extern const struct conf_key conf_keys[];

/* Defaults: the documented ones (paths under /etc, /var/lib, /var/log, /run). */
void conf_defaults(struct conf *c);

/* Parse a buffer named `name`; returns 0 or -EINVAL with up to max_diags
 * diagnostics in diags (*n_diags set to how many errors were found). */
int conf_parse_buffer(struct conf *c, const char *name, const char *buf, size_t len,
		      struct pcl_diag *diags, size_t max_diags, size_t *n_diags);

/* Read and parse a file; -errno when it cannot be read (one diagnostic). */
int conf_load_file(struct conf *c, const char *path, struct pcl_diag *diags, size_t max_diags,
		   size_t *n_diags);

#endif
