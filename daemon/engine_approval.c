/*
 * engine_approval.c - Clerk approvals in the engine (see engine_approval.h): builds
 * approval requests for blocked devices, verifies the approver's answer and grants the
 * exception through the parent, ends grants at their expiry.
 * Linked by the engine (unprivileged). Requests and responses come from control-socket
 * clients or from files that travelled by e-mail: untrusted, parsed by lib/approval;
 * the peer's uid comes from SO_PEERCRED. Nothing is granted without a record.
 */
#include "engine_approval.h"
#include "engine_usb.h"
#include "hex.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libudev.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "engine.h"
#include "engine_approval_int.h"
#include "ipc.h"
#include "jsonx.h"
#include "record.h"
#include "log.h"
#include "sysfs.h"

#define CLOCK_SKEW_SECONDS  300
#define WARN_BEFORE_SECONDS 300

static struct eappr_state st;
/* A device's grant, in the slot of its record (engine_device_slot). */
static struct eappr_grant grants[ENGINE_MAX_DEVICES];

struct eappr_state *eappr_state(void)
{
	return &st;
}

static int read_machine_id(char out[33])
{
	char buf[64] = {0};
	int fd = open("/etc/machine-id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 32 || strspn(buf, "0123456789abcdef") != 32)
		return -EINVAL;
	memcpy(out, buf, 32);
	out[32] = '\0';
	return 0;
}

int eappr_open(struct engine *e)
{
	const struct conf *c = engine_conf(e);
	struct pcl_diag diag = {0};
	char msg[600];

	snprintf(st.dir, sizeof(st.dir), "%s", c->state_dir);
	if (c->profile[0] == '\0') {
		log_info("no council profile configured: exceptions cannot be approved");
		return 0;
	}
	int rc;

	if ((rc = appr_profile_load(c->profile, PCL_PROFILE_DIR, &st.profile, &diag)) != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		log_err("council profile: %s", msg);
		return rc;
	}
	if ((rc = read_machine_id(st.machine_id)) != 0) {
		log_err("/etc/machine-id is missing or malformed: approvals cannot name this PC");
		return rc;
	}
	snprintf(st.rp, sizeof(st.rp), "portcullis:%s", st.profile.council);
	if ((rc = eappr_store_load(&st)) != 0 || (rc = eappr_issued_load(&st)) != 0 ||
	    (rc = eappr_bundle_load(&st)) != 0 || (rc = eappr_owed_load(&st)) != 0)
		return rc; /* each logged what it could not load */
	st.ready = true;
	log_info("council profile %s (%s): %zu approver(s), exceptions %s", st.profile.council,
		 st.profile.name, st.n_approvers, st.profile.exceptions ? "possible" : "never");
	return 0;
}

struct json_object *eappr_refuse(struct engine *e, const struct dev_entry *d, const char *why,
				 const char *response)
{
	struct json_object *rec = d ? engine_device_json(d) : json_object_new_object();

	pcl_record_head(rec, PCL_KIND_EVENT, "exception-refused", "failure", why);
	if (response)
		jsonx_set_str(rec, "approval.response", response);
	engine_record_json(e, rec, true);
	json_object_put(rec);
	log_warn("exception refused: %s", why);
	return eappr_error("%s", why);
}

/* Is the device of a class this council's exceptions may cover? Sets the interfaces an
 * exception lets through: every interface (any-device) or its mass-storage ones. */
uint64_t eappr_exception_interfaces(const struct dev_entry *d)
{
	uint64_t allow = 0;

	for (size_t i = 0; i < d->id.n_ifaces && i < 64; i++)
		if (st.profile.classes == APPR_CLASSES_ANY || d->id.ifaces[i].cls == 0x08)
			allow |= UINT64_C(1) << i;
	return allow;
}

void eappr_fill_request(struct appr_request *r, const struct usbdev *id)
{
	snprintf(r->port, sizeof(r->port), "%s", id->sysname);
	snprintf(r->hash, sizeof(r->hash), "%s", id->hash);
	r->vid = id->vid;
	r->pid = id->pid;
	snprintf(r->serial, sizeof(r->serial), "%s", id->serial);
	snprintf(r->manufacturer, sizeof(r->manufacturer), "%s", id->manufacturer);
	snprintf(r->product, sizeof(r->product), "%s", id->product);
	r->n_ifaces = id->n_ifaces < APPR_MAX_IFACES ? id->n_ifaces : APPR_MAX_IFACES;
	for (size_t i = 0; i < r->n_ifaces; i++)
		r->ifaces[i] = (struct appr_iface){id->ifaces[i].cls, id->ifaces[i].subclass,
						   id->ifaces[i].protocol};
}

/* Read the device's identity again from sysfs, now. */
int eappr_reread(const char *port, struct usbdev *id)
{
	char path[160];
	struct pcl_diag diag = {0};

	snprintf(path, sizeof(path), "%s/%s", SYSFS_USB_DEVICES, port);
	return usbdev_from_sysfs(path, id, &diag);
}

static bool same_device(const struct appr_request *r, const struct usbdev *id)
{
	struct appr_request now = {0};

	eappr_fill_request(&now, id);
	return strcmp(now.port, r->port) == 0 && strcmp(now.hash, r->hash) == 0 &&
	       now.vid == r->vid && now.pid == r->pid && strcmp(now.serial, r->serial) == 0 &&
	       strcmp(now.manufacturer, r->manufacturer) == 0 &&
	       strcmp(now.product, r->product) == 0 && now.n_ifaces == r->n_ifaces &&
	       memcmp(now.ifaces, r->ifaces, r->n_ifaces * sizeof(r->ifaces[0])) == 0;
}

struct eappr_grant *eappr_grant_new(const struct dev_entry *d)
{
	size_t n = 0;

	for (size_t i = 0; i < ENGINE_MAX_DEVICES; i++)
		n += grants[i].used;
	return n < EAPPR_MAX_GRANTS ? &grants[engine_device_slot(d)] : NULL;
}

static void approval_ref(const struct appr_request *r, char *out, size_t len)
{
	char hex[17];

	pcl_hex_encode(hex, r->nonce, 8);
	snprintf(out, len, "A-%s", hex);
}

static void add_grant(struct eappr_grant *g, const struct dev_entry *d,
		      const struct appr_request *r, int64_t until)
{
	*g = (struct eappr_grant){.used = true,
				  .readonly = r->scope == APPR_READ_ONLY,
				  .busnum = d->busnum,
				  .devnum = d->devnum,
				  .until = until,
				  .wipe = r->wipe || r->council_data,
				  .uid = r->uid,
				  .takeout = r->scope == APPR_READ_WRITE,
				  .council_data = r->council_data,
				  .capacity = r->capacity};
	approval_ref(r, g->ref, sizeof(g->ref));
}

/* The approver may tick (or untick) "this stick carries council data" on a bring-in
 * before signing: the signed text is then the issued one but for that line. */
static bool approver_marked(const struct appr_request *r, const struct eappr_issued *q)
{
	static struct appr_request other;
	static char text[APPR_TEXT_MAX];
	uint8_t h[32];

	if (r->version < 3 || r->direction != APPR_BRING_IN)
		return false;
	other = *r;
	other.council_data = !r->council_data;
	int n = appr_request_encode(&other, text, sizeof(text));
	return n > 0 && appr_sha256(text, (size_t)n, h) == 0 &&
	       CRYPTO_memcmp(h, q->sha256, sizeof(h)) == 0;
}

/* The answer against the request this PC issued, and the council profile in force now
 * applied to it again (it may have changed since the request was issued). NULL when
 * they agree, else why not. */
static const char *not_as_asked(const struct appr_response *resp, const struct dev_entry *d,
				uid_t peer_uid)
{
	const struct appr_request *r = &resp->req;
	const struct eappr_issued *q = eappr_issued_find(&st, r->nonce);
	uint8_t h[32];

	if (q == NULL)
		return "the approval answers no request this PC has waiting (unknown nonce)";
	if (appr_sha256(resp->req_text, resp->req_len, h) != 0 ||
	    (CRYPTO_memcmp(h, q->sha256, sizeof(h)) != 0 && !approver_marked(r, q)))
		return "the signed request is not the one this PC issued (it was edited)";
	if (!appr_request_names_cred(r, resp->cred, resp->cred_len))
		return "the approving credential is not one the request named";
	if (peer_uid != 0 && peer_uid != r->uid)
		return "only the user who asked (or root) may apply the approval";
	if (r->answer_by - r->issued > ANSWER_REMOTE_SECONDS)
		return "the request's answer-by time is beyond the council's limit";
	if (st.profile.max_grant_hours && r->until &&
	    r->until - r->issued > (int64_t)st.profile.max_grant_hours * 3600)
		return "the exception is longer than the council's profile allows";
	if (st.profile.wipe && r->scope == APPR_READ_WRITE && !r->wipe)
		return "the council's profile requires a wipe after a read-write exception";
	if (d != NULL && eappr_exception_interfaces(d) == 0)
		return "the council's policy makes exceptions for storage devices only";
	return NULL;
}

/* Why the approver's answer grants nothing, or NULL when it holds: its signature by an
 * enrolled approver over this very request (*who, *counter: its key and signature
 * counter), for this council, PC and device, fresh and unreplayed, as this PC asked. */
static const char *answer_refused(struct engine *e, const struct appr_response *resp,
				  const struct dev_entry *d, uid_t peer_uid, int64_t now,
				  struct eappr_approver **who, uint32_t *counter, char *why,
				  size_t whylen)
{
	const struct appr_request *r = &resp->req;
	uint8_t cdh[APPR_CDH_LEN];
	struct usbdev id;

	if (!st.profile.exceptions)
		return "the council's policy allows no exceptions for removable devices";
	struct eappr_approver *a = eappr_find(&st, resp->cred, resp->cred_len);
	if (a == NULL)
		return "the approving key is not enrolled as an approver";
	if (a->recovery)
		return "the recovery key cannot approve exceptions";
	if (appr_request_cdh(resp->req_text, resp->req_len, cdh) != 0 ||
	    eappr_verify(&st, a, cdh, resp->authdata, resp->authdata_len, resp->sig, resp->sig_len,
			 st.profile.uv, counter, why, whylen) != 0)
		return why;
	/* The signature is good: from here on the approver signed exactly this request. */
	if (strcmp(r->council, st.profile.council) != 0)
		return "the approval is for another council";
	if (strcmp(r->machine_id, st.machine_id) != 0 || strcmp(r->host, engine_host(e)) != 0)
		return "the approval is for another PC";
	if (eappr_nonce_used(&st, r->nonce))
		return "the approval was already used (replayed nonce)";
	if (now > r->answer_by || (r->until != 0 && now >= r->until) ||
	    r->issued > now + CLOCK_SKEW_SECONDS)
		return "the approval has expired";
	if (*counter <= a->counter) {
		snprintf(why, whylen,
			 "signature counter of %s's key went from %" PRIu32 " to %" PRIu32
			 ": the key may have been cloned",
			 a->name, a->counter, *counter);
		return why;
	}
	const char *bad = not_as_asked(resp, d, peer_uid);
	if (bad != NULL)
		return bad;
	if (d == NULL || d->medium || eappr_reread(r->port, &id) != 0 || !same_device(r, &id) ||
	    strcmp(d->id.hash, id.hash) != 0)
		return "the approval is for another device";
	*who = a;
	return NULL;
}

/* The exception-approved record (security: durable and sealed before access); 0 or
 * negative errno. */
static int record_approved(struct engine *e, const struct dev_entry *d,
			   const struct appr_response *resp, const char *text,
			   const struct eappr_approver *a, uint32_t counter, int64_t now)
{
	const struct appr_request *r = &resp->req;
	struct json_object *rec = engine_device_json(d);
	char b64[APPR_CRED_MAX * 2], ref[24];

	if (rec == NULL)
		return -ENOMEM;
	pcl_record_head(rec, PCL_KIND_EVENT, "exception-approved", "success", NULL);
	jsonx_set_str(rec, "approval.response", text);
	jsonx_set_str(rec, "approval.approver", a->name);
	jsonx_set_str(rec, "approval.role", a->role);
	jsonx_set_str(rec, "approval.scope", appr_scope_name(r->scope));
	jsonx_set_str(rec, "approval.direction", appr_direction_name(r->direction));
	jsonx_set_str(rec, "approval.council_data", r->council_data ? "yes" : "no");
	approval_ref(r, ref, sizeof(ref));
	jsonx_set_str(rec, "approval.ref", ref);
	jsonx_set_int(rec, "approval.until", r->until);
	if (r->until == 0 && st.profile.max_grant_hours)
		jsonx_set_int(rec, "approval.ends_by",
			      now + (int64_t)st.profile.max_grant_hours * 3600);
	jsonx_set_int(rec, "approval.counter", counter);
	jsonx_set_str(rec, "approval.rp", st.rp);
	pcl_b64_encode(a->pk, sizeof(a->pk), b64, sizeof(b64));
	jsonx_set_str(rec, "approval.public_key", b64);
	int rc = engine_record_json(e, rec, true);
	json_object_put(rec);
	return rc;
}

/* What the client that applied the approval is told. */
static struct json_object *approved_answer(const struct dev_entry *d,
					   const struct eappr_approver *a,
					   const struct appr_request *r)
{
	struct json_object *ans = json_object_new_object();

	jsonx_set_str(ans, "approved", d->id.sysname);
	jsonx_set_str(ans, "approver", a->name);
	jsonx_set_str(ans, "scope", appr_scope_name(r->scope));
	jsonx_set_str(ans, "direction", appr_direction_name(r->direction));
	json_object_object_add(ans, "council-data", json_object_new_boolean(r->council_data));
	jsonx_set_int(ans, "until", r->until);
	return ans;
}

struct json_object *eappr_approve(struct engine *e, struct json_object *req, uid_t peer_uid)
{
	static struct appr_response resp;
	const char *text = jsonx_get_str(req, "response");
	struct pcl_diag diag = {0};
	char why[400];
	uint32_t counter = 0;
	struct eappr_approver *a = NULL;
	int64_t now = (int64_t)time(NULL);

	if (text == NULL)
		return eappr_error("no \"response\" given");
	if (appr_response_parse(text, strlen(text), "response", &resp, &diag) != 0) {
		pcl_diag_format(&diag, why, sizeof(why));
		return eappr_refuse(e, NULL, why, NULL);
	}
	const struct appr_request *r = &resp.req;
	struct dev_entry *d = engine_find(e, r->port);
	const char *refused =
	    answer_refused(e, &resp, d, peer_uid, now, &a, &counter, why, sizeof(why));
	if (refused != NULL)
		return eappr_refuse(e, d, refused, text);
	/* Fail closed: an exception that could not be ended at its expiry, nor kept
	 * read-only, is never granted. Checked before the nonce is spent. */
	struct eappr_grant *g = eappr_grant_new(d);
	if (g == NULL) {
		snprintf(why, sizeof(why),
			 "%d exceptions are in force on this PC already: none can be added "
			 "until one ends",
			 EAPPR_MAX_GRANTS);
		return eappr_refuse(e, d, why, text);
	}
	/* Persist before granting: a crash after this cannot let the same answer in twice. */
	uint32_t old = a->counter;
	a->counter = counter;
	if (eappr_nonce_add(&st, r->nonce) != 0 || eappr_store_save(&st) != 0) {
		a->counter = old;
		return eappr_error("approval state cannot be written: nothing granted");
	}
	eappr_issued_forget(&st, r->nonce); /* answered; the used nonce guards replays */
	char rule[sizeof(d->rule)];
	snprintf(rule, sizeof(rule), "exception approved by %s (%s)", a->name, a->role);
	if (device_allow(d, eappr_exception_interfaces(d), rule) != 0)
		return eappr_error("%s cannot be let in as it is: nothing granted", d->id.sysname);
	if (record_approved(e, d, &resp, text, a, counter, now) != 0) {
		device_deny(d, NULL);
		return eappr_error("the audit trail cannot be written: nothing granted");
	}
	/* "Until unplug" is still bounded by the council's longest exception. */
	int64_t ends = r->until != 0 || st.profile.max_grant_hours == 0
			   ? r->until
			   : now + (int64_t)st.profile.max_grant_hours * 3600;
	add_grant(g, d, r, ends);
	/* Council data brought in: the stick stays out until its owner has accepted on
	 * screen that it will be wiped after the import (portcullis media accept). */
	if (r->council_data)
		eappr_await_owner(e, g, d);
	else
		engine_usb_apply(e, d);
	return approved_answer(d, a, r);
}

/* The grant required a wipe after the transfer and the medium leaves unwiped: the IT
 * provider must see it (a security event, sealed by a checkpoint). */
void eappr_wipe_missed(struct engine *e, struct eappr_grant *g, const struct dev_entry *d,
		       const char *why)
{
	if (g->wipe && g->dirty && g->takeout) {
		/* The stick leaves with what was written to it: the wipe is owed, with the
		 * identity a council PC recognises it by and the approval that let it out. */
		struct json_object *rec = engine_device_json(d);
		pcl_record_head(rec, PCL_KIND_EVENT, "wipe-owed", "success", NULL);
		jsonx_set_str(rec, "event.reason",
			      "written here and taken out: it must be wiped when it comes back "
			      "to a council PC");
		jsonx_set_str(rec, "approval.ref", g->ref);
		jsonx_set_int(rec, "user.id", g->uid);
		jsonx_set_int(rec, "wipe.capacity_bytes", (int64_t)g->capacity);
		jsonx_set_int(rec, "wipe.owed_days", st.profile.wipe_owed_days);
		engine_record_json(e, rec, true);
		json_object_put(rec);
		g->dirty = false;
	} else if (g->wipe && g->dirty) {
		engine_record(e, "wipe-missed", "failure", d, why, true);
		g->dirty = false;
	}
}

struct eappr_grant *eappr_grant_of(const struct dev_entry *d)
{
	struct eappr_grant *g = d != NULL ? &grants[engine_device_slot(d)] : NULL;

	/* The bus position too: a device re-added in its slot without a removal seen. */
	return g != NULL && g->used && g->busnum == d->busnum && g->devnum == d->devnum ? g : NULL;
}

bool eappr_council_luks2(void)
{
	return st.ready && st.profile.council_sticks == APPR_STICKS_LUKS2;
}

static void end_grant(struct engine *e, struct eappr_grant *g, struct dev_entry *d, bool expired)
{
	if (d != NULL && d->busnum == g->busnum && d->devnum == g->devnum &&
	    d->state == DEV_ALLOWED) {
		char reason[96];
		if (!expired) {
			snprintf(reason, sizeof(reason),
				 "the exception ends in %" PRId64 " seconds",
				 g->until - (int64_t)time(NULL));
			engine_record(e, "exception-expiring", "success", d, reason, false);
			return;
		}
		device_deny(d, "exception expired");
		engine_record(e, "exception-expired", "success", d, "the exception has ended",
			      true);
		eappr_wipe_missed(e, g, d, "the exception ended before the medium was wiped");
		engine_usb_apply(e, d);
	}
	if (expired)
		g->used = false;
}

static void appr_tick(struct engine *e)
{
	int64_t now = (int64_t)time(NULL);

	for (size_t i = 0; i < ENGINE_MAX_DEVICES; i++) {
		struct eappr_grant *g = &grants[i];
		if (!g->used || g->until == 0)
			continue;
		if (now >= g->until)
			end_grant(e, g, engine_device_in_slot(e, i), true);
		else if (!g->warned && now >= g->until - WARN_BEFORE_SECONDS) {
			g->warned = true;
			end_grant(e, g, engine_device_in_slot(e, i), false);
		}
	}
}

static void appr_disk(struct engine *e, struct udev_device *disk, bool changed)
{
	struct udev_device *usb =
	    udev_device_get_parent_with_subsystem_devtype(disk, "usb", "usb_device");
	const char *owner = usb ? udev_device_get_sysname(usb) : NULL;
	const char *name = udev_device_get_sysname(disk);
	struct dev_entry *d = owner != NULL ? engine_find(e, owner) : NULL;
	struct eappr_grant *g = eappr_grant_of(d);

	if (changed)
		return; /* set read-only when it was added */
	if (name != NULL && g != NULL && g->used && g->readonly) {
		struct ipc_msg req = {.type = IPC_BLOCK_READONLY};
		snprintf(req.u.readonly.name, sizeof(req.u.readonly.name), "%s", name);
		/* The parent sets only a disk of a device it authorised itself, as it is now. */
		snprintf(req.u.readonly.dev.name, sizeof(req.u.readonly.dev.name), "%s", owner);
		req.u.readonly.dev.busnum = d->busnum;
		req.u.readonly.dev.devnum = d->devnum;
		int rc = engine_request(e, &req);
		char reason[160];
		if (rc == 0) {
			snprintf(reason, sizeof(reason), "%s set read-only at the block layer",
				 name);
			engine_record(e, "medium-read-only", "success", d, reason, false);
			/* BLKROSET does not reach a filesystem already mounted read-write (an
			 * automounter quicker than this event): the mount table is checked now. */
			engine_on_access(e);
			return;
		}
		/* Fail closed: a read-only grant that cannot be enforced ends now. */
		snprintf(reason, sizeof(reason),
			 "%s could not be set read-only (%s): access withdrawn", name,
			 strerror(-rc));
		log_err("%s: %s", owner, reason);
		device_deny(d, NULL);
		engine_record(e, "medium-read-only", "failure", d, reason, true);
		engine_usb_apply(e, d);
		g->used = false;
	}
}

static void appr_removed(struct engine *e, const struct dev_entry *d)
{
	eappr_owed_left(e, d); /* a council stick written here */
	struct eappr_grant *g = eappr_grant_of(d);

	if (g != NULL)
		eappr_wipe_missed(e, g, d,
				  "the medium was removed before the wipe the exception required");
	grants[engine_device_slot(d)].used = false; /* nothing outlives its slot's record */
}

static void appr_decided(struct engine *e, struct dev_entry *d)
{
	eappr_owed_recognise(e, d);
}

const struct engine_hooks eappr_hooks = {
    .name = "approval",
    .on_decided = appr_decided,
    .on_disk = appr_disk,
    .on_removed = appr_removed,
    .on_tick = appr_tick,
};
