/*
 * approval_key.c - see approval_key.h. Linked by the portcullis CLI, run by the
 * approver. The key's answers come through the fido helper and are untrusted: decoded
 * bounds-checked by lib/fidohelper, the attestation of a new credential verified here
 * with libfido2, every assertion verified again by the daemon.
 */
#include "approval_key.h"

#include <bsd/readpassphrase.h>
#include <errno.h>
#include <fido.h>
#include <stdint.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "fidoh.h"

int akey_pin_refused(const char *opt)
{
	return pcl_fail("%s PIN on the command line is refused: it would show in ps and in the "
			"shell history. Type the PIN when asked, or give %s-fd N to read it from "
			"file descriptor N",
			opt, opt);
}

/* One line from file descriptor fd into buf; its length, or -1. */
static int read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char c;
	ssize_t got;

	while ((got = read(fd, &c, 1)) == 1 && c != '\n') {
		if (n + 1 >= len)
			return -1;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return got < 0 ? -1 : (int)n;
}

int akey_pin(const char *fd, bool ask, const char *prompt, char *buf, size_t len, const char **pin)
{
	const char *env = getenv("PORTCULLIS_PIN");
	char *end;

	*pin = NULL;
	buf[0] = '\0';
	if (fd != NULL) {
		errno = 0;
		long n = strtol(fd, &end, 10);
		if (errno || *end || end == fd || n < 0 || n > INT32_MAX)
			return pcl_fail("--pin-fd: '%s' is not a file descriptor", fd);
		if (read_line((int)n, buf, len) < 0) {
			explicit_bzero(buf, len);
			return pcl_fail("--pin-fd %s: no PIN of at most %zu bytes could be read",
					fd, len - 1);
		}
	} else if (env && *env) {
		if (strlen(env) >= len)
			return pcl_fail("PORTCULLIS_PIN: longer than %zu bytes", len - 1);
		memcpy(buf, env, strlen(env) + 1);
	} else if (ask) {
		/* The terminal only, echo off; no terminal: no PIN (the key or the daemon then
		 * says that one was needed). */
		if (readpassphrase(prompt, buf, len, RPP_REQUIRE_TTY) == NULL)
			buf[0] = '\0';
	}
	if (buf[0] != '\0')
		*pin = buf;
	return 0;
}

static void put_b64(struct json_object *o, const char *k, const uint8_t *p, size_t n)
{
	char *s = malloc(4 * ((n + 2) / 3) + 1);

	if (s != NULL && pcl_b64_encode(p, n, s, 4 * ((n + 2) / 3) + 1) >= 0)
		json_object_object_add(o, k, json_object_new_string(s));
	free(s);
}

static void prompt(pid_t pid, void *arg)
{
	(void)pid;
	fprintf(stderr, "%s\n", *(const char **)arg);
}

/* Run req through the helper; 0, or 1 after the message for what went wrong. */
static int call(const char *path, struct fidoh_msg *req, struct fidoh_msg *res, const char *touch,
		const char *refused)
{
	struct fidoh_ops ops = {.opened = prompt, .arg = &touch};
	struct fidoh_result r;
	int rc = fidoh_call(path, req, res, &ops, &r);

	fidoh_msg_wipe(req);
	if (rc == 0)
		return 0;
	if (r.fail == FIDOH_FAIL_OPEN && r.status == FIDOH_ST_NO_DEVICE)
		return pcl_fail(
		    "no FIDO2 key found: plug in the approver's key or give --key PATH");
	if (r.fail == FIDOH_FAIL_OPEN)
		return pcl_fail("%s: cannot open the key: %s", path ? path : "(first key found)",
				fidoh_status_str(r.status));
	if (r.fail == FIDOH_FAIL_KEY)
		return pcl_fail("%s: %s", refused, fidoh_status_str(r.status));
	return pcl_fail("%s", r.msg);
}

static int set_str(char *dst, size_t cap, const char *s, const char *what)
{
	if (strlen(s) == 0 || strlen(s) >= cap)
		return pcl_fail("%s: empty or longer than %zu bytes", what, cap - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

int akey_make_cred(const char *path, const char *rp, const uint8_t cdh[APPR_CDH_LEN],
		   const char *user, bool uv, const char *pin, struct json_object *out)
{
	static struct fidoh_msg req, res;
	int prot = uv ? FIDO_CRED_PROT_UV_REQUIRED : FIDO_CRED_PROT_UV_OPTIONAL;
	fido_cred_t *c;
	int rc = FIDO_ERR_INTERNAL;

	if (uv && pin == NULL)
		return pcl_fail("the council's profile requires the key's PIN: type it when asked "
				"(at a terminal), or give --pin-fd N or PORTCULLIS_PIN");
	memset(&req, 0, sizeof(req));
	req.kind = FIDOH_MAKE_CRED;
	req.prot = (uint8_t)prot;
	memcpy(req.cdh, cdh, APPR_CDH_LEN);
	if (set_str(req.rp, sizeof(req.rp), rp, "relying party") != 0 ||
	    set_str(req.user, sizeof(req.user), user, "--name") != 0 ||
	    (pin && set_str(req.pin, sizeof(req.pin), pin, "PIN") != 0) ||
	    RAND_bytes(req.user_id, sizeof(req.user_id)) != 1) {
		fidoh_msg_wipe(&req);
		return 1;
	}
	req.has_pin = pin != NULL;
	if (call(path, &req, &res, "Touch the key to enrol it...",
		 "the key did not make a credential") != 0)
		return 1;
	/* What the helper says the key made, checked as the daemon will check it. */
	if ((c = fido_cred_new()) != NULL && fido_cred_set_type(c, COSE_ES256) == FIDO_OK &&
	    fido_cred_set_clientdata_hash(c, cdh, APPR_CDH_LEN) == FIDO_OK &&
	    fido_cred_set_rp(c, rp, NULL) == FIDO_OK &&
	    fido_cred_set_authdata_raw(c, res.authdata, res.authdata_len) == FIDO_OK &&
	    fido_cred_set_sig(c, res.sig, res.sig_len) == FIDO_OK &&
	    (res.x5c_len == 0 || fido_cred_set_x509(c, res.x5c, res.x5c_len) == FIDO_OK) &&
	    fido_cred_set_fmt(c, res.fmt) == FIDO_OK && fido_cred_set_prot(c, prot) == FIDO_OK)
		rc = res.x5c_len ? fido_cred_verify(c) : fido_cred_verify_self(c);
	if (rc != FIDO_OK) {
		fido_cred_free(&c);
		fidoh_msg_wipe(&res);
		return pcl_fail("the key did not make a credential: %s", fido_strerr(rc));
	}
	put_b64(out, "credential", fido_cred_id_ptr(c), fido_cred_id_len(c));
	put_b64(out, "authdata", fido_cred_authdata_raw_ptr(c), fido_cred_authdata_raw_len(c));
	put_b64(out, "sig", fido_cred_sig_ptr(c), fido_cred_sig_len(c));
	if (fido_cred_x5c_len(c))
		put_b64(out, "x5c", fido_cred_x5c_ptr(c), fido_cred_x5c_len(c));
	json_object_object_add(out, "fmt", json_object_new_string(fido_cred_fmt(c)));
	json_object_object_add(out, "prot", json_object_new_int(prot));
	fido_cred_free(&c);
	fidoh_msg_wipe(&res);
	return 0;
}

/* libfido2 1.12 hands out the authenticator data CBOR-wrapped: take the byte string. */
static int unwrap(const uint8_t *p, size_t n, struct akey_assertion *out)
{
	size_t hdr, len;

	if (n >= 1 && p[0] >= 0x40 && p[0] <= 0x57)
		hdr = 1, len = p[0] - 0x40u;
	else if (n >= 2 && p[0] == 0x58)
		hdr = 2, len = p[1];
	else if (n >= 3 && p[0] == 0x59)
		hdr = 3, len = (size_t)p[1] << 8 | p[2];
	else
		return -1;
	if (hdr + len != n || len > sizeof(out->authdata))
		return -1;
	memcpy(out->authdata, p + hdr, len);
	out->authdata_len = len;
	return 0;
}

int akey_assert(const char *path, const char *rp, const uint8_t cdh[APPR_CDH_LEN],
		struct json_object *allow, const char *pin, struct akey_assertion *out)
{
	static struct fidoh_msg req, res;
	size_t n_allow = allow ? json_object_array_length(allow) : 0;

	memset(&req, 0, sizeof(req));
	req.kind = FIDOH_ASSERT;
	memcpy(req.cdh, cdh, APPR_CDH_LEN);
	if (n_allow > FIDOH_ALLOW_MAX)
		return pcl_fail("more than %d enrolled approvers' credentials to offer the key",
				FIDOH_ALLOW_MAX);
	for (size_t i = 0; i < n_allow; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(allow, i));
		int n = s ? pcl_b64_decode(s, strlen(s), req.allow[i], sizeof(req.allow[i])) : -1;
		if (n <= 0)
			return pcl_fail("the key gave no approval: %s",
					fido_strerr(FIDO_ERR_INVALID_ARGUMENT));
		req.allow_len[i] = (size_t)n;
	}
	req.n_allow = n_allow;
	if (set_str(req.rp, sizeof(req.rp), rp, "relying party") != 0 ||
	    (pin && set_str(req.pin, sizeof(req.pin), pin, "PIN") != 0)) {
		fidoh_msg_wipe(&req);
		return 1;
	}
	req.has_pin = pin != NULL;
	if (call(path, &req, &res, "Touch the key to approve...", "the key gave no approval") != 0)
		return 1;
	memset(out, 0, sizeof(*out));
	if (res.cred_len > sizeof(out->cred) || res.sig_len > sizeof(out->sig) ||
	    unwrap(res.authdata, res.authdata_len, out) != 0) {
		fidoh_msg_wipe(&res);
		return pcl_fail("the key's answer is malformed");
	}
	memcpy(out->cred, res.cred, res.cred_len);
	out->cred_len = res.cred_len;
	memcpy(out->sig, res.sig, res.sig_len);
	out->sig_len = res.sig_len;
	fidoh_msg_wipe(&res);
	return 0;
}
