/*
 * record.c - the wipe's audit-trail records: flat ECS objects, one per line, that
 * `portcullis wipe --local --json` prints for the daemon's engine (which adds the device
 * fields and appends them to the trail). Progress, refusal, and the final wipe-done or
 * wipe-failed record carrying the whole (signed) certificate. Linked by the CLI; inputs
 * are our own results and sysfs strings (escaped by json-c).
 */
#include "wipe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#define FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static json_object *base(const char *action, const char *device)
{
	json_object *o = json_object_new_object();
	struct timespec ts;
	struct tm tm;
	char when[40];
	size_t n;

	if (o == NULL)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000L);
	json_object_object_add(o, "event.created", json_object_new_string(when));
	json_object_object_add(o, "event.action", json_object_new_string(action));
	json_object_object_add(o, "event.category", json_object_new_string("host"));
	json_object_object_add(o, "event.module", json_object_new_string("portcullis.wipe"));
	json_object_object_add(o, "wipe.device", json_object_new_string(device));
	return o;
}

static int finish(json_object *o, char *buf, size_t len)
{
	int n;

	if (o == NULL)
		return -ENOMEM;
	n = snprintf(buf, len, "%s\n", json_object_to_json_string_ext(o, FLAGS));
	json_object_put(o);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

int wipe_record_progress(const char *device, const struct wipe_progress *p, char *buf, size_t len)
{
	static const char *const phases[] = {"write", "verify", "discard", "done"};
	json_object *o = base("wipe-progress", device);

	if (o == NULL)
		return -ENOMEM;
	json_object_object_add(o, "wipe.phase", json_object_new_string(phases[p->phase & 3]));
	json_object_object_add(o, "wipe.bytes_done", json_object_new_int64((int64_t)p->done));
	json_object_object_add(o, "wipe.bytes_total", json_object_new_int64((int64_t)p->total));
	json_object_object_add(o, "wipe.rate_bytes_per_second",
			       json_object_new_int64((int64_t)p->rate));
	json_object_object_add(o, "wipe.eta_seconds", json_object_new_int64((int64_t)p->eta));
	return finish(o, buf, len);
}

int wipe_record_refused(const char *device, const char *reason, char *buf, size_t len)
{
	json_object *o = base("wipe-failed", device);

	if (o == NULL)
		return -ENOMEM;
	json_object_object_add(o, "event.outcome", json_object_new_string("failure"));
	json_object_object_add(o, "event.reason", json_object_new_string(reason));
	json_object_object_add(o, "wipe.status", json_object_new_string("refused"));
	return finish(o, buf, len);
}

int wipe_record_final(const char *device, const struct wipe_cert *c, const struct wipe_signer *s,
		      char *buf, size_t len)
{
	static char signed_json[16384];
	json_object *o, *cert;
	int n = wipe_cert_signed_json(c, s, signed_json, sizeof(signed_json));

	if (n < 0)
		return n;
	cert = json_tokener_parse(signed_json);
	o = base(c->status == WIPE_OK ? "wipe-done" : "wipe-failed", device);
	if (cert == NULL || o == NULL) {
		json_object_put(cert);
		json_object_put(o);
		return -ENOMEM;
	}
	json_object_object_add(
	    o, "event.outcome",
	    json_object_new_string(c->status == WIPE_OK ? "success" : "failure"));
	if (c->status != WIPE_OK)
		json_object_object_add(o, "event.reason", json_object_new_string(c->reason));
	json_object_object_add(o, "wipe.status",
			       json_object_new_string(wipe_status_name(c->status)));
	json_object_object_add(o, "wipe.certificate", cert);
	return finish(o, buf, len);
}
