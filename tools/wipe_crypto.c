/*
 * wipe_crypto.c - the crypto-erase step of `portcullis wipe --local --method
 * crypto-erase[+overwrite]` (and of portcullis-wipe, which runs the same code as root):
 * a fresh pattern key, lib/wipe's cryptographic erase of the LUKS headers and keyslot
 * areas over the O_EXCL descriptor the caller holds, and the certificate's method
 * fields. The medium's header is untrusted (parsed by libcryptsetup in lib/wipe/luks.c).
 */
#include "wipe_crypto.h"

#include "luks.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

int wipe_method_parse(const char *name, int *crypto, int *overwrite)
{
	*crypto = strcmp(name, "crypto-erase") == 0 || strcmp(name, "crypto-erase+overwrite") == 0;
	*overwrite = strcmp(name, "crypto-erase") != 0;
	if (strcmp(name, "auto") == 0)
		*crypto = -1;
	return *crypto || strcmp(name, "overwrite") == 0 ? 0 : -EINVAL;
}

void wipe_method_auto(const char *device, int *crypto, int *overwrite)
{
	*crypto = wipe_luks_present(device) == 1;
	*overwrite = 1;
}

int wipe_crypto_step(const char *device, int fd, uint64_t size, uint32_t lbs,
		     struct wipe_result *res, uint64_t *erased)
{
	uint8_t key[WIPE_KEY_LEN];
	struct wipe_luks_info info;
	int r;

	*erased = 0;
	if (RAND_bytes(key, sizeof(key)) != 1) {
		memset(res, 0, sizeof(*res));
		res->status = WIPE_ERR_INTERNAL;
		snprintf(res->reason, sizeof(res->reason), "no random key for the pattern");
		return -EIO;
	}
	r = wipe_crypto_erase(&wipe_fd_ops, &fd, device, key, size, lbs, &info, res);
	explicit_bzero(key, sizeof(key));
	if (res->status == WIPE_OK)
		*erased = info.data_offset;
	return r;
}

void wipe_crypto_cert(struct wipe_cert *c, int overwrite, uint64_t erased)
{
	snprintf(c->method, sizeof(c->method), "%s",
		 overwrite ? WIPE_METHOD_CRYPTO_CLEAR : WIPE_METHOD_CRYPTO);
	snprintf(c->method_type, sizeof(c->method_type), "Purge");
	if (overwrite) {
		snprintf(c->verification, sizeof(c->verification),
			 "read-back of the LUKS headers and keyslot areas (%llu bytes), no LUKS "
			 "header loads; then full read-back of every byte",
			 (unsigned long long)erased);
		c->passes = 2;
		return;
	}
	snprintf(c->verification, sizeof(c->verification),
		 "read-back of the LUKS headers and keyslot areas, no LUKS header loads "
		 "afterwards");
	snprintf(c->tool, sizeof(c->tool), "portcullis %s (libcryptsetup)", WIPE_TOOL_VERSION);
	c->passes = 1;
}
