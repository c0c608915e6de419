/*
 * cmd_watch.c - `portcullis watch [--json]`: follow the daemon's decisions live.
 * Runs as any user; reads records from the control socket until interrupted.
 */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "commands.h"

static const char *get(struct json_object *o, const char *a, const char *b)
{
	struct json_object *x, *y;

	if (!json_object_object_get_ex(o, a, &x))
		return "";
	if (b == NULL)
		return json_object_get_string(x);
	if (!json_object_object_get_ex(x, b, &y))
		return "";
	return json_object_get_string(y);
}

int cmd_watch(int argc, char **argv)
{
	int json = argc == 2 && strcmp(argv[1], "--json") == 0;

	if (argc > 2 || (argc == 2 && !json)) {
		fprintf(stderr, "usage: portcullis watch [--json]\n");
		return 2;
	}
	struct json_object *req = json_object_new_object(), *rec;
	json_object_object_add(req, "cmd", json_object_new_string("watch"));
	FILE *f = client_request(client_socket_path(), req);
	json_object_put(req);
	if (f == NULL)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((rec = client_read(f)) != NULL) {
		if (json)
			printf("%s\n", json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN));
		else
			printf("%s %-18s %-8s %s %s:%s \"%s\" %s%s%s\n",
			       get(rec, "@timestamp", NULL), get(rec, "event", "action"),
			       get(rec, "volume", "bus_type"), get(rec, "volume", "device_name"),
			       get(rec, "volume", "vendor_id"), get(rec, "volume", "product_id"),
			       get(rec, "volume", "product_name"), get(rec, "rule", "id"),
			       *get(rec, "event", "reason") ? " - " : "",
			       get(rec, "event", "reason"));
		json_object_put(rec);
	}
	fclose(f);
	return 0;
}
