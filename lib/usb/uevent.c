/*
 * uevent.c - parser of the kernel's uevent messages (see uevent.h). Runs in the engine
 * (unprivileged) on bytes received from netlink; the sender is checked by the caller,
 * the bytes are not trusted here: every field is bounded, every key read once.
 */
#include "uevent.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A field's value into its place: -E2BIG when it does not fit, -EINVAL when seen before. */
static int put(char *dst, size_t cap, const char *v, size_t n)
{
	if (dst[0] != '\0')
		return -EINVAL;
	if (n == 0)
		return 0;
	if (n >= cap)
		return -E2BIG;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

static bool decimal(const char *s, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* A path as the kernel names devices: "/" then non-empty parts, none "." or "..", only
 * printable bytes. */
static bool plain_path(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *s = p + 1;;) {
		size_t n = strcspn(s, "/");
		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
				return false;
		if (s[n] == '\0')
			return true;
		s += n + 1;
	}
}

/* One "KEY=VALUE" of n bytes (no NUL inside). Keys not read here are skipped. */
static int field(struct uevent *ev, const char *kv, size_t n, bool *have_seq, bool *have_act,
		 bool *have_path)
{
	const char *eq = memchr(kv, '=', n);
	if (eq == NULL)
		return -EINVAL;
	size_t kn = (size_t)(eq - kv), vn = n - kn - 1;
	const char *v = eq + 1;

#define KEY(s) (kn == sizeof(s) - 1 && memcmp(kv, s, kn) == 0)
	if (KEY("ACTION") || KEY("DEVPATH")) {
		/* Both given in the header already: the same once more, and only once. */
		bool *seen = KEY("ACTION") ? have_act : have_path;
		const char *hdr = KEY("ACTION") ? ev->action : ev->devpath;
		if (*seen || vn != strlen(hdr) || memcmp(hdr, v, vn) != 0)
			return -EINVAL;
		*seen = true;
	} else if (KEY("SUBSYSTEM")) {
		return vn == 0 ? -EINVAL : put(ev->subsystem, sizeof(ev->subsystem), v, vn);
	} else if (KEY("DEVTYPE")) {
		return vn == 0 ? -EINVAL : put(ev->devtype, sizeof(ev->devtype), v, vn);
	} else if (KEY("BUSNUM") || KEY("DEVNUM")) {
		char *dst = KEY("BUSNUM") ? ev->busnum : ev->devnum;
		if (!decimal(v, vn, sizeof(ev->busnum) - 1))
			return -EINVAL;
		return put(dst, sizeof(ev->busnum), v, vn);
	} else if (KEY("SEQNUM")) {
		if (*have_seq || !decimal(v, vn, 19))
			return -EINVAL;
		char num[20];
		memcpy(num, v, vn);
		num[vn] = '\0';
		ev->seqnum = strtoull(num, NULL, 10);
		*have_seq = true;
	}
#undef KEY
	return 0;
}

int uevent_parse(const void *buf, size_t len, struct uevent *ev)
{
	const char *m = buf;
	bool have_seq = false, have_act = false, have_path = false;
	int rc = -EINVAL;

	memset(ev, 0, sizeof(*ev));
	if (len >= 8 && memcmp(m, "libudev", 8) == 0)
		return -EPROTO;
	if (len > UEVENT_MSG_MAX)
		return -E2BIG;
	if (len < 4 || m[len - 1] != '\0')
		return -EINVAL;
	/* The header, "ACTION@DEVPATH": both must be given again as keys, the same. */
	size_t hn = strlen(m);
	const char *at = memchr(m, '@', hn);
	if (at == NULL || at == m)
		goto fail;
	size_t an = (size_t)(at - m), pn = hn - an - 1;
	if (an >= sizeof(ev->action) || pn >= sizeof(ev->devpath)) {
		rc = -E2BIG;
		goto fail;
	}
	memcpy(ev->action, m, an);
	memcpy(ev->devpath, at + 1, pn);
	if (!plain_path(ev->devpath))
		goto fail;
	for (size_t off = hn + 1; off < len;) {
		size_t n = strlen(m + off);
		if (n == 0 || (rc = field(ev, m + off, n, &have_seq, &have_act, &have_path)) != 0)
			goto fail;
		off += n + 1;
	}
	rc = -EINVAL;
	if (!have_seq || !have_act || !have_path || ev->subsystem[0] == '\0')
		goto fail;
	return 0;
fail:
	memset(ev, 0, sizeof(*ev));
	return rc == 0 ? -EINVAL : rc;
}

const char *uevent_sysname(const struct uevent *ev)
{
	const char *s = strrchr(ev->devpath, '/');
	return s ? s + 1 : ev->devpath;
}
