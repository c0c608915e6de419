/*
 * engine_xferlog.c - the engine's side of a transfer log's file records, taken a read at
 * a time: the run of file records (file-written, file-read, file-created, file-deleted,
 * file-renamed) at the start of what a watcher sent is recorded as one group of the
 * trail (one write; chained, MACed and made durable by the flusher's group sync like any
 * grouped record). Every other line (start, stop, failures, refusals, a wipe's progress)
 * is left to engine_jobs.c, one at a time, in order. Linked by the engine. The watcher is
 * a root helper of the project, but it is less trusted than the engine: what it reports
 * (paths and names from the medium and its users) is parsed with json-c, flattened and
 * checked here exactly as a single line would be, and a group one of whose records the
 * trail refuses is taken record by record, so that a bad one costs only itself. The
 * engine's own fields (the device's identity, rule and state, the port) are laid last:
 * a helper's claim to one of them is dropped and named in the record (exlog_record).
 */
#include "engine_xferlog.h"

#include <errno.h>
#include <string.h>

#include "jsonx.h"
#include "log.h"

#define GROUP_MAX 64 /* records per group: the watcher's batch */

static bool routine(const char *action)
{
	static const char *const actions[] = {"file-written", "file-read", "file-created",
					      "file-deleted", "file-renamed"};

	for (size_t i = 0; action && i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(action, actions[i]) == 0)
			return true;
	return false;
}

/* A field the engine alone fills in: the device's identity, rule and state, the medium's
 * block device and port, approvals and council bundles, the wipe plan, and the list of
 * what a helper claimed of these. */
static bool engine_owned(const struct exlog_src *src, const char *k)
{
	static const char *const prefixes[] = {"usb.",	    "volume.",	"rule.",
					       "approval.", "council.", "portcullis.approval."};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(k, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return strcmp(k, "portcullis.state") == 0 || strcmp(k, "wipe.plan") == 0 ||
	       strcmp(k, "portcullis.helper_fields_refused") == 0 ||
	       (src->device != NULL && json_object_object_get_ex(src->device, k, NULL));
}

/* True when no member of in is an object: it is already flat, as the watcher sends it. */
static bool flat(struct json_object *in)
{
	json_object_object_foreach(in, k, v)
	{
		(void)k;
		if (json_object_is_type(v, json_type_object))
			return false;
	}
	return true;
}

/* The helper's own fields of a record: flattened, its clock as event.created, and its
 * claims to the engine's fields dropped and named. */
static struct json_object *own_fields(const struct exlog_src *src, struct json_object *in)
{
	struct json_object *rec, *refused = NULL, *v;

	/* A flat line is the record itself (no copy of every member); a nested one is
	 * flattened into a new object. */
	if (flat(in))
		rec = json_object_get(in);
	else if ((rec = json_object_new_object()) != NULL)
		jsonx_flatten(rec, NULL, in);
	if (rec == NULL)
		return NULL;
	/* The helper's own clock becomes event.created; the trail stamps @timestamp. */
	if (json_object_object_get_ex(rec, "@timestamp", &v)) {
		json_object_object_add(rec, "event.created", json_object_get(v));
		json_object_object_del(rec, "@timestamp");
	}
	/* What the helper claims in the engine's fields is dropped, and named. */
	json_object_object_foreach(rec, k, v0)
	{
		(void)v0;
		if (!engine_owned(src, k))
			continue;
		if (refused == NULL && (refused = json_object_new_array()) == NULL) {
			json_object_put(rec);
			return NULL;
		}
		json_object_array_add(refused, json_object_new_string(k));
	}
	for (size_t i = 0; refused != NULL && i < json_object_array_length(refused); i++)
		json_object_object_del(
		    rec, json_object_get_string(json_object_array_get_idx(refused, i)));
	if (refused != NULL)
		json_object_object_add(rec, "portcullis.helper_fields_refused", refused);
	return rec;
}

/* Lay the engine's fields over rec: the last word on each. */
static void lay(struct json_object *rec, struct json_object *engines)
{
	json_object_object_foreach(engines, k, v)
	{
		json_object_object_add(rec, k, json_object_get(v));
	}
}

struct json_object *exlog_engine_fields(const struct exlog_src *src)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	if (src->device != NULL)
		lay(o, src->device);
	if (jsonx_set_str(o, "volume.device_name", src->block) != 0 ||
	    jsonx_set_str(o, "usb.port", src->port) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *exlog_record(const struct exlog_src *src, struct json_object *in)
{
	struct json_object *rec = own_fields(src, in), *engines;

	if (rec == NULL)
		return NULL;
	/* The engine's own fields last. */
	if ((engines = exlog_engine_fields(src)) == NULL) {
		json_object_put(rec);
		return NULL;
	}
	lay(rec, engines);
	json_object_put(engines);
	return rec;
}

/* A line parsed as json_tokener_parse does, with one tokener kept for the engine's life
 * (the engine reads its helpers on one thread). */
static struct json_object *parse(const char *line)
{
	static struct json_tokener *tok;
	struct json_object *o;

	if (tok == NULL && (tok = json_tokener_new()) == NULL)
		return NULL;
	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, line, -1);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* The helper's fields of one line if it is a file record, else NULL (left to the
 * caller). */
static struct json_object *file_record(const struct exlog_src *src, const char *line)
{
	struct json_object *in = parse(line), *rec, *v;

	if (in == NULL || !json_object_is_type(in, json_type_object) ||
	    json_object_object_get_ex(in, "progress", NULL) ||
	    !json_object_object_get_ex(in, "event.action", &v) ||
	    !json_object_is_type(v, json_type_string) || !routine(json_object_get_string(v))) {
		json_object_put(in);
		return NULL;
	}
	rec = own_fields(src, in);
	json_object_put(in);
	/* The action as flattened: a nested "event" object may have replaced it. */
	if (rec != NULL && !routine(jsonx_get_str(rec, "event.action"))) {
		json_object_put(rec);
		return NULL;
	}
	return rec;
}

char *exlog_take(struct engine *e, const struct exlog_src *src, char *start, bool *written)
{
	struct json_object *recs[GROUP_MAX], *engines;
	char *p = start, *nl;
	size_t n = 0;
	int rc;

	while (n < GROUP_MAX && (nl = strchr(p, '\n')) != NULL) {
		*nl = '\0';
		recs[n] = file_record(src, p);
		*nl = '\n';
		if (recs[n] == NULL)
			break;
		*written |= strcmp(jsonx_get_str(recs[n], "event.action"), "file-written") == 0;
		n++;
		p = nl + 1;
	}
	if (n == 0)
		return start;
	/* The engine's fields, the same for the whole group, are laid by the trail after
	 * each record's own (serialised once). */
	if ((engines = exlog_engine_fields(src)) == NULL) {
		while (n > 0)
			json_object_put(recs[--n]);
		return start; /* left to the caller, a line at a time */
	}
	rc = engine_record_group(e, recs, n, engines);
	for (size_t i = 0; i < n; i++) {
		if (rc == -EINVAL || rc == -E2BIG) { /* one at a time, each whole */
			lay(recs[i], engines);
			if (engine_record_grouped(e, recs[i]) != 0)
				log_warn("a transfer log sent an unrecordable record");
		}
		json_object_put(recs[i]);
	}
	json_object_put(engines);
	return p;
}
