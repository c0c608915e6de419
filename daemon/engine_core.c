/*
 * engine_core.c - what every feature of the engine uses: the engine's settings, audit
 * records (written, made durable, told to watching clients) and requests to the parent.
 * The bottom of the engine: it calls no feature. Linked by the engine (unprivileged);
 * the parent's answers are checked against the request they answer.
 */
#include "engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "engine_int.h"
#include "ipc.h"
#include "log.h"

const struct conf *engine_conf(const struct engine *e)
{
	return e->conf;
}

bool engine_first_start(const struct engine *e)
{
	return e->first_start;
}

const char *engine_host(const struct engine *e)
{
	return e->host;
}

const struct rules *engine_rules(const struct engine *e)
{
	return e->rules;
}

struct udev *engine_udev(const struct engine *e)
{
	return e->udev;
}

/* A helper's exit, reported by the parent: kept for the loop (a full list is a parent
 * gone wrong: restart cleanly). */
void engine_keep_exit(struct engine *e, const struct ipc_msg *m)
{
	if (e->n_exits == sizeof(e->exits) / sizeof(e->exits[0])) {
		log_err("too many helper exits unanswered: restarting");
		exit(1);
	}
	e->exits[e->n_exits++] = *m;
}

static void send_request(struct engine *e, struct ipc_msg *req)
{
	int rc;

	req->id = ++e->next_id;
	if ((rc = ipc_send(e->ipc_fd, req)) != 0) {
		log_err("cannot reach the parent: %s", strerror(-rc));
		exit(1); /* without the parent nothing can be decided: restart cleanly */
	}
}

/* Read the parent's messages up to the answer to request id. Helper exits are kept for the
 * loop, the answer to a request sent early (and the descriptor it carries) is kept for
 * engine_answer_early. A descriptor comes only with a success. */
static int await_answer(struct engine *e, uint32_t id, int *fd)
{
	struct ipc_msg res;
	int rc;

	for (;;) {
		int got = -1;
		rc = ipc_recv_fd(e->ipc_fd, &res, &got);
		if (rc == 0 && res.type == IPC_JOB_EXIT && got < 0) {
			engine_keep_exit(e, &res);
			continue;
		}
		if (rc == 0 && res.type == IPC_RESULT && (got < 0 || res.u.result.err == 0) &&
		    id != e->early_id && e->early_id != 0 && !e->early_done &&
		    res.id == e->early_id) {
			e->early_done = true;
			e->early_err = res.u.result.err;
			e->early_fd = got;
			continue;
		}
		if (rc != 0 || res.type != IPC_RESULT || res.id != id ||
		    (got >= 0 && (fd == NULL || res.u.result.err != 0))) {
			log_err("bad answer from the parent: %s",
				rc ? strerror(-rc) : "unexpected message");
			exit(1);
		}
		if (fd != NULL)
			*fd = got;
		return res.u.result.err;
	}
}

int engine_request_fd(struct engine *e, struct ipc_msg *req, int *fd)
{
	if (fd != NULL)
		*fd = -1;
	send_request(e, req);
	return await_answer(e, req->id, fd);
}

void engine_request_early(struct engine *e, struct ipc_msg *req)
{
	engine_answer_early(e, NULL); /* one at a time: an earlier one's answer is dropped */
	send_request(e, req);
	e->early_id = req->id;
	e->early_done = false;
}

int engine_answer_early(struct engine *e, int *fd)
{
	int rc, got = -1;

	if (fd != NULL)
		*fd = -1;
	if (e->early_id == 0)
		return -ENOENT;
	if (e->early_done) {
		rc = e->early_err;
		got = e->early_fd;
	} else {
		rc = await_answer(e, e->early_id, &got);
	}
	e->early_id = 0;
	e->early_done = false;
	if (fd != NULL)
		*fd = got;
	else if (got >= 0)
		close(got); /* not wanted: never kept */
	return rc;
}

int engine_request(struct engine *e, struct ipc_msg *req)
{
	return engine_request_fd(e, req, NULL);
}

/* Records told to the watching clients once the grant is done (engine_tell_later): a few
 * at most (the insertion's two), kept in order; more are told at once, after these. */
static struct {
	bool on;
	size_t n;
	struct json_object *recs[4];
} later;

static void tell_held(struct engine *e)
{
	for (size_t i = 0; i < later.n; i++) {
		e->tell(e->ctl, later.recs[i]);
		json_object_put(later.recs[i]);
	}
	later.n = 0;
}

static void tell(struct engine *e, struct json_object *rec)
{
	if (later.on && later.n < sizeof(later.recs) / sizeof(later.recs[0])) {
		later.recs[later.n++] = json_object_get(rec);
		return;
	}
	tell_held(e);
	e->tell(e->ctl, rec);
}

void engine_tell_later(struct engine *e, bool on)
{
	later.on = on;
	if (!on)
		tell_held(e);
}

/* Durability of a record: its own disk sync, a sync and a checkpoint, none of its own
 * (made durable by the next record's sync), or a group sync by the flusher thread. */
enum record_mode { REC_DURABLE, REC_SECURITY, REC_DEFERRED, REC_GROUPED };

static int append_json(struct engine *e, struct json_object *rec, enum record_mode mode)
{
	int rc = mode == REC_DEFERRED  ? audit_append_deferred(e->audit, rec)
		 : mode == REC_GROUPED ? audit_append_grouped(e->audit, rec)
				       : audit_append(e->audit, rec);

	if (rc == 0 && mode == REC_SECURITY)
		rc = audit_checkpoint(e->audit); /* a security event is sealed at once */
	if (rc != 0)
		log_err("audit trail not written (%s): failing closed", strerror(-rc));
	else
		tell(e, rec);
	return rc;
}

int engine_record_json(struct engine *e, struct json_object *rec, bool security)
{
	return append_json(e, rec, security ? REC_SECURITY : REC_DURABLE);
}

int engine_record_deferred(struct engine *e, struct json_object *rec)
{
	return append_json(e, rec, REC_DEFERRED);
}

int engine_record_grouped(struct engine *e, struct json_object *rec)
{
	return append_json(e, rec, REC_GROUPED);
}

int engine_record_pair(struct engine *e, struct json_object *before, struct json_object *rec)
{
	int rc = audit_append_pair(e->audit, before, rec);

	if (rc == -EINVAL || rc == -E2BIG) { /* refused whole: one at a time, as before */
		(void)append_json(e, before, REC_DEFERRED);
		return append_json(e, rec, REC_DURABLE);
	}
	if (rc != 0) {
		log_err("audit trail not written (%s): failing closed", strerror(-rc));
		return rc;
	}
	tell(e, before);
	tell(e, rec);
	return 0;
}

int engine_record_group(struct engine *e, struct json_object *const *recs, size_t n,
			struct json_object *common)
{
	int rc = audit_append_group_common(e->audit, recs, n, common);

	if (rc == -EINVAL || rc == -E2BIG)
		return rc; /* refused whole, nothing written */
	if (rc != 0) {
		log_err("audit trail not written (%s): failing closed", strerror(-rc));
		return rc;
	}
	/* The clients are told the whole record: the common fields laid on each (none of
	 * which it has: the trail refused the group otherwise), when anyone would see it. */
	if (common != NULL && !later.on && e->watching != NULL && !e->watching(e->ctl))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (common != NULL) {
			json_object_object_foreach(common, k, v)
			{
				json_object_object_add_ex(recs[i], k, json_object_get(v),
							  JSON_C_OBJECT_ADD_KEY_IS_NEW);
			}
		}
		tell(e, recs[i]);
	}
	return 0;
}

void engine_seal(struct engine *e)
{
	if (audit_seal_soon(e->audit) != 0)
		log_err("audit trail: checkpoint failed: failing closed");
}

void engine_job_progress(struct engine *e, int client, const char *line)
{
	e->relay(e->ctl, client, line);
}
