/*
 * cmd_fleet.c - `portcullis fleet` on the IT provider's collector: add a PC's trail key,
 * verify every PC's collected trail incrementally, show the fleet's status.
 * Runs as the collector's service user or root; arguments and key files are untrusted,
 * the collected trails too (fleet_verify.c).
 */
#include "commands.h"
#include "fleet.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"

static const char usage_text[] =
    "usage: portcullis fleet add --council C --pc P --key FILE [--fleet DIR]\n"
    "       portcullis fleet verify [--fleet DIR] [--collected DIR] [--council C]\n"
    "                               [--gap-grace SECONDS] [--silent-after SECONDS]\n"
    "                               [--interval SECONDS] [--margin SECONDS]\n"
    "                               [--retention MONTHS] [--textfile FILE] [--quiet]\n"
    "                               [--owed-days N]\n"
    "       portcullis fleet status [--fleet DIR] [--council C] [--silent-after SECONDS]\n"
    "                               [--format text|json|prometheus] [--at UNIXTIME]\n"
    "                               [--owed-days N]\n"
    "       portcullis fleet report --council C --from YYYY-MM-DD --to YYYY-MM-DD\n"
    "                               [--format html|csv] [--output FILE]\n"
    "       portcullis fleet purge [--council C [--pc P]] [--retention MONTHS]\n"
    "                              [--fleet DIR] [--collected DIR] [--at UNIXTIME]\n"
    "       portcullis fleet owed [--fleet DIR] [--council C] [--format text|json]\n"
    "                             [--at UNIXTIME] [--owed-days N]\n";

static int usage(void)
{
	fputs(usage_text, stderr);
	return 2;
}

struct fleet_opts {
	struct fleet_paths paths;
	const char *council, *pc, *key, *textfile;
	int64_t gap_grace, silent_after, at, interval, margin, retention, owed_days;
	enum fleet_fmt fmt;
	bool quiet;
};

static int seconds(const char *opt, const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);

	if (errno || *end || end == s || v < 0)
		return pcl_fail("%s: not a number of seconds: %s", opt, s);
	*out = v;
	return 0;
}

/* One of the options that take a number (seconds, months, days): 0, or 1 (said). */
static int number_opt(int c, const char *arg, struct fleet_opts *o)
{
	switch (c) {
	case 'g':
		return seconds("--gap-grace", arg, &o->gap_grace) ? 1 : 0;
	case 's':
		return seconds("--silent-after", arg, &o->silent_after) ? 1 : 0;
	case 'a':
		return seconds("--at", arg, &o->at) ? 1 : 0;
	case 'i':
		if (seconds("--interval", arg, &o->interval) || o->interval > 86400)
			return o->interval > 86400 ? pcl_fail("--interval: at most 86400") : 1;
		return 0;
	case 'm':
		if (seconds("--margin", arg, &o->margin) || o->margin > 8640000)
			return o->margin > 8640000 ? pcl_fail("--margin: at most 8640000") : 1;
		return 0;
	case 'r':
		if (seconds("--retention", arg, &o->retention) || o->retention < 1 ||
		    o->retention > 1200)
			return pcl_fail("--retention: a number of months, 1 to 1200");
		return 0;
	default: /* 'd' */
		if (seconds("--owed-days", arg, &o->owed_days) || o->owed_days < 1 ||
		    o->owed_days > 3650)
			return pcl_fail("--owed-days: a number of days, 1 to 3650");
		return 0;
	}
}

static int parse(int argc, char **argv, struct fleet_opts *o)
{
	static const struct option opts[] = {{"fleet", required_argument, NULL, 'f'},
					     {"collected", required_argument, NULL, 'c'},
					     {"council", required_argument, NULL, 'C'},
					     {"pc", required_argument, NULL, 'p'},
					     {"key", required_argument, NULL, 'k'},
					     {"gap-grace", required_argument, NULL, 'g'},
					     {"silent-after", required_argument, NULL, 's'},
					     {"textfile", required_argument, NULL, 't'},
					     {"format", required_argument, NULL, 'F'},
					     {"quiet", no_argument, NULL, 'q'},
					     {"at", required_argument, NULL, 'a'},
					     {"interval", required_argument, NULL, 'i'},
					     {"margin", required_argument, NULL, 'm'},
					     {"retention", required_argument, NULL, 'r'},
					     {"owed-days", required_argument, NULL, 'd'},
					     {NULL, 0, NULL, 0}};
	int c;

	*o = (struct fleet_opts){.paths = {FLEET_DEFAULT_DIR, FLEET_DEFAULT_COLLECTED},
				 .gap_grace = 600,
				 .silent_after = 3600,
				 .interval = 300,
				 .margin = 3600,
				 .retention = 6,
				 .owed_days = FLEET_OWED_DAYS};
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->paths.fleet = optarg;
			break;
		case 'c':
			o->paths.collected = optarg;
			break;
		case 'C':
			o->council = optarg;
			break;
		case 'p':
			o->pc = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'g':
		case 's':
		case 'a':
		case 'i':
		case 'm':
		case 'r':
		case 'd':
			if (number_opt(c, optarg, o) != 0)
				return 1;
			break;
		case 't':
			o->textfile = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "text") == 0)
				o->fmt = FLEET_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o->fmt = FLEET_JSON;
			else if (strcmp(optarg, "prometheus") == 0)
				o->fmt = FLEET_PROM;
			else
				return pcl_fail("--format: text, json or prometheus, not %s",
						optarg);
			break;
		case 'q':
			o->quiet = true;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc)
		return usage();
	if (o->council && !fleet_name_ok(o->council))
		return pcl_fail("--council: not a council name (a-z, 0-9, -): %s", o->council);
	if (o->pc && !fleet_name_ok(o->pc))
		return pcl_fail("--pc: not a PC name (a-z, 0-9, -): %s", o->pc);
	return 0;
}

/* Register a PC: its trail key goes to fleet/<council>/<pc>/key (0600). The key's origin
 * must name the PC, so that a trail cannot be filed under another PC's name. */
static int add(int argc, char **argv)
{
	struct fleet_opts o;
	struct audit_key key;
	struct pcl_diag diag = {0};
	char path[4200], want1[200], want2[200], msg[600], *text;
	size_t len;
	int rc = parse(argc, argv, &o);

	if (rc != 0)
		return rc;
	if (!o.council || !o.pc || !o.key)
		return usage();
	if ((text = fleet_read_file(o.key, &len, 4096)) == NULL)
		return pcl_fail("%s: %s", o.key, strerror(errno));
	rc = audit_key_parse(&key, text, len, o.key, &diag);
	if (rc != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		rc = pcl_fail("%s", msg);
		goto out;
	}
	snprintf(want1, sizeof(want1), "portcullis/%s", o.pc);
	snprintf(want2, sizeof(want2), "portcullis/%s/%s", o.council, o.pc);
	if (strcmp(key.origin, want1) != 0 && strcmp(key.origin, want2) != 0) {
		rc = pcl_fail("%s: origin \"%s\" does not name PC %s (expected %s or %s)", o.key,
			      key.origin, o.pc, want1, want2);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", o.paths.fleet, o.council);
	if (mkdir(o.paths.fleet, 0750) != 0 && errno != EEXIST)
		rc = -errno;
	if (rc == 0 && mkdir(path, 0750) != 0 && errno != EEXIST)
		rc = -errno;
	snprintf(path, sizeof(path), "%s/%s/%s", o.paths.fleet, o.council, o.pc);
	if (rc == 0 && mkdir(path, 0750) != 0)
		rc = -errno;
	if (rc != 0) {
		rc = pcl_fail("%s: %s", path,
			      rc == -EEXIST ? "PC already in the fleet" : strerror(-rc));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s/%s/key", o.paths.fleet, o.council, o.pc);
	if ((rc = fleet_write_file(path, text, len, 0600, true)) != 0) {
		rc = pcl_fail("%s: %s", path, strerror(-rc));
		goto out;
	}
	printf("PC %s of council %s added to the fleet (%s)\n", o.pc, o.council, path);
out:
	explicit_bzero(text, len);
	explicit_bzero(&key, sizeof(key));
	free(text);
	return rc;
}

int fleet_cmd_verify(int argc, char **argv)
{
	struct fleet_opts o;
	struct fleet_pc *pcs = NULL;
	int rc = parse(argc, argv, &o), n, bad = 0, unknown;
	int64_t now = (int64_t)time(NULL);
	struct fleet_verify_opts vo;

	if (rc != 0)
		return rc;
	vo = (struct fleet_verify_opts){.now = now,
					.gap_grace_s = o.gap_grace,
					.retention_months = (unsigned)o.retention,
					.interval_s = (unsigned)o.interval,
					.margin_s = (unsigned)o.margin};
	if (fleet_lock(&o.paths) < 0)
		return 1;
	if ((n = fleet_list(&o.paths, o.council, &pcs)) < 0)
		return pcl_fail("%s: cannot list the fleet", o.paths.fleet);
	for (int i = 0; i < n; i++)
		if (fleet_verify_pc(&o.paths, &pcs[i], &vo, stdout) != 0)
			bad++;
	unknown = fleet_unenrolled(&o.paths, o.council, pcs, n, stdout);
	if (o.textfile && (rc = fleet_write_prom(o.textfile, pcs, n, now, o.silent_after, unknown,
						 &o.paths, o.owed_days)) != 0)
		pcl_fail("%s: %s", o.textfile, strerror(-rc));
	if (!o.quiet)
		printf("fleet verify: %d PCs, %d verified, %d failed\n", n, n - bad, bad);
	free(pcs);
	return bad || unknown || rc ? 1 : 0;
}

int fleet_cmd_status(int argc, char **argv)
{
	struct fleet_opts o;
	struct fleet_pc *pcs = NULL;
	int rc = parse(argc, argv, &o), n;

	if (rc != 0)
		return rc;
	if ((n = fleet_list(&o.paths, o.council, &pcs)) < 0)
		return pcl_fail("%s: cannot list the fleet", o.paths.fleet);
	int64_t now = o.at ? o.at : (int64_t)time(NULL);
	rc = fleet_print(stdout, o.fmt, pcs, n, now, o.silent_after);
	if (o.fmt == FLEET_PROM)
		fleet_owed_prom(stdout, &o.paths, pcs, n, now, o.owed_days);
	for (int i = 0; o.fmt == FLEET_TEXT && i < n; i++)
		if (i == 0 || strcmp(pcs[i - 1].council, pcs[i].council) != 0) {
			printf("\ncouncil %s\n", pcs[i].council);
			fleet_owed_text(stdout, &o.paths, pcs[i].council, now, o.owed_days);
		}
	free(pcs);
	return rc ? 1 : 0;
}

int cmd_fleet(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	optind = 1;
	if (strcmp(argv[1], "add") == 0)
		return add(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return fleet_cmd_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return fleet_cmd_status(argc - 1, argv + 1);
	if (strcmp(argv[1], "report") == 0)
		return fleet_cmd_report(argc - 1, argv + 1);
	if (strcmp(argv[1], "purge") == 0)
		return fleet_cmd_purge(argc - 1, argv + 1);
	if (strcmp(argv[1], "owed") == 0)
		return fleet_cmd_owed(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	return usage();
}
