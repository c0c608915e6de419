/*
 * luks.h - LUKS headers on a medium: probe (libcryptsetup) and cryptographic erase.
 * Linked by the portcullis CLI and portcullis-wipe (library wipe_luks). lib/ error
 * convention: 0 on success, -errno on failure, why in a struct pcl_diag where asked for.
 */
#ifndef PCL_WIPE_LUKS_H
#define PCL_WIPE_LUKS_H

#include "wipe.h"

#include <stddef.h>
#include <stdint.h>

#define WIPE_METHOD_CRYPTO                                                                         \
	"Purge (cryptographic erase: LUKS headers and every keyslot area overwritten and "         \
	"verified)"
#define WIPE_METHOD_CRYPTO_CLEAR                                                                   \
	"Purge (cryptographic erase of the LUKS headers and keyslots) followed by Clear "          \
	"(keyed pattern overwrite + full verify)"

struct wipe_luks_info {
	int version;		/* 1 or 2 */
	uint64_t data_offset;	/* bytes: where the encrypted data starts */
	uint64_t metadata_size; /* LUKS2: each of the two headers (binary + JSON) */
	uint64_t keyslots_size; /* LUKS2: the keyslot area after the two headers */
};

/* Map what libcryptsetup would dlopen later, before a filter forbids it: 0 or -errno. */
int wipe_luks_preload(void);
/* Load the LUKS header of device. 0 and info filled; -ENOMEDIUM when there is none;
 * -EINVAL when its offsets do not describe an attached header; d (file "") says which. */
int wipe_luks_probe(const char *device, struct wipe_luks_info *info, struct pcl_diag *d);
/* 1 when a LUKS header loads from device, 0 when none does, -errno when unreadable. */
int wipe_luks_present(const char *device);
/*
 * Cryptographic erase: overwrite [0, data offset) of the medium (both headers and every
 * keyslot area) with the keyed pattern of key, read it all back, then check no LUKS
 * header loads. res->status says how it went (WIPE_ERR_REFUSED: no usable LUKS header,
 * nothing written). Returns 0 when it ran, -errno when it could not start.
 */
int wipe_crypto_erase(const struct wipe_io_ops *ops, void *io, const char *device,
		      const uint8_t key[WIPE_KEY_LEN], uint64_t size, uint32_t block,
		      struct wipe_luks_info *info, struct wipe_result *res);

#endif
