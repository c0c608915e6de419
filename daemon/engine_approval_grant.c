/*
 * engine_approval_grant.c - what the rest of the engine asks of a device's exception (see
 * engine_approval.h): who asked for it, whether it is read-only, whether and when its
 * medium is wiped, its reference; a wipe due at eject that did not start is tried again
 * a few seconds later (the jobs' next_due/on_due), a bounded number of times. Linked by
 * the engine (unprivileged); the grants are the engine's own state (engine_approval.c),
 * nothing here reads outside input.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "engine_approval.h"
#include "engine_approval_int.h"
#include "engine_usb.h"
#include "jsonx.h"
#include "log.h"
#include "record.h"

bool eappr_requested_by(const struct dev_entry *d, uid_t uid)
{
	struct eappr_grant *g = eappr_grant_of(d);

	return g != NULL && g->uid == uid;
}

void eappr_medium_mounted(const struct dev_entry *d, uint64_t bytes)
{
	struct eappr_grant *g = eappr_grant_of(d);

	if (g != NULL && bytes != 0)
		g->capacity = bytes; /* the medium's own size, when the request did not know it */
	/* A read-only grant owes no wipe: nothing of the council's can have been written to
	 * the medium (read-only at the block layer), and the data on it is its owner's. */
	if (g != NULL && (!g->readonly || g->council_data || g->owed))
		g->dirty = true; /* council data brought in is wiped after its import */
}

bool eappr_granted(const struct dev_entry *d)
{
	return eappr_grant_of(d) != NULL;
}

bool eappr_read_only(const struct dev_entry *d)
{
	struct eappr_grant *g = eappr_grant_of(d);

	return g != NULL && g->readonly;
}

bool eappr_wipe_due(const struct dev_entry *d)
{
	struct eappr_grant *g = eappr_grant_of(d);

	return g != NULL && g->wipe && g->dirty && !g->takeout;
}

const char *eappr_wipe_plan(const struct dev_entry *d)
{
	struct eappr_grant *g = eappr_grant_of(d);

	if (g == NULL || !g->wipe)
		return "none";
	return g->takeout ? "owed" : "at-eject";
}

void eappr_reference(const struct dev_entry *d, char *out, size_t len)
{
	struct eappr_grant *g = eappr_grant_of(d);

	snprintf(out, len, "%s", g != NULL && g->ref[0] ? g->ref : "none");
}

void eappr_medium_wiped(struct engine *e, const struct dev_entry *d)
{
	struct eappr_grant *g = eappr_grant_of(d);

	if (g != NULL) {
		g->dirty = false;
		g->wipe_tries = 0;
		g->wipe_retry_at = 0;
		eappr_owed_wiped(e, d, g);
	}
	eappr_owed_settled(d);
}

void eappr_wipe_refused(struct engine *e, struct dev_entry *d, const char *why)
{
	struct eappr_grant *g = eappr_grant_of(d);
	bool again = g != NULL && g->wipe && g->dirty && ++g->wipe_tries < EAPPR_WIPE_TRIES;
	struct json_object *rec = engine_device_json(d);

	if (g != NULL)
		g->wipe_retry_at = again ? (int64_t)time(NULL) + EAPPR_WIPE_RETRY_SECONDS : 0;
	log_warn("%s: the wipe it owes did not start (%s): %s", d->id.sysname, why,
		 again ? "tried again" : "blocked");
	pcl_record_head(rec, PCL_KIND_EVENT, "wipe-refused", "failure", why);
	jsonx_set_int(rec, "wipe.attempt", g != NULL ? g->wipe_tries : 1);
	jsonx_set_str(rec, "wipe.retry", again ? "yes" : "no");
	engine_record_json(e, rec, true);
	json_object_put(rec);
	if (!again && d->state == DEV_ALLOWED)
		engine_deny_device(e, d, "the wipe it owes could not be done here: blocked");
}

int64_t eappr_wipe_retry_at(const struct dev_entry *d)
{
	const struct eappr_grant *g = eappr_grant_of(d);

	return g != NULL ? g->wipe_retry_at : 0;
}

bool eappr_wipe_retry_due(const struct dev_entry *d, int64_t now)
{
	struct eappr_grant *g = eappr_grant_of(d);

	if (g == NULL || g->wipe_retry_at == 0 || now < g->wipe_retry_at)
		return false;
	g->wipe_retry_at = 0;
	return eappr_wipe_due(d);
}
