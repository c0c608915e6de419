/*
 * job.c - the job description the parent hands the wiper on an inherited pipe:
 * "key=value" lines (version, key, size, chunk, block, discard). Keeps the pattern key
 * out of argv and /proc. Linked by portcullis-wiper and the CLI; the wiper treats the
 * text as untrusted input (bounds, duplicates, unknown keys all fail with a diag).
 */
#include "wipe.h"
#include "hex.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOB_NAME "<wipe job>"

int wipe_job_format(const struct wipe_job *job, char *buf, size_t len)
{
	char hex[WIPE_KEY_LEN * 2 + 1];
	int n;

	pcl_hex_encode(hex, job->key, WIPE_KEY_LEN);
	n = snprintf(buf, len,
		     "version=1\nkey=%s\nsize=%" PRIu64 "\nchunk=%" PRIu32 "\nblock=%" PRIu32
		     "\ndiscard=%d\n",
		     hex, job->size, job->chunk, job->block, job->discard ? 1 : 0);
	explicit_bzero(hex, sizeof(hex));
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

static int parse_u64(const char *v, size_t vlen, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;

	if (vlen == 0 || vlen > 20)
		return -1;
	for (size_t i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (x > (UINT64_MAX - (uint64_t)(v[i] - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x > max)
		return -1;
	*out = x;
	return 0;
}

enum { F_VERSION = 1, F_KEY = 2, F_SIZE = 4, F_CHUNK = 8, F_BLOCK = 16, F_DISCARD = 32 };

int wipe_job_parse(const char *text, size_t len, struct wipe_job *job, struct pcl_diag *d)
{
	static const char *const names[] = {"version", "key", "size", "chunk", "block", "discard"};
	unsigned seen = 0, line = 0;
	size_t pos = 0;

	memset(job, 0, sizeof(*job));
	while (pos < len) {
		const char *l = text + pos, *nl = memchr(l, '\n', len - pos), *eq;
		size_t ll = nl ? (size_t)(nl - l) : len - pos, klen, vlen;
		const char *v;
		uint64_t x = 0;
		int f = -1;

		line++;
		pos += ll + (nl ? 1 : 0);
		if (ll == 0)
			continue;
		eq = memchr(l, '=', ll);
		if (eq == NULL) {
			pcl_diag_set(d, JOB_NAME, line, "expected key=value");
			goto fail;
		}
		klen = (size_t)(eq - l);
		v = eq + 1;
		vlen = ll - klen - 1;
		for (int i = 0; i < 6; i++)
			if (strlen(names[i]) == klen && memcmp(names[i], l, klen) == 0)
				f = i;
		if (f < 0) {
			pcl_diag_set(d, JOB_NAME, line, "unknown field '%.*s'",
				     (int)(klen > 32 ? 32 : klen), l);
			goto fail;
		}
		if (seen & (1u << f)) {
			pcl_diag_set(d, JOB_NAME, line, "duplicate field '%s'", names[f]);
			goto fail;
		}
		seen |= 1u << f;
		if (f == 1) {
			if (vlen != WIPE_KEY_LEN * 2) {
				pcl_diag_set(d, JOB_NAME, line, "key: expected %d hex digits",
					     WIPE_KEY_LEN * 2);
				goto fail;
			}
			if (pcl_hex_decode(job->key, WIPE_KEY_LEN, v, vlen) != 0) {
				pcl_diag_set(d, JOB_NAME, line, "key: not lower-case hex");
				goto fail;
			}
			continue;
		}
		static const uint64_t max[] = {1000, 0, UINT64_MAX / 2, 1u << 30, 1u << 16, 1};
		if (parse_u64(v, vlen, max[f], &x) != 0) {
			pcl_diag_set(d, JOB_NAME, line, "%s: bad number '%.*s'", names[f],
				     (int)(vlen > 24 ? 24 : vlen), v);
			goto fail;
		}
		if (f == 0 && x != 1) {
			pcl_diag_set(d, JOB_NAME, line, "version: unsupported");
			goto fail;
		}
		if (f == 2)
			job->size = x;
		else if (f == 3)
			job->chunk = (uint32_t)x;
		else if (f == 4)
			job->block = (uint32_t)x;
		else if (f == 5)
			job->discard = (int)x;
	}
	if ((seen & (F_VERSION | F_KEY | F_SIZE)) != (F_VERSION | F_KEY | F_SIZE)) {
		pcl_diag_set(d, JOB_NAME, line, "missing %s",
			     !(seen & F_VERSION) ? "version"
			     : !(seen & F_KEY)	 ? "key"
						 : "size");
		goto fail;
	}
	if (job->block == 0)
		job->block = 512;
	if (job->chunk == 0)
		job->chunk = WIPE_CHUNK_DEFAULT;
	if (job->block < 512 || (job->block & (job->block - 1)) != 0 ||
	    job->chunk % job->block != 0 || job->size == 0 || job->size % job->block != 0) {
		pcl_diag_set(d, JOB_NAME, 0,
			     "size %" PRIu64 ", chunk %" PRIu32 ", block %" PRIu32
			     ": size and chunk must be non-zero multiples of a power-of-two "
			     "block >= 512",
			     job->size, job->chunk, job->block);
		goto fail;
	}
	return 0;
fail:
	explicit_bzero(job, sizeof(*job));
	return -EINVAL;
}
