/*
 * approval_cli.h - helpers shared by `portcullis approve`, `request` and `approver`:
 * one control-socket call, the approver's signature over a request, option parsing.
 */
#ifndef PCL_TOOLS_APPROVAL_CLI_H
#define PCL_TOOLS_APPROVAL_CLI_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "approval.h"

/* Send req (consumed) to portcullisd; the answer, or NULL after printing its error. */
struct json_object *acli_call(struct json_object *req);

/* Show the request to the approver (stderr), then take the PIN (akey_pin: from pin_fd,
 * $PORTCULLIS_PIN, or typed at the terminal with the prompt ask; ask NULL: not asked),
 * get the key's assertion over the request with the credentials it names as the allow
 * list, and write the response text into out (APPR_TEXT_MAX). 0 or 1 after a message. */
int acli_sign(const char *req_text, const char *key, const char *pin_fd, const char *ask,
	      char *out);

/* The approver's tick on a request file (text, NUL-terminated, cap bytes): "this stick
 * carries council data: wipe after import", a bring-in's only. 0 or 1 after a message. */
int acli_mark_council_data(char *text, size_t cap);

/* Options that describe an exception: --read-only, --read-write, --council-data
 * (a bring-in carrying council data: wiped after import, accepted by the owner),
 * --until-unplug,
 * --for DURATION (30m, 8h, 2d), --until TIME (unix seconds or YYYY-MM-DDTHH:MM local),
 * --reason TEXT. Returns how many argv entries were used (1 or 2), 0 if argv[i] is not
 * one of them, -1 after a usage message. */
int acli_scope_option(int argc, char **argv, int i, struct json_object *req);

/* The same, req naming the device `device` (a port, or a name `portcullis status`
 * shows: client_device_name) as "device". */
struct json_object *acli_call_device(struct json_object *req, const char *device);

/* Unix seconds t as local time, "2026-12-06 09:30 GMT" (the number itself if it cannot
 * be shown so). */
void acli_local_time(int64_t t, char *out, size_t len);

/* A request or response file ("-" = standard input): pcl_read_text with APPR_TEXT_MAX. */
char *acli_read_file(const char *path, size_t *len);
/* The same with another limit. */
char *acli_read_file_max(const char *path, size_t max, size_t *len);
/* approval_owed.c: the open owed wipes of b's council from `fleet owed --format json`
 * output into b (bundle build --owed FILE). 0 or 1 after a message. */
struct appr_bundle;
int acli_owed_take(const char *path, struct appr_bundle *b);
/* Write text to path ("-" = stdout). 0 or 1 after a message. */
int acli_write_file(const char *path, const char *text);

#endif
