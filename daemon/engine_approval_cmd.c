/*
 * engine_approval_cmd.c - the approval commands of the control socket: their table
 * (name, who may call, handler) and the handlers of approval-request, approval-info and
 * exception-end; approve is answered by engine_approval.c, the others by their files.
 * Linked by the engine (unprivileged). The requests come from control-socket clients:
 * untrusted JSON, each field checked here; the caller's uid comes from SO_PEERCRED.
 */
#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "engine.h"
#include "engine_approval.h"
#include "engine_approval_int.h"
#include "engine_usb.h"
#include "jsonx.h"
#include "record.h"

/* The requesting user's name from /etc/passwd, read directly: under the engine's seccomp
 * filter NSS modules (dlopen, userdb sockets) are not available. "" when not found. */
static void user_name(uid_t uid, char *out, size_t len)
{
	FILE *f = fopen("/etc/passwd", "re");
	char line[512];

	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f) != NULL) {
		char *name = strtok(line, ":"), *pw = strtok(NULL, ":"), *id = strtok(NULL, ":");
		char *end;
		if (name && pw && id && strtoul(id, &end, 10) == uid && *end == '\0') {
			snprintf(out, len, "%s", name);
			break;
		}
	}
	if (f)
		fclose(f);
}

/* Whether device d (named name by the client) may be asked an exception for: an error
 * answer (recorded when the council's policy refuses it), or NULL with its identity as
 * read again now in *id. */
static struct json_object *not_requestable(struct engine *e, const struct eappr_state *st,
					   const struct dev_entry *d, const char *name,
					   struct usbdev *id)
{
	if (d == NULL || d->medium)
		return eappr_error("no USB device named '%s' is present", name ? name : "");
	if (!st->profile.exceptions)
		return eappr_refuse(
		    e, d, "the council's policy allows no exceptions for removable devices", NULL);
	if (d->state == DEV_ALLOWED)
		return eappr_error("%s is already allowed", name);
	if (eappr_grant_of(d) != NULL)
		return eappr_error("%s is approved and waiting for its owner to accept its wipe "
				   "(portcullis media accept)",
				   name);
	if (eappr_exception_interfaces(d) == 0)
		return eappr_refuse(
		    e, d, "the council's policy makes exceptions for storage devices only", NULL);
	if (eappr_reread(d->id.sysname, id) != 0 || strcmp(id->hash, d->id.hash) != 0)
		return eappr_error("%s changed or went away", name);
	return NULL;
}

/* The terms the user asked for (scope, council data, how long, why) into r, checked
 * against the council's profile: an error answer, or NULL. */
static struct json_object *request_terms(const struct eappr_state *st, struct json_object *req,
					 uid_t uid, struct appr_request *r)
{
	const char *scope = jsonx_get_str(req, "scope"), *reason = jsonx_get_str(req, "reason");
	struct json_object *v;

	r->scope = scope && strcmp(scope, "read-write") == 0 ? APPR_READ_WRITE : APPR_READ_ONLY;
	if (scope && r->scope == APPR_READ_ONLY && strcmp(scope, "read-only") != 0)
		return eappr_error("scope: '%s' is neither read-only nor read-write", scope);
	/* The wipe after the transfer is owed by read-write exceptions only: a read-only
	 * medium can hold nothing of the council's, and what is on it is its owner's. */
	r->wipe = st->profile.wipe && r->scope == APPR_READ_WRITE;
	r->version = APPR_REQUEST_VERSION;
	r->direction = r->scope; /* read-only brings data in, read-write takes it out */
	/* "This stick carries council data: wipe after import", a bring-in's only. */
	r->council_data =
	    json_object_object_get_ex(req, "council-data", &v) && json_object_get_boolean(v);
	if (r->council_data && r->direction != APPR_BRING_IN)
		return eappr_error("--council-data marks a bring-in (--read-only): a take-out "
				   "owes its wipe anyway");
	r->uid = (uint32_t)uid;
	user_name(uid, r->user, sizeof(r->user));
	r->issued = (int64_t)time(NULL);
	bool remote = json_object_object_get_ex(req, "remote", &v) && json_object_get_boolean(v);
	r->answer_by = r->issued + (remote ? ANSWER_REMOTE_SECONDS : ANSWER_AT_PC_SECONDS);
	int64_t secs = json_object_object_get_ex(req, "for", &v) ? json_object_get_int64(v) : 0;
	int64_t until = json_object_object_get_ex(req, "until", &v) ? json_object_get_int64(v) : 0;
	if (secs < 0 || until < 0 || (secs && until))
		return eappr_error("give one of --for and --until, in the future");
	r->until = secs ? r->issued + secs : until;
	if (r->until != 0 && r->until < r->issued + 30)
		return eappr_error("an exception lasts at least 30 seconds");
	if (st->profile.max_grant_hours && r->until &&
	    r->until - r->issued > (int64_t)st->profile.max_grant_hours * 3600)
		return eappr_error("the council's profile allows exceptions of at most %u hours",
				   st->profile.max_grant_hours);
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
	return NULL;
}

/* The credentials that may answer: every enrolled approver's but the recovery key's. */
static struct json_object *request_approvers(const struct eappr_state *st, struct appr_request *r)
{
	if (st->n_approvers == 0)
		return eappr_error("no %s is enrolled as an approver yet: enrol one first "
				   "(portcullis approver enrol)",
				   st->profile.approver_title);
	for (size_t i = 0; i < st->n_approvers; i++) {
		const struct eappr_approver *a = &st->approvers[i];
		if (a->recovery)
			continue; /* the recovery key never approves */
		if (r->n_creds == APPR_MAX_CREDS)
			return eappr_error("more than %d approvers are enrolled: a request can "
					   "name at most %d credentials",
					   APPR_MAX_CREDS, APPR_MAX_CREDS);
		memcpy(r->creds[r->n_creds], a->cred, a->cred_len);
		r->cred_lens[r->n_creds++] = a->cred_len;
	}
	if (r->n_creds == 0)
		return eappr_error("no %s is enrolled as an approver: only the recovery key is",
				   st->profile.approver_title);
	return NULL;
}

/* What the user's tool needs to have the request answered. */
static struct json_object *request_answer(const struct eappr_state *st, const char *text)
{
	struct json_object *ans = json_object_new_object(), *creds = json_object_new_array();

	jsonx_set_str(ans, "request", text);
	jsonx_set_str(ans, "rp", st->rp);
	json_object_object_add(ans, "uv", json_object_new_boolean(st->profile.uv));
	jsonx_set_str(ans, "approver-title", st->profile.approver_title);
	for (size_t i = 0; i < st->n_approvers; i++) {
		char b64[APPR_CRED_MAX * 2];
		pcl_b64_encode(st->approvers[i].cred, st->approvers[i].cred_len, b64, sizeof(b64));
		json_object_array_add(creds, json_object_new_string(b64));
	}
	json_object_object_add(ans, "credentials", creds);
	return ans;
}

static struct json_object *cmd_request(struct engine *e, struct json_object *req, uid_t uid)
{
	struct eappr_state *st = eappr_state();
	const char *name = jsonx_get_str(req, "device");
	struct appr_request r = {0};
	struct json_object *err;
	struct usbdev id;
	char text[APPR_TEXT_MAX];

	struct dev_entry *d = name ? engine_find(e, name) : NULL;
	if ((err = not_requestable(e, st, d, name, &id)) != NULL)
		return err;
	snprintf(r.council, sizeof(r.council), "%s", st->profile.council);
	snprintf(r.machine_id, sizeof(r.machine_id), "%s", st->machine_id);
	snprintf(r.host, sizeof(r.host), "%s", engine_host(e));
	eappr_fill_request(&r, &id);
	if ((err = request_terms(st, req, uid, &r)) != NULL ||
	    (err = request_approvers(st, &r)) != NULL)
		return err;
	if (RAND_bytes(r.nonce, APPR_NONCE_LEN) != 1)
		return eappr_error("no randomness for a nonce");
	int n = appr_request_encode(&r, text, sizeof(text));
	if (n < 0)
		return eappr_error("the device's identity cannot be put in a request");
	/* Kept before it is handed out: the answer is checked against exactly this text. */
	int kept = eappr_issued_add(st, r.nonce, text, (size_t)n, r.answer_by, r.issued, r.uid);
	if (kept == -EBUSY)
		return eappr_error("%d of your requests are waiting for an answer: no more until "
				   "they are answered or past their answer-by time",
				   EAPPR_MAX_ISSUED_PER_UID);
	if (kept != 0)
		return eappr_error("approval state cannot be written: no request");
	struct json_object *rec = engine_device_json(d);
	pcl_record_head(rec, PCL_KIND_EVENT, "exception-requested", "success", NULL);
	jsonx_set_str(rec, "approval.request", text);
	jsonx_set_int(rec, "user.id", uid);
	int rc = engine_record_json(e, rec, false);
	json_object_put(rec);
	if (rc != 0)
		return eappr_error("the audit trail cannot be written: no request");
	return request_answer(st, text);
}

static struct json_object *cmd_info(void)
{
	struct eappr_state *st = eappr_state();
	struct json_object *ans = json_object_new_object(), *arr = json_object_new_array();

	jsonx_set_str(ans, "council", st->profile.council);
	jsonx_set_str(ans, "council-name", st->profile.name);
	jsonx_set_str(ans, "rp", st->rp);
	jsonx_set_str(ans, "approver-title", st->profile.approver_title);
	json_object_object_add(ans, "exceptions", json_object_new_boolean(st->profile.exceptions));
	json_object_object_add(ans, "uv", json_object_new_boolean(st->profile.uv));
	jsonx_set_int(ans, "bundle-version", (int64_t)st->bundle_version);
	for (size_t i = 0; i < st->n_approvers; i++) {
		struct json_object *o = json_object_new_object();
		char b64[APPR_CRED_MAX * 2];
		jsonx_set_str(o, "name", st->approvers[i].name);
		jsonx_set_str(o, "role", st->approvers[i].role);
		pcl_b64_encode(st->approvers[i].cred, st->approvers[i].cred_len, b64, sizeof(b64));
		jsonx_set_str(o, "credential", b64);
		jsonx_set_int(o, "counter", st->approvers[i].counter);
		json_object_object_add(o, "recovery",
				       json_object_new_boolean(st->approvers[i].recovery));
		pcl_b64_encode(st->approvers[i].pk, sizeof(st->approvers[i].pk), b64, sizeof(b64));
		jsonx_set_str(o, "public-key", b64);
		json_object_array_add(arr, o);
	}
	json_object_object_add(ans, "approvers", arr);
	return ans;
}

/* `portcullis approve --end DEVICE`: the exception ends now (root, or the user who asked
 * for it). Taking access away needs no key: it can only make the PC safer. */
static struct json_object *cmd_end(struct engine *e, struct json_object *req, uid_t uid)
{
	const char *name = jsonx_get_str(req, "device");
	struct dev_entry *d = name ? engine_find(e, name) : NULL;
	struct eappr_grant *g = eappr_grant_of(d);
	char reason[128];

	if (d == NULL || g == NULL || d->state != DEV_ALLOWED)
		return eappr_error("%s has no exception in force", name ? name : "(no device)");
	if (uid != 0 && uid != g->uid)
		return eappr_error("only root or the user who asked for it may end the "
				   "exception for %s",
				   name);
	device_deny(d, "exception ended");
	snprintf(reason, sizeof(reason), "the exception was ended early by uid %u", (unsigned)uid);
	struct json_object *rec = engine_device_json(d);
	pcl_record_head(rec, PCL_KIND_EVENT, "exception-ended", "success", reason);
	jsonx_set_int(rec, "user.id", uid);
	engine_record_json(e, rec, true);
	json_object_put(rec);
	eappr_wipe_missed(e, g, d, "the exception was ended before the medium was wiped");
	g->used = false;
	engine_usb_apply(e, d);
	struct json_object *ans = json_object_new_object();
	jsonx_set_str(ans, "ended", d->id.sysname);
	return ans;
}

/* The approval commands of the control socket (see control.h). Anyone may ask: what an
 * approval grants is decided by the approver's signature, not by who carries it. */
static bool ready(struct ctl_call *call)
{
	struct eappr_state *st = eappr_state();
	if (!st->ready)
		call->answer =
		    eappr_error("no council profile is configured: exceptions cannot be approved");
	return st->ready;
}

static int run_info(struct ctl_call *call)
{
	if (ready(call))
		call->answer = cmd_info();
	return 0;
}

static int run_request(struct ctl_call *call)
{
	if (ready(call))
		call->answer = cmd_request(call->eng, call->req, call->caller->uid);
	return 0;
}

static int run_approve(struct ctl_call *call)
{
	if (ready(call))
		call->answer = eappr_approve(call->eng, call->req, call->caller->uid);
	return 0;
}

static int run_policy_verify(struct ctl_call *call)
{
	if (ready(call))
		call->answer = eappr_policy_verify(call->eng);
	return 0;
}

static int run_enrol(struct ctl_call *call)
{
	struct eappr_state *st = eappr_state();
	if (ready(call))
		call->answer = eappr_enrol(call->eng, st, call->req, call->caller->uid);
	return 0;
}

static int run_remove(struct ctl_call *call)
{
	struct eappr_state *st = eappr_state();
	if (ready(call))
		call->answer = eappr_remove(call->eng, st, call->req, call->caller->uid);
	return 0;
}

static int run_end(struct ctl_call *call)
{
	if (ready(call))
		call->answer = cmd_end(call->eng, call->req, call->caller->uid);
	return 0;
}

static int run_bundle_apply(struct ctl_call *call)
{
	struct eappr_state *st = eappr_state();
	if (ready(call))
		call->answer = eappr_bundle_apply(call->eng, st, call->req, call->caller->uid);
	return 0;
}

const struct ctl_command eappr_commands[] = {
    {"approval-info", CTL_ANYONE, false, run_info},
    {"approval-request", CTL_ANYONE, true, run_request},
    {"approve", CTL_ANYONE, true, run_approve},
    {"approver-enrol", CTL_ANYONE, true, run_enrol},
    {"policy-verify", CTL_ANYONE, true, run_policy_verify},
    {"approver-remove", CTL_ANYONE, true, run_remove},
    {"exception-end", CTL_ANYONE, true, run_end},
    {"bundle-apply", CTL_ANYONE, true, run_bundle_apply},
    {"media-accept", CTL_ANYONE, true, eappr_run_accept},
};
const size_t eappr_n_commands = sizeof(eappr_commands) / sizeof(eappr_commands[0]);
