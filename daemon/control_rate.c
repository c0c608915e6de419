/*
 * control_rate.c - per-uid token buckets for control-socket calls that may produce
 * security records (see control.h): a uid may make CTL_RATE_BURST such calls at once,
 * then one per CTL_RATE_REFILL_MS; calls over the rate are refused and counted, and the
 * counts go into one summary record per interval instead of a record (and a signed
 * checkpoint) each. Linked by the engine and the unit tests; its inputs are uids from
 * SO_PEERCRED and the monotonic clock.
 */
#include <string.h>

#include "control.h"

#define FULL ((int64_t)CTL_RATE_BURST * CTL_RATE_REFILL_MS)

static struct ctl_bucket *bucket_of(struct ctl_rate *r, uid_t uid, int64_t now_ms)
{
	struct ctl_bucket *free_b = NULL, *stale = NULL;

	for (size_t i = 0; i < CTL_RATE_UIDS; i++) {
		struct ctl_bucket *b = &r->b[i];
		if (b->used && b->uid == uid)
			return b;
		if (!b->used && free_b == NULL)
			free_b = b;
		/* A full bucket with nothing to report holds nothing worth keeping. */
		if (b->used && b->over == 0 && b->tokens_ms + (now_ms - b->last_ms) >= FULL &&
		    stale == NULL)
			stale = b;
	}
	struct ctl_bucket *b = free_b ? free_b : stale;
	if (b != NULL)
		*b = (struct ctl_bucket){
		    .used = true, .uid = uid, .tokens_ms = FULL, .last_ms = now_ms};
	return b;
}

bool ctl_rate_take(struct ctl_rate *r, uid_t uid, int64_t now_ms)
{
	struct ctl_bucket *b = bucket_of(r, uid, now_ms);

	if (b == NULL)
		return false; /* every bucket busy: fail closed */
	if (now_ms > b->last_ms) {
		int64_t t = b->tokens_ms + (now_ms - b->last_ms);
		b->tokens_ms = t > FULL ? FULL : t;
	}
	b->last_ms = now_ms > b->last_ms ? now_ms : b->last_ms;
	if (b->tokens_ms >= CTL_RATE_REFILL_MS) {
		b->tokens_ms -= CTL_RATE_REFILL_MS;
		return true;
	}
	b->over++;
	return false;
}

void ctl_rate_note(struct ctl_rate *r, uid_t uid, int64_t now_ms)
{
	struct ctl_bucket *b = bucket_of(r, uid, now_ms);

	if (b != NULL)
		b->over++;
}

size_t ctl_rate_drain(struct ctl_rate *r, uid_t *uids, uint64_t *counts, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < CTL_RATE_UIDS && n < max; i++)
		if (r->b[i].used && r->b[i].over > 0) {
			uids[n] = r->b[i].uid;
			counts[n++] = r->b[i].over;
			r->b[i].over = 0;
		}
	return n;
}
