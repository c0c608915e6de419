/*
 * report.c - the wiper's progress and result lines: one JSON object per line on its
 * stdout ({"event":"start"|"progress"|"result",...}). Formatting is linked by
 * portcullis-wiper; parsing by the CLI and the daemon parent, which must treat every
 * line as untrusted (the wiper is unprivileged): types, ranges and lengths are checked.
 */
#include "wipe.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#define REPORT_NAME "<wiper report>"
#define REPORT_MAX  4096

static const char *const phase_names[] = {"write", "verify", "discard", "done"};

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static void add_dbl(json_object *o, const char *k, double v)
{
	char txt[32];

	/* Three decimals keep lines short and stable. */
	if (!isfinite(v) || v < 0)
		v = 0;
	snprintf(txt, sizeof(txt), "%.3f", v);
	json_object_object_add(o, k, json_object_new_double_s(v, txt));
}

int wipe_report_format(const struct wipe_report *r, char *buf, size_t len)
{
	json_object *o = json_object_new_object();
	const char *s;
	int n;

	if (o == NULL)
		return -ENOMEM;
	switch (r->kind) {
	case WIPE_REPORT_START:
		json_object_object_add(o, "event", json_object_new_string("start"));
		add_u64(o, "size", r->size);
		json_object_object_add(o, "time", json_object_new_int64(r->time));
		break;
	case WIPE_REPORT_PROGRESS:
		json_object_object_add(o, "event", json_object_new_string("progress"));
		json_object_object_add(o, "phase",
				       json_object_new_string(phase_names[r->progress.phase & 3]));
		add_u64(o, "done", r->progress.done);
		add_u64(o, "total", r->progress.total);
		add_dbl(o, "rate", r->progress.rate);
		add_dbl(o, "eta", r->progress.eta);
		add_dbl(o, "elapsed", r->progress.elapsed);
		break;
	case WIPE_REPORT_RESULT:
		json_object_object_add(o, "event", json_object_new_string("result"));
		json_object_object_add(o, "status",
				       json_object_new_string(wipe_status_name(r->result.status)));
		json_object_object_add(o, "reason", json_object_new_string(r->result.reason));
		json_object_object_add(o, "err", json_object_new_int(r->result.err));
		add_u64(o, "written", r->result.written);
		add_u64(o, "verified", r->result.verified);
		add_u64(o, "first_bad", r->result.first_bad);
		add_u64(o, "first_bad_block", r->result.first_bad_block);
		add_u64(o, "wrapped_to", r->result.wrapped_to);
		json_object_object_add(o, "discarded",
				       json_object_new_boolean(r->result.discarded));
		add_dbl(o, "write_seconds", r->result.write_seconds);
		add_dbl(o, "verify_seconds", r->result.verify_seconds);
		json_object_object_add(o, "time", json_object_new_int64(r->time));
		break;
	default:
		json_object_put(o);
		return -EINVAL;
	}
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	n = snprintf(buf, len, "%s\n", s);
	json_object_put(o);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

static int get_u64(json_object *o, const char *k, uint64_t *out, struct pcl_diag *d)
{
	json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int)) {
		pcl_diag_set(d, REPORT_NAME, 0, "field '%s': missing or not an integer", k);
		return -EINVAL;
	}
	errno = 0;
	x = json_object_get_int64(v);
	if (x < 0 || errno != 0) {
		pcl_diag_set(d, REPORT_NAME, 0, "field '%s': out of range", k);
		return -EINVAL;
	}
	*out = (uint64_t)x;
	return 0;
}

static int get_dbl(json_object *o, const char *k, double *out, struct pcl_diag *d)
{
	json_object *v;
	double x;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))) {
		pcl_diag_set(d, REPORT_NAME, 0, "field '%s': missing or not a number", k);
		return -EINVAL;
	}
	x = json_object_get_double(v);
	if (!isfinite(x) || x < 0 || x > 1e15) {
		pcl_diag_set(d, REPORT_NAME, 0, "field '%s': out of range", k);
		return -EINVAL;
	}
	*out = x;
	return 0;
}

static int get_str(json_object *o, const char *k, char *out, size_t outlen, struct pcl_diag *d)
{
	json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string)) {
		pcl_diag_set(d, REPORT_NAME, 0, "field '%s': missing or not a string", k);
		return -EINVAL;
	}
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n >= outlen || memchr(s, '\0', n) != NULL) {
		pcl_diag_set(d, REPORT_NAME, 0, "field '%s': too long or contains NUL", k);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			pcl_diag_set(d, REPORT_NAME, 0, "field '%s': control character", k);
			return -EINVAL;
		}
	memcpy(out, s, n + 1);
	return 0;
}

static int parse_obj(json_object *o, struct wipe_report *r, struct pcl_diag *d)
{
	char ev[16], name[24];
	uint64_t t = 0, err = 0;
	json_object *v;

	if (get_str(o, "event", ev, sizeof(ev), d) != 0)
		return -EINVAL;
	if (strcmp(ev, "start") == 0) {
		r->kind = WIPE_REPORT_START;
		if (get_u64(o, "size", &r->size, d) || get_u64(o, "time", &t, d))
			return -EINVAL;
		r->time = (int64_t)t;
		return 0;
	}
	if (strcmp(ev, "progress") == 0) {
		struct wipe_progress *p = &r->progress;
		int ph = -1;

		r->kind = WIPE_REPORT_PROGRESS;
		if (get_str(o, "phase", name, sizeof(name), d) != 0)
			return -EINVAL;
		for (int i = 0; i < 4; i++)
			if (strcmp(name, phase_names[i]) == 0)
				ph = i;
		if (ph < 0) {
			pcl_diag_set(d, REPORT_NAME, 0, "field 'phase': unknown '%s'", name);
			return -EINVAL;
		}
		p->phase = (enum wipe_phase)ph;
		if (get_u64(o, "done", &p->done, d) || get_u64(o, "total", &p->total, d) ||
		    get_dbl(o, "rate", &p->rate, d) || get_dbl(o, "eta", &p->eta, d) ||
		    get_dbl(o, "elapsed", &p->elapsed, d))
			return -EINVAL;
		if (p->done > p->total) {
			pcl_diag_set(d, REPORT_NAME, 0, "field 'done': larger than 'total'");
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(ev, "result") == 0) {
		struct wipe_result *res = &r->result;

		r->kind = WIPE_REPORT_RESULT;
		if (get_str(o, "status", name, sizeof(name), d) != 0)
			return -EINVAL;
		if (wipe_status_parse(name, &res->status) != 0) {
			pcl_diag_set(d, REPORT_NAME, 0, "field 'status': unknown '%s'", name);
			return -EINVAL;
		}
		if (get_str(o, "reason", res->reason, sizeof(res->reason), d) ||
		    get_u64(o, "err", &err, d) || get_u64(o, "written", &res->written, d) ||
		    get_u64(o, "verified", &res->verified, d) ||
		    get_u64(o, "first_bad", &res->first_bad, d) ||
		    get_u64(o, "first_bad_block", &res->first_bad_block, d) ||
		    get_u64(o, "wrapped_to", &res->wrapped_to, d) ||
		    get_dbl(o, "write_seconds", &res->write_seconds, d) ||
		    get_dbl(o, "verify_seconds", &res->verify_seconds, d) ||
		    get_u64(o, "time", &t, d))
			return -EINVAL;
		if (err > 4095) {
			pcl_diag_set(d, REPORT_NAME, 0, "field 'err': out of range");
			return -EINVAL;
		}
		res->err = (int)err;
		r->time = (int64_t)t;
		if (!json_object_object_get_ex(o, "discarded", &v) ||
		    !json_object_is_type(v, json_type_boolean)) {
			pcl_diag_set(d, REPORT_NAME, 0,
				     "field 'discarded': missing or not a boolean");
			return -EINVAL;
		}
		res->discarded = json_object_get_boolean(v);
		if (res->status == WIPE_OK &&
		    (res->reason[0] != '\0' || res->verified != res->written)) {
			pcl_diag_set(d, REPORT_NAME, 0,
				     "status 'ok' with a reason or short verify");
			return -EINVAL;
		}
		return 0;
	}
	pcl_diag_set(d, REPORT_NAME, 0, "field 'event': unknown '%s'", ev);
	return -EINVAL;
}

int wipe_report_parse(const char *line, size_t len, struct wipe_report *r, struct pcl_diag *d)
{
	json_tokener *tok;
	json_object *o;
	int rc;

	memset(r, 0, sizeof(*r));
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len == 0 || len > REPORT_MAX) {
		pcl_diag_set(d, REPORT_NAME, 0, "line empty or longer than %d bytes", REPORT_MAX);
		return -EINVAL;
	}
	tok = json_tokener_new_ex(8);
	if (tok == NULL)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o == NULL || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object)) {
		pcl_diag_set(d, REPORT_NAME, 0, "not one JSON object (%s)",
			     json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(o);
		json_tokener_free(tok);
		return -EINVAL;
	}
	json_tokener_free(tok);
	rc = parse_obj(o, r, d);
	json_object_put(o);
	return rc;
}
