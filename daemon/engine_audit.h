/*
 * engine_audit.h - the engine's audit sink: one JSON object per line, durable
 * (fsync) before the action it describes takes effect.
 */
#ifndef PCL_DAEMON_ENGINE_AUDIT_H
#define PCL_DAEMON_ENGINE_AUDIT_H

#include <json-c/json.h>
#include <stdbool.h>

struct eaudit;

int eaudit_open(struct eaudit **out, const char *dir, const char *host_name);
/* Adds @timestamp and host.name, appends, fsyncs. 0 or negative errno. */
int eaudit_append(struct eaudit *a, struct json_object *rec, bool security);
void eaudit_close(struct eaudit **a);

#endif
