/*
 * fleet_owed.c - the owed wipes of a council, from its PCs' verified trails: a take-out
 * stick that left a PC written (`wipe-owed`) stays open until any PC of the council
 * records `wipe-owed-closed` with the same reference (wiped there, or closed by hand with
 * a reason). `fleet verify` keeps what each run verified in fleet/<council>/<pc>/owed.jsonl;
 * `portcullis fleet owed` lists the open ones (text, or JSON for `portcullis bundle build
 * --owed`), and an open one older than the limit (days) is `wipe-owed-overdue`.
 * Linked by the portcullis CLI. The records came from PC trails that verified; their
 * strings are still the PCs' words, kept as JSON strings and cut for the table.
 */
#include "fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "commands.h"

#define OWED_FILE_MAX (16u << 20)

static const char *field(struct json_object *o, const char *k)
{
	struct json_object *s;

	return json_object_object_get_ex(o, k, &s) && json_object_is_type(s, json_type_string)
		   ? json_object_get_string(s)
		   : "";
}

void fleet_owed_note(FILE *acc, const char *pc, const char *action, struct json_object *rec)
{
	bool opened = strcmp(action, "wipe-owed") == 0;
	struct json_object *cap, *line;

	if (!opened && strcmp(action, "wipe-owed-closed") != 0)
		return;
	if (!*field(rec, "approval.ref"))
		return; /* nothing to match it by */
	line = json_object_new_object();
	json_object_object_add(line, "event", json_object_new_string(opened ? "owed" : "closed"));
	json_object_object_add(line, "ref", json_object_new_string(field(rec, "approval.ref")));
	json_object_object_add(line, "pc", json_object_new_string(pc));
	json_object_object_add(line, "time", json_object_new_string(field(rec, "@timestamp")));
	json_object_object_add(line, "usb_hash", json_object_new_string(field(rec, "usb.hash")));
	json_object_object_add(line, "vid", json_object_new_string(field(rec, "volume.vendor_id")));
	json_object_object_add(line, "pid",
			       json_object_new_string(field(rec, "volume.product_id")));
	json_object_object_add(line, "serial",
			       json_object_new_string(field(rec, "volume.serial_number")));
	json_object_object_add(line, "reason", json_object_new_string(field(rec, "event.reason")));
	if (json_object_object_get_ex(rec, "wipe.capacity_bytes", &cap) &&
	    json_object_is_type(cap, json_type_int))
		json_object_object_add(line, "capacity", json_object_get(cap));
	if (json_object_object_get_ex(rec, "wipe.owed_days", &cap) &&
	    json_object_is_type(cap, json_type_int) && json_object_get_int64(cap) > 0 &&
	    json_object_get_int64(cap) <= 3650)
		json_object_object_add(line, "owed_days", json_object_get(cap));
	fprintf(acc, "%s\n", json_object_to_json_string_ext(line, JSON_C_TO_STRING_PLAIN));
	json_object_put(line);
}

static void owed_path(char *out, size_t len, const struct fleet_paths *p, const struct fleet_pc *pc)
{
	snprintf(out, len, "%s/%s/%s/owed.jsonl", p->fleet, pc->council, pc->pc);
}

int fleet_owed_commit(const struct fleet_paths *p, const struct fleet_pc *pc, const char *buf,
		      size_t len)
{
	char path[4300];
	int fd, rc = 0;

	if (len == 0)
		return 0;
	owed_path(path, sizeof(path), p, pc);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

void fleet_owed_reset(const struct fleet_paths *p, const struct fleet_pc *pc)
{
	char path[4300];

	owed_path(path, sizeof(path), p, pc);
	unlink(path);
}

/* Every owed and closed line of the council's PCs into opened (by reference, the first
 * opening kept) and closed (references). */
static int gather(const struct fleet_paths *p, const char *council, struct json_object *opened,
		  struct json_object *closed)
{
	struct fleet_pc *pcs = NULL;
	int n = fleet_list(p, council, &pcs);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		char path[4300];
		size_t len;
		owed_path(path, sizeof(path), p, &pcs[i]);
		char *text = fleet_read_file(path, &len, OWED_FILE_MAX);
		for (char *save = NULL, *l = text ? strtok_r(text, "\n", &save) : NULL; l;
		     l = strtok_r(NULL, "\n", &save)) {
			struct json_object *o = json_tokener_parse(l), *old;
			const char *ref = o ? field(o, "ref") : "";
			if (o == NULL || !*ref) {
				json_object_put(o);
				continue;
			}
			json_object_object_add(o, "council",
					       json_object_new_string(pcs[i].council));
			if (strcmp(field(o, "event"), "closed") == 0)
				json_object_object_add(closed, ref, o);
			else if (!json_object_object_get_ex(opened, ref, &old))
				json_object_object_add(opened, ref, o);
			else
				json_object_put(o);
		}
		free(text);
	}
	free(pcs);
	return 0;
}

int fleet_owed_list(const struct fleet_paths *p, const char *council, int64_t now,
		    int64_t limit_days, struct json_object **out)
{
	struct json_object *opened = json_object_new_object(), *closed = json_object_new_object();
	int rc = gather(p, council, opened, closed);

	*out = json_object_new_array();
	json_object_object_foreach(opened, ref, o)
	{
		struct json_object *c;
		if (rc != 0 || json_object_object_get_ex(closed, ref, &c))
			continue;
		int64_t t = fleet_time(field(o, "time"));
		int64_t age = t >= 0 && now > t ? (now - t) / 86400 : 0;
		/* The limit of the council's profile, recorded by the PC; else the option's. */
		struct json_object *d;
		int64_t days = json_object_object_get_ex(o, "owed_days", &d) &&
				       json_object_is_type(d, json_type_int)
				   ? json_object_get_int64(d)
				   : limit_days;
		json_object_object_add(o, "age_days", json_object_new_int64(age));
		json_object_object_add(o, "owed_days", json_object_new_int64(days));
		json_object_object_add(o, "state",
				       json_object_new_string(t >= 0 && now - t > days * 86400
								  ? "wipe-owed-overdue"
								  : "wipe-owed"));
		json_object_array_add(*out, json_object_get(o));
	}
	json_object_put(opened);
	json_object_put(closed);
	return rc;
}

int fleet_owed_counts(const struct fleet_paths *p, const char *council, int64_t now,
		      int64_t limit_days, int *open, int *overdue)
{
	struct json_object *arr;
	int rc = fleet_owed_list(p, council, now, limit_days, &arr);

	*open = *overdue = 0;
	for (size_t i = 0; rc == 0 && i < json_object_array_length(arr); i++) {
		(*open)++;
		*overdue += strcmp(field(json_object_array_get_idx(arr, i), "state"),
				   "wipe-owed-overdue") == 0;
	}
	json_object_put(arr);
	return rc;
}

static int days_arg(const char *s, int64_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (*end || end == s || v < 1 || v > 3650)
		return pcl_fail("--owed-days: a number of days, 1 to 3650, not %s", s);
	*out = v;
	return 0;
}

/* A PC's string for the terminal: printable ASCII only. */
static const char *shown(const char *s, char *buf, size_t len)
{
	size_t k = 0;

	for (; *s && k + 1 < len; s++)
		buf[k++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
	buf[k] = '\0';
	return buf;
}

int fleet_cmd_owed(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"fleet", required_argument, NULL, 'f'},	 {"council", required_argument, NULL, 'C'},
	    {"format", required_argument, NULL, 'F'},	 {"at", required_argument, NULL, 'a'},
	    {"owed-days", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};
	struct fleet_paths p = {FLEET_DEFAULT_DIR, FLEET_DEFAULT_COLLECTED};
	const char *council = NULL;
	bool json = false;
	int64_t now = (int64_t)time(NULL), days = FLEET_OWED_DAYS;
	int c;
	char *end;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f')
			p.fleet = optarg;
		else if (c == 'C')
			council = optarg;
		else if (c == 'F' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "text") == 0))
			json = strcmp(optarg, "json") == 0;
		else if (c == 'a' && (now = strtoll(optarg, &end, 10), *end == '\0' && now > 0))
			continue;
		else if (c == 'd' && days_arg(optarg, &days) == 0)
			continue;
		else
			return pcl_fail("usage: portcullis fleet owed [--fleet DIR] [--council C] "
					"[--format text|json] [--at UNIXTIME] [--owed-days N]");
	}
	if (optind != argc || (council && !fleet_name_ok(council)))
		return pcl_fail("fleet owed: --council names one council (a-z, 0-9, -)");
	struct json_object *arr;
	if (fleet_owed_list(&p, council, now, days, &arr) != 0) {
		json_object_put(arr);
		return pcl_fail("%s: cannot list the fleet", p.fleet);
	}
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
	} else {
		printf("%-18s %-20s %-12s %-9s %-24s %5s %s\n", "STATE", "REFERENCE", "COUNCIL",
		       "USB ID", "SERIAL", "AGE/D", "TAKEN OUT ON");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *o = json_object_array_get_idx(arr, i), *age;
			char id[16], ref[24], serial[25];
			json_object_object_get_ex(o, "age_days", &age);
			snprintf(id, sizeof(id), "%.4s:%.4s", field(o, "vid"), field(o, "pid"));
			printf("%-18s %-20s %-12.12s %-9s %-24s %5" PRId64 " %s\n",
			       field(o, "state"), shown(field(o, "ref"), ref, sizeof(ref)),
			       field(o, "council"), shown(id, id, sizeof(id)),
			       shown(field(o, "serial"), serial, sizeof(serial)),
			       json_object_get_int64(age), field(o, "pc"));
		}
	}
	json_object_put(arr);
	return 0;
}

/* Each council's label value, escaped as the text format requires. */
static void council_label(FILE *f, const char *s)
{
	for (; *s; s++)
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
}

void fleet_owed_prom(FILE *f, const struct fleet_paths *p, const struct fleet_pc *pcs, int n,
		     int64_t now, int64_t limit_days)
{
	static const char *const names[2] = {"portcullis_fleet_wipes_owed_open",
					     "portcullis_fleet_wipes_owed_overdue"};
	static const char *const help[2] = {
	    "Owed wipes of the council's take-out sticks not yet closed on any of its PCs",
	    "Owed wipes open for longer than the limit (wipe-owed-overdue)"};

	for (int m = 0; m < 2; m++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", names[m], help[m], names[m]);
		for (int i = 0; i < n; i++) {
			int open = 0, overdue = 0;
			if (i > 0 && strcmp(pcs[i - 1].council, pcs[i].council) == 0)
				continue; /* listed in council order: once per council */
			fleet_owed_counts(p, pcs[i].council, now, limit_days, &open, &overdue);
			fprintf(f, "%s{council=\"", names[m]);
			council_label(f, pcs[i].council);
			fprintf(f, "\"} %d\n", m == 0 ? open : overdue);
		}
	}
}

void fleet_owed_text(FILE *f, const struct fleet_paths *p, const char *council, int64_t now,
		     int64_t limit_days)
{
	struct json_object *arr;

	if (fleet_owed_list(p, council, now, limit_days, &arr) == 0) {
		size_t n = json_object_array_length(arr);
		int overdue = 0;
		for (size_t i = 0; i < n; i++)
			overdue += strcmp(field(json_object_array_get_idx(arr, i), "state"),
					  "wipe-owed-overdue") == 0;
		fprintf(f, "  owed wipes: %zu open, %d overdue\n", n, overdue);
		for (size_t i = 0; i < n; i++) {
			struct json_object *o = json_object_array_get_idx(arr, i);
			char ref[24], serial[25];
			fprintf(f, "    %-18s %s serial %s, left %s\n", field(o, "state"),
				shown(field(o, "ref"), ref, sizeof(ref)),
				shown(field(o, "serial"), serial, sizeof(serial)), field(o, "pc"));
		}
	}
	json_object_put(arr);
}
