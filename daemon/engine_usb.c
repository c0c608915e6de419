/*
 * engine_usb.c - decisions for USB devices and their interfaces.
 * Linked by the engine. A device's identity comes from sysfs through lib/usb (the
 * strings and descriptors are written by the device itself: untrusted, parsed by
 * usbdesc_parse); the decision comes from the rule set; the record is written
 * before the parent is asked to act on it, and a failed record means no access.
 */
#include <errno.h>
#include <libudev.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "engine_disk.h"
#include "engine_grant.h"
#include "engine_hubs.h"
#include "engine_usb.h"
#include "ipc.h"
#include "log.h"
#include "sysfs.h"

/* The rule of a device left blocked because its identity could not be read. */
#define UNREAD_RULE "unreadable-identity"

static const char *const target_actions[] = {
    [RULES_ALLOW] = "device-allowed",
    [RULES_BLOCK] = "device-blocked",
    [RULES_REJECT] = "device-rejected",
};

static void dev_ref(const struct dev_entry *d, struct ipc_device_ref *r)
{
	snprintf(r->name, sizeof(r->name), "%s", d->id.sysname);
	r->busnum = d->busnum;
	r->devnum = d->devnum;
}

static int read_authorized(const char *syspath)
{
	unsigned long v;

	return sysfs_read_uint(syspath, "authorized", &v) == 0 ? (int)v : -1;
}

/* An interface (config, number) is authorised only if every alternate setting of it
 * is allowed: a driver may switch alternate settings after binding. */
static bool iface_allowed(const struct dev_entry *d, unsigned cfg, unsigned num)
{
	bool seen = false;

	for (size_t i = 0; i < d->id.n_ifaces && i < 64; i++) {
		const struct usbdev_iface *f = &d->id.ifaces[i];
		if (f->config_value != cfg || f->number != num)
			continue;
		seen = true;
		if (!(d->iface_allow & (UINT64_C(1) << i)))
			return false;
	}
	return seen;
}

static void decide_interface(struct engine *e, struct dev_entry *d, const char *ifsyspath,
			     const char *ifname)
{
	char devpath[512], buf[8], *end;
	unsigned long cfg;

	/* bConfigurationValue is decimal, bInterfaceNumber hexadecimal in sysfs. */
	snprintf(devpath, sizeof(devpath), "%s/..", ifsyspath);
	if (sysfs_read_uint(devpath, "bConfigurationValue", &cfg) != 0 ||
	    sysfs_read(ifsyspath, "bInterfaceNumber", buf, sizeof(buf)) != 0)
		return; /* unreadable: the interface stays de-authorised */
	unsigned long num = strtoul(buf, &end, 16);
	if (end == buf || *end != '\0')
		return;
	bool allow = d->state == DEV_ALLOWED && iface_allowed(d, (unsigned)cfg, (unsigned)num);
	if (!allow) {
		char reason[96];
		snprintf(reason, sizeof(reason), "interface %s is not allowed by the rule", ifname);
		engine_record(e, "interface-blocked", "success", d, reason, false);
		if (read_authorized(ifsyspath) == 0)
			return; /* held back by interface_authorized_default=0 already */
	}
	struct ipc_msg req = {.type = IPC_IFACE_AUTHORIZE};
	dev_ref(d, &req.u.iface.dev);
	snprintf(req.u.iface.iface, sizeof(req.u.iface.iface), "%s", ifname);
	req.u.iface.value = allow ? 1 : 0;
	int rc = engine_request(e, &req);
	if (rc != 0)
		log_warn("%s: interface %s not %s: %s", d->id.sysname, ifname,
			 allow ? "authorised" : "de-authorised", strerror(-rc));
}

/* Bring the interfaces that already exist in sysfs in line with the decision. */
static void decide_existing_interfaces(struct engine *e, struct dev_entry *d, const char *syspath)
{
	struct udev_enumerate *en = udev_enumerate_new(engine_udev(e));
	struct udev_device *parent = udev_device_new_from_syspath(engine_udev(e), syspath);

	if (en && parent && udev_enumerate_add_match_parent(en, parent) == 0 &&
	    udev_enumerate_add_match_property(en, "DEVTYPE", "usb_interface") == 0 &&
	    udev_enumerate_scan_devices(en) == 0) {
		struct udev_list_entry *it;
		udev_list_entry_foreach(it, udev_enumerate_get_list_entry(en))
		{
			const char *p = udev_list_entry_get_name(it);
			const char *name = strrchr(p, '/');
			name = name ? name + 1 : p;
			char prefix[80];
			snprintf(prefix, sizeof(prefix), "%s:", d->id.sysname);
			if (strncmp(name, prefix, strlen(prefix)) == 0)
				decide_interface(e, d, p, name);
		}
	}
	udev_device_unref(parent);
	udev_enumerate_unref(en);
}

static void rule_text(char *out, size_t len, const struct rules_decision *dec)
{
	if (dec->matched)
		snprintf(out, len, "%s:%u: %s", dec->file, dec->line, dec->text);
	else
		snprintf(out, len, "no-match");
}

static void apply_decision(struct engine *e, struct dev_entry *d, const char *syspath);

/* BUSNUM/DEVNUM of the uevent, v (no sysfs read), else the attribute file. */
static unsigned long uevent_num(const char *v, const char *syspath, const char *attr)
{
	unsigned long n = 0;
	char *end;

	if (v != NULL && *v != '\0') {
		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno == 0 && *end == '\0' && n <= UINT16_MAX)
			return n;
	}
	n = 0;
	sysfs_read_uint(syspath, attr, &n);
	return n;
}

static void decide_device(struct engine *e, const struct eusb_event *ev, bool at_start)
{
	struct pcl_diag diag = {0};
	struct usbdev id;
	struct rules_decision dec = {.target = RULES_BLOCK};
	char rule[sizeof(((struct dev_entry *)0)->rule)];
	const char *syspath = ev->syspath, *sysname = ev->sysname;
	unsigned long busnum = uevent_num(ev->busnum, syspath, "busnum");
	unsigned long devnum = uevent_num(ev->devnum, syspath, "devnum");

	/* The parent checks the device and opens its authorized file while the engine reads
	 * and decides it (root hubs are never decided): it writes nothing before the commit,
	 * which only an allow decision made durable sends; any other outcome settles it. */
	if (!usbdev_is_root_hub_name(sysname))
		egrant_prepare(e, sysname, (unsigned)busnum, (unsigned)devnum);
	int rc = usbdev_from_devpath(syspath, ehubs_hash(e, syspath), &id, &diag);

	if (rc == 0 && id.is_root_hub) {
		egrant_settle(e);
		return; /* root hubs are gated (authorized_default), never decided */
	}
	if (rc == 0)
		ehubs_keep(&id); /* its root hub's hash, not read again */
	struct dev_entry *d = engine_add(e, sysname);
	if (d == NULL) {
		egrant_settle(e);
		log_err("%s: device table full: left blocked", sysname);
		return;
	}
	d->busnum = (uint16_t)busnum;
	d->devnum = (uint16_t)devnum;
	strcpy(d->bus, "usb");
	if (rc != 0) {
		char msg[400];
		pcl_diag_format(&diag, msg, sizeof(msg));
		snprintf(d->id.sysname, sizeof(d->id.sysname), "%s", sysname);
		device_deny(d, UNREAD_RULE);
		engine_record(e, "device-blocked", "failure", d, msg, false);
		log_warn("%s: identity unreadable (%s): left blocked", sysname, msg);
		goto apply;
	}
	d->id = id;
	/* Seen now, recorded with the decision: one write to the trail before access. */
	struct json_object *seen =
	    engine_observation("device-inserted", d, at_start ? "present at start" : NULL);
	/* present-devices holds for the first start since boot only: a device plugged in while
	 * the engine was restarting, or the service was down, is decided by the rules. */
	if (at_start && engine_first_start(e) &&
	    engine_conf(e)->present_devices != CONF_PRESENT_APPLY_POLICY) {
		bool allow = engine_conf(e)->present_devices == CONF_PRESENT_ALLOW;
		dec.target = allow ? RULES_ALLOW : RULES_BLOCK;
		dec.iface_allow = allow ? ~UINT64_C(0) : 0;
		snprintf(rule, sizeof(rule), "present-devices=%s", allow ? "allow" : "block");
	} else {
		rules_decide(engine_rules(e), &d->id, &dec);
		rule_text(rule, sizeof(rule), &dec);
	}
	if (dec.target == RULES_ALLOW)
		device_allow(d, dec.iface_allow, rule);
	else if (dec.target == RULES_REJECT)
		device_reject(d, rule);
	else
		device_deny(d, rule);
	/* The record is durable before access is granted (its one disk sync); the signed
	 * checkpoint that seals it is scheduled after the grant (engine_seal below) and
	 * written by the trail's flusher thread, off the critical path. The parent has been
	 * checking the device meanwhile (the prepare above), and writes authorized at the
	 * commit, after the sync. Watching clients (the desktop's notices) hear of both
	 * records once the parent has acted, not before. */
	engine_tell_later(e, true);
	if (engine_record_observed(e, seen, target_actions[dec.target], "success", d, NULL) != 0) {
		device_deny(d, NULL); /* no record, no access */
	} else if (d->state != DEV_REJECTED) {
		engine_on_decided(e, d); /* a take-out or council stick back to be wiped */
	}
apply:
	apply_decision(e, d, syspath);
}

static void apply_decision(struct engine *e, struct dev_entry *d, const char *syspath)
{
	int rc;
	struct ipc_msg req = {0};
	if (d->state == DEV_ALLOWED) {
		if ((rc = egrant_commit(e, d)) != 0) {
			/* The decision's record says allowed; the device stays out: say why. */
			char why[128];
			snprintf(why, sizeof(why), "the grant failed: %s", strerror(-rc));
			log_warn("%s: not authorised by the parent: %s", d->id.sysname,
				 strerror(-rc));
			(void)device_deny(d, "grant-failed");
			engine_record(e, "device-blocked", "failure", d, why, false);
		}
	} else if (d->state == DEV_REJECTED) {
		req.type = IPC_DEV_REMOVE;
		dev_ref(d, &req.u.remove.dev);
	} else if (read_authorized(syspath) != 0) {
		req.type = IPC_DEV_AUTHORIZE; /* present and authorised: take it away */
		dev_ref(d, &req.u.authorize.dev);
		req.u.authorize.value = 0;
	}
	if (d->state != DEV_ALLOWED)
		egrant_settle(e); /* a prepare whose record failed: no commit */
	if (req.type != 0 && (rc = engine_request(e, &req)) != 0)
		log_warn("%s: %s refused by the parent: %s", d->id.sysname, ipc_type_name(req.type),
			 strerror(-rc));
	engine_tell_later(e, false); /* the decision's records, held until now */
	if (d->state == DEV_ALLOWED) {
		engine_seal(e);
		decide_existing_interfaces(e, d, syspath);
		engine_on_access(e); /* a medium already mounted before the decision */
	}
}

void engine_usb_apply(struct engine *e, struct dev_entry *d)
{
	struct udev_device *dev =
	    udev_device_new_from_subsystem_sysname(engine_udev(e), "usb", d->id.sysname);

	if (dev == NULL || udev_device_get_syspath(dev) == NULL)
		log_warn("%s: gone before its decision could be applied", d->id.sysname);
	else
		apply_decision(e, d, udev_device_get_syspath(dev));
	udev_device_unref(dev);
}

/* Whether the device the event is about is d: the same bus position (the kernel gives a
 * device at a port a new number each time one is enumerated there). */
static bool same_device(const struct dev_entry *d, const struct eusb_event *ev)
{
	return !d->medium && uevent_num(ev->busnum, ev->syspath, "busnum") == d->busnum &&
	       uevent_num(ev->devnum, ev->syspath, "devnum") == d->devnum;
}

/* Whether d was left blocked because its identity could not be read. */
static bool identity_unread(const struct dev_entry *d)
{
	return !d->medium && d->state != DEV_ALLOWED && strcmp(d->rule, UNREAD_RULE) == 0;
}

/* Another device at d's port: the kernel numbers each device anew, so the one recorded
 * left unseen (its remove lost) and goes first, with all it held, and so do the devices
 * that were behind it when it was a hub (their ports' names start with its name and a
 * dot). */
static void replaced(struct engine *e, struct dev_entry *d)
{
	const char *why = "another device at its port: its removal was not seen";
	char name[sizeof(d->id.sysname)];
	size_t n = (size_t)snprintf(name, sizeof(name), "%s", d->id.sysname), i = 0;

	for (const struct dev_entry *c; (c = engine_device_next(e, &i)) != NULL;)
		if (!c->medium && strncmp(c->id.sysname, name, n) == 0 && c->id.sysname[n] == '.') {
			ehubs_forget(c->id.sysname);
			engine_device_remove(e, engine_find(e, c->id.sysname), why);
		}
	ehubs_forget(name);
	engine_device_remove(e, d, why);
}

static void device_changed(struct engine *e, struct dev_entry *d, const char *syspath)
{
	int authorized = read_authorized(syspath);

	/* Kernels since 5.9 send "change" after our own write to authorized: a state that
	 * matches the decision is that echo, and needs nothing. */
	if (d->state == DEV_ALLOWED || authorized != 1)
		return;
	engine_record(e, "device-blocked", "success", d,
		      "authorised behind the daemon's back: taken away again", true);
	struct ipc_msg req = {.type = IPC_DEV_AUTHORIZE};
	dev_ref(d, &req.u.authorize.dev);
	req.u.authorize.value = 0;
	engine_request(e, &req);
}

void engine_usb_event(struct engine *e, const struct eusb_event *ev, bool at_start)
{
	const char *syspath = ev->syspath, *sysname = ev->sysname, *devtype = ev->devtype;
	const char *action = ev->action;

	if (syspath == NULL || sysname == NULL || devtype == NULL ||
	    ipc_name_valid(sysname, IPC_NAME_MAX) != 0)
		return;
	if (strcmp(devtype, "usb_interface") == 0) {
		if (strcmp(action, "add") != 0 && strcmp(action, "change") != 0)
			return;
		char devname[IPC_NAME_MAX];
		snprintf(devname, sizeof(devname), "%s", sysname);
		char *colon = strchr(devname, ':');
		if (colon == NULL)
			return;
		*colon = '\0';
		struct dev_entry *d = engine_find(e, devname);
		if (d != NULL && !d->medium)
			decide_interface(e, d, syspath, sysname);
		return;
	}
	if (strcmp(devtype, "usb_device") != 0)
		return;
	struct dev_entry *d = engine_find(e, sysname);
	if (strcmp(action, "remove") == 0) {
		ehubs_forget(sysname);
		if (d != NULL)
			engine_device_remove(e, d, NULL);
	} else if (strcmp(action, "add") == 0 && d != NULL && identity_unread(d)) {
		/* Seen half made (the kernel creates the directory before its attributes and
		 * announces the device after them): this add is the first full look. */
		engine_device_remove(e, d, "its identity could not be read: read again at its add");
		decide_device(e, ev, at_start);
	} else if (strcmp(action, "add") == 0 && d != NULL && same_device(d, ev)) {
		device_changed(e, d, syspath); /* udev's replay of the add (coldplug): no news */
	} else if (strcmp(action, "add") == 0 || d == NULL) {
		if (d != NULL)
			replaced(e, d);
		decide_device(e, ev, at_start);
	} else if (strcmp(action, "change") == 0) {
		device_changed(e, d, syspath);
	}
}

void engine_usb_udev_event(struct engine *e, struct udev_device *dev, const char *action,
			   bool at_start)
{
	const struct eusb_event ev = {
	    .action = action,
	    .syspath = udev_device_get_syspath(dev),
	    .sysname = udev_device_get_sysname(dev),
	    .devtype = udev_device_get_devtype(dev),
	    .busnum = udev_device_get_property_value(dev, "BUSNUM"),
	    .devnum = udev_device_get_property_value(dev, "DEVNUM"),
	};
	engine_usb_event(e, &ev, at_start);
}

void engine_rescan(struct engine *e, bool at_start)
{
	struct udev_enumerate *en = udev_enumerate_new(engine_udev(e));
	struct udev_list_entry *it;

	/* Forget devices that went away while events were lost, and root hubs' hashes. */
	ehubs_forget(NULL);
	size_t i = 0;
	for (const struct dev_entry *c; (c = engine_device_next(e, &i)) != NULL;) {
		if (c->medium)
			continue;
		char path[128];
		unsigned long v;
		snprintf(path, sizeof(path), "%s/%s", SYSFS_USB_DEVICES, c->id.sysname);
		if (sysfs_read_uint(path, "devnum", &v) != 0 || v != c->devnum) {
			engine_device_remove(e, engine_find(e, c->id.sysname),
					     "found gone on rescan");
		}
	}
	if (en == NULL || udev_enumerate_add_match_subsystem(en, "usb") != 0 ||
	    udev_enumerate_add_match_subsystem(en, "block") != 0 ||
	    udev_enumerate_scan_devices(en) != 0) {
		log_err("cannot enumerate devices");
		udev_enumerate_unref(en);
		return;
	}
	/* Devices first (the enumeration is in sysfs order: parents before children). */
	udev_list_entry_foreach(it, udev_enumerate_get_list_entry(en))
	{
		struct udev_device *dev =
		    udev_device_new_from_syspath(engine_udev(e), udev_list_entry_get_name(it));
		if (dev == NULL)
			continue;
		const char *subsystem = udev_device_get_subsystem(dev);
		const char *devtype = udev_device_get_devtype(dev);
		const char *sysname = udev_device_get_sysname(dev);
		if (subsystem && strcmp(subsystem, "usb") == 0 && devtype &&
		    strcmp(devtype, "usb_device") == 0 && sysname) {
			struct dev_entry *d = engine_find(e, sysname);
			if (d == NULL)
				engine_usb_udev_event(e, dev, "add", at_start);
			else
				device_changed(e, d, udev_device_get_syspath(dev));
		} else if (subsystem && strcmp(subsystem, "block") == 0) {
			engine_disk_event(e, dev, "add");
		}
		udev_device_unref(dev);
	}
	udev_enumerate_unref(en);
}

void engine_deny_device(struct engine *e, struct dev_entry *d, const char *reason)
{
	struct ipc_msg req = {.type = IPC_DEV_AUTHORIZE};

	device_deny(d, reason);
	engine_record(e, "device-blocked", "success", d, reason, true);
	dev_ref(d, &req.u.authorize.dev);
	req.u.authorize.value = 0;
	int rc = engine_request(e, &req);
	if (rc != 0)
		log_warn("%s: could not be de-authorised: %s", d->id.sysname, strerror(-rc));
}
