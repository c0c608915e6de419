/*
 * fuzz_control.c - libFuzzer harness for the control socket's request parser and the
 * watch filter (daemon/control_cmd.c). An accepted line is one JSON object whose "cmd" is
 * a short non-empty string; whatever it is, root may see it as a record and the filter
 * never crashes on it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *req;
	const char *cmd;
	char why[128];

	if (size > CONTROL_LINE_MAX)
		return 0;
	if (ctl_parse((const char *)data, size, &req, &cmd, why, sizeof(why)) != 0) {
		if (req != NULL || why[0] == '\0')
			abort();
		return 0;
	}
	if (req == NULL || cmd == NULL || cmd[0] == '\0' || strlen(cmd) > 64 ||
	    !json_object_is_type(req, json_type_object))
		abort();
	if (!ctl_visible(req, 0))
		abort();
	(void)ctl_visible(req, 1000);
	json_object_put(req);
	return 0;
}
