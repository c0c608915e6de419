/*
 * jsonx.c - flat ECS field helpers over json-c (see jsonx.h).
 * Linked by the engine; field names are the daemon's own constants.
 */
#include "jsonx.h"

#include <errno.h>
#include <stdio.h>

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

void jsonx_flatten(struct json_object *out, const char *prefix, struct json_object *in)
{
	json_object_object_foreach(in, k, v)
	{
		char key[256];
		int n = prefix ? snprintf(key, sizeof(key), "%s.%s", prefix, k)
			       : snprintf(key, sizeof(key), "%s", k);
		if (n < 0 || (size_t)n >= sizeof(key))
			continue;
		if (json_object_is_type(v, json_type_object))
			jsonx_flatten(out, key, v);
		else
			json_object_object_add(out, key, json_object_get(v));
	}
}
