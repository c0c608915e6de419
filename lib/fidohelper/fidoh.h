/*
 * fidoh.h - the fido helper: a short-lived child of the CLI that alone talks to the
 * approver's FIDO2 key. It opens the key, drops to an unprivileged user without
 * capabilities, sets no_new_privs and installs the SANDBOX_FIDO seccomp list before the
 * first byte from the key is read; then it runs one makeCredential or getAssertion for
 * the CLI and answers over a socketpair in a small length-prefixed encoding.
 *
 * Wire format: each message is a 4-byte big-endian body length (at most FIDOH_MSG_MAX)
 * then fields of tag (1 byte), length (2 bytes, big-endian), value. The first field is
 * the kind; which fields a kind must or may carry is fixed (fidoh_proto.c).
 *
 * Linked by the portcullis CLI and the tests. The helper's answers are trusted no more
 * than the key itself: the CLI decodes them with fidoh_msg_decode(), bounds-checked,
 * and verifies what matters (attestation on enrol; the daemon verifies assertions).
 */
#ifndef PCL_FIDOH_H
#define PCL_FIDOH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "diag.h"

#define FIDOH_MSG_MAX	   12288 /* largest message body */
#define FIDOH_STR_MAX	   256	 /* rp id, user name (NUL included) */
#define FIDOH_PIN_MAX	   64	 /* CTAP2 PINs are at most 63 bytes */
#define FIDOH_FMT_MAX	   32	 /* attestation format name */
#define FIDOH_CDH_LEN	   32
#define FIDOH_USER_ID_LEN  16
#define FIDOH_CRED_MAX	   256	/* credential id */
#define FIDOH_AUTHDATA_MAX 1024 /* authenticator data, possibly CBOR-wrapped */
#define FIDOH_SIG_MAX	   128	/* DER ECDSA signature */
#define FIDOH_X5C_MAX	   4096 /* attestation certificate */
#define FIDOH_ALLOW_MAX	   16	/* credential ids in an allow list */

/* Status values beyond libfido2's own (FIDO_OK, FIDO_ERR_*, CTAP2 codes). */
#define FIDOH_ST_NO_DEVICE  (-1000) /* no FIDO2 key plugged in */
#define FIDOH_ST_SANDBOX    (-1001) /* the helper could not drop privileges */
#define FIDOH_ST_BAD_REQ    (-1002) /* the helper could not decode the request */
#define FIDOH_ST_ERRNO_BASE (-2000) /* -2000 - errno: opening the key failed */
#define FIDOH_ST_ERRNO(e)   (FIDOH_ST_ERRNO_BASE - (e))

enum fidoh_kind {
	FIDOH_OPENED = 1,    /* helper -> CLI: the key is open (or why not): status */
	FIDOH_MAKE_CRED = 2, /* CLI -> helper: rp, cdh, user, user_id, prot, [pin] */
	FIDOH_ASSERT = 3,    /* CLI -> helper: rp, cdh, [allow...], [pin] */
	FIDOH_CRED = 4,	     /* helper -> CLI: status, [fmt, authdata, sig, [x5c]] */
	FIDOH_ASSERTION = 5, /* helper -> CLI: status, [cred, authdata, sig] */
};

/* One message, decoded. Strings are NUL-terminated; byte fields carry their length. */
struct fidoh_msg {
	enum fidoh_kind kind;
	int32_t status;
	char rp[FIDOH_STR_MAX];
	char user[FIDOH_STR_MAX];
	char pin[FIDOH_PIN_MAX]; /* secret: wipe with fidoh_msg_wipe() */
	bool has_pin;
	char fmt[FIDOH_FMT_MAX];
	uint8_t cdh[FIDOH_CDH_LEN];
	uint8_t user_id[FIDOH_USER_ID_LEN];
	uint8_t prot; /* credProtect level, 1..3 */
	uint8_t allow[FIDOH_ALLOW_MAX][FIDOH_CRED_MAX];
	size_t allow_len[FIDOH_ALLOW_MAX];
	size_t n_allow;
	uint8_t cred[FIDOH_CRED_MAX];
	size_t cred_len;
	uint8_t authdata[FIDOH_AUTHDATA_MAX];
	size_t authdata_len;
	uint8_t sig[FIDOH_SIG_MAX];
	size_t sig_len;
	uint8_t x5c[FIDOH_X5C_MAX];
	size_t x5c_len;
};

/* Encode m (its kind decides the fields) into out; the body length, or -ENOSPC /
 * -EINVAL for a message its kind does not allow. The 4-byte length is not included. */
int fidoh_msg_encode(const struct fidoh_msg *m, uint8_t *out, size_t cap);

/* Decode a message body of len bytes (untrusted). 0, or -EINVAL with diag naming the
 * field and its byte offset ("<fido helper>: field sig at byte 40: ..."). */
int fidoh_msg_decode(const uint8_t *p, size_t len, struct fidoh_msg *m, struct pcl_diag *diag);

/* Wipe the whole message (PIN included). */
void fidoh_msg_wipe(struct fidoh_msg *m);

/* Send one message (length prefix and body); 0 or negative errno. The encoded copy is
 * wiped before returning. */
int fidoh_send(int fd, const struct fidoh_msg *m);

/* Receive and decode one message within timeout_ms (-1: no limit). 0; -ETIMEDOUT;
 * -EPIPE if the peer closed the channel before a whole message; -EINVAL (with diag)
 * for a malformed one; other negative errno. The received bytes are wiped. */
int fidoh_recv(int fd, struct fidoh_msg *m, int timeout_ms, struct pcl_diag *diag);

/* What a status means, for messages: libfido2's words, an errno's, or the helper's. */
const char *fidoh_status_str(int32_t status);

/* The client side: seams for tests, and the CLI's hook to prompt for the touch. */
struct fidoh_ops {
	/* The helper's body, run in the forked child on sock; must not return. NULL: the
	 * real helper, fidoh_helper_main(). */
	void (*child)(int sock, const char *path, void *arg);
	/* Called once the helper reported the key open, before the request is sent. */
	void (*opened)(pid_t pid, void *arg);
	void *arg;
	int timeout_ms; /* for each answer; 0: 20 s to open the key, FIDOH_TIMEOUT_MS after */
};

#define FIDOH_TIMEOUT_MS 150000 /* the key's own touch timeout is shorter */

enum fidoh_fail {
	FIDOH_FAIL_NONE,
	FIDOH_FAIL_OPEN,   /* the helper could not open the key: status says why */
	FIDOH_FAIL_KEY,	   /* the key refused or failed the operation: status says why */
	FIDOH_FAIL_HELPER, /* the helper crashed, hung, or answered garbage: msg says how */
};

struct fidoh_result {
	enum fidoh_fail fail;
	int32_t status;
	char msg[2 * PCL_DIAG_MSG_MAX]; /* FIDOH_FAIL_HELPER: one plain sentence */
};

/* Start the helper for the key at path (NULL: the first FIDO2 key found; "sim:PATH":
 * the simulator), hand it req (FIDOH_MAKE_CRED or FIDOH_ASSERT), and decode its answer
 * into res. 0 when the key answered; -1 with r filled otherwise. The helper is always
 * reaped (killed first if it misbehaved). req's encoded copy is wiped. */
int fidoh_call(const char *path, const struct fidoh_msg *req, struct fidoh_msg *res,
	       const struct fidoh_ops *ops, struct fidoh_result *r);

/* The real helper's body (see the top of this file). Never returns. */
void fidoh_helper_main(int sock, const char *path, void *arg) __attribute__((noreturn));

#endif
