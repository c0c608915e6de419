/*
 * cmd_devices.c - `portcullis devices [--json]`: the devices portcullisd knows, their
 * state and the rule that decided. Runs as any user; talks to the control socket.
 */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "commands.h"

static const char *field(struct json_object *o, const char *a, const char *b)
{
	struct json_object *x, *y;

	if (!json_object_object_get_ex(o, a, &x) || !json_object_object_get_ex(x, b, &y))
		return "";
	return json_object_get_string(y);
}

int cmd_devices(int argc, char **argv)
{
	int json = argc == 2 && strcmp(argv[1], "--json") == 0;

	if (argc > 2 || (argc == 2 && !json)) {
		fprintf(stderr, "usage: portcullis devices [--json]\n");
		return 2;
	}
	struct json_object *req = json_object_new_object(), *res, *arr;
	json_object_object_add(req, "cmd", json_object_new_string("devices"));
	FILE *f = client_request(client_socket_path(), req);
	json_object_put(req);
	if (f == NULL)
		return 1;
	res = client_read(f);
	fclose(f);
	if (res == NULL || !json_object_object_get_ex(res, "devices", &arr))
		return json_object_put(res), pcl_fail("no valid answer from portcullisd");
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
	} else {
		printf("%-10s %-9s %-9s %-28s %s\n", "PORT", "STATE", "ID", "PRODUCT", "RULE");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *d = json_object_array_get_idx(arr, i);
			char id[16];
			snprintf(id, sizeof(id), "%s:%s", field(d, "volume", "vendor_id"),
				 field(d, "volume", "product_id"));
			printf("%-10s %-9s %-9s %-28.28s %s\n", field(d, "volume", "device_name"),
			       field(d, "portcullis", "state"), strcmp(id, ":") ? id : "-",
			       field(d, "volume", "product_name"), field(d, "rule", "id"));
		}
	}
	json_object_put(res);
	return 0;
}
