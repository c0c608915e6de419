/*
 * fleet_report.c - `portcullis fleet report`: the council's report for a period across
 * all its PCs, from the collected trails, each verified in full first (key, chain,
 * checkpoints, the witness held for it); the report states the result and never presents
 * figures of an unverified trail as verified. HTML (inline SVG charts, no external asset)
 * or CSV; producing it is recorded in the fleet store (reports.log, with its SHA-256).
 * Linked by the portcullis CLI; the collected trails are untrusted (every string from them
 * is escaped in HTML and CSV).
 */
#include "commands.h"
#include "hex.h"
#include "fleet.h"
#include "fleet_report.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "audit.h"

void frep_tally(struct frep_tallies *t, const char *key, uint64_t bytes)
{
	size_t i;

	for (i = 0; i < t->n && strcmp(t->v[i].key, key) != 0; i++)
		;
	if (i == t->n) {
		if (t->n == FREP_TALLY_MAX)
			key = "(others)";
		for (i = 0; i < t->n && strcmp(t->v[i].key, key) != 0; i++)
			;
		if (i == t->n) {
			snprintf(t->v[i].key, sizeof(t->v[i].key), "%s", key);
			t->v[i].n = t->v[i].bytes = 0;
			t->n++;
		}
	}
	t->v[i].n++;
	t->v[i].bytes += bytes;
}

static const char *str_of(struct json_object *o, const char *k)
{
	struct json_object *s;

	if (!json_object_object_get_ex(o, k, &s) || !json_object_is_type(s, json_type_string))
		return NULL;
	return json_object_get_string(s);
}

static int64_t int_of(struct json_object *o, const char *k)
{
	struct json_object *s;

	if (!json_object_object_get_ex(o, k, &s) || !json_object_is_type(s, json_type_int))
		return -1;
	return json_object_get_int64(s);
}

static const char *duration_of(int64_t until, int64_t at)
{
	int64_t d = until - at;

	if (until == 0)
		return "until unplugged";
	if (until < 0 || at < 0)
		return "not recorded";
	return d <= 3600	? "up to 1 hour"
	       : d <= 86400	? "up to 1 day"
	       : d <= 7 * 86400 ? "up to 1 week"
				: "longer";
}

/* One record of the period into the PC's and the council's figures. */
static void add_record(struct frep_council *c, struct frep_pc *p, struct json_object *o)
{
	const char *a = str_of(o, "event.action"), *ts = str_of(o, "@timestamp");
	int64_t size = int_of(o, "file.size");

	p->in_period++;
	if (a == NULL)
		return;
	if (strcmp(a, "device-blocked") == 0 || strcmp(a, "device-rejected") == 0) {
		p->blocked++;
	} else if (strcmp(a, "exception-approved") == 0) {
		const char *who = str_of(o, "approval.approver"), *why = str_of(o, "event.reason");
		p->exceptions++;
		frep_tally(&c->approvers, who ? who : "(not recorded)", 0);
		frep_tally(&c->reasons, why ? why : "(not recorded)", 0);
		frep_tally(&c->durations, duration_of(int_of(o, "approval.until"), fleet_time(ts)),
			   0);
	} else if (strcmp(a, "exception-refused") == 0 || strcmp(a, "approver-refused") == 0 ||
		   strcmp(a, "policy-refused") == 0 || strcmp(a, "wipe-refused") == 0) {
		p->refusals++;
		frep_tally(&c->refusals, a, 0);
	} else if (strcmp(a, "file-written") == 0) {
		p->out_n++;
		p->out_bytes += size > 0 ? (uint64_t)size : 0;
	} else if (strcmp(a, "file-read") == 0) {
		p->in_n++;
		p->in_bytes += size > 0 ? (uint64_t)size : 0;
	} else if (strcmp(a, "wipe-done") == 0) {
		p->wipes_done++;
	} else if (strcmp(a, "wipe-missed") == 0) {
		p->wipes_missed++;
	} else if (strcmp(a, "wipe-requested") == 0 || strcmp(a, "wipe-owed") == 0) {
		p->wipes_requested++; /* wipe-owed: a take-out stick left owing its wipe */
	} else if (strcmp(a, "audit-intent-replayed") == 0) {
		p->replays++; /* records are read in seq order: the last one wins */
		snprintf(p->last_replay, sizeof(p->last_replay), "%s", ts ? ts : "");
	}
}

struct failctx {
	struct frep_pc *p;
};

static void first_failure(void *ctx, uint64_t seq, const char *file, unsigned line, const char *m)
{
	struct frep_pc *p = ((struct failctx *)ctx)->p;

	(void)file;
	(void)line;
	if (p->why[0] == '\0')
		snprintf(p->why, sizeof(p->why), "seq %" PRIu64 ": %s", seq, m);
}

/* Verify one PC's whole collected copy and take the period's figures from it. */
static void one_pc(const struct fleet_paths *fp, struct frep_council *c, struct frep_pc *p)
{
	char path[4200], msg[600], *buf = NULL, *text;
	struct audit_key key;
	struct audit_witness w = {0};
	struct pcl_diag diag = {0};
	struct failctx fc = {p};
	struct audit_verify_opts vo = {
	    .key = &key, .report = first_failure, .report_ctx = &fc, .collected = true};
	struct audit_verifier *v = NULL;
	struct audit_verify_result res;
	struct fline *lines = NULL;
	size_t len, nl = 0;

	snprintf(path, sizeof(path), "%s/%s/%s/key", fp->fleet, c->council, p->pc);
	if ((text = fleet_read_file(path, &len, 4096)) == NULL) {
		snprintf(p->why, sizeof(p->why), "trail key unreadable");
		return;
	}
	int rc = audit_key_parse(&key, text, len, path, &diag);
	explicit_bzero(text, len);
	free(text);
	if (rc != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		snprintf(p->why, sizeof(p->why), "%.190s", msg);
		return;
	}
	struct fleet_file *files = NULL;
	int nf = fleet_copy_files(fp, c->council, p->pc, &files);
	bool shrank;
	snprintf(path, sizeof(path), "%s/%s/%s", fp->collected, c->council, p->pc);
	buf = nf > 0 ? fleet_copy_read(files, nf, 0, (size_t)1 << 32, &len, &shrank) : NULL;
	free(files);
	if (buf == NULL) {
		snprintf(p->why, sizeof(p->why), "no collected trail");
		explicit_bzero(&key, sizeof(key));
		return;
	}
	snprintf(path, sizeof(path), "%s/%s/%s/witness", fp->fleet, c->council, p->pc);
	if (audit_verifier_new(&v, &vo) != 0 || fleet_split(buf, len, &lines, &nl) != 0 ||
	    (audit_witness_load(&w, path, &diag) != 0 && diag.msg[0]) ||
	    audit_witness_attach(&w, v, path) != 0) {
		snprintf(p->why, sizeof(p->why), "cannot read the trail or its witness");
		goto out;
	}
	for (size_t i = 0; i < nl; i++) {
		const struct fline *l = &lines[i];
		struct json_object *o = NULL;
		const char *ts;
		audit_verifier_feed_line(v, l->p, l->len, path, l->lineno);
		if (i > 0 && l->seq == lines[i - 1].seq)
			continue; /* a resent copy */
		if (audit_record_parse(l->p, l->len, &o, NULL) != 0)
			continue;
		ts = str_of(o, "@timestamp");
		if (ts && strlen(ts) >= 10 && strncmp(ts, c->from, 10) >= 0 &&
		    strncmp(ts, c->to, 10) <= 0 &&
		    strcmp(str_of(o, "audit.type") ?: "", "record") == 0)
			add_record(c, p, o);
		json_object_put(o);
	}
	if (audit_verifier_finish(v, &res) == 0) {
		p->verified = true;
		p->records = res.records;
		p->first_seq = res.first_seq;
		p->last_seq = res.last_seq;
	} else if (p->why[0] == '\0') {
		snprintf(p->why, sizeof(p->why), "verification failed");
	}
out:
	audit_witness_free(&w);
	audit_verifier_free(&v);
	explicit_bzero(&key, sizeof(key));
	free(lines);
	free(buf);
}

static bool valid_date(const char *s)
{
	struct tm tm = {0};
	const char *e = strptime(s, "%Y-%m-%d", &tm);

	return e && *e == '\0' && strlen(s) == 10;
}

/* reports.log in the council's directory: one line per report produced. */
static int record(const struct fleet_paths *fp, const struct frep_council *c, const char *fmt,
		  const char *output, const unsigned char *data, size_t len)
{
	unsigned char md[32];
	unsigned mdlen = 0;
	char hex[65], line[1200], path[4200], when[32];
	time_t now = time(NULL);
	struct tm tm;
	int fd, n, rc = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return -EIO;
	pcl_hex_encode(hex, md, 32);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line),
		     "%s report council=%s from=%s to=%s format=%s pcs=%zu verified=%zu "
		     "sha256=%s output=%s\n",
		     when, c->council, c->from, c->to, fmt, c->npcs, c->nverified, hex,
		     output ? output : "-");
	snprintf(path, sizeof(path), "%s/%s/reports.log", fp->fleet, c->council);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -errno;
	if (n < 0 || (size_t)n >= sizeof(line) || write(fd, line, (size_t)n) != n || fsync(fd) != 0)
		rc = -EIO;
	close(fd);
	fprintf(stderr, "report recorded in %s (sha256 %s)\n", path, hex);
	return rc;
}

/* Every PC of the council c->council in the fleet, each one's trail verified and read
 * for the period (c->pcs, malloc'd): 0, or 1 (said). */
static int gather(const struct fleet_paths *fp, struct frep_council *c)
{
	struct fleet_pc *pcs = NULL;
	int n;

	if ((n = fleet_list(fp, c->council, &pcs)) < 0)
		return pcl_fail("%s: cannot list the fleet", fp->fleet);
	if (n == 0) {
		free(pcs);
		return pcl_fail("council %s has no PC in %s", c->council, fp->fleet);
	}
	c->pcs = calloc((size_t)n, sizeof(*c->pcs));
	if (c->pcs == NULL) {
		free(pcs);
		return pcl_fail("out of memory");
	}
	c->npcs = (size_t)n;
	for (int i = 0; i < n; i++) {
		snprintf(c->pcs[i].pc, sizeof(c->pcs[i].pc), "%s", pcs[i].pc);
		one_pc(fp, c, &c->pcs[i]);
		c->nverified += c->pcs[i].verified;
	}
	free(pcs);
	return 0;
}

/* The report in fmt (html or csv) to output (NULL: stdout), and its making recorded:
 * 0, or negative errno. */
static int write_report(const struct fleet_paths *fp, const struct frep_council *c, const char *fmt,
			const char *output)
{
	char *data = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&data, &len);
	int rc;

	if (m == NULL)
		return -ENOMEM;
	if (strcmp(fmt, "html") == 0)
		frep_html(m, c);
	else
		frep_csv(m, c);
	rc = fclose(m) == 0 ? 0 : -ENOMEM;
	if (rc == 0 && output)
		rc = fleet_write_file(output, data, len, 0640, true);
	else if (rc == 0 && fwrite(data, 1, len, stdout) != len)
		rc = -EIO;
	if (rc == 0)
		rc = record(fp, c, fmt, output, (const unsigned char *)data, len);
	free(data);
	return rc;
}

int fleet_cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"fleet", required_argument, NULL, 'f'},   {"collected", required_argument, NULL, 'c'},
	    {"council", required_argument, NULL, 'C'}, {"from", required_argument, NULL, 'F'},
	    {"to", required_argument, NULL, 'T'},      {"format", required_argument, NULL, 'm'},
	    {"output", required_argument, NULL, 'o'},  {NULL, 0, NULL, 0}};
	struct fleet_paths fp = {FLEET_DEFAULT_DIR, FLEET_DEFAULT_COLLECTED};
	struct frep_council c = {0};
	const char *fmt = "html", *output = NULL;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			fp.fleet = optarg;
			break;
		case 'c':
			fp.collected = optarg;
			break;
		case 'C':
			c.council = optarg;
			break;
		case 'F':
			c.from = optarg;
			break;
		case 'T':
			c.to = optarg;
			break;
		case 'm':
			fmt = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc || !c.council || !c.from || !c.to) {
		fputs(
		    "usage: portcullis fleet report --council C --from YYYY-MM-DD --to YYYY-MM-DD\n"
		    "                               [--format html|csv] [--output FILE]\n"
		    "                               [--fleet DIR] [--collected DIR]\n",
		    stderr);
		return 2;
	}
	if (!fleet_name_ok(c.council))
		return pcl_fail("--council: not a council name: %s", c.council);
	if (!valid_date(c.from) || !valid_date(c.to) || strcmp(c.from, c.to) > 0)
		return pcl_fail("--from/--to: expected YYYY-MM-DD, from before to: \"%s\", \"%s\"",
				c.from, c.to);
	if (strcmp(fmt, "html") != 0 && strcmp(fmt, "csv") != 0)
		return pcl_fail("--format: html or csv, not %s", fmt);
	if ((rc = gather(&fp, &c)) != 0)
		return rc;
	rc = write_report(&fp, &c, fmt, output);
	free(c.pcs);
	if (rc != 0)
		return pcl_fail("report: %s", strerror(-rc));
	if (c.nverified != c.npcs) {
		fprintf(stderr,
			"portcullis: NOT VERIFIED: %zu of %zu PCs' trails failed "
			"verification (the report says which)\n",
			c.npcs - c.nverified, c.npcs);
		return 1;
	}
	return 0;
}
