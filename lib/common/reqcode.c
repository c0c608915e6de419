/*
 * reqcode.c - request codes: 8 Crockford base32 digits naming a device (see reqcode.h).
 * Linked by the portcullis CLI and the approval code. The hash comes from the daemon's
 * records (computed over device descriptors) and a typed code from a person: both are
 * untrusted and validated here.
 */
#include "reqcode.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

#define REQCODE_TAG	"portcullis-request-code-v1"
#define REQCODE_HASHMAX 128

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static int is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=';
}

/* Write 8 digits (40 bits, most significant first) as "XXXX-XXXX". */
static void format_code(uint64_t v, char out[PCL_REQUEST_CODE_LEN])
{
	size_t k = 0;

	for (int i = 7; i >= 0; i--) {
		out[k++] = crockford[(v >> (5 * i)) & 31];
		if (i == 4)
			out[k++] = '-';
	}
	out[k] = '\0';
}

int pcl_request_code(const char *usb_hash, char out[PCL_REQUEST_CODE_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t n;
	int ok;

	out[0] = '\0';
	if (usb_hash == NULL)
		return -EINVAL;
	n = strnlen(usb_hash, REQCODE_HASHMAX + 1);
	if (n == 0 || n > REQCODE_HASHMAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!is_b64(usb_hash[i]))
			return -EINVAL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, REQCODE_TAG, sizeof(REQCODE_TAG)) == 1 && /* with its NUL */
	     EVP_DigestUpdate(ctx, usb_hash, n) == 1 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 &&
	     mdlen >= 5;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EIO;
	uint64_t v = 0;
	for (int i = 0; i < 5; i++)
		v = (v << 8) | md[i];
	format_code(v, out);
	return 0;
}

/* The value of a typed character, or -1 (ignored characters are handled by the caller). */
static int digit_value(char c)
{
	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	if (c == 'I' || c == 'L')
		c = '1';
	else if (c == 'O')
		c = '0';
	const char *p = c ? strchr(crockford, c) : NULL;
	return p ? (int)(p - crockford) : -1;
}

int pcl_request_code_normalise(const char *typed, char out[PCL_REQUEST_CODE_LEN])
{
	uint64_t v = 0;
	int n = 0;

	out[0] = '\0';
	if (typed == NULL)
		return -EINVAL;
	for (size_t i = 0; typed[i] != '\0'; i++) {
		char c = typed[i];
		if (c == ' ' || c == '-' || c == '\t')
			continue;
		int d = digit_value(c);
		if (d < 0 || n == 8)
			return -EINVAL;
		v = (v << 5) | (uint64_t)d;
		n++;
	}
	if (n != 8)
		return -EINVAL;
	format_code(v, out);
	return 0;
}
