/*
 * fleet_purge.c - `portcullis fleet purge`: retention on the collector. Removes a PC's
 * collected months older than the retention, whole files only and never the file rsyslog
 * appends to, only when every record in them is older than the retention, already
 * verified, and the copy left still verifies from its new start (the PC's own signed
 * purge accounts for it); each purge is recorded in fleet/<council>/purges.log, a
 * hash-chained, fsynced line per PC. Linked by the portcullis CLI; the collected bytes
 * come from PCs and are untrusted, the arguments too.
 */
#include "commands.h"
#include "hex.h"
#include "fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "audit.h"

#define COPY_MAX ((size_t)1 << 32)

struct purge_opts {
	struct fleet_paths paths;
	const char *council, *pc;
	long retention;
	int64_t at;
};

int fleet_lock(const struct fleet_paths *p)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/.lock", p->fleet);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		pcl_fail("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd; /* held until the process exits */
}

static void sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[32];
	unsigned mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		memset(md, 0, sizeof(md));
	pcl_hex_encode(hex, md, 32);
}

/* The month `months` before the month of t, as YYYY-MM. */
static void cutoff_month(int64_t t, long months, char out[16])
{
	time_t tt = (time_t)t;
	struct tm tm;
	long m;

	gmtime_r(&tt, &tm);
	m = (long)(tm.tm_year + 1900) * 12 + tm.tm_mon - months;
	snprintf(out, 16, "%04u-%02u", (unsigned)(m / 12) % 10000u, (unsigned)(m % 12) % 12u + 1u);
}

/* What the cut holds: every line a record older than the cutoff month. */
struct cut_info {
	uint64_t records, first_seq, last_seq;
	char last_time[40];
};

static int check_cut(char *buf, size_t len, const char *cutoff, struct cut_info *ci, char *why,
		     size_t wlen)
{
	struct fline *l = NULL;
	size_t n = 0;
	int rc = fleet_split(buf, len, &l, &n);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct json_object *o = NULL, *t;
		const char *ts = NULL;
		if (audit_record_parse(l[i].p, l[i].len, &o, NULL) == 0 &&
		    json_object_object_get_ex(o, "@timestamp", &t) &&
		    json_object_is_type(t, json_type_string))
			ts = json_object_get_string(t);
		if (ts == NULL || fleet_time(ts) < 0) {
			snprintf(why, wlen, "line %u of the months to purge is not a dated record",
				 l[i].lineno);
			rc = -EBADMSG;
		} else if (strncmp(ts, cutoff, 7) >= 0) {
			snprintf(why, wlen,
				 "seq %" PRIu64 " dated %.39s is not older than the retention "
				 "(months before %s): it would be erased",
				 l[i].seq, ts, cutoff);
			rc = -EPERM;
		} else {
			if (ci->records++ == 0)
				ci->first_seq = l[i].seq;
			ci->last_seq = l[i].seq;
			snprintf(ci->last_time, sizeof(ci->last_time), "%s", ts);
		}
		json_object_put(o);
	}
	free(l);
	return rc;
}

static void first_reason(void *ctx, uint64_t seq, const char *file, unsigned line, const char *m)
{
	char *why = ctx;

	(void)file;
	(void)line;
	if (why[0] == '\0')
		snprintf(why, 200, "seq %" PRIu64 ": %s", seq, m);
}

/* The copy that would be left verifies from its first record, against the witness. */
static int check_rest(const struct purge_opts *o, const struct fleet_pc *pc,
		      const struct fleet_file *f, int n, char *why)
{
	char path[4200], msg[600], *text, *buf = NULL;
	struct audit_key key;
	struct pcl_diag diag = {0};
	struct audit_verify_opts vo = {
	    .key = &key, .report = first_reason, .report_ctx = why, .collected = true};
	struct audit_verifier *v = NULL;
	struct audit_witness w = {0};
	struct audit_verify_result res;
	struct fline *l = NULL;
	size_t len, nl = 0;
	bool shrank;
	int rc;

	snprintf(path, sizeof(path), "%s/%s/%s/key", o->paths.fleet, pc->council, pc->pc);
	if ((text = fleet_read_file(path, &len, 4096)) == NULL) {
		snprintf(why, 200, "%.150s: %s", path, strerror(errno));
		return -EIO;
	}
	rc = audit_key_parse(&key, text, len, path, &diag);
	explicit_bzero(text, len);
	free(text);
	if (rc != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		snprintf(why, 200, "%.190s", msg);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/%s/%s/witness", o->paths.fleet, pc->council, pc->pc);
	if ((buf = fleet_copy_read(f, n, 0, COPY_MAX, &len, &shrank)) == NULL ||
	    fleet_split(buf, len, &l, &nl) != 0 || audit_verifier_new(&v, &vo) != 0 ||
	    (audit_witness_load(&w, path, &diag) != 0 && diag.msg[0]) ||
	    audit_witness_attach(&w, v, path) != 0) {
		snprintf(why, 200, "cannot read the rest of the copy or the witness");
		rc = -EIO;
		goto out;
	}
	for (size_t i = 0; i < nl; i++)
		audit_verifier_feed_line(v, l[i].p, l[i].len, "collected copy", l[i].lineno);
	rc = audit_verifier_finish(v, &res);
	if (rc != 0 && why[0] == '\0')
		snprintf(why, 200, "the rest of the copy does not verify");
out:
	audit_witness_free(&w);
	audit_verifier_free(&v);
	explicit_bzero(&key, sizeof(key));
	free(l);
	free(buf);
	return rc;
}

/* One line appended to purges.log; prev= is the SHA-256 of the line before it. */
static int record(const struct purge_opts *o, const struct fleet_pc *pc, const struct fleet_file *f,
		  int k, uint64_t bytes, const char *sha, const struct cut_info *ci,
		  const char *cutoff)
{
	char path[4200], line[2048], names[1200] = "", prev[65], when[32];
	size_t len = 0, off = 0;
	char *old, *last;
	time_t now = time(NULL);
	struct tm tm;
	int fd, n, rc = 0;

	snprintf(path, sizeof(path), "%s/%s/purges.log", o->paths.fleet, pc->council);
	old = fleet_read_file(path, &len, (size_t)1 << 26);
	if (old == NULL && errno != ENOENT)
		return -errno;
	if (old && len > 0 && old[len - 1] != '\n') {
		free(old);
		return -EBADMSG; /* a torn last line: not extended, looked at by a person */
	}
	last = old && len > 0 ? old + len - 1 : NULL;
	while (last && last > old && last[-1] != '\n')
		last--;
	if (last)
		sha256_hex(last, (size_t)(old + len - last), prev);
	else
		memset(prev, '0', 64), prev[64] = '\0';
	free(old);
	for (int i = 0; i < k && off < sizeof(names); i++)
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", i ? "," : "",
					strrchr(f[i].path, '/') + 1);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line),
		     "%s purge pc=%s before=%s files=%s bytes=%" PRIu64 " records=%" PRIu64
		     " seq=%" PRIu64 "-%" PRIu64 " last-time=%s sha256=%s prev=%s\n",
		     when, pc->pc, cutoff, names, bytes, ci->records, ci->first_seq, ci->last_seq,
		     ci->last_time, sha, prev);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EOVERFLOW;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -errno;
	if (write(fd, line, (size_t)n) != n || fsync(fd) != 0)
		rc = -EIO;
	close(fd);
	return rc;
}

/* 0 purged or nothing to purge, 1 refused (the reason printed). */
static int purge_pc(const struct purge_opts *o, struct fleet_pc *pc, const char *cutoff)
{
	struct fleet_file *f = NULL;
	struct cut_info ci = {0};
	char why[200] = "", sha[65], dir[4200], *cut = NULL;
	uint64_t bytes = 0;
	size_t len = 0;
	bool shrank;
	int n = fleet_copy_files(&o->paths, pc->council, pc->pc, &f), k = 0, rc = 0;

	if (n < 0) {
		printf("REFUSED %s/%s: collected copy unreadable: %s\n", pc->council, pc->pc,
		       strerror(-n));
		return 1;
	}
	/* a leading run of months before the cutoff; never the last file (rsyslog's) */
	while (k < n - 1 && f[k].month[0] && strcmp(f[k].month, cutoff) < 0)
		bytes += f[k++].size;
	if (k == 0) {
		printf("nothing to purge for %s/%s\n", pc->council, pc->pc);
		free(f);
		return 0;
	}
	if (pc->failing || pc->offset < bytes)
		snprintf(why, sizeof(why),
			 "the months to purge are not all verified yet (run "
			 "`portcullis fleet verify` first)");
	else if ((cut = fleet_copy_read(f, k, 0, COPY_MAX, &len, &shrank)) == NULL || len != bytes)
		snprintf(why, sizeof(why), "the months to purge are unreadable or end mid-line");
	else if (check_cut(cut, len, cutoff, &ci, why, sizeof(why)) == 0)
		sha256_hex(cut, len, sha);
	if (why[0] == '\0' && check_rest(o, pc, f + k, n - k, why) != 0)
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s",
			 why[0] ? "" : "the rest of the copy does not verify");
	if (why[0] == '\0' && (rc = record(o, pc, f, k, bytes, sha, &ci, cutoff)) != 0)
		snprintf(why, sizeof(why), "%s/%s/purges.log: %s", o->paths.fleet, pc->council,
			 strerror(-rc));
	free(cut);
	if (why[0]) {
		printf("REFUSED %s/%s: %s; nothing purged\n", pc->council, pc->pc, why);
		free(f);
		return 1;
	}
	/* oldest first, stopping at a failure: what is left stays one stream from the start */
	uint64_t removed = 0;
	for (int i = 0; i < k; removed += f[i].size, i++)
		if (unlink(f[i].path) != 0) {
			fprintf(stderr, "portcullis: %s: %s (recorded as purged, not removed)\n",
				f[i].path, strerror(errno));
			rc = -errno;
			break;
		}
	snprintf(dir, sizeof(dir), "%s/%s/%s", o->paths.collected, pc->council, pc->pc);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	pc->offset -= removed;
	int src = fleet_status_save(&o->paths, pc);
	if (src != 0)
		fprintf(stderr, "portcullis: %s/%s: status not saved: %s\n", pc->council, pc->pc,
			strerror(-src));
	rc = rc ? rc : src;
	printf("purged %s/%s: %d month file(s) before %s, %" PRIu64 " records (seq %" PRIu64
	       "-%" PRIu64 "), recorded in %s/%s/purges.log\n",
	       pc->council, pc->pc, k, cutoff, ci.records, ci.first_seq, ci.last_seq,
	       o->paths.fleet, pc->council);
	free(f);
	return rc ? 1 : 0;
}

int fleet_cmd_purge(int argc, char **argv)
{
	static const struct option opts[] = {{"fleet", required_argument, NULL, 'f'},
					     {"collected", required_argument, NULL, 'c'},
					     {"council", required_argument, NULL, 'C'},
					     {"pc", required_argument, NULL, 'p'},
					     {"retention", required_argument, NULL, 'r'},
					     {"at", required_argument, NULL, 'a'},
					     {NULL, 0, NULL, 0}};
	struct purge_opts o = {.paths = {FLEET_DEFAULT_DIR, FLEET_DEFAULT_COLLECTED},
			       .retention = 6};
	struct fleet_pc *pcs = NULL;
	char cutoff[16], *end;
	int c, n, bad = 0, done = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 'f':
			o.paths.fleet = optarg;
			break;
		case 'c':
			o.paths.collected = optarg;
			break;
		case 'C':
			o.council = optarg;
			break;
		case 'p':
			o.pc = optarg;
			break;
		case 'r':
			o.retention = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || o.retention < 1 || o.retention > 1200)
				return pcl_fail("--retention: a number of months, 1 to 1200");
			break;
		case 'a':
			o.at = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || o.at < 0)
				return pcl_fail("--at: not a unix time: %s", optarg);
			break;
		default:
			return 2;
		}
	}
	if (optind != argc || (o.pc && o.council == NULL)) {
		fputs("usage: portcullis fleet purge [--council C [--pc P]] [--retention MONTHS]\n"
		      "                              [--fleet DIR] [--collected DIR] [--at "
		      "UNIXTIME]\n",
		      stderr);
		return 2;
	}
	if ((o.council && !fleet_name_ok(o.council)) || (o.pc && !fleet_name_ok(o.pc)))
		return pcl_fail("--council/--pc: not a name (a-z, 0-9, -)");
	cutoff_month(o.at ? o.at : (int64_t)time(NULL), o.retention, cutoff);
	if (fleet_lock(&o.paths) < 0)
		return 1;
	if ((n = fleet_list(&o.paths, o.council, &pcs)) < 0)
		return pcl_fail("%s: cannot list the fleet", o.paths.fleet);
	for (int i = 0; i < n; i++) {
		if (o.pc && strcmp(o.pc, pcs[i].pc) != 0)
			continue;
		done++;
		bad += purge_pc(&o, &pcs[i], cutoff);
	}
	free(pcs);
	if (done == 0)
		return pcl_fail("no enrolled PC %s%s%s", o.council ? o.council : "in the fleet",
				o.pc ? "/" : "", o.pc ? o.pc : "");
	return bad ? 1 : 0;
}
