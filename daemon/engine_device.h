/*
 * engine_device.h - the engine's record of a plugged device and its one state machine
 * (docs/architecture.md, "Device state machine"). Linked by the engine. Features ask the
 * record to change state (device_allow, device_deny, device_reject); they never write
 * the decision fields themselves. The device strings inside are device-written.
 */
#ifndef PCL_DAEMON_ENGINE_DEVICE_H
#define PCL_DAEMON_ENGINE_DEVICE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "usbdev.h"

#define ENGINE_MAX_DEVICES 256

enum dev_state {
	DEV_PENDING, /* identity read, decision not yet taken */
	DEV_ALLOWED,
	DEV_BLOCKED,
	DEV_REJECTED,
};

/* What moves a device from one state to another (the table in engine_device.c). */
enum dev_event {
	DEV_EV_ALLOW,  /* the rules, an exception, an owed wipe or the owner let it in */
	DEV_EV_DENY,   /* the rules block it, or its access is taken away: always defined */
	DEV_EV_REJECT, /* the rules reject it: removed from the bus */
};

struct dev_entry {
	bool used;
	bool medium;	  /* a non-USB removable medium (block layer) */
	struct usbdev id; /* for a medium: sysname, product, manufacturer, serial */
	uint16_t busnum, devnum;
	char bus[8]; /* "usb", "mmc", "ata" */
	/* The decision: written only through device_move and its wrappers below. */
	enum dev_state state;
	char rule[512]; /* "file:line: text" or "no-match" or a setting */
	uint64_t iface_allow;
};

struct engine;

/* The device table. */
struct dev_entry *engine_find(struct engine *e, const char *sysname);
struct dev_entry *engine_add(struct engine *e, const char *sysname);
void engine_forget(struct engine *e, struct dev_entry *d);
/* The next device in use from slot *i on (advancing *i past it), or NULL at the end. */
const struct dev_entry *engine_device_next(const struct engine *e, size_t *i);

/* Move d by event: 0, or -EPERM for a move the table does not define (logged, d left as
 * it was). */
int device_move(struct dev_entry *d, enum dev_event ev);
/* Let d in with the interfaces of mask ifaces; why (may be NULL: kept) is its rule text. */
int device_allow(struct dev_entry *d, uint64_t ifaces, const char *why);
/* Take d's access away (every state may be denied): no interface allowed. */
int device_deny(struct dev_entry *d, const char *why);
/* Reject d (a device the rules want off the bus). */
int device_reject(struct dev_entry *d, const char *why);
/* The name of a state as records and clients see it ("deciding", "allowed", ...). */
const char *device_state_name(enum dev_state s);

/* JSON description of a device (identity, state, rule), for records and clients. */
struct json_object *engine_device_json(const struct dev_entry *d);

#endif
