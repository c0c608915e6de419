/*
 * hex.c - the one hexadecimal encoder and decoder (see hex.h). Linked by every process
 * and tool; decoded text is untrusted and only its canonical spelling is accepted.
 */
#include "hex.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

void pcl_hex_encode(char *out, const void *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = in;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int lower_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int pcl_hex_digit(char c)
{
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return lower_digit(c);
}

int pcl_hex_decode(void *out, size_t n, const char *in, size_t len)
{
	uint8_t *o = out;

	if (n > SIZE_MAX / 2 || len != 2 * n)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		int hi = lower_digit(in[2 * i]), lo = lower_digit(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto bad;
		o[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
bad:
	explicit_bzero(out, n);
	return -EINVAL;
}
