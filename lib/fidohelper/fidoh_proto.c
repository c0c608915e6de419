/*
 * fidoh_proto.c - the fido helper's wire format (see fidoh.h): encode, decode, send and
 * receive one message. Linked by the portcullis CLI (both ends of the socketpair run
 * this code). Decoded bytes are untrusted: the helper's side has parsed the key's
 * answers, so every field is length-checked against its bound, required and allowed
 * fields are checked per kind, and a failure names the field and its byte offset.
 */
#include "fidoh.h"

#include <errno.h>
#include <fido.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum tag {
	T_KIND = 1,
	T_STATUS,
	T_RP,
	T_USER,
	T_PIN,
	T_FMT,
	T_CDH,
	T_USER_ID,
	T_PROT,
	T_ALLOW,
	T_CRED,
	T_AUTHDATA,
	T_SIG,
	T_X5C,
	T_LAST = T_X5C,
};

#define B(t) (1u << (t))

static const char *const tag_names[] = {
    "?",       "kind", "status", "rp",	 "user",     "pin", "fmt", "cdh",
    "user_id", "prot", "allow",	 "cred", "authdata", "sig", "x5c",
};

/* Fields each kind must carry and may carry. The answers with a failure status carry
 * the status alone (checked separately). */
static const struct kind_rule {
	uint32_t required, allowed;
} kind_rules[] = {
    [FIDOH_OPENED] = {B(T_STATUS), B(T_STATUS)},
    [FIDOH_MAKE_CRED] = {B(T_RP) | B(T_CDH) | B(T_USER) | B(T_USER_ID) | B(T_PROT),
			 B(T_RP) | B(T_CDH) | B(T_USER) | B(T_USER_ID) | B(T_PROT) | B(T_PIN)},
    [FIDOH_ASSERT] = {B(T_RP) | B(T_CDH), B(T_RP) | B(T_CDH) | B(T_ALLOW) | B(T_PIN)},
    [FIDOH_CRED] = {B(T_STATUS) | B(T_FMT) | B(T_AUTHDATA) | B(T_SIG),
		    B(T_STATUS) | B(T_FMT) | B(T_AUTHDATA) | B(T_SIG) | B(T_X5C)},
    [FIDOH_ASSERTION] = {B(T_STATUS) | B(T_CRED) | B(T_AUTHDATA) | B(T_SIG),
			 B(T_STATUS) | B(T_CRED) | B(T_AUTHDATA) | B(T_SIG)},
};

static bool kind_valid(unsigned k)
{
	return k >= FIDOH_OPENED && k <= FIDOH_ASSERTION;
}

static bool is_answer(unsigned k)
{
	return k == FIDOH_CRED || k == FIDOH_ASSERTION;
}

/* ---- encoding ---- */

struct out {
	uint8_t *p;
	size_t cap, n;
	bool full;
};

static void put(struct out *o, enum tag t, const void *v, size_t len)
{
	if (len > 0xffff || o->n + 3 + len > o->cap) {
		o->full = true;
		return;
	}
	o->p[o->n] = (uint8_t)t;
	o->p[o->n + 1] = (uint8_t)(len >> 8);
	o->p[o->n + 2] = (uint8_t)len;
	if (len)
		memcpy(o->p + o->n + 3, v, len);
	o->n += 3 + len;
}

static void put_str(struct out *o, enum tag t, const char *s, size_t max)
{
	put(o, t, s, strnlen(s, max));
}

int fidoh_msg_encode(const struct fidoh_msg *m, uint8_t *out, size_t cap)
{
	struct out o = {out, cap < FIDOH_MSG_MAX ? cap : FIDOH_MSG_MAX, 0, false};
	uint8_t kind = (uint8_t)m->kind, st[4];
	uint32_t fields;

	if (!kind_valid(m->kind))
		return -EINVAL;
	fields = kind_rules[m->kind].required;
	if (is_answer(m->kind) && m->status != 0)
		fields = B(T_STATUS);
	else {
		if (m->has_pin)
			fields |= B(T_PIN);
		if (m->n_allow)
			fields |= B(T_ALLOW);
		if (m->x5c_len)
			fields |= B(T_X5C);
	}
	if ((fields & ~kind_rules[m->kind].allowed) || m->n_allow > FIDOH_ALLOW_MAX)
		return -EINVAL;
	put(&o, T_KIND, &kind, 1);
	st[0] = (uint8_t)((uint32_t)m->status >> 24);
	st[1] = (uint8_t)((uint32_t)m->status >> 16);
	st[2] = (uint8_t)((uint32_t)m->status >> 8);
	st[3] = (uint8_t)m->status;
	if (fields & B(T_STATUS))
		put(&o, T_STATUS, st, 4);
	if (fields & B(T_RP))
		put_str(&o, T_RP, m->rp, sizeof(m->rp));
	if (fields & B(T_USER))
		put_str(&o, T_USER, m->user, sizeof(m->user));
	if (fields & B(T_PIN))
		put_str(&o, T_PIN, m->pin, sizeof(m->pin));
	if (fields & B(T_FMT))
		put_str(&o, T_FMT, m->fmt, sizeof(m->fmt));
	if (fields & B(T_CDH))
		put(&o, T_CDH, m->cdh, sizeof(m->cdh));
	if (fields & B(T_USER_ID))
		put(&o, T_USER_ID, m->user_id, sizeof(m->user_id));
	if (fields & B(T_PROT))
		put(&o, T_PROT, &m->prot, 1);
	for (size_t i = 0; (fields & B(T_ALLOW)) && i < m->n_allow; i++)
		put(&o, T_ALLOW, m->allow[i], m->allow_len[i]);
	if (fields & B(T_CRED))
		put(&o, T_CRED, m->cred, m->cred_len);
	if (fields & B(T_AUTHDATA))
		put(&o, T_AUTHDATA, m->authdata, m->authdata_len);
	if (fields & B(T_SIG))
		put(&o, T_SIG, m->sig, m->sig_len);
	if (fields & B(T_X5C))
		put(&o, T_X5C, m->x5c, m->x5c_len);
	if (o.full) {
		explicit_bzero(out, o.n);
		return -ENOSPC;
	}
	return (int)o.n;
}

/* ---- decoding ---- */

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		pcl_diag_set(diag, "<fido helper>", 0, __VA_ARGS__);                               \
		return -EINVAL;                                                                    \
	} while (0)

/* A text field: no NUL, no control characters (the PIN: no NUL), non-empty, fits. */
static int get_str(char *dst, size_t cap, const uint8_t *v, size_t n, bool secret)
{
	if (n == 0 || n >= cap)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (v[i] == 0 || (!secret && (v[i] < 0x20 || v[i] == 0x7f)))
			return -1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

static int get_bytes(uint8_t *dst, size_t *dlen, size_t cap, const uint8_t *v, size_t n)
{
	if (n == 0 || n > cap)
		return -1;
	memcpy(dst, v, n);
	*dlen = n;
	return 0;
}

static int field(struct fidoh_msg *m, enum tag t, const uint8_t *v, size_t n)
{
	size_t fixed;

	switch (t) {
	case T_STATUS:
		if (n != 4)
			return -1;
		m->status = (int32_t)((uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 |
				      (uint32_t)v[2] << 8 | v[3]);
		return 0;
	case T_RP:
		return get_str(m->rp, sizeof(m->rp), v, n, false);
	case T_USER:
		return get_str(m->user, sizeof(m->user), v, n, false);
	case T_PIN:
		m->has_pin = true;
		return get_str(m->pin, sizeof(m->pin), v, n, true);
	case T_FMT:
		return get_str(m->fmt, sizeof(m->fmt), v, n, false);
	case T_CDH:
		return get_bytes(m->cdh, &fixed, sizeof(m->cdh), v, n) || n != sizeof(m->cdh);
	case T_USER_ID:
		return get_bytes(m->user_id, &fixed, sizeof(m->user_id), v, n) ||
		       n != sizeof(m->user_id);
	case T_PROT:
		if (n != 1 || v[0] < 1 || v[0] > 3)
			return -1;
		m->prot = v[0];
		return 0;
	case T_ALLOW:
		if (m->n_allow >= FIDOH_ALLOW_MAX)
			return -1;
		if (get_bytes(m->allow[m->n_allow], &m->allow_len[m->n_allow], sizeof(m->allow[0]),
			      v, n) != 0)
			return -1;
		m->n_allow++;
		return 0;
	case T_CRED:
		return get_bytes(m->cred, &m->cred_len, sizeof(m->cred), v, n);
	case T_AUTHDATA:
		return get_bytes(m->authdata, &m->authdata_len, sizeof(m->authdata), v, n);
	case T_SIG:
		return get_bytes(m->sig, &m->sig_len, sizeof(m->sig), v, n);
	case T_X5C:
		return get_bytes(m->x5c, &m->x5c_len, sizeof(m->x5c), v, n);
	case T_KIND:
		break;
	}
	return -1;
}

int fidoh_msg_decode(const uint8_t *p, size_t len, struct fidoh_msg *m, struct pcl_diag *diag)
{
	uint32_t seen = 0, required, allowed;
	size_t off = 0;

	memset(m, 0, sizeof(*m));
	if (len > FIDOH_MSG_MAX)
		FAIL("message of %zu bytes is longer than %d", len, FIDOH_MSG_MAX);
	if (len < 4 || p[0] != T_KIND || p[1] != 0 || p[2] != 1)
		FAIL("field kind at byte 0: missing (the message must start with it)");
	if (!kind_valid(p[3]))
		FAIL("field kind at byte 3: unknown kind %u", p[3]);
	m->kind = (enum fidoh_kind)p[3];
	required = kind_rules[m->kind].required;
	allowed = kind_rules[m->kind].allowed;
	seen = B(T_KIND);
	off = 4;
	while (off < len) {
		unsigned t = p[off];
		size_t n;

		if (len - off < 3)
			FAIL("byte %zu: truncated field header", off);
		n = (size_t)p[off + 1] << 8 | p[off + 2];
		if (t == 0 || t > T_LAST || t == T_KIND)
			FAIL("byte %zu: unknown or repeated field tag %u", off, t);
		if (!(allowed & B(t)))
			FAIL("field %s at byte %zu: not allowed in this kind of message",
			     tag_names[t], off);
		if ((seen & B(t)) && t != T_ALLOW)
			FAIL("field %s at byte %zu: repeated", tag_names[t], off);
		if (n > len - off - 3)
			FAIL("field %s at byte %zu: length %zu runs past the end (%zu bytes)",
			     tag_names[t], off, n, len);
		if (field(m, (enum tag)t, p + off + 3, n) != 0) {
			explicit_bzero(m->pin, sizeof(m->pin));
			FAIL("field %s at byte %zu: invalid value of %zu bytes", tag_names[t], off,
			     n);
		}
		seen |= B(t);
		off += 3 + n;
	}
	if (is_answer(m->kind) && (seen & B(T_STATUS)) && m->status != 0) {
		if (seen != (B(T_KIND) | B(T_STATUS)))
			FAIL("field status: a failed answer carries nothing else");
		return 0;
	}
	if (is_answer(m->kind) && (seen & B(T_STATUS)) == 0)
		FAIL("field status: missing");
	for (unsigned t = 1; t <= T_LAST; t++)
		if ((required & B(t)) && !(seen & B(t))) {
			explicit_bzero(m->pin, sizeof(m->pin));
			FAIL("field %s: missing", tag_names[t]);
		}
	return 0;
}

void fidoh_msg_wipe(struct fidoh_msg *m)
{
	explicit_bzero(m, sizeof(*m));
}

/* ---- the channel ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int fidoh_send(int fd, const struct fidoh_msg *m)
{
	static uint8_t buf[4 + FIDOH_MSG_MAX];
	int n = fidoh_msg_encode(m, buf + 4, sizeof(buf) - 4), rc;

	if (n < 0)
		return n;
	buf[0] = (uint8_t)((uint32_t)n >> 24);
	buf[1] = (uint8_t)((uint32_t)n >> 16);
	buf[2] = (uint8_t)((uint32_t)n >> 8);
	buf[3] = (uint8_t)n;
	rc = write_all(fd, buf, 4 + (size_t)n);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* Read exactly n bytes before the deadline (-1: none). */
static int read_all(int fd, uint8_t *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();
		int rc;

		if (deadline >= 0 && left <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int fidoh_recv(int fd, struct fidoh_msg *m, int timeout_ms, struct pcl_diag *diag)
{
	static uint8_t buf[FIDOH_MSG_MAX];
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	uint8_t hdr[4];
	uint32_t n;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = read_all(fd, hdr, 4, deadline)) != 0)
		return rc;
	n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (n > FIDOH_MSG_MAX) {
		pcl_diag_set(diag, "<fido helper>", 0, "message length %u is over %d", n,
			     FIDOH_MSG_MAX);
		return -EINVAL;
	}
	if ((rc = read_all(fd, buf, n, deadline)) == 0)
		rc = fidoh_msg_decode(buf, n, m, diag);
	explicit_bzero(buf, n);
	return rc;
}

const char *fidoh_status_str(int32_t status)
{
	if (status == FIDOH_ST_NO_DEVICE)
		return "no FIDO2 key found";
	if (status == FIDOH_ST_SANDBOX)
		return "the key helper could not drop its privileges";
	if (status == FIDOH_ST_BAD_REQ)
		return "the key helper could not read the request";
	if (status <= FIDOH_ST_ERRNO_BASE && status > FIDOH_ST_ERRNO_BASE - 4096)
		return strerror(FIDOH_ST_ERRNO_BASE - status);
	return fido_strerr(status);
}
