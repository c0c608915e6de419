/*
 * conf.c - parser of portcullisd.conf (see conf.h).
 * Linked by portcullisd and the CLI; input is an administrator's file, parsed as
 * if it were hostile: bounded lines, known keys only, values checked per type.
 */
#include "conf.h"

#include "fileio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_FILE_MAX (1u << 20)
#define CONF_LINE_MAX 1024

const struct conf_key conf_keys[] = {
    {"rules", "path of the device rule file (USBGuard rule language)"},
    {"audit-log", "directory of the audit trail"},
    {"audit-origin",
     "COUNCIL/PC: the trail signs as portcullis/COUNCIL/PC (default portcullis/<host name>)"},
    {"state-dir", "directory for persistent state"},
    {"control-socket", "path of the control socket for the portcullis CLI"},
    {"authorized-default", "none | internal | all: what root hubs let in before a decision"},
    {"present-devices", "apply-policy | allow | block: devices present at start"},
    {"engine-user", "unprivileged user the engine runs as"},
    {"retention", "months the audit trail is kept, e.g. 6"},
    {"profile", "council profile: a name (e.g. watton) or the absolute path of a .profile"},
    {"transfer-log", "options file of the transfer log (on-overflow, clamd-socket, pseudonymise)"},
    {"wipe-group",
     "group whose members may wipe an approved medium (e.g. clerks); none by default"},
    {"boot-marker",
     "file in /run marking that the daemon has started since boot (present-devices)"},
    {"wipe-key", "this PC's Ed25519 wipe key (PEM) that signs wipe certificates"},
    {NULL, NULL},
};

void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->rules, "/etc/portcullis/rules.conf");
	strcpy(c->audit_log, "/var/log/portcullis");
	strcpy(c->state_dir, "/var/lib/portcullis");
	strcpy(c->control_socket, "/run/portcullis/control.sock");
	strcpy(c->engine_user, "portcullis");
	strcpy(c->boot_marker, "/run/portcullisd/started");
	strcpy(c->wipe_key, "/etc/portcullis/wipe.key");
	c->authorized_default = CONF_AUTH_NONE;
	c->present_devices = CONF_PRESENT_APPLY_POLICY;
	c->retention_months = 6;
}

struct ctx {
	const char *name;
	struct pcl_diag *diags;
	size_t max, n;
};

__attribute__((format(printf, 3, 4))) static void err(struct ctx *x, unsigned line, const char *fmt,
						      ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (x->n < x->max)
		pcl_diag_vset(&x->diags[x->n], x->name, line, fmt, ap);
	va_end(ap);
	x->n++;
}

static int set_path(struct ctx *x, unsigned line, const char *key, const char *v, char *out,
		    size_t len)
{
	if (v[0] != '/') {
		err(x, line, "%s: '%s' is not an absolute path", key, v);
		return -1;
	}
	if (strlen(v) >= len) {
		err(x, line, "%s: path longer than %zu bytes", key, len - 1);
		return -1;
	}
	strcpy(out, v);
	return 0;
}

static int set_enum(struct ctx *x, unsigned line, const char *key, const char *v,
		    const char *const *names, int *out)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	err(x, line, "%s: unknown value '%s'", key, v);
	return -1;
}

/* COUNCIL/PC, each 1-63 of [a-z0-9-] not starting with '-' (the names of the PC's
 * certificate and of `portcullis fleet`). */
static bool origin_ok(const char *v)
{
	const char *slash = strchr(v, '/');
	size_t a = slash ? (size_t)(slash - v) : 0, b = slash ? strlen(slash + 1) : 0;
	static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789-";

	return slash && a > 0 && a < 64 && b > 0 && b < 64 && v[0] != '-' && slash[1] != '-' &&
	       strspn(v, set) == a && strspn(slash + 1, set) == b;
}

static void apply(struct conf *c, struct ctx *x, unsigned line, const char *k, const char *v)
{
	static const char *const auth[] = {"none", "all", "internal", NULL};
	static const char *const present[] = {"apply-policy", "allow", "block", NULL};

	if (strcmp(k, "rules") == 0)
		set_path(x, line, k, v, c->rules, sizeof(c->rules));
	else if (strcmp(k, "audit-log") == 0)
		set_path(x, line, k, v, c->audit_log, sizeof(c->audit_log));
	else if (strcmp(k, "audit-origin") == 0) {
		if (!origin_ok(v))
			err(x, line,
			    "%s: '%s' is not COUNCIL/PC (each 1-63 of a-z, 0-9 and '-', not "
			    "starting with '-')",
			    k, v);
		else
			strcpy(c->audit_origin, v);
	} else if (strcmp(k, "state-dir") == 0)
		set_path(x, line, k, v, c->state_dir, sizeof(c->state_dir));
	else if (strcmp(k, "control-socket") == 0)
		set_path(x, line, k, v, c->control_socket, sizeof(c->control_socket));
	else if (strcmp(k, "authorized-default") == 0)
		set_enum(x, line, k, v, auth, &c->authorized_default);
	else if (strcmp(k, "present-devices") == 0)
		set_enum(x, line, k, v, present, &c->present_devices);
	else if (strcmp(k, "engine-user") == 0) {
		size_t n = strlen(v);
		if (n == 0 || n >= sizeof(c->engine_user) ||
		    strspn(v, "abcdefghijklmnopqrstuvwxyz"
			      "0123456789_-") != n)
			err(x, line, "%s: invalid user name '%s'", k, v);
		else
			strcpy(c->engine_user, v);
	} else if (strcmp(k, "retention") == 0) {
		char *end;
		errno = 0;
		unsigned long m = strtoul(v, &end, 10);
		if (errno != 0 || end == v ||
		    (*end != '\0' && strcmp(end, "months") != 0 && strcmp(end, " months") != 0) ||
		    m == 0 || m > 120)
			err(x, line, "%s: '%s' is not a number of months between 1 and 120", k, v);
		else
			c->retention_months = (unsigned)m;
	} else if (strcmp(k, "wipe-group") == 0) {
		size_t n = strlen(v);
		if (n == 0 || n >= sizeof(c->wipe_group) ||
		    strspn(v, "abcdefghijklmnopqrstuvwxyz"
			      "0123456789_-") != n)
			err(x, line, "%s: invalid group name '%s'", k, v);
		else
			strcpy(c->wipe_group, v);
	} else if (strcmp(k, "wipe-key") == 0) {
		set_path(x, line, k, v, c->wipe_key, sizeof(c->wipe_key));
	} else if (strcmp(k, "boot-marker") == 0) {
		set_path(x, line, k, v, c->boot_marker, sizeof(c->boot_marker));
	} else if (strcmp(k, "transfer-log") == 0) {
		set_path(x, line, k, v, c->transfer_log, sizeof(c->transfer_log));
	} else if (strcmp(k, "profile") == 0) {
		size_t n = strlen(v);
		if (v[0] == '/')
			set_path(x, line, k, v, c->profile, sizeof(c->profile));
		else if (n == 0 || n >= 64 ||
			 strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
			err(x, line,
			    "%s: '%s' is neither a profile name ([a-z0-9-]) nor an absolute path",
			    k, v);
		else
			strcpy(c->profile, v);
	} else
		err(x, line, "unknown key '%s'", k);
}

static void parse_line(struct conf *c, struct ctx *x, unsigned lineno, char *line)
{
	char *s = pcl_trim(line);

	if (*s == '\0' || *s == '#')
		return;
	char *eq = strchr(s, '=');
	if (eq == NULL) {
		err(x, lineno, "expected 'key = value', got '%s'", s);
		return;
	}
	*eq = '\0';
	char *k = pcl_trim(s), *v = pcl_trim(eq + 1);
	if (*k == '\0') {
		err(x, lineno, "missing key before '='");
		return;
	}
	if (*v == '\0') {
		err(x, lineno, "%s: missing value", k);
		return;
	}
	apply(c, x, lineno, k, v);
}

int conf_parse_buffer(struct conf *c, const char *name, const char *buf, size_t len,
		      struct pcl_diag *diags, size_t max_diags, size_t *n_diags)
{
	struct ctx x = {name, diags, max_diags, 0};
	char line[CONF_LINE_MAX];
	unsigned lineno = 0;
	size_t i = 0;

	while (i < len) {
		size_t start = i;
		while (i < len && buf[i] != '\n')
			i++;
		size_t n = i - start;
		lineno++;
		i++; /* skip '\n' */
		if (memchr(buf + start, '\0', n) != NULL) {
			err(&x, lineno, "NUL byte in line");
			continue;
		}
		if (n >= sizeof(line)) {
			err(&x, lineno, "line longer than %d bytes", CONF_LINE_MAX - 1);
			continue;
		}
		memcpy(line, buf + start, n);
		line[n] = '\0';
		parse_line(c, &x, lineno, line);
	}
	if (n_diags != NULL)
		*n_diags = x.n;
	return x.n == 0 ? 0 : -EINVAL;
}

int conf_load_file(struct conf *c, const char *path, struct pcl_diag *diags, size_t max_diags,
		   size_t *n_diags)
{
	char *buf;
	size_t len;
	int rc;

	if (n_diags != NULL)
		*n_diags = 0;
	rc = pcl_read_file(path, CONF_FILE_MAX, PCL_READ_REGULAR, &buf, &len);
	if (rc != 0) {
		rc = rc == -EFBIG ? -EINVAL : rc;
		if (max_diags > 0)
			pcl_diag_set(&diags[0], path, 0, "cannot read: %s",
				     rc == -EINVAL ? "not a regular file or too large"
						   : strerror(-rc));
		if (n_diags != NULL)
			*n_diags = 1;
		return rc;
	}
	rc = conf_parse_buffer(c, path, buf, len, diags, max_diags, n_diags);
	free(buf);
	return rc;
}
