/*
 * config.c - transfer-logging policy options ("key = value" lines).
 * Linked by portcullis-xferwatch and the engine. Input is the administrator's
 * policy file: trusted, but every error names the file, line and key.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "xfer.h"

void xfer_config_defaults(struct xfer_config *c)
{
	memset(c, 0, sizeof(*c));
	c->on_overflow = XFER_OVERFLOW_FAIL_CLOSED;
	c->clamd_timeout_ms = 10000;
	c->retention_days = 365;
	c->hash_threads = 2;
	c->queue_max = 1024;
	c->bpf_ring_kib = 8192;
}

void xfer_config_wipe(struct xfer_config *c)
{
	explicit_bzero(c->pseudo_key, sizeof(c->pseudo_key));
	c->pseudo_key_len = 0;
}

static int parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -EINVAL;
	*out = (unsigned)n;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

static int parse_key(const char *v, struct xfer_config *c)
{
	size_t n = strlen(v);
	if (n % 2 || n / 2 < 16 || n / 2 > XFER_KEY_MAX)
		return -EINVAL;
	unsigned char tmp[XFER_KEY_MAX];
	for (size_t i = 0; i < n / 2; i++) {
		char hex[3] = {v[2 * i], v[2 * i + 1], 0};
		if (!isxdigit((unsigned char)hex[0]) || !isxdigit((unsigned char)hex[1])) {
			explicit_bzero(tmp, sizeof(tmp));
			return -EINVAL;
		}
		tmp[i] = (unsigned char)strtoul(hex, NULL, 16);
	}
	memcpy(c->pseudo_key, tmp, n / 2);
	c->pseudo_key_len = n / 2;
	explicit_bzero(tmp, sizeof(tmp));
	return 0;
}

int xfer_config_set(struct xfer_config *c, const char *key, const char *value, const char *file,
		    unsigned line, struct pcl_diag *diag)
{
	int rc = 0;
	const char *want = NULL;
	if (!strcmp(key, "on-overflow")) {
		want = "fail-closed or continue";
		if (!strcmp(value, "fail-closed"))
			c->on_overflow = XFER_OVERFLOW_FAIL_CLOSED;
		else if (!strcmp(value, "continue"))
			c->on_overflow = XFER_OVERFLOW_CONTINUE;
		else
			rc = -EINVAL;
	} else if (!strcmp(key, "clamd-socket")) {
		want = "an absolute socket path shorter than 108 bytes";
		if (value[0] != '/' || strlen(value) >= sizeof(c->clamd_socket))
			rc = -EINVAL;
		else
			strcpy(c->clamd_socket, value);
	} else if (!strcmp(key, "clamd-timeout-ms")) {
		want = "milliseconds 100..600000";
		rc = parse_uint(value, 100, 600000, &c->clamd_timeout_ms);
	} else if (!strcmp(key, "retention-days")) {
		want = "days 1..36500";
		rc = parse_uint(value, 1, 36500, &c->retention_days);
	} else if (!strcmp(key, "pseudonymise")) {
		want = "yes or no";
		rc = parse_bool(value, &c->pseudonymise);
	} else if (!strcmp(key, "pseudonymise-key")) {
		want = "16 to 64 bytes in hex";
		rc = parse_key(value, c);
	} else if (!strcmp(key, "hash-threads")) {
		want = "1..16";
		rc = parse_uint(value, 1, 16, &c->hash_threads);
	} else if (!strcmp(key, "hash-queue")) {
		want = "1..65536";
		rc = parse_uint(value, 1, 65536, &c->queue_max);
	} else if (!strcmp(key, "unlimited-queue")) {
		want = "yes or no";
		rc = parse_bool(value, &c->unlimited_queue);
	} else if (!strcmp(key, "bpf-ring-kib")) {
		want = "a power of two from 4 to 65536";
		rc = parse_uint(value, 4, 65536, &c->bpf_ring_kib);
		if (rc == 0 && (c->bpf_ring_kib & (c->bpf_ring_kib - 1)) != 0)
			rc = -EINVAL;
	} else if (!strcmp(key, "xfer-backend")) {
		want = "auto, bpf, bpf-tracepoint or fanotify";
		rc = 0;
		if (!strcmp(value, "auto"))
			c->backend = XFER_BACKEND_AUTO;
		else if (!strcmp(value, "bpf"))
			c->backend = XFER_BACKEND_BPF;
		else if (!strcmp(value, "bpf-tracepoint"))
			c->backend = XFER_BACKEND_BPF_TRACEPOINT;
		else if (!strcmp(value, "fanotify"))
			c->backend = XFER_BACKEND_FANOTIFY;
		else
			rc = -EINVAL;
	} else {
		pcl_diag_set(diag, file, line, "unknown option '%s'", key);
		return -EINVAL;
	}
	if (rc < 0)
		pcl_diag_set(diag, file, line, "%s: expected %s", key, want);
	return rc;
}

int xfer_config_parse(struct xfer_config *c, const char *text, size_t len, const char *file,
		      struct pcl_diag *diag)
{
	unsigned line = 0;
	size_t off = 0;
	char buf[512];
	while (off < len) {
		line++;
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		if (n >= sizeof(buf)) {
			pcl_diag_set(diag, file, line, "line longer than %zu bytes",
				     sizeof(buf) - 1);
			return -EINVAL;
		}
		memcpy(buf, text + off, n);
		buf[n] = '\0';
		off += n + (nl ? 1 : 0);
		if (memchr(buf, '\0', n) != NULL) {
			pcl_diag_set(diag, file, line, "NUL byte in line");
			explicit_bzero(buf, sizeof(buf));
			return -EINVAL;
		}
		char *s = pcl_trim(buf);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			pcl_diag_set(diag, file, line, "expected 'key = value'");
			explicit_bzero(buf, sizeof(buf));
			return -EINVAL;
		}
		*eq = '\0';
		int rc = xfer_config_set(c, pcl_trim(s), pcl_trim(eq + 1), file, line, diag);
		explicit_bzero(buf, sizeof(buf));
		if (rc < 0)
			return rc;
	}
	return 0;
}

int xfer_config_check(const struct xfer_config *c, const char *file, struct pcl_diag *diag)
{
	if (c->pseudonymise && c->pseudo_key_len == 0) {
		pcl_diag_set(diag, file, 0, "pseudonymise = yes needs pseudonymise-key");
		return -EINVAL;
	}
	if ((c->backend == XFER_BACKEND_BPF || c->backend == XFER_BACKEND_BPF_TRACEPOINT) &&
	    c->clamd_socket[0]) {
		pcl_diag_set(diag, file, 0,
			     "xfer-backend = %s cannot scan with clamd-socket (scanning needs "
			     "fanotify's permission events)",
			     c->backend == XFER_BACKEND_BPF ? "bpf" : "bpf-tracepoint");
		return -EINVAL;
	}
	return 0;
}
