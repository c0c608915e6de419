/*
 * approval_owed.c - `portcullis bundle build --owed FILE`: the council's open owed wipes,
 * as `portcullis fleet owed --format json` lists them on the IT provider's collector, put
 * into the council bundle so that every PC of the council recognises the sticks.
 * Linked by the portcullis CLI. The file is the IT provider's, but its strings came from
 * PC trails: each entry is checked and refused with its index and field named; the
 * bundle encoder checks them again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "approval_cli.h"
#include "bundle.h"
#include "commands.h"

static const char *str(struct json_object *o, const char *k)
{
	struct json_object *s;

	return json_object_object_get_ex(o, k, &s) && json_object_is_type(s, json_type_string)
		   ? json_object_get_string(s)
		   : NULL;
}

static int hex4(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v = s && strlen(s) == 4 ? strtoul(s, &end, 16) : 0x10000;

	if (v > 0xffff || *end)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int acli_owed_take(const char *path, struct appr_bundle *b)
{
	size_t len;
	char *text = acli_read_file_max(path, 4u << 20, &len);
	struct json_object *arr, *cap;

	if (text == NULL)
		return 1;
	arr = json_tokener_parse(text);
	free(text);
	if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
		json_object_put(arr);
		return pcl_fail("%s: not a JSON array (portcullis fleet owed --format json)", path);
	}
	b->n_owed = 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		const char *council = str(o, "council"), *ref = str(o, "ref");
		const char *hash = str(o, "usb_hash"), *serial = str(o, "serial");
		if (council == NULL || strcmp(council, b->council) != 0)
			continue; /* another council's */
		if (b->n_owed == APPR_BUNDLE_OWED) {
			json_object_put(arr);
			return pcl_fail("%s: more than %d open owed wipes for %s", path,
					APPR_BUNDLE_OWED, b->council);
		}
		struct appr_bundle_owed *w = &b->owed[b->n_owed];
		memset(w, 0, sizeof(*w));
		const char *bad = ref == NULL || strlen(ref) >= sizeof(w->ref)	    ? "ref"
				  : hash == NULL || strlen(hash) >= sizeof(w->hash) ? "usb_hash"
				  : hex4(str(o, "vid"), &w->vid) != 0		    ? "vid"
				  : hex4(str(o, "pid"), &w->pid) != 0		    ? "pid"
				  : serial == NULL || strlen(serial) >= sizeof(w->serial) ? "serial"
											  : NULL;
		if (bad != NULL) {
			json_object_put(arr);
			return pcl_fail("%s: entry %zu: %s missing or malformed", path, i, bad);
		}
		snprintf(w->ref, sizeof(w->ref), "%s", ref);
		snprintf(w->hash, sizeof(w->hash), "%s", hash);
		snprintf(w->serial, sizeof(w->serial), "%s", serial);
		if (json_object_object_get_ex(o, "capacity", &cap) &&
		    json_object_is_type(cap, json_type_int) && json_object_get_int64(cap) > 0)
			w->capacity = (uint64_t)json_object_get_int64(cap);
		b->n_owed++;
	}
	json_object_put(arr);
	return 0;
}
