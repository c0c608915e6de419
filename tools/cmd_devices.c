/*
 * cmd_devices.c - `portcullis devices [--json]`: the devices portcullisd knows, their
 * state and the rule that decided. Runs as any user; talks to the control socket.
 */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "commands.h"

int cmd_devices(int argc, char **argv)
{
	int json = argc == 2 && strcmp(argv[1], "--json") == 0;

	if (argc > 2 || (argc == 2 && !json)) {
		fprintf(stderr, "usage: portcullis devices [--json]\n");
		return 2;
	}
	struct json_object *res = client_devices(), *arr;
	if (res == NULL)
		return 1;
	json_object_object_get_ex(res, "devices", &arr);
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
	} else {
		printf("%-10s %-9s %-9s %-28s %s\n", "PORT", "STATE", "ID", "PRODUCT", "RULE");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *d = json_object_array_get_idx(arr, i);
			const char *vid = client_field(d, "volume.vendor_id");
			char id[16] = "-";
			if (*vid)
				snprintf(id, sizeof(id), "%s:%s", vid,
					 client_field(d, "volume.product_id"));
			printf("%-10s %-9s %-9s %-28.28s %s\n",
			       client_field(d, "volume.device_name"),
			       client_field(d, "portcullis.state"), id,
			       client_field(d, "volume.product_name"), client_field(d, "rule.id"));
		}
	}
	json_object_put(res);
	return 0;
}
