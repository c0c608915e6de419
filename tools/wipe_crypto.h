/*
 * wipe_crypto.h - crypto-erase for `portcullis wipe --local` (tools/wipe_crypto.c).
 * Tools convention: these return 0 or -errno; the caller prints the one error line.
 */
#ifndef PCL_TOOLS_WIPE_CRYPTO_H
#define PCL_TOOLS_WIPE_CRYPTO_H

#include "wipe.h"

#include <stdint.h>

/* --method NAME: overwrite, crypto-erase, crypto-erase+overwrite, or auto (*crypto = -1:
 * decided on the medium by wipe_method_auto); -EINVAL otherwise. */
int wipe_method_parse(const char *name, int *crypto, int *overwrite);
/* auto: crypto-erase+overwrite when a LUKS header loads from device, else overwrite. */
void wipe_method_auto(const char *device, int *crypto, int *overwrite);
/* Erase the LUKS headers and keyslots of device (held open O_EXCL|O_DIRECT as fd): res
 * as lib/wipe fills it (WIPE_ERR_REFUSED: no usable LUKS header, nothing written);
 * *erased the bytes overwritten and verified. */
int wipe_crypto_step(const char *device, int fd, uint64_t size, uint32_t lbs,
		     struct wipe_result *res, uint64_t *erased);
/* The certificate's method, method type, verification, passes (and tool when alone). */
void wipe_crypto_cert(struct wipe_cert *c, int overwrite, uint64_t erased);

#endif
