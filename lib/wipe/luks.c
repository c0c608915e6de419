/*
 * luks.c - cryptographic erase of a LUKS container (NIST SP 800-88 Rev. 1 "Purge by
 * cryptographic erase"): every byte from the start of the medium to the start of the
 * encrypted data, which holds both LUKS2 headers (binary header and JSON area, primary
 * and secondary) and every keyslot area, is overwritten with the keyed pattern and read
 * back in full; the header must then no longer load. Without the keyslots the volume
 * key is gone, and the data area is ciphertext no one can decrypt.
 * Linked by the portcullis CLI and portcullis-wipe (root). The header on the medium is
 * untrusted: libcryptsetup (Debian's) parses it; we take only the data offset from it,
 * check it against the medium's size and the metadata sizes it states, and verify the
 * result ourselves by reading the region back.
 */
#include "luks.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <openssl/crypto.h>
#include <openssl/provider.h>
#include <stdio.h>
#include <string.h>

static void quiet_log(int level, const char *msg, void *usrptr)
{
	(void)level;
	(void)msg;
	(void)usrptr;
}

/* libcryptsetup's OpenSSL backend loads OpenSSL's "legacy" provider (a shared object)
 * the first time it reads a LUKS header. Under a filter that forbids executable mappings
 * that dlopen is fatal; loaded here once, in a library context of its own that is never
 * freed, the later dlopen only takes a reference and maps nothing. */
int wipe_luks_preload(void)
{
	OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();

	if (!ctx)
		return -ENOMEM;
	if (!OSSL_PROVIDER_load(ctx, "legacy")) {
		OSSL_LIB_CTX_free(ctx);
		return -ENOENT;
	}
	return 0;
}

int wipe_luks_probe(const char *device, struct wipe_luks_info *info, struct pcl_diag *d)
{
	struct crypt_device *cd = NULL;
	const char *type;
	uint64_t md = 0, ks = 0;
	int r;

	memset(info, 0, sizeof(*info));
	crypt_set_log_callback(NULL, quiet_log, NULL);
	/* No lock files under /run/cryptsetup: the caller holds the medium O_EXCL. */
	crypt_metadata_locking(NULL, 0);
	r = crypt_init(&cd, device);
	if (r < 0) {
		pcl_diag_set(d, "", 0, "cannot open it for its LUKS header: %s", strerror(-r));
		return r;
	}
	r = crypt_load(cd, CRYPT_LUKS, NULL);
	if (r < 0) {
		crypt_free(cd);
		pcl_diag_set(d, "", 0, "no LUKS header on it (not an encrypted council stick)");
		return -ENOMEDIUM;
	}
	type = crypt_get_type(cd);
	info->version = type && strcmp(type, CRYPT_LUKS2) == 0 ? 2 : 1;
	info->data_offset = crypt_get_data_offset(cd) * 512u;
	if (info->version == 2 && crypt_get_metadata_size(cd, &md, &ks) == 0) {
		info->metadata_size = md;
		info->keyslots_size = ks;
	}
	crypt_free(cd);
	/* A detached header (offset 0) or one whose stated areas reach past the data
	 * offset cannot be erased by overwriting what lies before the data. */
	if (info->data_offset == 0 ||
	    (info->version == 2 &&
	     2 * info->metadata_size + info->keyslots_size > info->data_offset)) {
		pcl_diag_set(d, "", 0,
			     "its LUKS%d header states a data offset of %llu bytes that does not "
			     "follow its metadata",
			     info->version, (unsigned long long)info->data_offset);
		return -EINVAL;
	}
	return 0;
}

int wipe_luks_present(const char *device)
{
	struct wipe_luks_info info;
	int r = wipe_luks_probe(device, &info, NULL);

	/* A header that loads counts as present even when its offsets are odd. */
	return r == 0 || r == -EINVAL ? 1 : r == -ENOMEDIUM ? 0 : r;
}

int wipe_crypto_erase(const struct wipe_io_ops *ops, void *io, const char *device,
		      const uint8_t key[WIPE_KEY_LEN], uint64_t size, uint32_t block,
		      struct wipe_luks_info *info, struct wipe_result *res)
{
	struct wipe_params p = {.block = block, .verify = 1, .chunk = 1u << 20};
	struct pcl_diag d = {0};
	uint64_t end;
	int r;

	memset(res, 0, sizeof(*res));
	r = wipe_luks_probe(device, info, &d);
	if (r != 0) {
		res->status = WIPE_ERR_REFUSED;
		snprintf(res->reason, sizeof(res->reason), "%.150s", d.msg);
		return r;
	}
	end = info->data_offset;
	if (block == 0 || end % block != 0 || end > size) {
		res->status = WIPE_ERR_REFUSED;
		snprintf(res->reason, sizeof(res->reason),
			 "LUKS data offset %llu is not within the medium in whole blocks",
			 (unsigned long long)end);
		return -EINVAL;
	}
	if (p.chunk % block != 0)
		p.chunk = block;
	p.size = end;
	r = wipe_run(ops, io, key, &p, res);
	if (r != 0) {
		res->status = WIPE_ERR_INTERNAL;
		snprintf(res->reason, sizeof(res->reason), "cannot run the header overwrite: %s",
			 strerror(-r));
		return r;
	}
	if (res->status != WIPE_OK)
		return 0;
	/* The full read-back matched the pattern; libcryptsetup must agree that no header
	 * (primary or secondary) is left. */
	r = wipe_luks_present(device);
	if (r != 0) {
		res->status = WIPE_ERR_MISMATCH;
		snprintf(res->reason, sizeof(res->reason), "%s",
			 r > 0 ? "a LUKS header still loads after the erase"
			       : "cannot probe the medium after the erase");
	}
	return 0;
}
