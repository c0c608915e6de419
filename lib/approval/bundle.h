/*
 * bundle.h - the council bundle: one signed file carrying what every PC of a council
 * shares (its profile, its approvers, the rules for its own equipment) under a version
 * that only goes up, and an approver's signature over all of it.
 * Linked by the engine (applies bundles), the portcullis CLI (builds, shows, packages
 * them) and tests. The parser takes untrusted bytes (a bundle arrives in a package or a
 * file) and accepts only the canonical form: parse(encode(x)) == x byte for byte.
 */
#ifndef PCL_APPROVAL_BUNDLE_H
#define PCL_APPROVAL_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "approval.h"

#define APPR_BUNDLE_MAGIC	"portcullis-council-bundle"
#define APPR_BUNDLE_VERSION	2u /* 2: the council's open owed wipes; 1 still read */
#define APPR_DOMAIN_BUNDLE	"portcullis/council-bundle/v1"
#define APPR_BUNDLE_APPROVERS	32
#define APPR_BUNDLE_PROFILE_MAX 16384
#define APPR_BUNDLE_RULES_MAX	65536
#define APPR_BUNDLE_MAX		(256 * 1024) /* largest bundle file accepted */
#define APPR_ROLE_MAX		64
#define APPR_BUNDLE_OWED	256 /* open owed wipes a bundle carries */
#define APPR_OWED_REF_MAX	24

/* A take-out stick that left a PC of the council owing its wipe (`wipe-owed`, from the
 * fleet's verified trails): the PC that sees it next recognises it by its identity. */
struct appr_bundle_owed {
	char ref[APPR_OWED_REF_MAX]; /* "A-" and 16 lower-case hex digits: the approval */
	char hash[48];		     /* USBGuard-compatible device hash (base64) */
	uint16_t vid, pid;
	uint64_t capacity; /* bytes; 0 = not known */
	char serial[APPR_STR_MAX];
};

struct appr_bundle_approver {
	char name[APPR_STR_MAX], role[APPR_ROLE_MAX];
	bool recovery; /* the IT provider's recovery key: approves nothing */
	uint8_t cred[APPR_CRED_MAX];
	size_t cred_len;
	uint8_t pk[64]; /* ES256 public key, x || y */
};

struct appr_bundle {
	unsigned format; /* 1 or 2 (APPR_BUNDLE_VERSION); 0 is encoded as the newest */
	char council[64];
	uint64_t version; /* 1 and up; a PC takes only a higher one */
	int64_t issued;	  /* unix seconds */
	char profile[APPR_BUNDLE_PROFILE_MAX];
	size_t profile_len;
	char rules[APPR_BUNDLE_RULES_MAX];
	size_t rules_len;
	size_t n_approvers;
	struct appr_bundle_approver approvers[APPR_BUNDLE_APPROVERS];
	size_t n_owed; /* format 2 */
	struct appr_bundle_owed owed[APPR_BUNDLE_OWED];
	/* The signature: an approver's assertion over appr_bundle_cdh() of the body. */
	uint8_t signer[APPR_CRED_MAX];
	size_t signer_len;
	uint8_t authdata[APPR_AUTHDATA_MAX];
	size_t authdata_len;
	uint8_t sig[APPR_SIG_MAX];
	size_t sig_len;
	size_t body_len; /* bytes of the encoding that the signature covers */
};

/* The signed body (everything before "signed-by:") into buf; its length, -EINVAL for a
 * field that cannot be encoded, -ENOSPC when buf is too small. */
int appr_bundle_encode_body(const struct appr_bundle *b, char *buf, size_t len);
/* The whole bundle, body and signature. */
int appr_bundle_encode(const struct appr_bundle *b, char *buf, size_t len);
/* Parse untrusted bytes; 0 or -EINVAL with diag naming the line and field. */
int appr_bundle_parse(const char *buf, size_t len, const char *name, struct appr_bundle *b,
		      struct pcl_diag *diag);
/* SHA-256(APPR_DOMAIN_BUNDLE 0x00 || 4-byte length || body): what the approver signs. */
int appr_bundle_cdh(const char *body, size_t len, uint8_t out[APPR_CDH_LEN]);
/* The approver of the bundle with this credential, or NULL. */
const struct appr_bundle_approver *appr_bundle_find(const struct appr_bundle *b,
						    const uint8_t *cred, size_t len);

/* The owed wipe whose identity this is (hash, ids and serial all equal), or NULL. */
const struct appr_bundle_owed *appr_bundle_owed_find(const struct appr_bundle *b, const char *hash,
						     uint16_t vid, uint16_t pid,
						     const char *serial);

#endif
