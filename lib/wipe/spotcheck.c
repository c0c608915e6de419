/*
 * spotcheck.c - the root parent does not take an unprivileged wiper's word for it: after
 * an "ok" it reads random blocks back through its own fd and compares them with the
 * pattern of the key it generated itself. Linked by the CLI and the daemon parent; the
 * bytes read are untrusted and only compared.
 */
#include "wipe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

static int check_block(const struct wipe_io_ops *ops, void *io, struct wipe_pattern *pat,
		       uint64_t off, uint32_t block, uint8_t *got, uint8_t *want,
		       struct wipe_result *res)
{
	size_t done = 0;

	while (done < block) {
		ssize_t n = ops->pread(io, got + done, block - done, off + done);

		if (n == -EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? (int)n : -EIO;
		done += (size_t)n;
	}
	if (wipe_pattern_fill(pat, off, want, block) != 0)
		return -EIO;
	if (memcmp(got, want, block) == 0)
		return 0;
	res->status = WIPE_ERR_MISMATCH;
	res->first_bad = off;
	res->first_bad_block = off / block;
	res->verified = 0;
	snprintf(res->reason, sizeof(res->reason),
		 "the wiper reported ok, but the %u bytes at byte %llu do not hold the pattern",
		 (unsigned)block, (unsigned long long)off);
	return -EBADMSG;
}

int wipe_spot_check(const struct wipe_io_ops *ops, void *io_ctx, const uint8_t key[WIPE_KEY_LEN],
		    uint64_t size, uint32_t block, unsigned samples, struct wipe_result *res)
{
	uint64_t nblocks = block ? size / block : 0;
	struct wipe_pattern *pat = NULL;
	uint8_t *got = NULL, *want = NULL;
	int r = 0;

	if (nblocks == 0 || block % 16 != 0 || size % block != 0)
		return -EINVAL;
	if (posix_memalign((void **)&got, WIPE_ALIGN, block) != 0 ||
	    posix_memalign((void **)&want, WIPE_ALIGN, block) != 0 ||
	    wipe_pattern_new(&pat, key) != 0) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; r == 0 && i < samples + 2; i++) {
		uint64_t b;

		if (i == 0) {
			b = 0;
		} else if (i == 1) {
			b = nblocks - 1;
		} else {
			if (RAND_bytes((unsigned char *)&b, sizeof(b)) != 1) {
				r = -EIO;
				break;
			}
			b %= nblocks;
		}
		r = check_block(ops, io_ctx, pat, b * block, block, got, want, res);
	}
out:
	wipe_pattern_free(&pat);
	free(got);
	free(want);
	return r;
}
