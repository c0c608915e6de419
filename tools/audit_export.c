/*
 * audit_export.c - `portcullis audit export`: records of a date range (optionally one
 * person's, for a subject access request) as JSON, CSV or one self-contained HTML page
 * with a per-day chart. Linked by the portcullis CLI; trail contents are untrusted and
 * are escaped for each output format. Export does not verify: run `audit verify` first.
 */
#include "audit_files.h"
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "audit.h"
#include "textesc.h"

static const char *const columns[] = {"seq",	   "@timestamp",   "host.name",
				      "user.name", "event.action", "event.outcome",
				      "file.path", "file.size",	   "file.hash.sha256"};
#define NCOLS (sizeof(columns) / sizeof(columns[0]))
static const char *const internal[] = {"prev", "salt", "mac", "epoch", "boot_id", "audit.type"};

/* Field by flat ECS name ("user.name") or nested objects (user -> name). */
static struct json_object *field(struct json_object *o, const char *name)
{
	struct json_object *v;
	char part[128];
	const char *dot;

	if (json_object_object_get_ex(o, name, &v))
		return v;
	dot = strchr(name, '.');
	if (dot == NULL || (size_t)(dot - name) >= sizeof(part))
		return NULL;
	memcpy(part, name, (size_t)(dot - name));
	part[dot - name] = '\0';
	if (!json_object_object_get_ex(o, part, &v) || !json_object_is_type(v, json_type_object))
		return NULL;
	return field(v, dot + 1);
}

static const char *text_of(struct json_object *o, const char *name)
{
	struct json_object *v = field(o, name);

	if (v == NULL)
		return "";
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

/* Everything not in a column and not chain bookkeeping, as compact JSON. */
static const char *details(struct json_object *o, struct json_object **keep)
{
	struct json_object *d = json_object_new_object();

	json_object_object_foreach(o, k, v)
	{
		bool skip = false;
		for (size_t i = 0; i < NCOLS && !skip; i++)
			skip = strcmp(k, columns[i]) == 0;
		for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]) && !skip; i++)
			skip = strcmp(k, internal[i]) == 0;
		if (!skip)
			json_object_object_add(d, k, json_object_get(v));
	}
	*keep = d;
	return json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
}

struct day {
	char date[11];
	unsigned count;
};

static void html_page(FILE *f, struct json_object *arr, const char *from, const char *to,
		      const char *user)
{
	size_t n = json_object_array_length(arr), nd = 0;
	struct day *days = calloc(n + 1, sizeof(*days));
	unsigned max = 1;
	struct json_object *keep;

	for (size_t i = 0; i < n && days; i++) {
		const char *ts = text_of(json_object_array_get_idx(arr, i), "@timestamp");
		if (nd == 0 || strncmp(days[nd - 1].date, ts, 10) != 0) {
			snprintf(days[nd].date, sizeof(days[nd].date), "%.10s", ts);
			nd++;
		}
		if (++days[nd - 1].count > max)
			max = days[nd - 1].count;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>Portcullis audit report</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:2em;color:#222}\n"
	      "table{border-collapse:collapse;font-size:0.85em}\n"
	      "td,th{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}\n"
	      "th{background:#eee}.bar{background:#2a6;height:1em;display:inline-block}\n"
	      ".chart td{border:none}\n</style></head><body>\n<h1>Portcullis audit report</h1>\n",
	      f);
	fputs("<p>Records from ", f);
	pcl_html_text(f, from);
	fputs(" to ", f);
	pcl_html_text(f, to);
	if (user) {
		fputs(" for user <strong>", f);
		pcl_html_text(f, user);
		fputs("</strong>", f);
	}
	fprintf(f, ": %zu.</p>\n<h2>Records per day</h2>\n<table class=\"chart\">\n", n);
	for (size_t i = 0; i < nd; i++) {
		fputs("<tr><td>", f);
		pcl_html_text(f, days[i].date);
		fprintf(f,
			"</td><td><span class=\"bar\" style=\"width:%upx\"></span> %u</td></tr>\n",
			1 + days[i].count * 400 / max, days[i].count);
	}
	fputs("</table>\n<h2>Records</h2>\n<table>\n<tr>", f);
	for (size_t c = 0; c < NCOLS; c++) {
		fputs("<th>", f);
		pcl_html_text(f, columns[c]);
		fputs("</th>", f);
	}
	fputs("<th>details</th></tr>\n", f);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		fputs("<tr>", f);
		for (size_t c = 0; c < NCOLS; c++) {
			fputs("<td>", f);
			pcl_html_text(f, text_of(o, columns[c]));
			fputs("</td>", f);
		}
		fputs("<td>", f);
		pcl_html_text(f, details(o, &keep));
		json_object_put(keep);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n</body></html>\n", f);
	free(days);
}

static bool valid_date(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	return true;
}

/* Records already exported, by seq: a collector's copy can repeat a record (RELP resend),
 * and a record is listed once. Open addressing; seq 0 marks a free slot. */
struct seen {
	uint64_t *seq;
	size_t cap, n;
};

static bool seen_add(struct seen *s, uint64_t seq)
{
	if (s->n * 2 >= s->cap) {
		struct seen g = {calloc(s->cap ? s->cap * 2 : 4096, sizeof(uint64_t)),
				 s->cap ? s->cap * 2 : 4096, 0};
		if (g.seq == NULL)
			return true; /* out of memory: list it rather than lose it */
		for (size_t i = 0; i < s->cap; i++)
			if (s->seq[i])
				seen_add(&g, s->seq[i]);
		free(s->seq);
		*s = g;
	}
	size_t i = (size_t)(seq * 0x9e3779b97f4a7c15ull) & (s->cap - 1);
	while (s->seq[i] && s->seq[i] != seq)
		i = (i + 1) & (s->cap - 1);
	if (s->seq[i] == seq)
		return false;
	s->seq[i] = seq;
	s->n++;
	return true;
}

/* A subject access request: records about the person by name (their own, and approvals
 * they made as approver) or by uid (requests and transfers recorded by uid). */
static bool about(struct json_object *o, const char *name, const char *uid)
{
	if (name == NULL && uid == NULL)
		return true;
	if (name && (strcmp(text_of(o, "user.name"), name) == 0 ||
		     strcmp(text_of(o, "approval.approver"), name) == 0))
		return true;
	return uid && strcmp(text_of(o, "user.id"), uid) == 0;
}

static int collect(char **files, int n, const char *from, const char *to, const char *user,
		   const char *uid, struct json_object *arr)
{
	struct seen seen = {0};

	for (int i = 0; i < n; i++) {
		FILE *f = fopen(files[i], "re");
		char *line = NULL;
		size_t cap = 0;
		ssize_t l;
		unsigned lineno = 0;

		if (f == NULL) {
			free(seen.seq);
			return pcl_fail("%s: %s", files[i], strerror(errno));
		}
		while ((l = getline(&line, &cap, f)) > 0) {
			struct json_object *o;
			struct pcl_diag d = {0};
			char msg[400];
			lineno++;
			if (line[l - 1] != '\n')
				break; /* half a record: not exported */
			line[--l] = '\0';
			if (audit_record_parse(line, (size_t)l, &o, &d) != 0) {
				pcl_diag_format(&d, msg, sizeof(msg));
				fprintf(stderr, "portcullis: %s:%u: skipped: %s\n", files[i],
					lineno, msg + strlen(d.file) + 2);
				continue;
			}
			const char *ts = text_of(o, "@timestamp"), *type = text_of(o, "audit.type");
			bool keep = strcmp(type, "record") == 0 && strlen(ts) >= 10 &&
				    strncmp(ts, from, 10) >= 0 && strncmp(ts, to, 10) <= 0 &&
				    about(o, user, uid);
			uint64_t seq = 0;
			if (keep && audit_line_seq(line, (size_t)l, &seq) == 0 &&
			    !seen_add(&seen, seq)) {
				fprintf(stderr,
					"portcullis: %s:%u: seq %llu already listed: skipped "
					"(a repeat; run audit verify)\n",
					files[i], lineno, (unsigned long long)seq);
				keep = false;
			}
			if (keep)
				json_object_array_add(arr, o);
			else
				json_object_put(o);
		}
		free(line);
		fclose(f);
	}
	free(seen.seq);
	return 0;
}

int audit_cli_export(int argc, char **argv)
{
	static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
					     {"to", required_argument, NULL, 't'},
					     {"user", required_argument, NULL, 'u'},
					     {"format", required_argument, NULL, 'F'},
					     {"output", required_argument, NULL, 'o'},
					     {"uid", required_argument, NULL, 'U'},
					     {NULL, 0, NULL, 0}};
	const char *from = NULL, *to = NULL, *user = NULL, *format = NULL, *output = NULL;
	const char *uid = NULL;
	char who[300];
	struct json_object *arr, *keep;
	char **files = NULL;
	FILE *out = stdout;
	int c, n, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'F':
			format = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'U':
			uid = optarg;
			if (*uid == '\0' || strspn(uid, "0123456789") != strlen(uid) ||
			    strlen(uid) > 10)
				return pcl_fail("--uid: not a user id: \"%s\"", uid);
			break;
		default:
			return 2;
		}
	}
	if (!from || !to || !format || optind == argc) {
		fputs("usage: portcullis audit export --from YYYY-MM-DD --to YYYY-MM-DD "
		      "[--user NAME] [--uid UID] --format json|csv|html [--output FILE] "
		      "PATH...\n",
		      stderr);
		return 2;
	}
	if (!valid_date(from) || !valid_date(to))
		return pcl_fail("--from/--to: expected YYYY-MM-DD, got \"%s\" and \"%s\"", from,
				to);
	if (strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "html"))
		return pcl_fail("--format: expected json, csv or html, got \"%s\"", format);
	n = audit_cli_files(argv + optind, argc - optind, &files);
	if (n < 0)
		return 1;
	arr = json_object_new_array();
	rc = collect(files, n, from, to, user, uid, arr);
	audit_cli_files_free(files, n);
	if (rc == 0 && output && (out = fopen(output, "we")) == NULL)
		rc = pcl_fail("%s: %s", output, strerror(errno));
	if (rc == 0 && strcmp(format, "json") == 0) {
		fputs(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE),
		      out);
		fputc('\n', out);
	} else if (rc == 0 && strcmp(format, "csv") == 0) {
		for (size_t i = 0; i < NCOLS; i++)
			fprintf(out, "%s,", columns[i]);
		fputs("details\r\n", out);
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *o = json_object_array_get_idx(arr, i);
			for (size_t k = 0; k < NCOLS; k++) {
				pcl_csv_cell(out, text_of(o, columns[k]));
				fputc(',', out);
			}
			pcl_csv_cell(out, details(o, &keep));
			json_object_put(keep);
			fputs("\r\n", out);
		}
	} else if (rc == 0) {
		if (user && uid)
			snprintf(who, sizeof(who), "%s (uid %s)", user, uid);
		else if (uid)
			snprintf(who, sizeof(who), "uid %s", uid);
		html_page(out, arr, from, to, user || uid ? (user && !uid ? user : who) : NULL);
	}
	if (out != stdout && out != NULL && fclose(out) != 0 && rc == 0)
		rc = pcl_fail("%s: %s", output, strerror(errno));
	json_object_put(arr);
	return rc;
}
