/*
 * rules_format.c - the rule line `usbguard generate-policy` writes for one
 * device (id, serial, name, hash, parent-hash, via-port for devices without
 * a serial, with-interface, with-connect-type), strings escaped as USBGuard
 * escapes them. Linked by the CLI and tests; device strings are untrusted
 * and are escaped, never interpreted.
 */
#include "rules_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct out {
	char *buf;
	size_t len, pos;
	bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->pos) {
		o->full = true;
		return;
	}
	o->pos += (size_t)n;
}

/* Quoted string: \" and \\ escaped, bytes outside printable ASCII as \xhh. */
static void put_str(struct out *o, const char *s)
{
	put(o, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			put(o, "\\%c", *p);
		else if (*p >= 0x20 && *p < 0x7f)
			put(o, "%c", *p);
		else
			put(o, "\\x%02x", *p);
	}
	put(o, "\"");
}

int rules_format_device(const struct usbdev *dev, enum rules_target t, char *buf, size_t len)
{
	struct out o = {.buf = buf, .len = len};

	if (dev == NULL || buf == NULL || len == 0)
		return -EINVAL;
	buf[0] = '\0';
	put(&o, "%s id %04x:%04x serial ", rules_target_name(t), dev->vid, dev->pid);
	put_str(&o, dev->serial);
	put(&o, " name ");
	put_str(&o, dev->product);
	put(&o, " hash ");
	put_str(&o, dev->hash);
	put(&o, " parent-hash ");
	put_str(&o, dev->parent_hash);
	if (dev->serial[0] == '\0') {
		put(&o, " via-port ");
		put_str(&o, dev->sysname);
	}
	if (dev->n_ifaces == 1) {
		put(&o, " with-interface %02x:%02x:%02x", dev->ifaces[0].cls,
		    dev->ifaces[0].subclass, dev->ifaces[0].protocol);
	} else if (dev->n_ifaces > 1) {
		put(&o, " with-interface {");
		for (size_t i = 0; i < dev->n_ifaces; i++)
			put(&o, " %02x:%02x:%02x", dev->ifaces[i].cls, dev->ifaces[i].subclass,
			    dev->ifaces[i].protocol);
		put(&o, " }");
	}
	put(&o, " with-connect-type ");
	put_str(&o, dev->connect_type);
	if (o.full)
		return -ENOSPC;
	return (int)o.pos;
}
