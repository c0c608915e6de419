/*
 * b64.c - the one base64 encoder and decoder (see b64.h for the one strictness). Linked
 * by the engine, the CLI and tests; decoded text is untrusted: every byte is checked
 * against the alphabet and nothing is written to out until the whole text is known good.
 */
#include "b64.h"

#include <errno.h>
#include <limits.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int pcl_b64_encode(const void *in, size_t len, char *out, size_t cap)
{
	const uint8_t *p = in;
	size_t o = 0, i = 0;

	if (len > (size_t)INT_MAX / 4 * 3 - 3 || cap < PCL_B64_LEN(len) + 1)
		return -ENOSPC;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (len - i > 0) {
		uint32_t v = (uint32_t)p[i] << 16 | (len - i == 2 ? (uint32_t)p[i + 1] << 8 : 0);

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = len - i == 2 ? alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return (int)o;
}

static int value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* One pass; out is NULL on the checking pass. Returns the byte count or -EINVAL. */
static long walk(const char *in, size_t len, uint8_t *out)
{
	size_t pad = in[len - 1] == '=' ? (in[len - 2] == '=' ? 2 : 1) : 0;
	size_t body = len - pad, n = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	for (size_t i = 0; i < body; i++) {
		int v = value(in[i]);

		if (v < 0)
			return -EINVAL; /* also an '=' before the last two places */
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (out != NULL)
				out[n] = (uint8_t)(acc >> bits);
			n++;
		}
	}
	/* what is left must be the padding's zero bits: 2 bits before one '=', 4 before two */
	if (bits != 2 * pad || (acc & ((1u << bits) - 1)) != 0)
		return -EINVAL;
	return (long)n;
}

int pcl_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	long n;

	if (len == 0 || len % 4 != 0 || len > (size_t)INT_MAX)
		return -EINVAL;
	n = walk(in, len, NULL);
	if (n <= 0)
		return n < 0 ? (int)n : -EINVAL;
	if ((size_t)n > cap)
		return -ENOSPC;
	walk(in, len, out);
	return (int)n;
}
