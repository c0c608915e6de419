/*
 * engine_approval_policy.c - standing approvals: once an approver is enrolled, the rule
 * file must carry a signature (FILE.sig) by an enrolled approver's key over its exact
 * bytes. A rule file that is unsigned, changed after signing, signed by someone else, or
 * older than the policy in force is refused and recorded, and the last good policy (kept in
 * state-dir/policy.rules and policy.rules.sig) stays in force.
 * Linked by the engine. The rule file and its signature are root-owned but verified as
 * if hostile; the signature file is parsed by lib/approval.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include "engine.h"
#include "engine_approval.h"
#include "engine_approval_int.h"
#include "fileio.h"
#include "jsonx.h"
#include "record.h"
#include "log.h"

#define RULES_MAX (1u << 20)

static int spill(const char *path, const char *buf, size_t len)
{
	int rc = pcl_write_file_atomic(path, buf, len, 0600);
	if (rc != 0)
		log_err("%s: cannot be written: %s", path, strerror(-rc));
	return rc;
}

struct checked {
	struct eappr_approver *who;
	uint32_t counter;
	bool same_as_last; /* the very signature already in force */
	char *rules, *sig;
	size_t rules_len, sig_len;
	struct appr_policy_sig ps;
};

static void checked_free(struct checked *c)
{
	free(c->rules);
	free(c->sig);
	c->rules = c->sig = NULL;
}

static int check(struct eappr_state *s, const char *rules, struct checked *c, char *why,
		 size_t whylen)
{
	char sigpath[600], lastpath[600], msg[400];
	struct pcl_diag diag = {0};
	uint8_t sha[32], cdh[APPR_CDH_LEN];

	int rc;

	memset(c, 0, sizeof(*c));
	snprintf(sigpath, sizeof(sigpath), "%s.sig", rules);
	snprintf(lastpath, sizeof(lastpath), "%s/policy.rules.sig", s->dir);
	if ((rc = pcl_read_file(rules, RULES_MAX, PCL_READ_REGULAR, &c->rules, &c->rules_len)) !=
	    0) {
		snprintf(why, whylen, "%s cannot be read", rules);
		return rc;
	}
	if ((rc = pcl_read_file(sigpath, APPR_TEXT_MAX, PCL_READ_REGULAR, &c->sig, &c->sig_len)) !=
	    0) {
		snprintf(why, whylen, "%.150s is not signed (no readable %.150s)", rules, sigpath);
		return rc;
	}
	if ((rc = appr_policy_sig_parse(c->sig, c->sig_len, sigpath, &c->ps, &diag)) != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		snprintf(why, whylen, "%s", msg);
		return rc;
	}
	if (appr_sha256(c->rules, c->rules_len, sha) != 0 ||
	    CRYPTO_memcmp(sha, c->ps.sha256, 32) != 0) {
		snprintf(why, whylen, "%s was changed after it was signed", rules);
		return -EPERM;
	}
	if ((c->who = eappr_find(s, c->ps.cred, c->ps.cred_len)) == NULL) {
		snprintf(why, whylen, "%s is not signed by an enrolled approver", rules);
		return -EPERM;
	}
	if (c->who->recovery) {
		snprintf(why, whylen, "%s is signed by the recovery key, which signs no policy",
			 rules);
		return -EPERM;
	}
	if ((rc = appr_policy_cdh(s->profile.council, sha, c->ps.signed_at, cdh)) != 0) {
		snprintf(why, whylen, "%s: what its signature covers cannot be computed", rules);
		return rc;
	}
	if ((rc = eappr_verify(s, c->who, cdh, c->ps.authdata, c->ps.authdata_len, c->ps.sig,
			       c->ps.sig_len, s->profile.uv, &c->counter, why, whylen)) != 0)
		return rc;
	size_t last_len = 0;
	char *last = NULL;
	(void)pcl_read_file(lastpath, APPR_TEXT_MAX, PCL_READ_REGULAR, &last, &last_len);
	struct appr_policy_sig lp;
	c->same_as_last = last && last_len == c->sig_len && memcmp(last, c->sig, last_len) == 0;
	int older = last && !c->same_as_last &&
		    appr_policy_sig_parse(last, last_len, lastpath, &lp, NULL) == 0 &&
		    c->ps.signed_at < lp.signed_at;
	free(last);
	if (older) {
		snprintf(why, whylen, "%s is older than the signed policy in force", rules);
		return -EPERM;
	}
	if (!c->same_as_last && c->counter <= c->who->counter) {
		snprintf(why, whylen, "the signature counter of %s's key went backwards",
			 c->who->name);
		return -EPERM;
	}
	return 0;
}

static void record(struct engine *e, const char *action, const char *outcome, const char *file,
		   const char *why, const struct eappr_approver *who)
{
	struct json_object *rec = json_object_new_object();

	pcl_record_head(rec, PCL_KIND_EVENT, action, outcome, NULL);
	jsonx_set_str(rec, "file.path", file);
	if (why)
		jsonx_set_str(rec, "event.reason", why);
	if (who)
		jsonx_set_str(rec, "approval.approver", who->name);
	engine_record_json(e, rec, true);
	json_object_put(rec);
}

int eappr_policy_select(struct engine *e, char *out, size_t len)
{
	struct eappr_state *s = eappr_state();
	const char *rules = engine_conf(e)->rules;
	char why[400], keep[600];
	struct checked c;
	int rc;

	snprintf(out, len, "%s", rules);
	if (s->ready && eappr_bundle_rules(s, keep, sizeof(keep)) != NULL) {
		/* A council bundle in force carries the rules, verified when it was applied. */
		struct json_object *rec = json_object_new_object();
		pcl_record_head(rec, PCL_KIND_EVENT, "bundle-in-force", "success", NULL);
		jsonx_set_int(rec, "council.bundle.version", (int64_t)s->bundle_version);
		jsonx_set_str(rec, "file.path", keep);
		engine_record_json(e, rec, false);
		json_object_put(rec);
		snprintf(out, len, "%s", keep);
		return 0;
	}
	if (!s->ready || s->n_approvers == 0)
		return 0; /* nobody can sign yet */
	if (check(s, rules, &c, why, sizeof(why)) == 0) {
		if (!c.same_as_last) {
			char p1[600], p2[600];
			snprintf(p1, sizeof(p1), "%s/policy.rules", s->dir);
			snprintf(p2, sizeof(p2), "%s/policy.rules.sig", s->dir);
			c.who->counter = c.counter;
			if ((rc = eappr_store_save(s)) != 0 ||
			    (rc = spill(p1, c.rules, c.rules_len)) != 0 ||
			    (rc = spill(p2, c.sig, c.sig_len)) != 0) {
				/* Logged by the writer that failed. */
				checked_free(&c);
				return rc;
			}
			record(e, "policy-verified", "success", rules, NULL, c.who);
		}
		checked_free(&c);
		return 0;
	}
	checked_free(&c);
	log_err("policy refused: %s", why);
	record(e, "policy-refused", "failure", rules, why, NULL);
	snprintf(keep, sizeof(keep), "%s/policy.rules", s->dir);
	if ((rc = check(s, keep, &c, why, sizeof(why))) != 0) {
		checked_free(&c);
		log_err("no signed policy to keep either (%s)", why);
		return rc;
	}
	checked_free(&c);
	log_warn("keeping the last good policy (%s)", keep);
	snprintf(out, len, "%s", keep);
	return 0;
}

struct json_object *eappr_policy_verify(struct engine *e)
{
	struct eappr_state *s = eappr_state();
	const char *rules = engine_conf(e)->rules;
	char why[400];
	struct checked c;

	if (s->n_approvers == 0)
		return eappr_error("no approver is enrolled: %s cannot be signed yet", rules);
	int rc = check(s, rules, &c, why, sizeof(why));
	struct json_object *ans = rc == 0 ? json_object_new_object() : eappr_error("%s", why);
	if (rc == 0) {
		jsonx_set_str(ans, "rules", rules);
		jsonx_set_str(ans, "signed-by", c.who->name);
		jsonx_set_str(ans, "role", c.who->role);
		jsonx_set_int(ans, "signed-at", c.ps.signed_at);
		jsonx_set_str(ans, "text", c.rules);
	}
	checked_free(&c);
	return ans;
}
