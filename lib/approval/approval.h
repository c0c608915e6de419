/*
 * approval.h - the canonical, versioned encoding of Clerk approvals: requests (this
 * device, this PC, a scope, a validity), responses (a FIDO2 assertion over a request)
 * and the domain-separated client data hashes that the approver's key signs.
 * Linked by the engine, the portcullis CLI and tests. Parsers take untrusted bytes
 * (request and response files travel by e-mail) and accept only the canonical form,
 * so that parse(encode(x)) == x and encode(parse(b)) == b byte for byte.
 */
#ifndef PCL_APPROVAL_H
#define PCL_APPROVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "b64.h"
#include "diag.h"
#include "hex.h"

#define APPR_VERSION	     1u	  /* responses and policy signatures */
#define APPR_REQUEST_VERSION 3u	  /* 3: direction and council data; 2 still read */
#define APPR_TEXT_MAX	     8192 /* largest request or response accepted */
#define APPR_STR_MAX	     256  /* decoded device strings, user name, reason */
#define APPR_MAX_IFACES	     64
#define APPR_NONCE_LEN	     16
#define APPR_CRED_MAX	     256 /* credential id */
#define APPR_AUTHDATA_MAX    512 /* raw authenticator data */
#define APPR_SIG_MAX	     128 /* DER ECDSA signature */
#define APPR_CDH_LEN	     32
#define APPR_MAX_CREDS	     16 /* credentials a request names (the key's allow list) */
#define APPR_REQUEST_MAGIC   "portcullis-approval-request"
#define APPR_RESPONSE_MAGIC  "portcullis-approval-response"

/* Domain separation of everything an approver's key signs. */
#define APPR_DOMAIN_REQUEST "portcullis/approval-request/v1"
#define APPR_DOMAIN_ENROL   "portcullis/approver-enrol/v1"
#define APPR_DOMAIN_POLICY  "portcullis/policy/v1"
/* An existing approver's consent to a new one: fields council, name, role, credential. */
#define APPR_DOMAIN_ENROL_CONSENT "portcullis/approver-enrol-consent/v1"
/* An approver's consent to removing another: fields council, credential removed. */
#define APPR_DOMAIN_REMOVE "portcullis/approver-remove/v1"

enum appr_scope {
	APPR_READ_ONLY = 1,
	APPR_READ_WRITE = 2,
};

/* Which way the data goes: a bring-in is read-only, a take-out read-write. */
enum appr_direction {
	APPR_BRING_IN = 1,
	APPR_TAKE_OUT = 2,
};

struct appr_iface {
	uint8_t cls, subclass, protocol;
};

struct appr_request {
	unsigned version;    /* 2 or 3 (APPR_REQUEST_VERSION); 0 is encoded as the newest */
	char council[64];    /* council id: [a-z0-9-]; the rp id is "portcullis:" council */
	char machine_id[33]; /* /etc/machine-id: 32 lowercase hex digits */
	char host[65];	     /* host name */
	char port[64];	     /* sysfs kernel name of the device, e.g. "1-2" */
	char hash[48];	     /* USBGuard-compatible device hash (base64) */
	uint16_t vid, pid;
	char serial[APPR_STR_MAX], manufacturer[APPR_STR_MAX], product[APPR_STR_MAX];
	size_t n_ifaces;
	struct appr_iface ifaces[APPR_MAX_IFACES];
	uint64_t capacity; /* bytes; 0 = not known */
	int scope;	   /* enum appr_scope */
	bool wipe;	   /* a take-out owes its wipe (always "no" for a bring-in) */
	int direction;	   /* enum appr_direction; a version 2 request's follows its scope */
	/* A bring-in the approver marked "this stick carries council data: wipe after
	 * import": the owner accepts it at the PC and the stick is wiped at eject. */
	bool council_data;
	uint32_t uid; /* requesting user (SO_PEERCRED at the PC) */
	char user[APPR_STR_MAX];
	int64_t issued;	   /* unix seconds */
	int64_t answer_by; /* the approval must be applied before this */
	int64_t until;	   /* grant ends at this time; 0 = when the device is unplugged */
	char reason[APPR_STR_MAX];
	uint8_t nonce[APPR_NONCE_LEN];
	/* The approvers' credentials this PC accepts: the allow list the key is given, so
	 * that a key with several credentials for the council signs with an enrolled one. */
	size_t n_creds;
	uint8_t creds[APPR_MAX_CREDS][APPR_CRED_MAX];
	size_t cred_lens[APPR_MAX_CREDS];
};

/* Does the request name this credential among those the PC accepts? */
bool appr_request_names_cred(const struct appr_request *r, const uint8_t *cred, size_t len);

struct appr_response {
	uint8_t cred[APPR_CRED_MAX];
	size_t cred_len;
	uint8_t authdata[APPR_AUTHDATA_MAX]; /* raw, as signed (not CBOR-wrapped) */
	size_t authdata_len;
	uint8_t sig[APPR_SIG_MAX];
	size_t sig_len;
	struct appr_request req;
	char req_text[APPR_TEXT_MAX]; /* the request exactly as signed */
	size_t req_len;
};

/* Encode a request canonically into buf (NUL-terminated); returns the length without the
 * NUL, -EINVAL for a field that cannot be encoded, -ENOSPC when buf is too small. */
int appr_request_encode(const struct appr_request *r, char *buf, size_t len);

/* Parse untrusted bytes; 0 or -EINVAL with diag naming the line and field (name is the
 * input's name for the diagnostic). Only the canonical form is accepted. */
int appr_request_parse(const char *buf, size_t len, const char *name, struct appr_request *r,
		       struct pcl_diag *diag);

/* SHA-256(APPR_DOMAIN_REQUEST || 0x00 || canonical request bytes). 0 or -EIO. */
int appr_request_cdh(const char *text, size_t len, uint8_t cdh[APPR_CDH_LEN]);

/* Response: encode (the request text must be canonical) / parse (untrusted). */
int appr_response_encode(const struct appr_response *r, char *buf, size_t len);
int appr_response_parse(const char *buf, size_t len, const char *name, struct appr_response *r,
			struct pcl_diag *diag);

/* A signature over a rule file (standing approvals), kept as FILE.sig. */
struct appr_policy_sig {
	uint8_t cred[APPR_CRED_MAX];
	size_t cred_len;
	uint8_t authdata[APPR_AUTHDATA_MAX];
	size_t authdata_len;
	uint8_t sig[APPR_SIG_MAX];
	size_t sig_len;
	uint8_t sha256[32]; /* of the rule file's bytes */
	int64_t signed_at;
};

int appr_policy_sig_encode(const struct appr_policy_sig *s, char *buf, size_t len);
int appr_policy_sig_parse(const char *buf, size_t len, const char *name, struct appr_policy_sig *s,
			  struct pcl_diag *diag);
/* What the approver's key signs for a rule file: the client data hash. */
int appr_policy_cdh(const char *council, const uint8_t sha[32], int64_t signed_at,
		    uint8_t out[APPR_CDH_LEN]);
int appr_sha256(const void *buf, size_t len, uint8_t out[32]);

/* Domain-separated hash of labelled fields: SHA-256(domain || 0x00 || for each field:
 * 4-byte big-endian length || bytes). Used for enrolment and policy signatures. */
int appr_hash_fields(const char *domain, const void *const *fields, const size_t *lens, size_t n,
		     uint8_t out[APPR_CDH_LEN]);

/* "read-only" / "read-write" (NULL for an invalid scope). */
const char *appr_scope_name(int scope);
/* "bring-in" / "take-out" (NULL for an invalid direction). */
const char *appr_direction_name(int direction);

#endif
