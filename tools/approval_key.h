/*
 * approval_key.h - the CLI's side of the approver's FIDO2 key: open it (real hidraw
 * through libfido2, or the simulator for "sim:" paths), make an approver credential,
 * get an assertion over a client data hash.
 */
#ifndef PCL_TOOLS_APPROVAL_KEY_H
#define PCL_TOOLS_APPROVAL_KEY_H

#include <fido.h>
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

/* Open the key at path (NULL: the first FIDO device found). NULL after a message. */
fido_dev_t *akey_open(const char *path);
void akey_close(fido_dev_t **dev);

/* The PIN: --pin, else $PORTCULLIS_PIN, else NULL. */
const char *akey_pin(const char *opt);

/* Make a discoverable ES256 credential for rp over cdh; adds "credential", "authdata",
 * "sig", "fmt", "x5c" (when present) and "prot" to out. 0 or 1 after a message. */
int akey_make_cred(fido_dev_t *dev, const char *rp, const uint8_t cdh[APPR_CDH_LEN],
		   const char *user, bool uv, const char *pin, struct json_object *out);

/* Get one assertion for rp over cdh (allow: base64 credential ids, or none for a
 * discoverable credential). 0 or 1 after a message. */
int akey_assert(fido_dev_t *dev, const char *rp, const uint8_t cdh[APPR_CDH_LEN],
		struct json_object *allow, const char *pin, struct akey_assertion *out);

#endif
