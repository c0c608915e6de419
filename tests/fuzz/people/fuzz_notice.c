/*
 * fuzz_notice.c - libFuzzer harness for what a councillor is shown: a record from the
 * control socket (json-c parses it, tools/notice.c turns it into words) and request codes
 * (lib/common/reqcode.c) from a hash or from what a person typed.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "notice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* client.c reports through the CLI's pcl_fail(); not reached from here. */
int pcl_fail(const char *fmt, ...)
{
	(void)fmt;
	return 1;
}

static void check_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\n')
			abort(); /* device words must never reach a terminal raw */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct notice_ctx ctx = {"the Clerk", 6, size % 2 == 0};
	char *s = malloc(size + 1), code[PCL_REQUEST_CODE_LEN], body[1024];
	struct notice n;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (pcl_request_code(s, code) == 0 && strlen(code) != 9)
		abort();
	if (pcl_request_code_normalise(s, code) == 0 && strlen(code) != 9)
		abort();
	struct json_object *rec = json_tokener_parse(s);
	if (rec != NULL && json_object_is_type(rec, json_type_object)) {
		for (int event = 0; event < 2; event++) {
			if (notice_from_record(rec, event, &ctx, &n) == NOTICE_NONE)
				continue;
			for (int markup = 0; markup < 2; markup++) {
				notice_body(&n, markup, body, sizeof(body));
				check_printable(body);
			}
			check_printable(n.summary);
			check_printable(n.port);
		}
	}
	json_object_put(rec);
	free(s);
	return 0;
}
