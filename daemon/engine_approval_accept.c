/*
 * engine_approval_accept.c - the owner's acceptance of a council-data bring-in. The
 * approver marked the stick "this stick carries council data: wipe after import"; the
 * stick, approved, stays out until its owner (the user who asked, or root) accepts on
 * screen that everything on it will be erased once the import is over
 * (`portcullis media accept DEVICE`, control command media-accept). Both the mark and the
 * acceptance are recorded. Linked by the engine (unprivileged); the device name comes
 * from a control-socket client and the caller's uid from SO_PEERCRED.
 */
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "engine.h"
#include "engine_approval_int.h"
#include "engine_usb.h"
#include "jsonx.h"
#include "record.h"

void eappr_await_owner(struct engine *e, struct eappr_grant *g, struct dev_entry *d)
{
	g->awaiting = true;
	device_deny(d, "approved as council data: waiting for its owner to accept the wipe "
		       "after import");
	struct json_object *rec = engine_device_json(d);
	pcl_record_head(rec, PCL_KIND_EVENT, "exception-awaiting-owner", "success",
			"approved as carrying council data: it is let in once its owner accepts "
			"that it will be wiped after the import");
	jsonx_set_str(rec, "approval.ref", g->ref);
	jsonx_set_str(rec, "wipe.plan", "at-eject");
	jsonx_set_int(rec, "user.id", g->uid);
	engine_record_json(e, rec, false);
	json_object_put(rec);
}

int eappr_run_accept(struct ctl_call *call)
{
	const char *name = jsonx_get_str(call->req, "device");
	struct dev_entry *d = name ? engine_find(call->eng, name) : NULL;
	struct eappr_grant *g = eappr_grant_of(d);
	uid_t uid = call->caller->uid;

	if (d == NULL || g == NULL || !g->awaiting) {
		call->answer = eappr_error("%s is not waiting for its owner to accept a wipe",
					   name ? name : "(no device)");
		return 0;
	}
	if (uid != 0 && uid != g->uid) {
		/* Recorded as command-refused, with the caller's uid. */
		snprintf(call->why, sizeof(call->why),
			 "only the user who asked for the exception for %s (or root) may accept "
			 "its wipe",
			 name);
		return CTL_REFUSED;
	}
	struct json_object *rec = engine_device_json(d);
	pcl_record_head(rec, PCL_KIND_EVENT, "council-data-accepted", "success",
			"the owner accepted that the stick is wiped once its council data is "
			"imported");
	jsonx_set_str(rec, "approval.ref", g->ref);
	jsonx_set_int(rec, "user.id", uid);
	int rc = engine_record_json(call->eng, rec, true);
	json_object_put(rec);
	if (rc != 0) {
		call->answer = eappr_error("the audit trail cannot be written: still waiting");
		return 0;
	}
	if (device_allow(d, eappr_exception_interfaces(d),
			 "exception approved as council data, wipe accepted") != 0) {
		call->answer = eappr_error("%s cannot be let in as it is", d->id.sysname);
		return 0;
	}
	g->awaiting = false;
	engine_usb_apply(call->eng, d);
	call->answer = json_object_new_object();
	jsonx_set_str(call->answer, "accepted", d->id.sysname);
	jsonx_set_str(call->answer, "approval", g->ref);
	return 0;
}
