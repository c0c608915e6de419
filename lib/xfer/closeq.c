/*
 * closeq.c - the closed files that wait for the watcher to open them for hashing (the eBPF
 * backend under fentry, bpfwatch.c): a bounded first-in first-out list linked through its
 * items, and when a file must wait. Linked by portcullis-xferwatch; the event thread's
 * only. Its input is the watcher's own state.
 */
#include <errno.h>
#include <stddef.h>

#include "xfer_internal.h"

void xfer_closeq_init(struct xfer_closeq *q, unsigned max)
{
	q->head = q->tail = NULL;
	q->len = 0;
	q->max = max;
}

int xfer_closeq_push(struct xfer_closeq *q, struct xfer_closeq_item *it)
{
	if (q->len >= q->max)
		return -ENOSPC;
	it->next = NULL;
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->len++;
	return 0;
}

struct xfer_closeq_item *xfer_closeq_pop(struct xfer_closeq *q)
{
	struct xfer_closeq_item *it = q->head;
	if (it == NULL)
		return NULL;
	q->head = it->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->len--;
	it->next = NULL;
	return it;
}

bool xfer_closeq_may_go(bool held, bool busy, bool failed_closed)
{
	/* Failed closed: nothing is opened any more, the file is logged unhashed at once.
	 * Held: the permission group would hold this thread's own open, and this thread
	 * answers it. Busy: the hand-over would wait for room while the ring fills. */
	return failed_closed || (!held && !busy);
}

bool xfer_closeq_must_wait(const struct xfer_closeq *q, bool held, bool busy, bool failed_closed)
{
	/* Others waiting: the files are hashed in the order they were closed. */
	return !xfer_closeq_may_go(held, busy, failed_closed) || (q->len > 0 && !failed_closed);
}
