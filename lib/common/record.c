/*
 * record.c - the one builder of the audit record header (see record.h). Linked by the
 * engine and lib/audit; it only sets fields, the record is written by lib/audit.
 */
#include "record.h"

#include <errno.h>

static int put(struct json_object *rec, const char *key, const char *val)
{
	struct json_object *s = json_object_new_string(val);

	if (s == NULL)
		return -ENOMEM;
	if (json_object_object_add(rec, key, s) != 0) {
		json_object_put(s);
		return -ENOMEM;
	}
	return 0;
}

int pcl_record_head(struct json_object *rec, const char *kind, const char *action,
		    const char *outcome, const char *reason)
{
	int rc;

	if (rec == NULL || kind == NULL || action == NULL)
		return -EINVAL;
	rc = put(rec, "event.action", action);
	if (rc == 0 && outcome != NULL)
		rc = put(rec, "event.outcome", outcome);
	if (rc == 0)
		rc = put(rec, "event.kind", kind);
	if (rc == 0 && reason != NULL)
		rc = put(rec, "event.reason", reason);
	return rc;
}
