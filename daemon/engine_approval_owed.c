/*
 * engine_approval_owed.c - the owed wipe follows the stick. The council bundle in force
 * (format 2) lists the council's open owed wipes: take-out sticks that left a PC of the
 * council written. A USB device the rules block whose identity is one of them (USBGuard
 * hash, ids and serial, all equal) is recognised here (`wipe-owed-found`): it is let in
 * read-only, so that its transfer can finish, its owner is told it will be wiped, and it
 * is wiped at eject (or on "finish and wipe"); the wipe's certificate names the owed
 * wipe's reference, and `wipe-owed-closed` is recorded. root or the wipe group may close
 * one by hand with a reason (control command wipe-owed-close). The references closed on
 * this PC, and those a newer bundle stopped listing (closed elsewhere in the council), are
 * kept in state-dir/owed-closed (engine-owned): a closed owed wipe never opens again here,
 * whatever a bundle built from a stale list says, and a stick wiped is not wiped again.
 * Linked by the engine (unprivileged). The bundle was verified when applied; device
 * identities come from sysfs; the reference and reason of a hand closure come from a
 * control-socket client (checked: the reference's spelling, the reason's length).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "engine_approval.h"
#include "engine_approval_int.h"
#include "hex.h"
#include "jsonx.h"
#include "log.h"
#include "record.h"

#define CLOSED_FILE "owed-closed"
#define CLOSED_MAX  4096

static char closed[CLOSED_MAX][APPR_OWED_REF_MAX];
static size_t n_closed;

/* Council sticks (allowed by the rules, no exception) written here: they owe their wipe
 * too when they leave, as a take-out does. */
struct written {
	bool used;
	uint16_t busnum, devnum;
};
static struct written written[ENGINE_MAX_DEVICES]; /* in the slot of the device's record */

static struct written *written_of(const struct dev_entry *d)
{
	struct written *w = &written[engine_device_slot(d)];

	return w->used && w->busnum == d->busnum && w->devnum == d->devnum ? w : NULL;
}

static bool ref_ok(const char *s)
{
	return strlen(s) == 18 && s[0] == 'A' && s[1] == '-' &&
	       strspn(s + 2, "0123456789abcdef") == 16;
}

static bool is_closed(const char *ref)
{
	for (size_t i = 0; i < n_closed; i++)
		if (strcmp(closed[i], ref) == 0)
			return true;
	return false;
}

int eappr_owed_load(const struct eappr_state *s)
{
	char path[300], line[64];
	snprintf(path, sizeof(path), "%s/%s", s->dir, CLOSED_FILE);
	FILE *f = fopen(path, "re");

	n_closed = 0;
	if (f == NULL) {
		int rc = -errno;
		if (rc == -ENOENT)
			return 0;
		log_err("%s: %s: refusing to start approvals", path, strerror(-rc));
		return rc;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (ref_ok(line) && n_closed < CLOSED_MAX && !is_closed(line))
			memcpy(closed[n_closed++], line, strlen(line) + 1);
	}
	fclose(f);
	return 0;
}

/* Remember references known closed (appended in one write, synced); 0 or negative
 * errno, logged. */
static int remember_all(const struct eappr_state *s, const char (*refs)[APPR_OWED_REF_MAX],
			size_t n)
{
	static char buf[APPR_BUNDLE_OWED * APPR_OWED_REF_MAX];
	char path[300];
	size_t len = 0;

	for (size_t i = 0; i < n && len + APPR_OWED_REF_MAX <= sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s\n", refs[i]);
	if (len == 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", s->dir, CLOSED_FILE);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int rc = fd < 0 ? -errno : 0;

	if (rc == 0) {
		ssize_t w = write(fd, buf, len);
		rc = w < 0 ? -errno : (size_t)w != len ? -EIO : 0;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc != 0) {
		log_err("%s: cannot be written: %s", path, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		if (!is_closed(refs[i]) && n_closed < CLOSED_MAX)
			memcpy(closed[n_closed++], refs[i], strlen(refs[i]) + 1);
	return 0;
}

static int remember(const struct eappr_state *s, const char *ref)
{
	char one[1][APPR_OWED_REF_MAX];

	snprintf(one[0], sizeof(one[0]), "%s", ref);
	return remember_all(s, (const char(*)[APPR_OWED_REF_MAX])one, 1);
}

int eappr_owed_dropped(const struct appr_bundle *old, const struct appr_bundle *next)
{
	static char gone[APPR_BUNDLE_OWED][APPR_OWED_REF_MAX];
	size_t n = 0;

	for (size_t i = 0; old != NULL && i < old->n_owed; i++) {
		const char *ref = old->owed[i].ref;
		bool kept = false;
		for (size_t j = 0; j < next->n_owed && !kept; j++)
			kept = strcmp(next->owed[j].ref, ref) == 0;
		if (!kept && !is_closed(ref) && n < APPR_BUNDLE_OWED)
			memcpy(gone[n++], ref, strlen(ref) + 1);
	}
	if (n != 0)
		log_info("council bundle version %" PRIu64 " no longer lists %zu owed wipe(s): "
			 "closed elsewhere, kept closed here",
			 next->version, n);
	return remember_all(eappr_state(), (const char(*)[APPR_OWED_REF_MAX])gone, n);
}

/* The first owed wipe the bundle lists for this identity that is still open here. */
static const struct appr_bundle_owed *open_owed(const struct appr_bundle *b,
						const struct dev_entry *d)
{
	for (size_t i = 0; i < b->n_owed; i++) {
		const struct appr_bundle_owed *w = &b->owed[i];
		if (strcmp(w->hash, d->id.hash) == 0 && w->vid == d->id.vid &&
		    w->pid == d->id.pid && strcmp(w->serial, d->id.serial) == 0 &&
		    !is_closed(w->ref))
			return w;
	}
	return NULL;
}

void eappr_owed_written(const struct dev_entry *d)
{
	const struct eappr_state *s = eappr_state();

	if (!s->ready || !s->profile.wipe || d->medium || d->state != DEV_ALLOWED ||
	    eappr_grant_of(d) != NULL || written_of(d) != NULL)
		return;
	written[engine_device_slot(d)] =
	    (struct written){.used = true, .busnum = d->busnum, .devnum = d->devnum};
}

void eappr_owed_settled(const struct dev_entry *d)
{
	struct written *w = written_of(d);

	if (w != NULL)
		w->used = false;
}

void eappr_owed_left(struct engine *e, const struct dev_entry *d)
{
	struct written *w = written_of(d);
	uint8_t nonce[8];
	char ref[APPR_OWED_REF_MAX];

	if (w == NULL)
		return;
	w->used = false;
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		memset(nonce, 0, sizeof(nonce)); /* still recorded: the identity matters most */
	memcpy(ref, "A-", 2);
	pcl_hex_encode(ref + 2, nonce, sizeof(nonce));
	struct json_object *rec = engine_device_json(d);
	pcl_record_head(rec, PCL_KIND_EVENT, "wipe-owed", "success",
			"a council stick written here and taken out: it must be wiped when it "
			"comes back to a council PC");
	jsonx_set_str(rec, "approval.ref", ref);
	jsonx_set_int(rec, "wipe.capacity_bytes", 0);
	jsonx_set_int(rec, "wipe.owed_days", eappr_state()->profile.wipe_owed_days);
	engine_record_json(e, rec, true);
	json_object_put(rec);
}

bool eappr_owed_recognise(struct engine *e, struct dev_entry *d)
{
	struct eappr_state *s = eappr_state();
	const struct appr_bundle *b = eappr_bundle_current();

	if (!s->ready || b == NULL || d->medium)
		return false;
	const struct appr_bundle_owed *w = open_owed(b, d);
	if (w == NULL || eappr_exception_interfaces(d) == 0)
		return false;
	struct eappr_grant *g = eappr_grant_new(d);
	if (g == NULL) {
		log_warn("%s: owes wipe %s but no grant is free: left blocked", d->id.sysname,
			 w->ref);
		return false;
	}
	*g = (struct eappr_grant){.used = true,
				  .readonly = true,
				  .busnum = d->busnum,
				  .devnum = d->devnum,
				  .wipe = true,
				  .uid = (uint32_t)-1, /* the owner is not known here */
				  .capacity = w->capacity,
				  .owed = true};
	snprintf(g->ref, sizeof(g->ref), "%s", w->ref);
	/* Its disk and nothing else, whatever the profile lets exceptions have: a device that
	 * only copies the stick's fingerprint gains no other function. */
	uint64_t storage = 0;
	for (size_t i = 0; i < d->id.n_ifaces && i < 64; i++)
		if (d->id.ifaces[i].cls == 0x08)
			storage |= UINT64_C(1) << i;
	char rule[sizeof(d->rule)];
	snprintf(rule, sizeof(rule), "owes wipe %s: read-only, wiped when it is ejected", w->ref);
	if (storage == 0 || device_allow(d, storage, rule) != 0) {
		g->used = false;
		return false;
	}
	struct json_object *rec = engine_device_json(d);
	pcl_record_head(rec, PCL_KIND_EVENT, "wipe-owed-found", "success",
			"taken out of a council PC owing its wipe: let in read-only so that its "
			"transfer can finish, wiped when it is ejected");
	/* Not approval.ref: this record reaches whoever sits at the PC (the owner's notice),
	 * and approval fields are never shown to another user. */
	jsonx_set_str(rec, "wipe.owed_ref", w->ref);
	jsonx_set_str(rec, "wipe.plan", "at-eject");
	int rc = engine_record_json(e, rec, true);
	json_object_put(rec);
	if (rc != 0) {
		g->used = false;
		device_deny(d, NULL);
		return false;
	}
	return true;
}

/* wipe-owed-closed: the stick was wiped here (how "wiped on this PC") or closed by hand. */
static int close_owed(struct engine *e, const struct dev_entry *d, const char *ref, const char *how,
		      int64_t uid)
{
	struct json_object *rec = d ? engine_device_json(d) : json_object_new_object();
	pcl_record_head(rec, PCL_KIND_EVENT, "wipe-owed-closed", "success", how);
	jsonx_set_str(rec, "approval.ref", ref);
	if (uid >= 0)
		jsonx_set_int(rec, "user.id", uid);
	int rc = engine_record_json(e, rec, true);
	json_object_put(rec);
	return rc != 0 ? rc : remember(eappr_state(), ref);
}

void eappr_owed_wiped(struct engine *e, const struct dev_entry *d, const struct eappr_grant *g)
{
	const struct appr_bundle *b = eappr_bundle_current();
	const struct appr_bundle_owed *w;

	if (!g->owed)
		return;
	if (!is_closed(g->ref))
		close_owed(e, d, g->ref, "wiped on this PC", -1);
	/* The wipe covers every owed wipe the bundle lists for this stick (it left written
	 * more than once before the list was made): none of them wipes it again. */
	for (size_t i = 0; b != NULL && i < b->n_owed && (w = open_owed(b, d)) != NULL; i++)
		if (close_owed(e, d, w->ref, "wiped on this PC", -1) != 0)
			break;
}

struct json_object *eappr_owed_close(struct engine *e, const char *ref, const char *reason,
				     uid_t uid)
{
	char how[APPR_STR_MAX + 40];

	if (ref == NULL || !ref_ok(ref))
		return eappr_error("the owed wipe's reference is \"A-\" and 16 lower-case hex "
				   "digits (portcullis fleet owed)");
	if (reason == NULL || strlen(reason) < 3 || strlen(reason) >= APPR_STR_MAX)
		return eappr_error("closing an owed wipe by hand needs a reason (3 to %d bytes)",
				   APPR_STR_MAX - 1);
	if (is_closed(ref))
		return eappr_error("%s is closed already on this PC", ref);
	snprintf(how, sizeof(how), "closed by hand: %s", reason);
	if (close_owed(e, NULL, ref, how, (int64_t)uid) != 0)
		return eappr_error("the audit trail or state cannot be written: not closed");
	struct json_object *ans = json_object_new_object();
	jsonx_set_str(ans, "closed", ref);
	return ans;
}
