/*
 * fleet_writer.c - one simulated council PC's trail writer for the fleet test and
 * benchmark: enrols a trail (origin portcullis/<pc>) and appends records with the event
 * actions a council PC writes (transfers, blocked devices, exceptions, wipes, refusals).
 * Test-only program linked with lib/audit; arguments come from the test scripts.
 *
 * usage: fleet_writer DIR PC COUNT [KEY_OUT]     (FLEET_APPROVER: approver's name)
 *   KEY_OUT: enrol first and write the trail key there. Records are durable (fdatasync)
 *   before the program goes on; a checkpoint closes each run.
 *   FLEET_POWER_CUT=1: after that checkpoint, one more decision (device-blocked), durable
 *   through the trail's intent file alone and sealed by no checkpoint: what a power cut
 *   can take from the segment (the test then cuts it there) and the next open replays.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "audit.h"

static const char *const actions[] = {
    "file-written",	 "file-written",       "device-blocked",   "exception-requested",
    "file-read",	 "exception-approved", "wipe-requested",   "wipe-done",
    "exception-refused", "file-written",       "audit-clock-jump", "wipe-owed"};

static int append(struct audit_log *log, uint64_t i)
{
	const char *a = actions[i % (sizeof(actions) / sizeof(actions[0]))];
	struct json_object *ev = json_object_new_object();
	char path[64];
	int rc;

	json_object_object_add(ev, "event.action", json_object_new_string(a));
	json_object_object_add(ev, "event.outcome", json_object_new_string("success"));
	/* as the daemon records them: a request by uid only, an approval by the approver */
	if (strcmp(a, "exception-requested") == 0) {
		json_object_object_add(ev, "user.id", json_object_new_int(1001));
	} else if (strcmp(a, "exception-approved") == 0) {
		const char *who = getenv("FLEET_APPROVER");
		json_object_object_add(ev, "approval.approver",
				       json_object_new_string(who ? who : "Jane Smith"));
		json_object_object_add(ev, "event.reason",
				       json_object_new_string(i % 2 ? "agenda papers" : "minutes"));
		json_object_object_add(ev, "approval.until",
				       json_object_new_int64((int64_t)time(NULL) + 3600));
	} else {
		json_object_object_add(ev, "user.name", json_object_new_string("clerk"));
		json_object_object_add(ev, "user.id", json_object_new_int(1001));
	}
	if (i == 1) /* as the daemon records the council bundle it runs, at every start */
		json_object_object_add(ev, "council.bundle.version", json_object_new_int64(3));
	if (strncmp(a, "file-", 5) == 0) {
		snprintf(path, sizeof(path), "/media/stick/minutes-%" PRIu64 ".odt", i);
		json_object_object_add(ev, "file.path", json_object_new_string(path));
		json_object_object_add(ev, "file.size", json_object_new_int64((int64_t)i * 100));
	}
	rc = audit_append(log, ev);
	if (rc == 0 && strncmp(a, "exception", 9) == 0)
		rc = audit_checkpoint(log);
	json_object_put(ev);
	return rc;
}

int main(int argc, char **argv)
{
	char origin[128], msg[600], *key = NULL;
	struct pcl_diag diag = {0};
	struct audit_config cfg = {.checkpoint_interval_s = 1};
	struct audit_log *log = NULL;
	uint64_t count;

	if (argc < 4 || argc > 5)
		return 2;
	snprintf(origin, sizeof(origin), "portcullis/%s", argv[2]);
	cfg.dir = argv[1];
	cfg.origin = origin;
	cfg.host_name = argv[2];
	count = strtoull(argv[3], NULL, 10);
	if (argc == 5) {
		FILE *f;
		if (audit_enrol(&cfg, &key, &diag) != 0 || (f = fopen(argv[4], "w")) == NULL) {
			pcl_diag_format(&diag, msg, sizeof(msg));
			fprintf(stderr, "fleet_writer: enrol: %s\n", msg);
			return 1;
		}
		fputs(key, f);
		fclose(f);
		free(key);
	}
	if (audit_open(&log, &cfg, &diag) != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "fleet_writer: %s\n", msg);
		return 1;
	}
	for (uint64_t i = audit_last_seq(log) + 1; count > 0; i++, count--)
		if (append(log, i) != 0) {
			fprintf(stderr, "fleet_writer: append failed\n");
			return 1;
		}
	if (audit_checkpoint(log) != 0)
		return 1;
	if (getenv("FLEET_POWER_CUT") != NULL) {
		struct json_object *ev = json_object_new_object();
		json_object_object_add(ev, "event.action",
				       json_object_new_string("device-blocked"));
		json_object_object_add(ev, "event.outcome", json_object_new_string("success"));
		int rc = audit_append(log, ev);
		json_object_put(ev);
		if (rc != 0) {
			fprintf(stderr, "fleet_writer: append failed\n");
			return 1;
		}
	}
	audit_close(&log);
	return 0;
}
