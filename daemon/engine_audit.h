/*
 * engine_audit.h - the engine's side of the tamper-evident audit trail (lib/audit):
 * every record is durable before the action it describes takes effect.
 */
#ifndef PCL_DAEMON_ENGINE_AUDIT_H
#define PCL_DAEMON_ENGINE_AUDIT_H

#include <json-c/json.h>
#include <stdbool.h>

#include "conf.h"

struct audit_log;

/* Open the enrolled trail in c->audit_log; 0 or negative errno (logged). */
int eaudit_open(struct audit_log **out, const struct conf *c, const char *host_name);

#endif
