/*
 * jsonx.h - building ECS-style nested JSON objects from dotted field names
 * ("volume.vendor_id" -> {"volume":{"vendor_id":...}}). Linked by the engine.
 */
#ifndef PCL_DAEMON_JSONX_H
#define PCL_DAEMON_JSONX_H

#include <json-c/json.h>
#include <stdint.h>

/* Set a dotted field; takes ownership of val. 0 or -ENOMEM/-EINVAL. */
int jsonx_set(struct json_object *root, const char *dotted, struct json_object *val);
int jsonx_set_str(struct json_object *root, const char *dotted, const char *s);
int jsonx_set_int(struct json_object *root, const char *dotted, int64_t v);
/* Get a dotted field, or NULL. */
struct json_object *jsonx_get(struct json_object *root, const char *dotted);
const char *jsonx_get_str(struct json_object *root, const char *dotted);

#endif
