/*
 * engine_audit.c - opens the engine's audit trail (lib/audit) with the daemon's
 * configuration. Linked by the engine; the configuration is the parent's, already
 * validated.
 */
#include "engine_audit.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "log.h"

int eaudit_open(struct audit_log **out, const struct conf *c, const char *host_name)
{
	char origin[300], msg[600];
	struct pcl_diag diag = {0};
	struct audit_config cfg = {
	    .dir = c->audit_log,
	    .origin = origin,
	    .host_name = host_name,
	    .retention_months = c->retention_months,
	};

	snprintf(origin, sizeof(origin), "portcullis/%s",
		 c->audit_origin[0] ? c->audit_origin : host_name);
	int rc = audit_open(out, &cfg, &diag);
	if (rc != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		log_err("audit trail: %s", msg);
	}
	return rc;
}
