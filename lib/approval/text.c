/*
 * text.c - the building blocks of the approval text format: "key: value" lines,
 * percent-escaped strings, canonical decimal numbers, hex and base64.
 * Linked by the engine, the CLI and tests through pcl_approval. Inputs are untrusted;
 * every reader accepts only the one canonical spelling of a value.
 */
#include "approval_int.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static const char hexd[] = "0123456789ABCDEF";

static bool literal_ok(unsigned char ch, bool last)
{
	return ch >= 0x20 && ch <= 0x7e && ch != '%' && !(ch == ' ' && last);
}

int ab_put(struct abuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
		return -ENOSPC;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return 0;
}

int ab_line(struct abuf *b, const char *key, const char *value)
{
	int rc = ab_put(b, key, strlen(key));

	if (rc == 0)
		rc = ab_put(b, ":", 1);
	if (rc == 0 && *value)
		rc = ab_put(b, " ", 1);
	if (rc == 0)
		rc = ab_put(b, value, strlen(value));
	if (rc == 0)
		rc = ab_put(b, "\n", 1);
	return rc;
}

int ab_escaped(struct abuf *b, const char *key, const char *value)
{
	char tmp[APPR_STR_MAX * 3 + 1];
	size_t n = 0, len = strlen(value);

	if (len >= APPR_STR_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)value[i];
		if (literal_ok(ch, i + 1 == len)) {
			tmp[n++] = (char)ch;
		} else {
			tmp[n++] = '%';
			tmp[n++] = hexd[ch >> 4];
			tmp[n++] = hexd[ch & 15];
		}
	}
	tmp[n] = '\0';
	return ab_line(b, key, tmp);
}

int at_next(struct atext *t, const char *key, const char **value, size_t *vlen)
{
	size_t klen = strlen(key);

	t->line++;
	if (t->pos >= t->len) {
		pcl_diag_set(t->diag, t->name, t->line, "missing line \"%s:\"", key);
		return -EINVAL;
	}
	const char *start = t->buf + t->pos;
	const char *nl = memchr(start, '\n', t->len - t->pos);
	if (nl == NULL) {
		pcl_diag_set(t->diag, t->name, t->line, "line \"%s:\" does not end with a newline",
			     key);
		return -EINVAL;
	}
	size_t llen = (size_t)(nl - start);
	t->pos += llen + 1;
	if (llen < klen + 1 || memcmp(start, key, klen) != 0 || start[klen] != ':') {
		pcl_diag_set(t->diag, t->name, t->line, "expected \"%s:\"", key);
		return -EINVAL;
	}
	if (llen == klen + 1) {
		*value = start + llen;
		*vlen = 0;
		return 0;
	}
	if (start[klen + 1] != ' ' || llen == klen + 2) {
		pcl_diag_set(t->diag, t->name, t->line,
			     "%s: a value follows \": \" (one space), or nothing", key);
		return -EINVAL;
	}
	*value = start + klen + 2;
	*vlen = llen - klen - 2;
	for (size_t i = 0; i < *vlen; i++) {
		unsigned char ch = (unsigned char)(*value)[i];
		if (ch < 0x20 || ch > 0x7e) {
			pcl_diag_set(t->diag, t->name, t->line,
				     "%s: byte 0x%02x at column %zu is not printable ASCII", key,
				     ch, klen + 3 + i);
			return -EINVAL;
		}
	}
	return 0;
}

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int at_escaped(struct atext *t, const char *key, char *out, size_t cap)
{
	const char *v;
	size_t vlen, n = 0;
	int rc = at_next(t, key, &v, &vlen);

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < vlen; i++) {
		unsigned char ch = (unsigned char)v[i];
		if (ch == '%') {
			int hi = i + 2 < vlen ? unhex(v[i + 1]) : -1;
			int lo = i + 2 < vlen ? unhex(v[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				pcl_diag_set(
				    t->diag, t->name, t->line,
				    "%s: '%%' must be followed by two upper-case hex digits", key);
				return -EINVAL;
			}
			ch = (unsigned char)(hi << 4 | lo);
			i += 2;
			if (ch == 0 || literal_ok(ch, i + 1 == vlen)) {
				pcl_diag_set(t->diag, t->name, t->line,
					     "%s: %%%02X is not the canonical spelling", key, ch);
				return -EINVAL;
			}
		} else if (ch == ' ' && i + 1 == vlen) {
			pcl_diag_set(t->diag, t->name, t->line,
				     "%s: a trailing space must be written %%20", key);
			return -EINVAL;
		}
		if (n + 1 >= cap) {
			pcl_diag_set(t->diag, t->name, t->line, "%s: longer than %zu bytes", key,
				     cap - 1);
			return -EINVAL;
		}
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return 0;
}

int appr_u64(const char *v, size_t vlen, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;

	if (vlen == 0 || vlen > 20 || (v[0] == '0' && vlen > 1))
		return -EINVAL;
	for (size_t i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9' || x > (UINT64_MAX - (uint64_t)(v[i] - '0')) / 10)
			return -EINVAL;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x > max)
		return -EINVAL;
	*out = x;
	return 0;
}

int at_uint(struct atext *t, const char *key, uint64_t max, uint64_t *out)
{
	const char *v;
	size_t vlen;
	int rc = at_next(t, key, &v, &vlen);

	if (rc != 0)
		return rc;
	if (appr_u64(v, vlen, max, out) == 0)
		return 0;
	pcl_diag_set(t->diag, t->name, t->line,
		     "%s: expected a decimal number up to %llu without leading zeros", key,
		     (unsigned long long)max);
	return -EINVAL;
}

int at_b64(struct atext *t, const char *key, uint8_t *out, size_t cap, size_t *outlen)
{
	const char *v;
	size_t vlen;
	int rc = at_next(t, key, &v, &vlen);

	if (rc != 0)
		return rc;
	int n = pcl_b64_decode(v, vlen, out, cap);
	if (n <= 0) {
		pcl_diag_set(t->diag, t->name, t->line,
			     "%s: expected canonical base64 of 1 to %zu bytes", key, cap);
		return -EINVAL;
	}
	*outlen = (size_t)n;
	return 0;
}

int appr_text_open_of(struct atext *t, const char *buf, size_t len, const char *name,
		      struct pcl_diag *diag, size_t max, const char *magic, unsigned oldest,
		      unsigned version, unsigned *got)
{
	*t = (struct atext){buf, len, 0, 0, name, diag};
	if (len > max) {
		pcl_diag_set(diag, name, 0, "larger than %zu bytes", max);
		return -EINVAL;
	}
	return appr_parse_header_of(t, magic, oldest, version, got);
}

int appr_text_open(struct atext *t, const char *buf, size_t len, const char *name,
		   struct pcl_diag *diag, size_t max, const char *magic, unsigned version)
{
	return appr_text_open_of(t, buf, len, name, diag, max, magic, version, version, NULL);
}
