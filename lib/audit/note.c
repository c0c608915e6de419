/*
 * note.c - C2SP signed notes and the checkpoint body (tlog-checkpoint with extension
 * lines) used by audit checkpoints and purge statements.
 * Linked by the engine (signing) and the CLI (verifying notes from untrusted trails).
 */
#include "audit_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define EMDASH "\xe2\x80\x94 "

void audit_key_id(uint8_t id[4], const char *name, const uint8_t pub[32])
{
	uint8_t h[32];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	static const uint8_t sep[2] = {'\n', 0x01};

	memset(h, 0, sizeof(h));
	if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, name, strlen(name)) == 1 &&
	    EVP_DigestUpdate(md, sep, sizeof(sep)) == 1 && EVP_DigestUpdate(md, pub, 32) == 1)
		EVP_DigestFinal_ex(md, h, NULL);
	EVP_MD_CTX_free(md);
	memcpy(id, h, 4);
}

int audit_vkey_format(char *out, size_t len, const char *name, const uint8_t pub[32])
{
	uint8_t id[4], raw[33];
	char b64[64];

	audit_key_id(id, name, pub);
	raw[0] = 0x01;
	memcpy(raw + 1, pub, 32);
	pcl_b64_encode(raw, sizeof(raw), b64, sizeof(b64));
	if ((size_t)snprintf(out, len, "%s+%02x%02x%02x%02x+%s", name, id[0], id[1], id[2], id[3],
			     b64) >= len)
		return -ENOBUFS;
	return 0;
}

int audit_vkey_parse(const char *vkey, char *name, size_t namelen, uint8_t pub[32])
{
	const char *p1 = strchr(vkey, '+'), *p2;
	uint8_t raw[40], id[4];
	char idhex[9];

	if (p1 == NULL || (p2 = strchr(p1 + 1, '+')) == NULL || p2 - p1 != 9 ||
	    (size_t)(p1 - vkey) >= namelen || p1 == vkey)
		return -EINVAL;
	memcpy(name, vkey, (size_t)(p1 - vkey));
	name[p1 - vkey] = '\0';
	if (pcl_b64_decode(p2 + 1, strlen(p2 + 1), raw, sizeof(raw)) != 33 || raw[0] != 0x01)
		return -EINVAL;
	memcpy(pub, raw + 1, 32);
	audit_key_id(id, name, pub);
	snprintf(idhex, sizeof(idhex), "%02x%02x%02x%02x", id[0], id[1], id[2], id[3]);
	if (memcmp(idhex, p1 + 1, 8) != 0)
		return -EINVAL;
	return 0;
}

int audit_note_sign(char **note, const char *text, const char *name, const uint8_t priv[32],
		    const uint8_t pub[32])
{
	uint8_t raw[68];
	char b64[100];
	size_t tl = strlen(text), need;
	int rc;

	if (tl == 0 || text[tl - 1] != '\n' || strstr(text, "\n\n") != NULL)
		return -EINVAL;
	audit_key_id(raw, name, pub);
	rc = audit_ed25519_sign(raw + 4, priv, text, tl);
	if (rc != 0)
		return rc;
	pcl_b64_encode(raw, sizeof(raw), b64, sizeof(b64));
	need = tl + 1 + strlen(EMDASH) + strlen(name) + 1 + strlen(b64) + 2;
	*note = malloc(need);
	if (*note == NULL)
		return -ENOMEM;
	snprintf(*note, need, "%s\n" EMDASH "%s %s\n", text, name, b64);
	return 0;
}

int audit_note_verify(const char *note, size_t len, const char *name, const uint8_t pub[32],
		      size_t *textlen)
{
	const char *sep = NULL, *p, *end = note + len;
	uint8_t id[4], raw[80];
	size_t nl = strlen(name);
	bool ok = false;

	for (p = note; p + 1 < end; p++)
		if (p[0] == '\n' && p[1] == '\n')
			sep = p;
	if (sep == NULL || len > 65536 || memchr(note, '\0', len) != NULL)
		return -EBADMSG;
	audit_key_id(id, name, pub);
	for (p = sep + 2; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *sp;
		if (eol == NULL || (size_t)(eol - p) < strlen(EMDASH) + 3 ||
		    memcmp(p, EMDASH, strlen(EMDASH)) != 0)
			return -EBADMSG;
		p += strlen(EMDASH);
		sp = memchr(p, ' ', (size_t)(eol - p));
		if (sp == NULL)
			return -EBADMSG;
		int n = pcl_b64_decode(sp + 1, (size_t)(eol - sp - 1), raw, sizeof(raw));
		if (n < 5)
			return -EBADMSG;
		if ((size_t)(sp - p) == nl && memcmp(p, name, nl) == 0 && n == 68 &&
		    memcmp(raw, id, 4) == 0) {
			if (!audit_ed25519_verify(pub, raw + 4, note, (size_t)(sep - note) + 1))
				return -EBADMSG; /* a known key's failed signature rejects */
			ok = true;
		}
		p = eol + 1;
	}
	if (!ok)
		return -ENOKEY;
	*textlen = (size_t)(sep - note) + 1;
	return 0;
}

int audit_ckpt_format(char *out, size_t len, const struct audit_ckpt *c)
{
	char head[64], next[64] = "";
	int n;

	pcl_b64_encode(c->head, sizeof(c->head), head, sizeof(head));
	if (c->has_next)
		pcl_b64_encode(c->next, sizeof(c->next), next, sizeof(next));
	n = snprintf(out, len,
		     "%s\n%" PRIu64 "\n%s\n%s%s%stime %" PRId64 "\nepoch %" PRIu64 "\n%s%s%s",
		     c->origin, c->size, head, c->purge ? "purge before " : "",
		     c->purge ? c->before : "", c->purge ? "\n" : "", c->time, c->epoch,
		     c->has_next ? "next-key " : "", next, c->has_next ? "\n" : "");
	return (n < 0 || (size_t)n >= len) ? -ENOBUFS : 0;
}

/* Next line of [*p, end) into (s, l); false at the end or on a missing newline. */
static bool next_line(const char **p, const char *end, const char **s, size_t *l)
{
	const char *eol = *p < end ? memchr(*p, '\n', (size_t)(end - *p)) : NULL;

	if (eol == NULL)
		return false;
	*s = *p;
	*l = (size_t)(eol - *p);
	*p = eol + 1;
	return true;
}

static bool parse_num(const char *s, size_t l, uint64_t *v)
{
	uint64_t x = 0;

	if (l == 0 || l > 19 || (l > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < l; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return true;
}

static bool prefixed(const char *s, size_t l, const char *pre, const char **rest, size_t *rl)
{
	size_t n = strlen(pre);

	if (l < n || memcmp(s, pre, n) != 0)
		return false;
	*rest = s + n;
	*rl = l - n;
	return true;
}

static bool valid_month(const char *r)
{
	for (int i = 0; i < 7; i++)
		if (i == 4 ? r[i] != '-' : (r[i] < '0' || r[i] > '9'))
			return false;
	return (r[5] == '0' && r[6] != '0') || (r[5] == '1' && r[6] <= '2');
}

int audit_ckpt_parse(struct audit_ckpt *c, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *s, *r;
	size_t l, rl;
	uint64_t t;
	uint8_t buf[48];

	memset(c, 0, sizeof(*c));
	if (!next_line(&p, end, &s, &l) || l == 0 || l >= sizeof(c->origin) || memchr(s, '\0', l))
		return -EBADMSG;
	memcpy(c->origin, s, l);
	if (!next_line(&p, end, &s, &l) || !parse_num(s, l, &c->size))
		return -EBADMSG;
	if (!next_line(&p, end, &s, &l) || pcl_b64_decode(s, l, buf, sizeof(buf)) != AUDIT_HASH_LEN)
		return -EBADMSG;
	memcpy(c->head, buf, AUDIT_HASH_LEN);
	if (!next_line(&p, end, &s, &l))
		return -EBADMSG;
	if (prefixed(s, l, "purge before ", &r, &rl)) {
		if (rl != 7 || !valid_month(r))
			return -EBADMSG;
		c->purge = true;
		memcpy(c->before, r, 7);
		if (!next_line(&p, end, &s, &l))
			return -EBADMSG;
	}
	if (!prefixed(s, l, "time ", &r, &rl) || !parse_num(r, rl, &t) || t > INT64_MAX)
		return -EBADMSG;
	c->time = (int64_t)t;
	if (!next_line(&p, end, &s, &l) || !prefixed(s, l, "epoch ", &r, &rl) ||
	    !parse_num(r, rl, &c->epoch))
		return -EBADMSG;
	if (p < end) {
		if (!next_line(&p, end, &s, &l) || !prefixed(s, l, "next-key ", &r, &rl) ||
		    pcl_b64_decode(r, rl, buf, sizeof(buf)) != 32)
			return -EBADMSG;
		memcpy(c->next, buf, 32);
		c->has_next = true;
	}
	return p == end ? 0 : -EBADMSG;
}
