/*
 * approval_key.h - the CLI's side of the approver's FIDO2 key. The key itself is driven
 * by the fido helper (lib/fidohelper), a sandboxed child: these functions start it for
 * the key at a path (hidraw, "sim:" for the simulator, NULL for the first key found),
 * hand it one operation and check what comes back.
 */
#ifndef PCL_TOOLS_APPROVAL_KEY_H
#define PCL_TOOLS_APPROVAL_KEY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "approval.h"

struct akey_assertion {
	uint8_t cred[APPR_CRED_MAX];
	size_t cred_len;
	uint8_t authdata[APPR_AUTHDATA_MAX]; /* raw */
	size_t authdata_len;
	uint8_t sig[APPR_SIG_MAX];
	size_t sig_len;
};

/* The PIN for the key: one line read from file descriptor fd (--pin-fd N) when fd is
 * given, else $PORTCULLIS_PIN, else, when ask, typed at the terminal without echo
 * (libbsd's readpassphrase; no terminal or an empty line: no PIN). The PIN is kept in
 * buf (len bytes; the caller wipes it with explicit_bzero); *pin is buf or NULL.
 * 0, or 1 after a message. */
int akey_pin(const char *fd, bool ask, const char *prompt, char *buf, size_t len, const char **pin);
/* A PIN given on the command line (opt is "--pin" or "--by-pin"): refused, 1. */
int akey_pin_refused(const char *opt);

/* Make a discoverable ES256 credential for rp over cdh with the key at path; verifies
 * its attestation and adds "credential", "authdata", "sig", "fmt", "x5c" (when present)
 * and "prot" to out. 0 or 1 after a message. */
int akey_make_cred(const char *path, const char *rp, const uint8_t cdh[APPR_CDH_LEN],
		   const char *user, bool uv, const char *pin, struct json_object *out);

/* Get one assertion for rp over cdh from the key at path (allow: base64 credential ids,
 * or none for a discoverable credential). 0 or 1 after a message. */
int akey_assert(const char *path, const char *rp, const uint8_t cdh[APPR_CDH_LEN],
		struct json_object *allow, const char *pin, struct akey_assertion *out);

#endif
