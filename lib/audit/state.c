/*
 * state.c - the audit writer's secret state file (<dir>/state, mode 0600): key epoch,
 * current MAC key, current and next Ed25519 signing keys, last checkpoint position.
 * Linked by the engine; the file is its own (trusted as far as its owner is), still
 * parsed strictly. Replaced atomically (write, fsync, rename, fsync directory).
 */
#include "audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void audit_state_wipe(struct audit_state *st)
{
	explicit_bzero(st, sizeof(*st));
}

static int put_hex(char *out, size_t len, const char *name, const uint8_t v[32])
{
	char hex[AUDIT_HEX_LEN + 1];
	int n;

	audit_hex(hex, v);
	n = snprintf(out, len, "%s %s\n", name, hex);
	explicit_bzero(hex, sizeof(hex));
	return n;
}

int audit_state_save(const char *dir, const struct audit_state *st)
{
	char buf[1024], path[4096], tmp[4096];
	size_t off = 0;
	int fd, dfd, rc = 0;

	off += (size_t)snprintf(buf + off, sizeof(buf) - off,
				"portcullis-audit-state 1\norigin %s\nepoch %" PRIu64 "\n",
				st->origin, st->epoch);
	off += (size_t)put_hex(buf + off, sizeof(buf) - off, "mac-key", st->mac_key);
	off += (size_t)put_hex(buf + off, sizeof(buf) - off, "sign-key", st->sign_priv);
	off += (size_t)put_hex(buf + off, sizeof(buf) - off, "sign-pub", st->sign_pub);
	off += (size_t)put_hex(buf + off, sizeof(buf) - off, "next-key", st->next_priv);
	off += (size_t)put_hex(buf + off, sizeof(buf) - off, "next-pub", st->next_pub);
	off +=
	    (size_t)snprintf(buf + off, sizeof(buf) - off, "ckpt-seq %" PRIu64 "\n", st->ckpt_seq);
	off += (size_t)put_hex(buf + off, sizeof(buf) - off, "ckpt-head", st->ckpt_head);
	if (st->purge_hold[0])
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "purge-hold %s\n",
					st->purge_hold);
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(tmp, sizeof(tmp), "%s/state.tmp", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (write(fd, buf, off) != (ssize_t)off || fsync(fd) != 0)
		rc = errno ? -errno : -EIO;
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc == 0) {
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) != 0)
			rc = -errno;
		if (dfd >= 0)
			close(dfd);
	} else {
		unlink(tmp);
	}
out:
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

static int get_line(const char **p, const char *end, const char *name, char *val, size_t vlen)
{
	const char *eol = memchr(*p, '\n', (size_t)(end - *p));
	size_t nl = strlen(name), l;

	if (eol == NULL || (size_t)(eol - *p) <= nl + 1 || memcmp(*p, name, nl) != 0 ||
	    (*p)[nl] != ' ')
		return -EBADMSG;
	l = (size_t)(eol - *p) - nl - 1;
	if (l >= vlen)
		return -EBADMSG;
	memcpy(val, *p + nl + 1, l);
	val[l] = '\0';
	*p = eol + 1;
	return 0;
}

static int get_hex(const char **p, const char *end, const char *name, uint8_t v[32])
{
	char val[80];
	int rc = get_line(p, end, name, val, sizeof(val));

	if (rc == 0)
		rc = audit_unhex(v, val, strlen(val)) == 0 ? 0 : -EBADMSG;
	explicit_bzero(val, sizeof(val));
	return rc;
}

static int get_u64(const char **p, const char *end, const char *name, uint64_t *v)
{
	char val[32], *e;
	int rc = get_line(p, end, name, val, sizeof(val));

	if (rc != 0)
		return rc;
	errno = 0;
	*v = strtoull(val, &e, 10);
	return (errno || *e || e == val || val[0] == '-') ? -EBADMSG : 0;
}

int audit_state_load(const char *dir, struct audit_state *st)
{
	char buf[1024], path[4096], ver[16];
	const char *p = buf, *end;
	ssize_t n;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/state", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || n == (ssize_t)sizeof(buf))
		return -EBADMSG;
	end = buf + n;
	rc = get_line(&p, end, "portcullis-audit-state", ver, sizeof(ver));
	if (rc == 0 && strcmp(ver, "1") != 0)
		rc = -EBADMSG;
	if (rc == 0)
		rc = get_line(&p, end, "origin", st->origin, sizeof(st->origin));
	if (rc == 0)
		rc = get_u64(&p, end, "epoch", &st->epoch);
	if (rc == 0)
		rc = get_hex(&p, end, "mac-key", st->mac_key);
	if (rc == 0)
		rc = get_hex(&p, end, "sign-key", st->sign_priv);
	if (rc == 0)
		rc = get_hex(&p, end, "sign-pub", st->sign_pub);
	if (rc == 0)
		rc = get_hex(&p, end, "next-key", st->next_priv);
	if (rc == 0)
		rc = get_hex(&p, end, "next-pub", st->next_pub);
	if (rc == 0)
		rc = get_u64(&p, end, "ckpt-seq", &st->ckpt_seq);
	if (rc == 0)
		rc = get_hex(&p, end, "ckpt-head", st->ckpt_head);
	if (rc == 0 && p != end) /* optional: a boot in which retention purges are held */
		rc = get_line(&p, end, "purge-hold", st->purge_hold, sizeof(st->purge_hold));
	if (rc == 0 && p != end)
		rc = -EBADMSG;
	explicit_bzero(buf, sizeof(buf));
	if (rc != 0)
		audit_state_wipe(st);
	return rc;
}
