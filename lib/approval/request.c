/*
 * request.c - approval requests: canonical encoding, parser, client data hash.
 * Linked by the engine (builds requests, verifies answers), the CLI (shows and signs
 * requests, possibly on another PC) and tests. Parsed text is untrusted.
 */
#include "approval_int.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

const char *appr_scope_name(int scope)
{
	return scope == APPR_READ_ONLY	  ? "read-only"
	       : scope == APPR_READ_WRITE ? "read-write"
					  : NULL;
}

const char *appr_direction_name(int direction)
{
	return direction == APPR_BRING_IN   ? "bring-in"
	       : direction == APPR_TAKE_OUT ? "take-out"
					    : NULL;
}

/* Exactly n lower-case hex digits at s (the one spelling the format allows). */
static bool lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool id_ok(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(extra, c)) ||
		    c == '\0')
			return false;
	}
	return true;
}

static bool council_ok(const char *s)
{
	return id_ok(s, 64, "-");
}
static bool host_ok(const char *s)
{
	return id_ok(s, 65, "-.ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
}
static bool port_ok(const char *s)
{
	return id_ok(s, 64, "-.:");
}
static bool machine_ok(const char *s)
{
	return strlen(s) == 32 && id_ok(s, 33, "") && strspn(s, "0123456789abcdef") == 32;
}
static bool hash_ok(const char *s)
{
	size_t n = strlen(s);
	return n == 44 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == n;
}

int appr_request_encode(const struct appr_request *r, char *out, size_t cap)
{
	struct abuf b = {out, 0, cap};
	char v[APPR_MAX_IFACES * 9 + 64];
	int rc = 0;

	if (cap == 0)
		return -ENOSPC;
	out[0] = '\0';
	if (!council_ok(r->council) || !machine_ok(r->machine_id) || !host_ok(r->host) ||
	    !port_ok(r->port) || !hash_ok(r->hash) || r->n_ifaces > APPR_MAX_IFACES ||
	    appr_scope_name(r->scope) == NULL || r->issued <= 0 || r->answer_by < r->issued ||
	    r->until < 0 || (r->until != 0 && r->until <= r->issued))
		return -EINVAL;
	if (r->n_creds == 0 || r->n_creds > APPR_MAX_CREDS)
		return -EINVAL;
	unsigned version = r->version ? r->version : APPR_REQUEST_VERSION;
	/* Version 2 has no direction: it follows the scope, and no council data. Version 3:
	 * the direction is the scope's, the wipe a take-out's, the council data a bring-in's. */
	if ((version != 2 && version != 3) || r->direction != r->scope ||
	    (version == 2 && r->council_data) ||
	    (version == 3 && r->wipe && r->direction != APPR_TAKE_OUT) ||
	    (r->council_data && r->direction != APPR_BRING_IN))
		return -EINVAL;
	for (size_t i = 0; i < r->n_creds; i++)
		if (r->cred_lens[i] == 0 || r->cred_lens[i] > APPR_CRED_MAX)
			return -EINVAL;
	snprintf(v, sizeof(v), "%s %u", APPR_REQUEST_MAGIC, version);
	rc = ab_put(&b, v, strlen(v));
	rc = rc ?: ab_put(&b, "\n", 1);
	rc = rc ?: ab_line(&b, "council", r->council);
	rc = rc ?: ab_line(&b, "pc.machine-id", r->machine_id);
	rc = rc ?: ab_line(&b, "pc.host", r->host);
	rc = rc ?: ab_line(&b, "device.port", r->port);
	rc = rc ?: ab_line(&b, "device.hash", r->hash);
	snprintf(v, sizeof(v), "%04x:%04x", r->vid, r->pid);
	rc = rc ?: ab_line(&b, "device.id", v);
	rc = rc ?: ab_escaped(&b, "device.serial", r->serial);
	rc = rc ?: ab_escaped(&b, "device.manufacturer", r->manufacturer);
	rc = rc ?: ab_escaped(&b, "device.product", r->product);
	v[0] = '\0';
	for (size_t i = 0; i < r->n_ifaces; i++)
		snprintf(v + strlen(v), sizeof(v) - strlen(v), "%s%02x:%02x:%02x", i ? " " : "",
			 r->ifaces[i].cls, r->ifaces[i].subclass, r->ifaces[i].protocol);
	rc = rc ?: ab_line(&b, "device.interfaces", v);
	snprintf(v, sizeof(v), "%" PRIu64, r->capacity);
	rc = rc ?: ab_line(&b, "device.capacity", v);
	rc = rc ?: ab_line(&b, "scope", appr_scope_name(r->scope));
	if (version >= 3)
		rc = rc ?: ab_line(&b, "direction", appr_direction_name(r->direction));
	rc = rc ?: ab_line(&b, "wipe", r->wipe ? "yes" : "no");
	if (version >= 3)
		rc = rc ?: ab_line(&b, "council-data", r->council_data ? "yes" : "no");
	snprintf(v, sizeof(v), "%" PRIu32, r->uid);
	rc = rc ?: ab_line(&b, "requested-by.uid", v);
	rc = rc ?: ab_escaped(&b, "requested-by.name", r->user);
	snprintf(v, sizeof(v), "%" PRId64, r->issued);
	rc = rc ?: ab_line(&b, "issued", v);
	snprintf(v, sizeof(v), "%" PRId64, r->answer_by);
	rc = rc ?: ab_line(&b, "answer-by", v);
	if (r->until == 0)
		snprintf(v, sizeof(v), "unplug");
	else
		snprintf(v, sizeof(v), "%" PRId64, r->until);
	rc = rc ?: ab_line(&b, "until", v);
	rc = rc ?: ab_escaped(&b, "reason", r->reason);
	pcl_hex_encode(v, r->nonce, APPR_NONCE_LEN);
	rc = rc ?: ab_line(&b, "nonce", v);
	rc = rc ?: ab_put(&b, "credentials:", 12);
	for (size_t i = 0; rc == 0 && i < r->n_creds; i++) {
		char c[APPR_CRED_MAX * 2];
		rc = pcl_b64_encode(r->creds[i], r->cred_lens[i], c, sizeof(c)) < 0 ? -EINVAL : 0;
		rc = rc ?: ab_put(&b, " ", 1);
		rc = rc ?: ab_put(&b, c, strlen(c));
	}
	rc = rc ?: ab_put(&b, "\n", 1);
	return rc ? rc : (int)b.len;
}

bool appr_request_names_cred(const struct appr_request *r, const uint8_t *cred, size_t len)
{
	for (size_t i = 0; i < r->n_creds && i < APPR_MAX_CREDS; i++)
		if (r->cred_lens[i] == len && memcmp(r->creds[i], cred, len) == 0)
			return true;
	return false;
}

/* "credentials: B64 B64 ...": 1 to APPR_MAX_CREDS canonical base64 ids, one space
 * between them. */
static int parse_creds(struct atext *t, struct appr_request *r)
{
	const char *v;
	size_t vlen;
	int rc = at_next(t, "credentials", &v, &vlen);

	if (rc != 0)
		return rc;
	r->n_creds = 0;
	for (size_t i = 0; i <= vlen;) {
		const char *sp = memchr(v + i, ' ', vlen - i);
		size_t n = sp ? (size_t)(sp - (v + i)) : vlen - i;
		int got = r->n_creds == APPR_MAX_CREDS || n == 0
			      ? -1
			      : pcl_b64_decode(v + i, n, r->creds[r->n_creds], APPR_CRED_MAX);
		if (got <= 0) {
			pcl_diag_set(t->diag, t->name, t->line,
				     "credentials: expected 1 to %d canonical base64 credential "
				     "ids separated by one space",
				     APPR_MAX_CREDS);
			return -EINVAL;
		}
		r->cred_lens[r->n_creds++] = (size_t)got;
		i += n + 1;
	}
	return 0;
}

static int want_id(struct atext *t, const char *key, char *out, size_t cap,
		   bool (*ok)(const char *))
{
	const char *v;
	size_t vlen;
	int rc = at_next(t, key, &v, &vlen);

	if (rc != 0)
		return rc;
	if (vlen >= cap) {
		pcl_diag_set(t->diag, t->name, t->line, "%s: longer than %zu bytes", key, cap - 1);
		return -EINVAL;
	}
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	if (!ok(out)) {
		pcl_diag_set(t->diag, t->name, t->line, "%s: malformed value", key);
		return -EINVAL;
	}
	return 0;
}

static int parse_ifaces(struct atext *t, struct appr_request *r)
{
	const char *v;
	size_t vlen;
	int rc = at_next(t, "device.interfaces", &v, &vlen);

	if (rc != 0)
		return rc;
	r->n_ifaces = 0;
	for (size_t i = 0; i < vlen;) {
		unsigned a, b, c;
		char one[9];
		if (r->n_ifaces == APPR_MAX_IFACES || vlen - i < 8 ||
		    (vlen - i > 8 && v[i + 8] != ' ') || (i + 9 == vlen))
			goto bad;
		memcpy(one, v + i, 8);
		one[8] = '\0';
		if (!lower_hex(one, 2) || one[2] != ':' || !lower_hex(one + 3, 2) ||
		    one[5] != ':' || !lower_hex(one + 6, 2) ||
		    sscanf(one, "%2x:%2x:%2x", &a, &b, &c) != 3)
			goto bad;
		r->ifaces[r->n_ifaces++] = (struct appr_iface){(uint8_t)a, (uint8_t)b, (uint8_t)c};
		i += vlen - i > 8 ? 9 : 8;
	}
	return 0;
bad:
	pcl_diag_set(t->diag, t->name, t->line,
		     "device.interfaces: expected up to %d \"cc:ss:pp\" (lower-case hex) separated "
		     "by one space",
		     APPR_MAX_IFACES);
	return -EINVAL;
}

static int parse_choice(struct atext *t, const char *key, const char *a, const char *b, int *out)
{
	const char *v;
	size_t vlen;
	int rc = at_next(t, key, &v, &vlen);

	if (rc != 0)
		return rc;
	if (vlen == strlen(a) && memcmp(v, a, vlen) == 0)
		*out = 1;
	else if (vlen == strlen(b) && memcmp(v, b, vlen) == 0)
		*out = 2;
	else {
		pcl_diag_set(t->diag, t->name, t->line, "%s: expected \"%s\" or \"%s\"", key, a, b);
		return -EINVAL;
	}
	return 0;
}

int appr_parse_header(struct atext *t, const char *magic, unsigned version)
{
	return appr_parse_header_of(t, magic, version, version, NULL);
}

int appr_parse_header_of(struct atext *t, const char *magic, unsigned oldest, unsigned version,
			 unsigned *got)
{
	char want[64];
	size_t n = 0;
	bool found = false;

	t->line++;
	for (unsigned v = oldest; v <= version && !found; v++) {
		n = (size_t)snprintf(want, sizeof(want), "%s %u\n", magic, v);
		found = t->len - t->pos >= n && memcmp(t->buf + t->pos, want, n) == 0;
		if (found && got != NULL)
			*got = v;
	}
	if (!found) {
		size_t m = strlen(magic);
		bool other = t->len - t->pos > m && memcmp(t->buf + t->pos, magic, m) == 0;
		if (other)
			pcl_diag_set(t->diag, t->name, t->line,
				     "unsupported version (this build reads \"%s %u\")", magic,
				     version);
		else
			pcl_diag_set(t->diag, t->name, t->line, "not a %s file", magic);
		return -EINVAL;
	}
	t->pos += n;
	return 0;
}

/* device.id: "vvvv:pppp" in lower-case hex. */
static int parse_device_id(struct atext *t, struct appr_request *r)
{
	const char *v;
	size_t vlen;
	unsigned vid, pid;
	char idbuf[10];
	int rc;

	if ((rc = at_next(t, "device.id", &v, &vlen)) != 0)
		return rc;
	if (vlen != 9 || (memcpy(idbuf, v, 9), idbuf[9] = '\0', 0) || !lower_hex(idbuf, 4) ||
	    idbuf[4] != ':' || !lower_hex(idbuf + 5, 4) ||
	    sscanf(idbuf, "%4x:%4x", &vid, &pid) != 2) {
		pcl_diag_set(t->diag, t->name, t->line,
			     "device.id: expected \"vvvv:pppp\" in lower-case hex");
		return -EINVAL;
	}
	r->vid = (uint16_t)vid;
	r->pid = (uint16_t)pid;
	return 0;
}

/* What is asked for: scope, direction (version 3), wipe and council-data (version 3),
 * which must agree: a bring-in is read-only and may carry council data, a take-out is
 * read-write and may owe a wipe. */
static int parse_grant(struct atext *t, struct appr_request *r)
{
	int c, rc;

	if ((rc = parse_choice(t, "scope", "read-only", "read-write", &r->scope)) != 0)
		return rc;
	r->direction = r->scope;
	if (r->version >= 3 &&
	    (rc = parse_choice(t, "direction", "bring-in", "take-out", &r->direction)) != 0)
		return rc;
	if (r->direction != r->scope) {
		pcl_diag_set(t->diag, t->name, t->line,
			     "direction: a bring-in is read-only and a take-out read-write");
		return -EINVAL;
	}
	if ((rc = parse_choice(t, "wipe", "yes", "no", &c)) != 0)
		return rc;
	r->wipe = c == 1;
	if (r->version >= 3 && r->wipe && r->direction != APPR_TAKE_OUT) {
		pcl_diag_set(t->diag, t->name, t->line,
			     "wipe: only a take-out owes a wipe (a bring-in's is council-data)");
		return -EINVAL;
	}
	if (r->version < 3)
		return 0;
	if ((rc = parse_choice(t, "council-data", "yes", "no", &c)) != 0)
		return rc;
	r->council_data = c == 1;
	if (r->council_data && r->direction != APPR_BRING_IN) {
		pcl_diag_set(t->diag, t->name, t->line,
			     "council-data: only a bring-in is marked as carrying council data");
		return -EINVAL;
	}
	return 0;
}

/* until: "unplug" (0) or a time in unix seconds. */
static int parse_until(struct atext *t, struct appr_request *r)
{
	const char *v;
	size_t vlen;
	uint64_t x;
	int rc;

	if ((rc = at_next(t, "until", &v, &vlen)) != 0)
		return rc;
	if (vlen == 6 && memcmp(v, "unplug", 6) == 0) {
		r->until = 0;
	} else if (appr_u64(v, vlen, INT64_MAX, &x) == 0) {
		r->until = (int64_t)x;
	} else {
		pcl_diag_set(t->diag, t->name, t->line,
			     "until: expected \"unplug\" or a time in unix seconds");
		return -EINVAL;
	}
	return 0;
}

int appr_request_read(struct atext *t, struct appr_request *r)
{
	uint64_t x;
	const char *v;
	size_t vlen;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = appr_parse_header_of(t, APPR_REQUEST_MAGIC, 2, APPR_REQUEST_VERSION,
				       &r->version)) != 0 ||
	    (rc = want_id(t, "council", r->council, sizeof(r->council), council_ok)) != 0 ||
	    (rc = want_id(t, "pc.machine-id", r->machine_id, sizeof(r->machine_id), machine_ok)) ||
	    (rc = want_id(t, "pc.host", r->host, sizeof(r->host), host_ok)) != 0 ||
	    (rc = want_id(t, "device.port", r->port, sizeof(r->port), port_ok)) != 0 ||
	    (rc = want_id(t, "device.hash", r->hash, sizeof(r->hash), hash_ok)) != 0 ||
	    (rc = parse_device_id(t, r)) != 0)
		return rc;
	if ((rc = at_escaped(t, "device.serial", r->serial, sizeof(r->serial))) != 0 ||
	    (rc = at_escaped(t, "device.manufacturer", r->manufacturer, sizeof(r->manufacturer))) ||
	    (rc = at_escaped(t, "device.product", r->product, sizeof(r->product))) != 0 ||
	    (rc = parse_ifaces(t, r)) != 0 ||
	    (rc = at_uint(t, "device.capacity", UINT64_MAX, &r->capacity)) != 0 ||
	    (rc = parse_grant(t, r)) != 0)
		return rc;
	if ((rc = at_uint(t, "requested-by.uid", UINT32_MAX, &x)) != 0)
		return rc;
	r->uid = (uint32_t)x;
	if ((rc = at_escaped(t, "requested-by.name", r->user, sizeof(r->user))) != 0 ||
	    (rc = at_uint(t, "issued", INT64_MAX, &x)) != 0)
		return rc;
	r->issued = (int64_t)x;
	if ((rc = at_uint(t, "answer-by", INT64_MAX, &x)) != 0)
		return rc;
	r->answer_by = (int64_t)x;
	if ((rc = parse_until(t, r)) != 0 ||
	    (rc = at_escaped(t, "reason", r->reason, sizeof(r->reason))) != 0 ||
	    (rc = at_next(t, "nonce", &v, &vlen)) != 0)
		return rc;
	if (pcl_hex_decode(r->nonce, APPR_NONCE_LEN, v, vlen) != 0) {
		pcl_diag_set(t->diag, t->name, t->line, "nonce: expected %d lower-case hex digits",
			     2 * APPR_NONCE_LEN);
		return -EINVAL;
	}
	if (r->issued <= 0 || r->answer_by < r->issued ||
	    (r->until != 0 && r->until <= r->issued)) {
		pcl_diag_set(t->diag, t->name, t->line - 3,
			     "issued, answer-by and until are not in order");
		return -EINVAL;
	}
	return parse_creds(t, r);
}

int appr_request_parse(const char *buf, size_t len, const char *name, struct appr_request *r,
		       struct pcl_diag *diag)
{
	struct atext t = {buf, len, 0, 0, name, diag};
	int rc;

	if (len > APPR_TEXT_MAX) {
		pcl_diag_set(diag, name, 0, "larger than %d bytes", APPR_TEXT_MAX);
		return -EINVAL;
	}
	if ((rc = appr_request_read(&t, r)) != 0)
		return rc;
	if (t.pos != len) {
		pcl_diag_set(diag, name, t.line + 1, "unexpected text after the credentials");
		return -EINVAL;
	}
	return 0;
}

int appr_hash_fields(const char *domain, const void *const *fields, const size_t *lens, size_t n,
		     uint8_t out[APPR_CDH_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned olen = 0;
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(ctx, domain, strlen(domain) + 1) == 1;

	for (size_t i = 0; ok && i < n; i++) {
		uint8_t be[4] = {(uint8_t)(lens[i] >> 24), (uint8_t)(lens[i] >> 16),
				 (uint8_t)(lens[i] >> 8), (uint8_t)lens[i]};
		ok = EVP_DigestUpdate(ctx, be, 4) == 1 &&
		     (lens[i] == 0 || EVP_DigestUpdate(ctx, fields[i], lens[i]) == 1);
	}
	ok = ok && EVP_DigestFinal_ex(ctx, out, &olen) == 1 && olen == APPR_CDH_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

int appr_request_cdh(const char *text, size_t len, uint8_t cdh[APPR_CDH_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned olen = 0;
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(ctx, APPR_DOMAIN_REQUEST, sizeof(APPR_DOMAIN_REQUEST)) == 1 &&
		 EVP_DigestUpdate(ctx, text, len) == 1 &&
		 EVP_DigestFinal_ex(ctx, cdh, &olen) == 1 && olen == APPR_CDH_LEN;

	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}
