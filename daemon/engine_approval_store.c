/*
 * engine_approval_store.c - the approvers (state-dir/approvers.json: name, role,
 * credential id, public key, signature counter) and the nonces already used
 * (state-dir/approval-nonces, one hex nonce a line), both engine-owned; and the check
 * of an assertion against an enrolled key with libfido2's verification API.
 * Linked by the engine. The files are the engine's own (written atomically) but are
 * still read with bounds; assertions come from control-socket clients: untrusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <fido.h>
#include <fido/es256.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_approval_int.h"
#include "fileio.h"
#include "hex.h"
#include "jsonx.h"
#include "log.h"

#define NONCE_FILE    "approval-nonces"
#define APPROVER_FILE "approvers.json"

struct json_object *eappr_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	struct json_object *o = json_object_new_object();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jsonx_set_str(o, "error", msg);
	return o;
}

int eappr_b64_field(struct json_object *req, const char *field, uint8_t *out, size_t cap)
{
	const char *v = jsonx_get_str(req, field);
	int n = v ? pcl_b64_decode(v, strlen(v), out, cap) : -EINVAL;

	return n > 0 ? n : n == 0 ? -EINVAL : n;
}

struct eappr_approver *eappr_find(struct eappr_state *s, const uint8_t *cred, size_t len)
{
	for (size_t i = 0; i < s->n_approvers; i++)
		if (s->approvers[i].cred_len == len && memcmp(s->approvers[i].cred, cred, len) == 0)
			return &s->approvers[i];
	return NULL;
}

static int load_approver(struct json_object *o, struct eappr_approver *a)
{
	const char *name = jsonx_get_str(o, "name"), *role = jsonx_get_str(o, "role");
	struct json_object *v;
	int n;

	memset(a, 0, sizeof(*a));
	if (name == NULL || role == NULL || strlen(name) >= sizeof(a->name) ||
	    strlen(role) >= sizeof(a->role))
		return -EINVAL;
	strcpy(a->name, name);
	strcpy(a->role, role);
	if ((n = eappr_b64_field(o, "credential", a->cred, sizeof(a->cred))) < 0)
		return -EINVAL;
	a->cred_len = (size_t)n;
	if (eappr_b64_field(o, "public-key", a->pk, sizeof(a->pk)) != 64)
		return -EINVAL;
	if (!json_object_object_get_ex(o, "counter", &v) || !json_object_is_type(v, json_type_int))
		return -EINVAL;
	int64_t c = json_object_get_int64(v);
	if (c < 0 || c > UINT32_MAX)
		return -EINVAL;
	a->counter = (uint32_t)c;
	if (json_object_object_get_ex(o, "enrolled", &v))
		a->enrolled = json_object_get_int64(v);
	a->recovery = json_object_object_get_ex(o, "recovery", &v) && json_object_get_boolean(v);
	return 0;
}

static int load_nonces(struct eappr_state *s)
{
	char path[300], line[64];
	snprintf(path, sizeof(path), "%s/%s", s->dir, NONCE_FILE);
	FILE *f = fopen(path, "re");

	int rc = f == NULL && errno != ENOENT ? -errno : 0;

	s->nonces = calloc(EAPPR_MAX_NONCES, APPR_NONCE_LEN);
	if (s->nonces == NULL)
		rc = -ENOMEM;
	if (rc != 0 || f == NULL) {
		if (rc != 0)
			log_err("%s: %s: refusing to start approvals", path, strerror(-rc));
		if (f != NULL)
			fclose(f);
		return rc;
	}
	unsigned lineno = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		size_t n = strcspn(line, "\n");
		if (s->n_nonces == EAPPR_MAX_NONCES)
			memmove(s->nonces, s->nonces + 1, (EAPPR_MAX_NONCES - 1) * APPR_NONCE_LEN),
			    s->n_nonces--;
		uint8_t *dst = s->nonces[s->n_nonces];
		if (n != 2 * APPR_NONCE_LEN) {
			log_err("%s:%u: not a nonce: refusing to start approvals", path, lineno);
			fclose(f);
			return -EINVAL;
		}
		if (pcl_hex_decode(dst, APPR_NONCE_LEN, line, n) != 0) {
			log_err("%s:%u: not a nonce", path, lineno);
			fclose(f);
			return -EINVAL;
		}
		s->n_nonces++;
	}
	fclose(f);
	return 0;
}

int eappr_store_load(struct eappr_state *s)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/%s", s->dir, APPROVER_FILE);

	int rc = load_nonces(s);

	if (rc != 0)
		return rc;
	if (access(path, F_OK) != 0) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		log_err("%s: %s: refusing to start approvals", path, strerror(-rc));
		return rc;
	}
	struct json_object *root = json_object_from_file(path), *arr;
	if (root == NULL || !json_object_object_get_ex(root, "approvers", &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    json_object_array_length(arr) > EAPPR_MAX_APPROVERS) {
		log_err("%s: not an approver list: refusing to start approvals", path);
		json_object_put(root);
		return -EINVAL;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if (load_approver(json_object_array_get_idx(arr, i), &s->approvers[i]) != 0) {
			log_err("%s: approver %zu is malformed: refusing to start approvals", path,
				i + 1);
			json_object_put(root);
			return -EINVAL;
		}
	s->n_approvers = json_object_array_length(arr);
	json_object_put(root);
	return 0;
}

int eappr_store_save(const struct eappr_state *s)
{
	char path[300], b64[APPR_CRED_MAX * 2];
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();

	snprintf(path, sizeof(path), "%s/%s", s->dir, APPROVER_FILE);
	for (size_t i = 0; i < s->n_approvers; i++) {
		const struct eappr_approver *a = &s->approvers[i];
		struct json_object *o = json_object_new_object();
		jsonx_set_str(o, "name", a->name);
		jsonx_set_str(o, "role", a->role);
		pcl_b64_encode(a->cred, a->cred_len, b64, sizeof(b64));
		jsonx_set_str(o, "credential", b64);
		pcl_b64_encode(a->pk, sizeof(a->pk), b64, sizeof(b64));
		jsonx_set_str(o, "public-key", b64);
		jsonx_set_int(o, "counter", a->counter);
		jsonx_set_int(o, "enrolled", a->enrolled);
		if (a->recovery)
			json_object_object_add(o, "recovery", json_object_new_boolean(1));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "approvers", arr);
	const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
	int rc = pcl_write_file_atomic(path, text, strlen(text), 0600);
	if (rc != 0)
		log_err("%s: cannot write the approver list: %s", path, strerror(-rc));
	json_object_put(root);
	return rc;
}

bool eappr_nonce_used(const struct eappr_state *s, const uint8_t nonce[APPR_NONCE_LEN])
{
	for (size_t i = 0; i < s->n_nonces; i++)
		if (memcmp(s->nonces[i], nonce, APPR_NONCE_LEN) == 0)
			return true;
	return false;
}

int eappr_nonce_add(struct eappr_state *s, const uint8_t nonce[APPR_NONCE_LEN])
{
	char path[300], line[2 * APPR_NONCE_LEN + 2];
	snprintf(path, sizeof(path), "%s/%s", s->dir, NONCE_FILE);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	pcl_hex_encode(line, nonce, APPR_NONCE_LEN);
	line[2 * APPR_NONCE_LEN] = '\n';
	int rc = fd < 0 ? -errno : 0;
	if (rc == 0) {
		ssize_t w = write(fd, line, sizeof(line) - 1);
		rc = w < 0 ? -errno : (size_t)w != sizeof(line) - 1 ? -EIO : 0;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc != 0) {
		log_err("%s: cannot record a used nonce: %s", path, strerror(-rc));
		return rc;
	}
	if (s->n_nonces == EAPPR_MAX_NONCES) {
		memmove(s->nonces, s->nonces + 1, (EAPPR_MAX_NONCES - 1) * APPR_NONCE_LEN);
		s->n_nonces--;
	}
	memcpy(s->nonces[s->n_nonces++], nonce, APPR_NONCE_LEN);
	return 0;
}

int eappr_verify(const struct eappr_state *s, const struct eappr_approver *a,
		 const uint8_t cdh[APPR_CDH_LEN], const uint8_t *authdata, size_t authdata_len,
		 const uint8_t *sig, size_t sig_len, bool uv, uint32_t *counter, char *why,
		 size_t whylen)
{
	fido_assert_t *as = fido_assert_new();
	es256_pk_t *pk = es256_pk_new();
	int rc = FIDO_ERR_INTERNAL;

	if (as && pk && es256_pk_from_ptr(pk, a->pk, sizeof(a->pk)) == FIDO_OK &&
	    fido_assert_set_rp(as, s->rp) == FIDO_OK &&
	    fido_assert_set_clientdata_hash(as, cdh, APPR_CDH_LEN) == FIDO_OK &&
	    fido_assert_set_count(as, 1) == FIDO_OK &&
	    fido_assert_set_up(as, FIDO_OPT_TRUE) == FIDO_OK &&
	    fido_assert_set_uv(as, uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) == FIDO_OK) {
		rc = fido_assert_set_authdata_raw(as, 0, authdata, authdata_len);
		if (rc == FIDO_OK)
			rc = fido_assert_set_sig(as, 0, sig, sig_len);
		if (rc == FIDO_OK)
			rc = fido_assert_verify(as, 0, COSE_ES256, pk);
	}
	if (rc == FIDO_OK) {
		*counter = fido_assert_sigcount(as, 0);
	} else {
		/* Say which check failed: flags first, they are the usual cause. */
		uint8_t flags = authdata_len >= 33 ? authdata[32] : 0;
		if (!(flags & 0x01))
			snprintf(why, whylen,
				 "the key did not see the approver's touch (no user "
				 "presence)");
		else if (uv && !(flags & 0x04))
			snprintf(why, whylen,
				 "the profile requires the approver's PIN and the "
				 "key did not verify it");
		else
			snprintf(why, whylen,
				 "the assertion does not verify against %s's enrolled key for %s "
				 "(%s)",
				 a->name, s->rp, fido_strerr(rc));
	}
	es256_pk_free(&pk);
	fido_assert_free(&as);
	return rc == FIDO_OK ? 0 : -EPERM;
}
