/*
 * engine_approval_int.h - shared by the engine_approval*.c files: the approver store
 * (state-dir/approvers.json), the used-nonce list (state-dir/approval-nonces) and the
 * assertion check against an enrolled key.
 */
#ifndef PCL_DAEMON_ENGINE_APPROVAL_INT_H
#define PCL_DAEMON_ENGINE_APPROVAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "approval.h"
#include "bundle.h"
#include "profile.h"

#define EAPPR_MAX_APPROVERS 32
#define EAPPR_MAX_NONCES    4096
#define EAPPR_MAX_GRANTS    32
#define EAPPR_MAX_ISSUED    1024 /* requests waiting for an answer */
#define EAPPR_MAX_ISSUED_PER_UID                                                                   \
	16 /* ... asked for by one user (below the control socket's burst) */

/* A request this PC issued: its nonce, the hash of its exact text, its answer-by. */
struct eappr_issued {
	uint8_t nonce[APPR_NONCE_LEN];
	uint8_t sha256[32];
	int64_t answer_by;
	uint32_t uid; /* who asked */
};

struct eappr_approver {
	char name[APPR_STR_MAX], role[64];
	uint8_t cred[APPR_CRED_MAX];
	size_t cred_len;
	uint8_t pk[64]; /* ES256 public key, x || y */
	uint32_t counter;
	int64_t enrolled;
	/* The IT provider's recovery key, kept offline: consents to enrolling and removing
	 * approvers for root at the PC only; never approves an exception or a policy. */
	bool recovery;
};

struct eappr_state {
	bool ready; /* a profile is loaded */
	struct appr_profile profile;
	char rp[80];
	char machine_id[33];
	char dir[256];
	struct eappr_approver approvers[EAPPR_MAX_APPROVERS];
	size_t n_approvers;
	uint8_t (*nonces)[APPR_NONCE_LEN];
	size_t n_nonces;
	struct eappr_issued issued[EAPPR_MAX_ISSUED];
	size_t n_issued;
	uint64_t bundle_version; /* the council bundle in force; 0 = none */
	uint8_t bundle_sha[32];
};

/* engine_approval_store.c: the approvers and the used nonces. Like every function of
 * the engine: 0 (or a count) on success, negative errno on failure, logged where it
 * happened. */
int eappr_store_load(struct eappr_state *s);
int eappr_store_save(const struct eappr_state *s);
bool eappr_nonce_used(const struct eappr_state *s, const uint8_t nonce[APPR_NONCE_LEN]);
int eappr_nonce_add(struct eappr_state *s, const uint8_t nonce[APPR_NONCE_LEN]);
struct eappr_approver *eappr_find(struct eappr_state *s, const uint8_t *cred, size_t len);

/* Verify one assertion by approver a over cdh: signature, rp id, UP, UV when uv. Fills
 * *counter. 0, or -EPERM with why set. Does not check or update the counter. */
int eappr_verify(const struct eappr_state *s, const struct eappr_approver *a,
		 const uint8_t cdh[APPR_CDH_LEN], const uint8_t *authdata, size_t authdata_len,
		 const uint8_t *sig, size_t sig_len, bool uv, uint32_t *counter, char *why,
		 size_t whylen);

/* engine_approval_issued.c: the requests issued and not yet answered. */
int eappr_issued_load(struct eappr_state *s);
/* Keep a new request (dropping those past answer-by); 0, -EBUSY when the user already
 * has EAPPR_MAX_ISSUED_PER_UID waiting, or another negative errno (logged) when it cannot
 * be kept. */
int eappr_issued_add(struct eappr_state *s, const uint8_t nonce[APPR_NONCE_LEN], const char *text,
		     size_t len, int64_t answer_by, int64_t now, uint32_t uid);
const struct eappr_issued *eappr_issued_find(const struct eappr_state *s,
					     const uint8_t nonce[APPR_NONCE_LEN]);
/* An answered request is forgotten; 0 or negative errno (logged) when the file cannot be
 * written. */
int eappr_issued_forget(struct eappr_state *s, const uint8_t nonce[APPR_NONCE_LEN]);

/* engine_approval_enrol.c */
struct engine;
struct json_object;
struct json_object *eappr_enrol(struct engine *e, struct eappr_state *s, struct json_object *req,
				unsigned peer_uid);

struct json_object *eappr_remove(struct engine *e, struct eappr_state *s, struct json_object *req,
				 unsigned peer_uid);

/* engine_approval_bundle.c: the council bundle in force (state-dir/council.bundle). */
int eappr_bundle_load(struct eappr_state *s);
struct json_object *eappr_bundle_apply(struct engine *e, struct eappr_state *s,
				       struct json_object *req, unsigned peer_uid);
/* The bundle's rule file (state-dir/bundle.rules) when a bundle is in force, else NULL. */
const char *eappr_bundle_rules(const struct eappr_state *s, char *out, size_t len);

/* An exception in force (engine_approval.c). */
struct eappr_grant {
	bool used, warned, readonly;
	uint16_t busnum, devnum; /* of the device in whose slot it is */
	int64_t until;
	bool wipe;    /* the medium is wiped at the end (take-out: owed; bring-in: council data) */
	bool dirty;   /* mounted since it was approved or last wiped */
	uint32_t uid; /* the user who asked for it */
	char ref[24]; /* the approval's reference (eappr_reference) */
	/* Taken out (read-write): a medium written here owes a wipe wherever it goes next,
	 * never at eject here, where it would destroy what it carries before it arrives. */
	bool takeout;
	uint64_t capacity; /* bytes, as approved */
	/* A bring-in the approver marked as council data: wiped after the import, and let in
	 * only once its owner has accepted that (awaiting until then). */
	bool council_data, awaiting;
	/* Recognised as owing a wipe from elsewhere (the council bundle's list; ref is the
	 * owed wipe's): read-only, wiped at eject, wipe-owed-closed once wiped. */
	bool owed;
	/* A wipe due at eject that did not start: attempts so far, tried again at the next
	 * tick (eappr_wipe_refused). */
	unsigned wipe_tries;
	int64_t wipe_retry_at; /* wall-clock seconds, 0 for none */
};

/* engine_approval.c: the one state of this process, the grant of a device (NULL when
 * none), the interfaces an exception may cover. */
struct eappr_state *eappr_state(void);
struct dev_entry;
struct eappr_grant *eappr_grant_of(const struct dev_entry *d);
uint64_t eappr_exception_interfaces(const struct dev_entry *d);
/* A free grant slot (not yet marked used), or NULL when all are in force. */
struct eappr_grant *eappr_grant_new(const struct dev_entry *d);
/* engine_approval_bundle.c: the council bundle in force, or NULL. */
const struct appr_bundle *eappr_bundle_current(void);

/* engine_approval_owed.c: the owed wipes that follow the stick (state-dir/owed-closed). */
int eappr_owed_load(const struct eappr_state *s);
/* After a wipe of d's medium under grant g: an owed wipe is closed here. */
void eappr_owed_wiped(struct engine *e, const struct dev_entry *d, const struct eappr_grant *g);
/* A bundle about to replace the one in force (old, NULL when none): the owed wipes old
 * lists and next does not were closed somewhere in the council, and are kept closed here
 * so that a later bundle built from a stale list does not open them again. 0 or negative
 * errno (logged): the new bundle is then not taken. */
int eappr_owed_dropped(const struct appr_bundle *old, const struct appr_bundle *next);

/* engine_approval_accept.c: the owner's acceptance of a council-data bring-in. The
 * device, approved, stays out (the owner is told why and how to accept) ... */
void eappr_await_owner(struct engine *e, struct eappr_grant *g, struct dev_entry *d);
/* ... until `media-accept` (root or the user who asked) lets it in. */
struct ctl_call;
int eappr_run_accept(struct ctl_call *call);
/* engine_approval_policy.c: answer to "policy-verify". */
struct json_object *eappr_policy_verify(struct engine *e);

/* Helpers shared by the files. */
#define ANSWER_AT_PC_SECONDS  600	      /* a request made at the PC is answered there */
#define ANSWER_REMOTE_SECONDS (7 * 24 * 3600) /* an exported one travels by e-mail */
/* engine_approval.c: an exception refused (recorded, security); the answer to send. */
struct json_object *eappr_refuse(struct engine *e, const struct dev_entry *d, const char *why,
				 const char *response);
/* The request fields that name the device, from its identity. */
struct appr_request;
struct usbdev;
void eappr_fill_request(struct appr_request *r, const struct usbdev *id);
/* The identity of the USB device at port, read again from sysfs now: 0 when read. */
int eappr_reread(const char *port, struct usbdev *id);
/* The answer to "approve": the approver's signed response checked, the exception granted. */
struct json_object *eappr_approve(struct engine *e, struct json_object *req, uid_t peer_uid);
/* A wipe the grant g required and that the medium leaves without: recorded. */
void eappr_wipe_missed(struct engine *e, struct eappr_grant *g, const struct dev_entry *d,
		       const char *why);
struct json_object *eappr_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A base64 string field of req decoded into out; its length (> 0), or negative errno
 * (-EINVAL: missing, empty or not base64). */
int eappr_b64_field(struct json_object *req, const char *field, uint8_t *out, size_t cap);

#endif
