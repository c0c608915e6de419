/*
 * jsonx.c - dotted-path helpers over json-c (see jsonx.h).
 * Linked by the engine; paths are the daemon's own constants.
 */
#include "jsonx.h"

#include <errno.h>
#include <string.h>

int jsonx_set(struct json_object *root, const char *dotted, struct json_object *val)
{
	char key[128];
	const char *p = dotted;
	struct json_object *cur = root;

	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0 || n >= sizeof(key)) {
			json_object_put(val);
			return -EINVAL;
		}
		memcpy(key, p, n);
		key[n] = '\0';
		if (dot == NULL)
			return json_object_object_add(cur, key, val) == 0 ? 0 : -ENOMEM;
		struct json_object *next;
		if (!json_object_object_get_ex(cur, key, &next) ||
		    !json_object_is_type(next, json_type_object)) {
			next = json_object_new_object();
			if (next == NULL || json_object_object_add(cur, key, next) != 0) {
				json_object_put(val);
				return -ENOMEM;
			}
		}
		cur = next;
		p = dot + 1;
	}
}

int jsonx_set_str(struct json_object *root, const char *dotted, const char *s)
{
	return jsonx_set(root, dotted, json_object_new_string(s ? s : ""));
}

int jsonx_set_int(struct json_object *root, const char *dotted, int64_t v)
{
	return jsonx_set(root, dotted, json_object_new_int64(v));
}

struct json_object *jsonx_get(struct json_object *root, const char *dotted)
{
	char key[128];
	const char *p = dotted;
	struct json_object *cur = root;

	while (cur != NULL) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0 || n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		struct json_object *next;
		if (!json_object_object_get_ex(cur, key, &next))
			return NULL;
		if (dot == NULL)
			return next;
		cur = next;
		p = dot + 1;
	}
	return NULL;
}

const char *jsonx_get_str(struct json_object *root, const char *dotted)
{
	struct json_object *o = jsonx_get(root, dotted);

	return o && json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
}
