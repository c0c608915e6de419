/*
 * fleet_status.c - `portcullis fleet status` output: a table per council and PC, the same
 * as JSON, and as Prometheus metrics in the node exporter's textfile format.
 * Linked by the portcullis CLI; input is the fleet store (written by fleet verify), whose
 * strings came from PC trails: they are escaped for JSON and for metric labels.
 */
#include "fleet.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static uint64_t owed(const struct fleet_pc *p)
{
	uint64_t settled = p->wipes_done + p->wipes_missed;

	return p->wipes_requested > settled ? p->wipes_requested - settled : 0;
}

static bool silent(const struct fleet_pc *p, int64_t now, int64_t after)
{
	int64_t t = fleet_time(p->last_time);

	return t < 0 || now - t > after;
}

static const char *state_of(const struct fleet_pc *p, int64_t now, int64_t after)
{
	if (p->failing)
		return "FAILED";
	if (p->last_seq == 0)
		return "never-heard";
	if (silent(p, now, after) || p->stale)
		return "SILENT";
	if (p->gap_since)
		return "waiting-for-resend";
	return "ok";
}

static const char *dash(const char *s)
{
	return s && s[0] ? s : "-";
}

bool fleet_replays_many(const struct fleet_pc *p, int64_t now)
{
	int n = 0;

	for (int i = 0; i < FLEET_REPLAYS_MANY; i++)
		n += p->replay_at[i] > 0 && now - p->replay_at[i] <= FLEET_REPLAYS_WINDOW_S;
	return n >= FLEET_REPLAYS_MANY;
}

/* The PC's trail restored after power cuts, in words (under its row of the table). */
static void replays_text(FILE *f, const struct fleet_pc *p, int64_t now)
{
	if (p->replays == 0)
		return;
	fprintf(f,
		"    power cut: the trail was restored after a power cut %" PRIu64
		" time%s, last at %s",
		p->replays, p->replays == 1 ? "" : "s", dash(p->last_replay));
	if (fleet_replays_many(p, now))
		fprintf(f,
			"; %d or more within %d days: likely a failing disk (or the power cut on "
			"purpose), check this PC",
			FLEET_REPLAYS_MANY, FLEET_REPLAYS_WINDOW_S / 86400);
	fputc('\n', f);
}

static void text(FILE *f, const struct fleet_pc *v, int n, int64_t now, int64_t after)
{
	const char *council = NULL;

	for (int i = 0; i < n; i++) {
		const struct fleet_pc *p = &v[i];
		if (council == NULL || strcmp(council, p->council) != 0) {
			council = p->council;
			fprintf(f, "%scouncil %s\n", i ? "\n" : "", council);
			fprintf(f, "  %-20s %-18s %8s %-24s %8s %-24s %-10s %5s %5s %5s %15s %5s\n",
				"PC", "STATE", "LAST", "LAST RECORD", "CKPT", "CHECKPOINT TIME",
				"BUNDLE", "EXC", "REF", "BLK", "WIPES D/M/OWED", "FAIL");
		}
		char wipes[64];
		snprintf(wipes, sizeof(wipes), "%" PRIu64 "/%" PRIu64 "/%" PRIu64, p->wipes_done,
			 p->wipes_missed, owed(p));
		fprintf(f,
			"  %-20s %-18s %8" PRIu64 " %-24.24s %8" PRIu64 " %-24.24s %-10s %5" PRIu64
			" %5" PRIu64 " %5" PRIu64 " %15s %5" PRIu64 "\n",
			p->pc, state_of(p, now, after), p->last_seq, dash(p->last_time),
			p->ckpt_seq, dash(p->ckpt_time), dash(p->bundle), p->exceptions,
			p->refusals, p->blocked, wipes, p->failures);
		if (p->failing)
			fprintf(f, "    failure: %s\n", p->last_failure);
		replays_text(f, p, now);
	}
}

static void add_u(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static void add_s(struct json_object *o, const char *k, const char *s)
{
	json_object_object_add(o, k, s && s[0] ? json_object_new_string(s) : NULL);
}

static int json(FILE *f, const struct fleet_pc *v, int n, int64_t now, int64_t after)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; i < n; i++) {
		const struct fleet_pc *p = &v[i];
		struct json_object *o = json_object_new_object();
		add_s(o, "council", p->council);
		add_s(o, "pc", p->pc);
		add_s(o, "state", state_of(p, now, after));
		add_u(o, "last_seq", p->last_seq);
		add_s(o, "last_record_time", p->last_time);
		add_u(o, "checkpoint_seq", p->ckpt_seq);
		add_s(o, "checkpoint_time", p->ckpt_time);
		add_s(o, "bundle_version", p->bundle);
		add_u(o, "exceptions", p->exceptions);
		add_u(o, "refusals", p->refusals);
		add_u(o, "devices_blocked", p->blocked);
		add_u(o, "wipes_done", p->wipes_done);
		add_u(o, "wipes_missed", p->wipes_missed);
		add_u(o, "wipes_owed", owed(p));
		add_u(o, "clock_jumps", p->clock_jumps);
		add_u(o, "trail_replays", p->replays);
		add_s(o, "last_trail_replay_time", p->last_replay);
		json_object_object_add(o, "trail_replays_failing_disk",
				       json_object_new_boolean(fleet_replays_many(p, now)));
		add_u(o, "verification_failures", p->failures);
		add_s(o, "failure", p->failing ? p->last_failure : NULL);
		json_object_array_add(arr, o);
	}
	fprintf(f, "%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
	json_object_put(arr);
	return 0;
}

/* A label value: backslash, quote and newline escaped as the text format requires. */
static void label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void metric(FILE *f, const char *name, const struct fleet_pc *p, double v)
{
	fprintf(f, "%s{council=\"", name);
	label(f, p->council);
	fputs("\",pc=\"", f);
	label(f, p->pc);
	fprintf(f, "\"} %.17g\n", v);
}

static const struct {
	const char *name, *type, *help;
} prom_help[] = {
    {"portcullis_fleet_last_record_timestamp_seconds", "gauge",
     "Time of the last verified record (0 = none)"},
    {"portcullis_fleet_last_seq", "gauge", "Last verified record sequence number"},
    {"portcullis_fleet_checkpoint_seq", "gauge", "Last verified checkpoint (the witness)"},
    {"portcullis_fleet_checkpoint_timestamp_seconds", "gauge", "Time of that checkpoint"},
    {"portcullis_fleet_silent", "gauge",
     "1 when no record for --silent-after or no checkpoint for interval + margin"},
    {"portcullis_fleet_verify_ok", "gauge", "1 when the last verification passed"},
    {"portcullis_fleet_verification_failures_total", "counter", "Runs that failed to verify"},
    {"portcullis_fleet_exceptions_total", "counter", "Exceptions approved"},
    {"portcullis_fleet_refusals_total", "counter", "Refusals (exceptions, approvers, wipes)"},
    {"portcullis_fleet_devices_blocked_total", "counter", "Devices blocked or rejected"},
    {"portcullis_fleet_wipes_done_total", "counter", "Wipes done"},
    {"portcullis_fleet_wipes_missed_total", "counter", "Wipes missed"},
    {"portcullis_fleet_wipes_owed", "gauge", "Wipes requested and not yet done or missed"},
    {"portcullis_fleet_clock_jumps_total", "counter", "Records dated before their predecessor"},
    {"portcullis_fleet_trail_replays_total", "counter",
     "Times the trail was restored after a power cut (audit-intent-replayed records)"},
    {"portcullis_fleet_trail_replay_last_timestamp_seconds", "gauge",
     "Time of the last of them (0 = none)"},
    {"portcullis_fleet_pc_info", "gauge", "Bundle version named by the trail (- = none)"},
};

static void prom(FILE *f, const struct fleet_pc *v, int n, int64_t now, int64_t after)
{
	size_t np = sizeof(prom_help) / sizeof(prom_help[0]);

	for (size_t m = 0; m < np; m++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", prom_help[m].name, prom_help[m].help,
			prom_help[m].name, prom_help[m].type);
		for (int i = 0; i < n; i++) {
			const struct fleet_pc *p = &v[i];
			int64_t t = fleet_time(p->last_time), c = fleet_time(p->ckpt_time),
				r = fleet_time(p->last_replay);
			double val = 0;
			switch (m) {
			case 0:
				val = t > 0 ? (double)t : 0;
				break;
			case 1:
				val = (double)p->last_seq;
				break;
			case 2:
				val = (double)p->ckpt_seq;
				break;
			case 3:
				val = c > 0 ? (double)c : 0;
				break;
			case 4:
				val = silent(p, now, after);
				break;
			case 5:
				val = !p->failing;
				break;
			case 6:
				val = (double)p->failures;
				break;
			case 7:
				val = (double)p->exceptions;
				break;
			case 8:
				val = (double)p->refusals;
				break;
			case 9:
				val = (double)p->blocked;
				break;
			case 10:
				val = (double)p->wipes_done;
				break;
			case 11:
				val = (double)p->wipes_missed;
				break;
			case 12:
				val = (double)owed(p);
				break;
			case 13:
				val = (double)p->clock_jumps;
				break;
			case 14:
				val = (double)p->replays;
				break;
			case 15:
				val = r > 0 ? (double)r : 0;
				break;
			default:
				fprintf(f, "%s{council=\"", prom_help[m].name);
				label(f, p->council);
				fputs("\",pc=\"", f);
				label(f, p->pc);
				fputs("\",bundle=\"", f);
				label(f, dash(p->bundle));
				fputs("\"} 1\n", f);
				continue;
			}
			metric(f, prom_help[m].name, p, val);
		}
	}
	fprintf(f,
		"# HELP portcullis_fleet_verify_run_timestamp_seconds Last fleet verify run\n"
		"# TYPE portcullis_fleet_verify_run_timestamp_seconds gauge\n"
		"portcullis_fleet_verify_run_timestamp_seconds %" PRId64 "\n",
		now);
}

int fleet_print(FILE *f, enum fleet_fmt fmt, const struct fleet_pc *pcs, int n, int64_t now,
		int64_t silent_after_s)
{
	if (fmt == FLEET_JSON)
		return json(f, pcs, n, now, silent_after_s);
	if (fmt == FLEET_PROM)
		prom(f, pcs, n, now, silent_after_s);
	else
		text(f, pcs, n, now, silent_after_s);
	return ferror(f) ? -EIO : 0;
}

int fleet_write_prom(const char *path, const struct fleet_pc *pcs, int n, int64_t now,
		     int64_t silent_after_s, int unenrolled, const struct fleet_paths *p,
		     int64_t owed_days)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int rc;

	if (m == NULL)
		return -ENOMEM;
	prom(m, pcs, n, now, silent_after_s);
	fleet_owed_prom(m, p, pcs, n, now, owed_days);
	fprintf(
	    m,
	    "# HELP portcullis_fleet_unenrolled_sources Collected directories of no enrolled PC\n"
	    "# TYPE portcullis_fleet_unenrolled_sources gauge\n"
	    "portcullis_fleet_unenrolled_sources %d\n",
	    unenrolled);
	if (fclose(m) != 0) {
		free(buf);
		return -ENOMEM;
	}
	rc = fleet_write_file(path, buf, len, 0644, false);
	free(buf);
	return rc;
}
