/*
 * jsonx.h - ECS-style records: one flat JSON object whose keys are dotted field
 * names ("event.action", "volume.vendor_id"), the canonical form of the audit trail
 * (docs/audit-format.md). Linked by the engine.
 */
#ifndef PCL_DAEMON_JSONX_H
#define PCL_DAEMON_JSONX_H

#include <json-c/json.h>
#include <stdint.h>

/* Set a field; takes ownership of val. 0 or -ENOMEM. */
int jsonx_set(struct json_object *root, const char *field, struct json_object *val);
int jsonx_set_str(struct json_object *root, const char *field, const char *s);
int jsonx_set_int(struct json_object *root, const char *field, int64_t v);
/* A string field, or NULL. */
const char *jsonx_get_str(struct json_object *root, const char *field);
/* The members of in added to out, nested objects as dotted keys: {"file":{"path":"a"}} ->
 * {"file.path":"a"} (under prefix, NULL for none); a key longer than 255 bytes is dropped. */
void jsonx_flatten(struct json_object *out, const char *prefix, struct json_object *in);

#endif
