/*
 * engine_device.c - the device table and the one state machine of a device: which
 * events move a device from which state to which, checked in one place (device_move).
 * Its records, the features' hooks and its removal are engine_device_life.c.
 * Linked by the engine (unprivileged); one engine per process, so the table is this
 * file's own. The identity strings are device-written and only copied, bounded.
 */
#include "engine_device.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "jsonx.h"
#include "log.h"

static struct dev_entry devs[ENGINE_MAX_DEVICES];

struct dev_entry *engine_find(struct engine *e, const char *sysname)
{
	(void)e;
	for (size_t i = 0; i < ENGINE_MAX_DEVICES; i++)
		if (devs[i].used && strcmp(devs[i].id.sysname, sysname) == 0)
			return &devs[i];
	return NULL;
}

struct dev_entry *engine_add(struct engine *e, const char *sysname)
{
	struct dev_entry *d = engine_find(e, sysname);

	for (size_t i = 0; d == NULL && i < ENGINE_MAX_DEVICES; i++)
		if (!devs[i].used)
			d = &devs[i];
	if (d == NULL)
		return NULL;
	memset(d, 0, sizeof(*d));
	d->used = true;
	snprintf(d->id.sysname, sizeof(d->id.sysname), "%s", sysname);
	return d;
}

void engine_forget(struct engine *e, struct dev_entry *d)
{
	(void)e;
	memset(d, 0, sizeof(*d));
}

const struct dev_entry *engine_device_next(const struct engine *e, size_t *i)
{
	(void)e;
	for (; *i < ENGINE_MAX_DEVICES; (*i)++)
		if (devs[*i].used)
			return &devs[(*i)++];
	return NULL;
}

size_t engine_device_slot(const struct dev_entry *d)
{
	return (size_t)(d - devs);
}

struct dev_entry *engine_device_in_slot(struct engine *e, size_t i)
{
	(void)e;
	return i < ENGINE_MAX_DEVICES && devs[i].used ? &devs[i] : NULL;
}

struct dev_slot engine_device_ref(const struct dev_entry *d)
{
	return (struct dev_slot){engine_device_slot(d), d->busnum, d->devnum};
}

bool engine_device_is(const struct dev_entry *d, struct dev_slot r)
{
	return d != NULL && engine_device_slot(d) == r.slot && d->busnum == r.busnum &&
	       d->devnum == r.devnum;
}

struct dev_entry *engine_device_of(struct engine *e, struct dev_slot r)
{
	struct dev_entry *d = engine_device_in_slot(e, r.slot);

	return engine_device_is(d, r) ? d : NULL;
}

/* The state machine: every move a device can make. A pair not listed is refused. */
struct transition {
	enum dev_state from;
	enum dev_event ev;
	enum dev_state to;
};

static const struct transition table[] = {
    {DEV_PENDING, DEV_EV_ALLOW, DEV_ALLOWED},	/* the rules (or present-devices) */
    {DEV_PENDING, DEV_EV_DENY, DEV_BLOCKED},	/* the rules, or an unreadable identity */
    {DEV_PENDING, DEV_EV_REJECT, DEV_REJECTED}, /* the rules: off the bus */
    {DEV_ALLOWED, DEV_EV_ALLOW, DEV_ALLOWED},	/* narrowed: a wipe owed, read-only */
    {DEV_ALLOWED, DEV_EV_DENY, DEV_BLOCKED},	/* ended, expired, breached, no record */
    {DEV_BLOCKED, DEV_EV_ALLOW, DEV_ALLOWED},	/* exception, owed wipe, owner's accept */
    {DEV_BLOCKED, DEV_EV_DENY, DEV_BLOCKED},	/* taken away again (already out) */
    {DEV_REJECTED, DEV_EV_DENY, DEV_BLOCKED},	/* its record could not be written */
};

static const char *const state_names[] = {
    [DEV_PENDING] = "deciding",
    [DEV_ALLOWED] = "allowed",
    [DEV_BLOCKED] = "blocked",
    [DEV_REJECTED] = "rejected",
};

static const char *const event_names[] = {
    [DEV_EV_ALLOW] = "allow",
    [DEV_EV_DENY] = "deny",
    [DEV_EV_REJECT] = "reject",
};

const char *device_state_name(enum dev_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

int device_move(struct dev_entry *d, enum dev_event ev)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].from == d->state && table[i].ev == ev) {
			d->state = table[i].to;
			return 0;
		}
	log_err("%s: refused to %s a device that is %s", d->id.sysname,
		(unsigned)ev < sizeof(event_names) / sizeof(event_names[0]) ? event_names[ev] : "?",
		device_state_name(d->state));
	return -EPERM;
}

static void set_rule(struct dev_entry *d, const char *why)
{
	if (why != NULL)
		snprintf(d->rule, sizeof(d->rule), "%s", why);
}

int device_allow(struct dev_entry *d, uint64_t ifaces, const char *why)
{
	int rc = device_move(d, DEV_EV_ALLOW);

	if (rc != 0)
		return rc;
	d->iface_allow = ifaces;
	set_rule(d, why);
	return 0;
}

int device_deny(struct dev_entry *d, const char *why)
{
	int rc = device_move(d, DEV_EV_DENY);

	d->iface_allow = 0; /* fail closed even on a refused move */
	if (rc == 0)
		set_rule(d, why);
	return rc;
}

int device_reject(struct dev_entry *d, const char *why)
{
	int rc = device_move(d, DEV_EV_REJECT);

	if (rc != 0)
		return rc;
	d->iface_allow = 0;
	set_rule(d, why);
	return 0;
}

struct json_object *engine_device_json(const struct dev_entry *d)
{
	struct json_object *o = json_object_new_object();
	char buf[16];

	if (o == NULL)
		return NULL;
	jsonx_set_str(o, "volume.bus_type", d->bus);
	jsonx_set_str(o, "volume.device_name", d->id.sysname);
	if (!d->medium) {
		snprintf(buf, sizeof(buf), "%04x", d->id.vid);
		jsonx_set_str(o, "volume.vendor_id", buf);
		snprintf(buf, sizeof(buf), "%04x", d->id.pid);
		jsonx_set_str(o, "volume.product_id", buf);
	}
	jsonx_set_str(o, "volume.vendor_name", d->id.manufacturer);
	jsonx_set_str(o, "volume.product_name", d->id.product);
	jsonx_set_str(o, "volume.serial_number", d->id.serial);
	if (!d->medium) {
		struct json_object *ifs = json_object_new_array();
		for (size_t i = 0; ifs && i < d->id.n_ifaces; i++) {
			const struct usbdev_iface *f = &d->id.ifaces[i];
			char s[16];
			snprintf(s, sizeof(s), "%02x:%02x:%02x", f->cls, f->subclass, f->protocol);
			json_object_array_add(ifs, json_object_new_string(s));
		}
		jsonx_set(o, "usb.interfaces", ifs);
		jsonx_set_str(o, "usb.hash", d->id.hash);
		jsonx_set_str(o, "usb.parent_hash", d->id.parent_hash);
		jsonx_set_str(o, "usb.port", d->id.sysname);
		jsonx_set_str(o, "usb.connect_type", d->id.connect_type);
	}
	jsonx_set_str(o, "portcullis.state", device_state_name(d->state));
	jsonx_set_str(o, "rule.id", d->rule);
	return o;
}
