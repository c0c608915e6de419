/*
 * cmd_watch.c - `portcullis watch [--json]`: follow the daemon's decisions live.
 * Runs as any user; reads records from the control socket until interrupted.
 */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "commands.h"

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
		const char *reason = client_field(rec, "event.reason");
		if (json)
			printf("%s\n", json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN));
		else
			printf("%s %-18s %-5s %s %s:%s \"%s\" %s%s%s\n",
			       client_field(rec, "@timestamp"), client_field(rec, "event.action"),
			       client_field(rec, "volume.bus_type"),
			       client_field(rec, "volume.device_name"),
			       client_field(rec, "volume.vendor_id"),
			       client_field(rec, "volume.product_id"),
			       client_field(rec, "volume.product_name"),
			       client_field(rec, "rule.id"), *reason ? " - " : "", reason);
		json_object_put(rec);
	}
	fclose(f);
	return 0;
}
