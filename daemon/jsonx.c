/*
 * jsonx.c - flat ECS field helpers over json-c (see jsonx.h).
 * Linked by the engine; field names are the daemon's own constants.
 */
#include "jsonx.h"

#include <errno.h>

int jsonx_set(struct json_object *root, const char *field, struct json_object *val)
{
	if (val == NULL)
		return -ENOMEM;
	return json_object_object_add(root, field, val) == 0 ? 0 : -ENOMEM;
}

int jsonx_set_str(struct json_object *root, const char *field, const char *s)
{
	return jsonx_set(root, field, json_object_new_string(s ? s : ""));
}

int jsonx_set_int(struct json_object *root, const char *field, int64_t v)
{
	return jsonx_set(root, field, json_object_new_int64(v));
}

const char *jsonx_get_str(struct json_object *root, const char *field)
{
	struct json_object *o;

	if (!json_object_object_get_ex(root, field, &o) ||
	    !json_object_is_type(o, json_type_string))
		return NULL;
	return json_object_get_string(o);
}
