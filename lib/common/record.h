/*
 * record.h - the header every audit record opens with (docs/audit-format.md):
 * event.action, event.outcome, event.kind and, when there is one, event.reason, always in
 * that order. Linked by the engine and lib/audit (library pcl_record, which needs json-c;
 * the rest of lib/common does not). The values are the caller's: a reason may quote
 * untrusted text, which json-c escapes when the record is written.
 */
#ifndef PCL_RECORD_H
#define PCL_RECORD_H

#include <json-c/json.h>

#define PCL_KIND_EVENT "event" /* something that happened: a decision, a refusal */
#define PCL_KIND_ALERT "alert" /* something that needs a person: a clock jump */

/* Set the header fields on rec: kind (PCL_KIND_*), action, outcome ("success",
 * "failure", or NULL for none) and reason (NULL for none). Returns 0, or -ENOMEM (rec is
 * then incomplete and must not be written), or -EINVAL for a NULL rec, kind or action. */
int pcl_record_head(struct json_object *rec, const char *kind, const char *action,
		    const char *outcome, const char *reason);

#endif
