/*
 * engine_approval_bundle.c - the council bundle on this PC: `bundle-apply` verifies a
 * bundle (council and profile equal to this PC's, a version above the one in force, the
 * signature of an approver this PC knows, or for the first bundle on a PC without
 * approvers, of one of the bundle's own approvers with root at the PC), then replaces
 * the approver list with the bundle's and keeps the bundle and its rules in state-dir
 * (council.bundle, bundle.rules). Rollback is refused by version, never by a key's
 * counter, so one bundle is taken by every PC of the council.
 * Linked by the engine. Bundles come from control-socket clients (root): untrusted,
 * parsed by lib/approval; the kept copy is the engine's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "engine.h"
#include "hex.h"
#include "engine_approval_int.h"
#include "jsonx.h"
#include "record.h"
#include "log.h"

#define BUNDLE_FILE "council.bundle"
#define RULES_FILE  "bundle.rules"

static struct appr_bundle cur, nb; /* in force, offered */

const struct appr_bundle *eappr_bundle_current(void)
{
	return eappr_state()->bundle_version ? &cur : NULL;
}

static int keep(const struct eappr_state *s, const char *name, const char *buf, size_t len)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	int rc = pcl_write_file_atomic(path, buf, len, 0600);
	if (rc != 0)
		log_err("%s: cannot be written: %s", path, strerror(-rc));
	return rc;
}

/* The bundle's profile says what this PC's profile says. */
static bool same_profile(const struct eappr_state *s, const struct appr_bundle *b, char *why,
			 size_t whylen)
{
	struct appr_profile p = {0};
	const struct appr_profile *q = &s->profile;
	struct pcl_diag diag = {0};

	if (strcmp(b->council, q->council) != 0) {
		snprintf(why, whylen, "the bundle is for council %s, this PC is %s's", b->council,
			 q->council);
		return false;
	}
	if (appr_profile_parse(b->profile, b->profile_len, "bundle profile", &p, &diag) != 0 ||
	    !appr_profile_same(&p, q)) {
		snprintf(why, whylen,
			 "the bundle's council profile differs from this PC's (install the "
			 "profile the bundle carries)");
		return false;
	}
	return true;
}

int eappr_bundle_load(struct eappr_state *s)
{
	char path[300], why[300];
	struct pcl_diag diag = {0};
	snprintf(path, sizeof(path), "%s/%s", s->dir, BUNDLE_FILE);
	char *buf = NULL;
	size_t n = 0;
	int r = pcl_read_file(path, APPR_BUNDLE_MAX, 0, &buf, &n);

	s->bundle_version = 0;
	if (r == -ENOENT)
		return 0;
	if (r != 0 && r != -EFBIG) {
		log_err("%s: %s: refusing to start approvals", path, strerror(-r));
		return r;
	}
	if (r == -EFBIG)
		pcl_diag_set(&diag, path, 0, "larger than %d bytes", APPR_BUNDLE_MAX);
	int rc = r == 0 ? appr_bundle_parse(buf, n, path, &cur, &diag) : r;
	if (rc == 0 && !same_profile(s, &cur, why, sizeof(why))) {
		log_err("%s: %s: refusing to start approvals", path, why);
		rc = -EINVAL;
	} else if (rc != 0) {
		pcl_diag_format(&diag, why, sizeof(why));
		log_err("%s: %s: refusing to start approvals", path, why);
	}
	if (rc == 0) {
		s->bundle_version = cur.version;
		appr_sha256(buf, n, s->bundle_sha);
	}
	free(buf);
	return rc;
}

/* A bundle that changes the council's profile is applied after its package has installed
 * that profile (docs/approvals.md): the installed profile is read again, and the bundle is
 * taken when its profile is that one; *out is then the profile to run with once the bundle
 * is in force. why (already set) is kept otherwise. */
static bool installed_profile(struct engine *e, const struct eappr_state *s,
			      const struct appr_bundle *b, struct appr_profile *out)
{
	struct appr_profile p = {0};
	struct pcl_diag diag = {0};
	const struct conf *c = engine_conf(e);

	*out = (struct appr_profile){0};
	return c->profile[0] != '\0' &&
	       appr_profile_load(c->profile, PCL_PROFILE_DIR, out, &diag) == 0 &&
	       strcmp(out->council, s->profile.council) == 0 &&
	       appr_profile_parse(b->profile, b->profile_len, "bundle profile", &p, &diag) == 0 &&
	       appr_profile_same(&p, out);
}

const char *eappr_bundle_rules(const struct eappr_state *s, char *out, size_t len)
{
	if (s->bundle_version == 0)
		return NULL;
	snprintf(out, len, "%s/%s", s->dir, RULES_FILE);
	return out;
}

static struct json_object *refused(struct engine *e, const char *why)
{
	struct json_object *rec = json_object_new_object();

	pcl_record_head(rec, PCL_KIND_EVENT, "bundle-refused", "failure", why);
	engine_record_json(e, rec, true);
	json_object_put(rec);
	log_warn("council bundle refused: %s", why);
	return eappr_error("%s", why);
}

/* Who signed it: an approver this PC knows, or (first bundle, no approver here yet, root
 * at the PC) one the bundle itself names. The recovery key signs no bundle. */
static int signer(struct eappr_state *s, struct eappr_approver *out, char *why, size_t whylen)
{
	const struct eappr_approver *known = eappr_find(s, nb.signer, nb.signer_len);
	const struct appr_bundle_approver *own = appr_bundle_find(&nb, nb.signer, nb.signer_len);

	if (known != NULL) {
		*out = *known;
	} else if (s->n_approvers == 0 && own != NULL) {
		memset(out, 0, sizeof(*out));
		snprintf(out->name, sizeof(out->name), "%s", own->name);
		snprintf(out->role, sizeof(out->role), "%s", own->role);
		memcpy(out->cred, own->cred, own->cred_len);
		out->cred_len = own->cred_len;
		memcpy(out->pk, own->pk, sizeof(out->pk));
		out->recovery = own->recovery;
	} else {
		snprintf(why, whylen, "the bundle is not signed by an approver this PC knows");
		return -EPERM;
	}
	if (out->recovery) {
		snprintf(why, whylen, "the bundle is signed by the recovery key, which signs none");
		return -EPERM;
	}
	return 0;
}

static int take_approvers(struct eappr_state *s)
{
	static struct eappr_approver next[EAPPR_MAX_APPROVERS];
	int64_t now = (int64_t)time(NULL);

	for (size_t i = 0; i < nb.n_approvers; i++) {
		const struct appr_bundle_approver *b = &nb.approvers[i];
		const struct eappr_approver *old = eappr_find(s, b->cred, b->cred_len);
		struct eappr_approver *a = &next[i];
		memset(a, 0, sizeof(*a));
		snprintf(a->name, sizeof(a->name), "%s", b->name);
		snprintf(a->role, sizeof(a->role), "%s", b->role);
		memcpy(a->cred, b->cred, b->cred_len);
		a->cred_len = b->cred_len;
		memcpy(a->pk, b->pk, sizeof(a->pk));
		a->recovery = b->recovery;
		/* The counter this PC has seen for the credential stays: it only goes up. */
		a->counter = old ? old->counter : 0;
		a->enrolled = old ? old->enrolled : now;
	}
	memcpy(s->approvers, next, nb.n_approvers * sizeof(next[0]));
	s->n_approvers = nb.n_approvers;
	return eappr_store_save(s);
}

struct json_object *eappr_bundle_apply(struct engine *e, struct eappr_state *s,
				       struct json_object *req, unsigned peer_uid)
{
	const char *text = jsonx_get_str(req, "bundle");
	struct pcl_diag diag = {0};
	struct eappr_approver by;
	uint8_t cdh[APPR_CDH_LEN], sha[32];
	uint32_t counter;
	char why[400];

	if (peer_uid != 0)
		return eappr_error("a council bundle is applied by root at the PC");
	if (text == NULL)
		return eappr_error("no \"bundle\" given");
	size_t len = strlen(text);
	if (appr_bundle_parse(text, len, "bundle", &nb, &diag) != 0) {
		pcl_diag_format(&diag, why, sizeof(why));
		return refused(e, why);
	}
	struct appr_profile newprof = {0};
	bool adopt = false;
	if (!same_profile(s, &nb, why, sizeof(why)) &&
	    !(adopt = installed_profile(e, s, &nb, &newprof)))
		return refused(e, why);
	appr_sha256(text, len, sha);
	if (s->bundle_version != 0 && nb.version == s->bundle_version &&
	    CRYPTO_memcmp(sha, s->bundle_sha, sizeof(sha)) == 0) {
		struct json_object *ans = json_object_new_object();
		jsonx_set_int(ans, "version", (int64_t)nb.version);
		jsonx_set_str(ans, "state", "already in force");
		return ans;
	}
	if (nb.version <= s->bundle_version) {
		snprintf(why, sizeof(why),
			 "bundle version %" PRIu64 " is not above version %" PRIu64
			 " in force: an older or altered bundle is refused",
			 nb.version, s->bundle_version);
		return refused(e, why);
	}
	if (signer(s, &by, why, sizeof(why)) != 0 || appr_bundle_cdh(text, nb.body_len, cdh) != 0 ||
	    eappr_verify(s, &by, cdh, nb.authdata, nb.authdata_len, nb.sig, nb.sig_len,
			 s->profile.uv || (adopt && newprof.uv), &counter, why, sizeof(why)) != 0)
		return refused(e, why);
	if (eappr_owed_dropped(eappr_bundle_current(), &nb) != 0 ||
	    keep(s, RULES_FILE, nb.rules, nb.rules_len) != 0 || take_approvers(s) != 0 ||
	    keep(s, BUNDLE_FILE, text, len) != 0)
		return eappr_error("the council bundle cannot be kept in %s", s->dir);
	s->bundle_version = nb.version;
	memcpy(s->bundle_sha, sha, sizeof(sha));
	cur = nb;
	if (adopt) {
		s->profile = newprof;
		log_info("council profile %s (%s) installed with bundle version %" PRIu64
			 ": in force now",
			 newprof.council, newprof.name, nb.version);
	}
	char hex[65];
	pcl_hex_encode(hex, sha, 32);
	struct json_object *rec = json_object_new_object(), *names = json_object_new_array();
	for (size_t i = 0; i < nb.n_approvers; i++)
		json_object_array_add(names, json_object_new_string(nb.approvers[i].name));
	pcl_record_head(rec, PCL_KIND_EVENT, "bundle-applied", "success", NULL);
	jsonx_set_int(rec, "council.bundle.version", (int64_t)nb.version);
	jsonx_set_int(rec, "council.bundle.issued", nb.issued);
	jsonx_set_str(rec, "council.bundle.sha256", hex);
	jsonx_set_str(rec, "approval.approver", by.name);
	json_object_object_add(rec, "council.bundle.approvers", names);
	jsonx_set_int(rec, "user.id", peer_uid);
	engine_record_json(e, rec, true);
	json_object_put(rec);
	log_info("council bundle %s version %" PRIu64 " in force (signed by %s)", nb.council,
		 nb.version, by.name);
	struct json_object *ans = json_object_new_object();
	jsonx_set_int(ans, "version", (int64_t)nb.version);
	jsonx_set_str(ans, "state", "applied");
	jsonx_set_str(ans, "signed-by", by.name);
	jsonx_set_int(ans, "approvers", (int64_t)nb.n_approvers);
	return ans;
}
