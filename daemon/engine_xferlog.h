/*
 * engine_xferlog.h - a transfer log's file records taken as one group (engine_xferlog.c).
 * Linked by the engine; the lines come from the less trusted watcher.
 */
#ifndef PCL_DAEMON_ENGINE_XFERLOG_H
#define PCL_DAEMON_ENGINE_XFERLOG_H

#include <stdbool.h>

#include "engine.h"

struct exlog_src {
	struct json_object *device; /* the device's fields (engine_device_json), or NULL */
	const char *block;	    /* volume.device_name */
	const char *port;	    /* usb.port */
};

/* The trail record of a helper's line (parsed, not taken over): its fields flattened,
 * its @timestamp as event.created, then the engine's fields laid over it. A helper's key
 * in the engine's fields (usb.*, volume.*, rule.*, approval.*, council.*,
 * portcullis.approval.*, portcullis.state, wipe.plan, any of src->device) is dropped and
 * named in portcullis.helper_fields_refused (which the helper cannot send itself). NULL:
 * no memory. */
struct json_object *exlog_record(const struct exlog_src *src, struct json_object *in);

/* The engine's fields of every record from src: the device's (NULL: none), then the
 * volume and port. NULL: no memory. */
struct json_object *exlog_engine_fields(const struct exlog_src *src);

/* Record the run of file records that start's complete lines ('\n'-ended) begin with, up
 * to 64, as one group; *written set when one is a file-written. Returns where the lines
 * not taken begin (start when the first is not a file record). */
char *exlog_take(struct engine *e, const struct exlog_src *src, char *start, bool *written);

#endif
