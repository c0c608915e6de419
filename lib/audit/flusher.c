/*
 * flusher.c - the audit writer's flusher thread: makes grouped records (file transfer
 * records) durable in groups, one fdatasync per group instead of one per record, and
 * writes the scheduled checkpoints (audit_seal_soon), so neither waits on the caller's
 * path. Linked by the engine; started by audit_open, before the engine's seccomp filter
 * (which then covers it too). Its input is the writer's own state.
 */
#include "audit.h"
#include "audit_int.h"
#include "writer_int.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define DEFAULT_GROUP_MS 10
#define DEFAULT_SEAL_MS	 1000
/* Records durable through the intent file are safe there: their segment is synced within
 * this window (with a checkpoint, a group sync or a tick sooner), so that a decision's
 * durable write does not queue behind a sync of the segment started for the one before;
 * at once when more than INTENT_TAIL_SYNC bytes wait, so that entries stay small (each
 * holds every byte not yet synced). */
#define INTENT_SYNC_MS	 1000
#define INTENT_TAIL_SYNC (8 * 1024)

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The segment owes a sync for records durable only through the intent file (lock held). */
static bool intent_owed(const struct audit_log *log)
{
	return log->intent_seq > log->synced_seq;
}

/* A grouped record is not yet durable: neither synced in the segment nor held by an
 * intent entry (each entry holds every byte from the segment's synced end to its
 * record, so everything up to intent_seq is durable). A decision's entry soon after a
 * grouped record (a device's removal, then the next insertion) makes the group's own
 * sync needless: the segment is synced in the intent window instead, not in the middle
 * of the next decision's durable write. Lock held. */
static bool group_owed(const struct audit_log *log)
{
	uint64_t durable = log->intent_seq > log->synced_seq ? log->intent_seq : log->synced_seq;

	return log->group_seq > durable;
}

/* Sleep on flush_cond until the monotonic deadline or a stop request (lock held); with
 * for_seal, also until a record waits to be made durable or the segment's sync for the
 * intent file falls due earlier. */
static void wait_until(struct audit_log *log, int64_t due, bool for_seal)
{
	struct timespec ts;

	log->flusher_idle = for_seal; /* a long sleep: let appends wake it */
	while (!log->flusher_stop && mono_ms() < due &&
	       !(for_seal && (group_owed(log) || (intent_owed(log) && log->intent_due_ms < due)))) {
		ts.tv_sec = (time_t)(due / 1000);
		ts.tv_nsec = (long)(due % 1000) * 1000000;
		if (pthread_cond_timedwait(&log->flush_cond, &log->lock, &ts) == ETIMEDOUT)
			break;
	}
	log->flusher_idle = false;
}

static void *flusher_main(void *arg)
{
	struct audit_log *log = arg;

	pthread_mutex_lock(&log->lock);
	/* Started: the thread's own start-up calls are done before audit_open returns, so
	 * before the caller installs a seccomp filter that would refuse them. */
	log->flusher_ready = true;
	pthread_cond_broadcast(&log->cond);
	while (!log->flusher_stop) {
		bool pending = group_owed(log);
		if (log->failed || (!pending && !log->seal_wanted && !intent_owed(log))) {
			log->flusher_idle = true;
			pthread_cond_wait(&log->flush_cond, &log->lock);
			log->flusher_idle = false;
			continue;
		}
		/* Gather: records arriving in the window share the group's sync. */
		if (pending) {
			wait_until(log, mono_ms() + log->group_ms, false);
		} else {
			int64_t due = log->seal_wanted ? log->seal_due_ms : INT64_MAX;
			if (intent_owed(log) && log->intent_due_ms < due)
				due = log->intent_due_ms;
			wait_until(log, due, true);
		}
		if (log->flusher_stop)
			break;
		if (log->seal_wanted && mono_ms() >= log->seal_due_ms) {
			log->seal_wanted = false;
			audit_checkpoint_locked(log); /* a failure is sticky in log->failed */
		}
		/* A group waits, or the intent file's records are due in the segment. */
		if (log->failed == 0 && log->seq > log->synced_seq &&
		    (group_owed(log) || (intent_owed(log) && mono_ms() >= log->intent_due_ms)))
			audit_sync_locked(log, log->seq);
	}
	pthread_mutex_unlock(&log->lock);
	return NULL;
}

int audit_flusher_start(struct audit_log *log)
{
	pthread_condattr_t ca;
	int rc;

	log->group_ms = log->group_ms ? log->group_ms : DEFAULT_GROUP_MS;
	log->seal_delay_ms = log->seal_delay_ms ? log->seal_delay_ms : DEFAULT_SEAL_MS;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&log->flush_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0)
		return -rc;
	rc = pthread_create(&log->flusher, NULL, flusher_main, log);
	if (rc != 0) {
		pthread_cond_destroy(&log->flush_cond);
		return -rc;
	}
	log->flusher_on = true;
	pthread_mutex_lock(&log->lock);
	while (!log->flusher_ready)
		pthread_cond_wait(&log->cond, &log->lock);
	pthread_mutex_unlock(&log->lock);
	return 0;
}

/* Stop and join the thread; what it had pending is left to the caller (audit_close). */
void audit_flusher_stop(struct audit_log *log)
{
	if (!log->flusher_on)
		return;
	pthread_mutex_lock(&log->lock);
	log->flusher_stop = true;
	pthread_cond_signal(&log->flush_cond);
	pthread_mutex_unlock(&log->lock);
	pthread_join(log->flusher, NULL);
	pthread_cond_destroy(&log->flush_cond);
	log->flusher_on = false;
}

void audit_flusher_intent(struct audit_log *log, uint64_t seq)
{
	if (!intent_owed(log))
		log->intent_due_ms = mono_ms() + INTENT_SYNC_MS; /* the window opens */
	if (log->tail_len > INTENT_TAIL_SYNC)
		log->intent_due_ms = mono_ms(); /* entries stay small: sync the segment now */
	log->intent_seq = seq;
	audit_flusher_kick(log);
}

/* Wake the thread if it sleeps without a deadline (lock held); cheap otherwise. */
void audit_flusher_kick(struct audit_log *log)
{
	if (log->flusher_idle)
		pthread_cond_signal(&log->flush_cond);
}

int audit_seal_soon(struct audit_log *log)
{
	int rc;

	if (log == NULL)
		return -EINVAL;
	pthread_mutex_lock(&log->lock);
	rc = log->failed;
	if (rc == 0 && !log->seal_wanted) {
		log->seal_wanted = true;
		log->seal_due_ms = mono_ms() + log->seal_delay_ms;
		audit_flusher_kick(log);
	}
	pthread_mutex_unlock(&log->lock);
	return rc;
}

void audit_get_stats(struct audit_log *log, struct audit_stats *out)
{
	pthread_mutex_lock(&log->lock);
	out->syncs = log->n_syncs;
	out->checkpoints = log->n_checkpoints;
	out->durable_seq = log->intent_seq > log->synced_seq ? log->intent_seq : log->synced_seq;
	out->trail_seq = log->synced_seq;
	out->intents = log->n_intents;
	pthread_mutex_unlock(&log->lock);
}
