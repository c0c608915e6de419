/*
 * audit_witness.c - `portcullis audit witness`: the IT provider's check of every PC's
 * collected trail against the checkpoint it holds for that PC (lib/audit witness.c).
 * Linked by the portcullis CLI; collected trails are untrusted, the witness directory
 * and key directory are the provider's own (still parsed strictly).
 */
#include "audit_files.h"
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"

struct pc_ctx {
	const char *name;
};

/* Verifier and witness findings, each prefixed with the PC's name. */
static void report(void *ctx, uint64_t seq, const char *file, unsigned line, const char *msg)
{
	const struct pc_ctx *pc = ctx;

	if (seq && line)
		printf("FAIL %s seq %" PRIu64 " (%s:%u): %s\n", pc->name, seq, file, line, msg);
	else if (seq)
		printf("FAIL %s seq %" PRIu64 ": %s\n", pc->name, seq, msg);
	else if (line)
		printf("FAIL %s (%s:%u): %s\n", pc->name, file, line, msg);
	else
		printf("FAIL %s (%s): %s\n", pc->name, file, msg);
}

static bool valid_name(const char *n)
{
	if (*n == '\0' || *n == '.' || strlen(n) > 200)
		return false;
	for (; *n; n++)
		if (*n <= ' ' || *n == '/' || *n == 0x7f)
			return false;
	return true;
}

static int load_key(const char *dir, const char *name, struct audit_key *key)
{
	char path[PATH_MAX], buf[4097], msg[600];
	struct pcl_diag diag = {0};
	ssize_t n = -1;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n < 0 || n == (ssize_t)sizeof(buf) - 1) {
		printf("FAIL %s (%s): %s\n", name, path, n < 0 ? strerror(errno) : "too large");
		return -EINVAL;
	}
	rc = audit_key_parse(key, buf, (size_t)n, path, &diag);
	explicit_bzero(buf, sizeof(buf));
	if (rc != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		printf("FAIL %s: %s\n", name, msg);
	}
	return rc;
}

/* One PC: 0 clean, 1 findings, 3 silent (stale) only. */
static int check_pc(char *pcdir_copy, const char *wdir, const char *keydir,
		    const struct audit_witness_opts *wo_in)
{
	const char *pcdir = pcdir_copy;
	char name[256], wpath[PATH_MAX], msg[600], when[32], *dup = strdup(pcdir), **files = NULL;
	struct audit_witness w;
	struct audit_witness_opts wo = *wo_in;
	struct audit_witness_result res;
	struct audit_verify_opts vo = {.report = report, .collected = true};
	struct audit_verifier *v = NULL;
	struct audit_key key;
	struct pcl_diag diag = {0};
	struct pc_ctx pc = {name};
	uint64_t moved;
	char *base;
	int n, rc;

	if (dup == NULL)
		return 1;
	while (strlen(dup) > 1 && dup[strlen(dup) - 1] == '/')
		dup[strlen(dup) - 1] = '\0';
	base = strrchr(dup, '/');
	snprintf(name, sizeof(name), "%s", base ? base + 1 : dup);
	free(dup);
	if (!valid_name(name)) {
		printf("FAIL %s: not a usable PC name (the directory's name names the PC)\n",
		       pcdir);
		return 1;
	}
	vo.report_ctx = wo.report_ctx = &pc;
	wo.report = report;
	vo.min_retention_months = wo.retention_months;
	if (keydir && load_key(keydir, name, &key) != 0)
		return 1;
	vo.key = keydir ? &key : NULL;
	snprintf(wpath, sizeof(wpath), "%s/%s.witness", wdir, name);
	rc = audit_witness_load(&w, wpath, &diag);
	if (rc != 0 && rc != -ENOENT) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		printf("FAIL %s: witness file %s\n", name, msg);
		explicit_bzero(&key, sizeof(key));
		return 1;
	}
	rc = audit_verifier_new(&v, &vo);
	explicit_bzero(&key, sizeof(key));
	if (rc == 0)
		rc = audit_witness_attach(&w, v, wpath);
	char *paths[1] = {pcdir_copy};
	n = rc == 0 ? audit_cli_files(paths, 1, &files) : -1;
	if (n < 0 || audit_cli_feed_collected(v, files, n, &moved) != 0) {
		printf("FAIL %s: cannot read the collected trail in %s\n", name, pcdir);
		if (n >= 0)
			audit_cli_files_free(files, n);
		audit_verifier_free(&v);
		audit_witness_free(&w);
		return 1;
	}
	audit_cli_files_free(files, n);
	rc = audit_witness_check(&w, v, name, &wo, &res);
	audit_verifier_free(&v);
	if (rc == 0 && w.note != NULL && (rc = audit_witness_save(&w, wpath)) != 0) {
		printf("FAIL %s: cannot write %s: %s\n", name, wpath, strerror(-rc));
		res.failures++;
	}
	if (res.stale) {
		time_t t = (time_t)w.seen;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (w.seq)
			printf("STALE %s: no new checkpoint since seq %" PRIu64 ", accepted %s\n",
			       name, w.seq, when);
		else
			printf("STALE %s: the collected trail has no checkpoint\n", name);
	}
	if (res.failures)
		printf("FAILED %s: %" PRIu64 " findings; the witness keeps seq %" PRIu64 "\n", name,
		       res.failures, res.held_seq);
	else
		printf("OK %s: checkpoint seq %" PRIu64 " epoch %" PRIu64 " held (was seq %" PRIu64
		       "), trail seq %" PRIu64 "..%" PRIu64 "\n",
		       name, w.seq, w.epoch, res.held_seq, res.verify.first_seq,
		       res.verify.last_seq);
	audit_witness_free(&w);
	return res.failures ? 1 : res.stale ? 3 : 0;
}

static bool num_opt(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' && *s != '\0' && *s != '-' && *v <= max;
}

int audit_cli_witness(int argc, char **argv)
{
	static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
					     {"keys", required_argument, NULL, 'k'},
					     {"retention", required_argument, NULL, 'r'},
					     {"interval", required_argument, NULL, 'i'},
					     {"margin", required_argument, NULL, 'm'},
					     {"now", required_argument, NULL, 'n'},
					     {NULL, 0, NULL, 0}};
	struct audit_witness_opts wo = {.now = (int64_t)time(NULL)};
	const char *wdir = NULL, *keydir = NULL;
	unsigned long long x;
	int c, worst = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			wdir = optarg;
			break;
		case 'k':
			keydir = optarg;
			break;
		case 'r':
			if (!num_opt(optarg, 1200, &x) || x == 0)
				return pcl_fail("--retention: not a number of months: %s", optarg);
			wo.retention_months = (unsigned)x;
			break;
		case 'i':
			if (!num_opt(optarg, 86400 * 31, &x) || x == 0)
				return pcl_fail("--interval: not a number of seconds: %s", optarg);
			wo.interval_s = (unsigned)x;
			break;
		case 'm':
			if (!num_opt(optarg, 86400 * 365, &x) || x == 0)
				return pcl_fail("--margin: not a number of seconds: %s", optarg);
			wo.margin_s = (unsigned)x;
			break;
		case 'n':
			if (!num_opt(optarg, INT64_MAX / 2, &x))
				return pcl_fail("--now: not unix seconds: %s", optarg);
			wo.now = (int64_t)x;
			break;
		default:
			return 2;
		}
	}
	if (wdir == NULL || optind == argc)
		return 2;
	for (int i = optind; i < argc; i++) {
		int r = check_pc(argv[i], wdir, keydir, &wo);
		if (r == 1 || (r == 3 && worst == 0))
			worst = r;
	}
	return worst;
}
