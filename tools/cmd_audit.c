/*
 * cmd_audit.c - `portcullis audit`: enrol a trail (key for the IT provider, with a QR
 * code), verify trails offline, print the latest checkpoint, export reports, and
 * check collected trails against the witness's checkpoints (audit_witness.c).
 * Runs as the invoking user; arguments, key files and trails are untrusted.
 */
#include "audit_files.h"
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "audit.h"

static const char usage_text[] =
    "usage: portcullis audit enrol --dir DIR --origin ORIGIN [--key-out FILE] [--no-qr]\n"
    "       portcullis audit verify [--key FILE] [--checkpoint FILE]... [--retention N]\n"
    "                               [--collected] PATH...\n"
    "       portcullis audit checkpoint PATH...\n"
    "       portcullis audit export --from YYYY-MM-DD --to YYYY-MM-DD [--user NAME] [--uid UID]\n"
    "                               --format json|csv|html [--output FILE] PATH...\n"
    "       portcullis audit witness --dir WITNESS_DIR [--keys KEY_DIR] [--retention N]\n"
    "                               [--interval S] [--margin S] [--now UNIX] PC_DIR...\n";

static int usage(void)
{
	fputs(usage_text, stderr);
	return 2;
}

static int enrol(int argc, char **argv)
{
	static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
					     {"origin", required_argument, NULL, 'o'},
					     {"key-out", required_argument, NULL, 'k'},
					     {"no-qr", no_argument, NULL, 'n'},
					     {NULL, 0, NULL, 0}};
	struct audit_config cfg = {0};
	struct pcl_diag diag = {0};
	const char *key_out = NULL;
	char *text = NULL, msg[600];
	bool qr = true;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			cfg.dir = optarg;
			break;
		case 'o':
			cfg.origin = optarg;
			break;
		case 'k':
			key_out = optarg;
			break;
		case 'n':
			qr = false;
			break;
		default:
			return usage();
		}
	}
	if (cfg.dir == NULL || cfg.origin == NULL || optind != argc)
		return usage();
	rc = audit_enrol(&cfg, &text, &diag);
	if (rc != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		return pcl_fail("audit enrol: %s", msg);
	}
	if (key_out) {
		int fd = open(key_out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		size_t l = strlen(text);
		if (fd < 0 || write(fd, text, l) != (ssize_t)l || fsync(fd) != 0) {
			rc = pcl_fail("%s: %s", key_out, strerror(errno));
		}
		if (fd >= 0)
			close(fd);
	}
	if (rc == 0) {
		printf("Audit trail enrolled in %s. Give this key to the IT provider, once;\n"
		       "it verifies every record and checkpoint. Keep it secret.\n\n%s\n",
		       cfg.dir, text);
		if (qr && audit_cli_qr(stdout, text) != 0)
			rc = pcl_fail("cannot render the QR code");
	}
	explicit_bzero(text, strlen(text));
	free(text);
	return rc;
}

static void report(void *ctx, uint64_t seq, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	if (seq && line)
		printf("FAIL seq %" PRIu64 " (%s:%u): %s\n", seq, file, line, msg);
	else if (seq)
		printf("FAIL seq %" PRIu64 ": %s\n", seq, msg);
	else if (line)
		printf("FAIL %s:%u: %s\n", file, line, msg);
	else
		printf("FAIL %s: %s\n", file, msg);
}

static int verify(int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
					     {"checkpoint", required_argument, NULL, 'c'},
					     {"retention", required_argument, NULL, 'r'},
					     {"collected", no_argument, NULL, 'C'},
					     {NULL, 0, NULL, 0}};
	bool collected = false;
	uint64_t moved = 0;
	struct audit_verify_opts vo = {.report = report};
	struct audit_verify_result res;
	struct audit_verifier *v = NULL;
	struct audit_key key;
	const char *ckpts[64];
	char **files = NULL, *text, *end, msg[600];
	int c, n, nck = 0, rc = 0;
	size_t len;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if ((text = pcl_read_text(optarg, 65536, &len)) == NULL)
				return 1;
			struct pcl_diag diag = {0};
			rc = audit_key_parse(&key, text, len, optarg, &diag);
			explicit_bzero(text, len);
			free(text);
			if (rc != 0) {
				pcl_diag_format(&diag, msg, sizeof(msg));
				return pcl_fail("%s", msg);
			}
			vo.key = &key;
			break;
		case 'C':
			collected = true;
			vo.collected = true;
			break;
		case 'c':
			if (nck == 64)
				return pcl_fail("too many --checkpoint files");
			ckpts[nck++] = optarg;
			break;
		case 'r':
			errno = 0;
			unsigned long r = strtoul(optarg, &end, 10);
			if (errno || *end || r == 0 || r > 1200)
				return pcl_fail("--retention: not a number of months: %s", optarg);
			vo.min_retention_months = (unsigned)r;
			break;
		default:
			return usage();
		}
	}
	if (optind == argc)
		return usage();
	if (audit_verifier_new(&v, &vo) != 0)
		return pcl_fail("out of memory");
	for (int i = 0; i < nck; i++) {
		if ((text = pcl_read_text(ckpts[i], 65536, &len)) == NULL) {
			audit_verifier_free(&v);
			return 1;
		}
		rc = audit_verifier_add_checkpoint(v, text, len, ckpts[i]);
		free(text);
		if (rc != 0) {
			audit_verifier_free(&v);
			return pcl_fail("%s: not a portcullis checkpoint (signed note)", ckpts[i]);
		}
	}
	n = audit_cli_files(argv + optind, argc - optind, &files);
	if (n < 0) {
		audit_verifier_free(&v);
		return 1;
	}
	if (vo.key == NULL)
		printf("warning: no --key: MACs not checked, first checkpoint key taken from the "
		       "trail itself\n");
	if (collected) {
		if (audit_cli_feed_collected(v, files, n, &moved) != 0) {
			audit_cli_files_free(files, n);
			audit_verifier_free(&v);
			return pcl_fail("cannot read the collected copy");
		}
		printf("collected copy: %" PRIu64 " records were out of file order\n", moved);
	} else {
		for (int i = 0; i < n; i++)
			audit_verifier_feed_file(v, files[i]);
	}
	audit_cli_files_free(files, n);
	rc = audit_verifier_finish(v, &res);
	audit_verifier_free(&v);
	explicit_bzero(&key, sizeof(key));
	printf("%s: %" PRIu64 " records (seq %" PRIu64 "..%" PRIu64 "), %" PRIu64
	       " checkpoints, %" PRIu64 " purges, %" PRIu64 " duplicates skipped, %" PRIu64
	       " records after the last checkpoint, epoch %" PRIu64 ", %" PRIu64 " failures\n",
	       rc == 0 ? "verified" : "FAILED", res.records, res.first_seq, res.last_seq,
	       res.checkpoints, res.purges, res.duplicates, res.unsealed, res.epoch, res.failures);
	return rc == 0 ? 0 : 1;
}

/* Print the last checkpoint note found in the trail files (not verified here). */
static int checkpoint(int argc, char **argv)
{
	char **files = NULL, *last = NULL;
	int n;

	if (argc < 2)
		return usage();
	n = audit_cli_files(argv + 1, argc - 1, &files);
	if (n < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		FILE *f = fopen(files[i], "re");
		char *line = NULL;
		size_t cap = 0;
		ssize_t l;
		while (f && (l = getline(&line, &cap, f)) > 0) {
			struct json_object *o, *s;
			if (l > 1 && line[l - 1] == '\n')
				line[--l] = '\0';
			if (strstr(line, "\"audit.type\":\"checkpoint\"") == NULL ||
			    audit_record_parse(line, (size_t)l, &o, NULL) != 0)
				continue;
			if (json_object_object_get_ex(o, "audit.checkpoint", &s) &&
			    json_object_is_type(s, json_type_string)) {
				free(last);
				last = strdup(json_object_get_string(s));
			}
			json_object_put(o);
		}
		free(line);
		if (f)
			fclose(f);
	}
	audit_cli_files_free(files, n);
	if (last == NULL)
		return pcl_fail("no checkpoint found");
	fputs(last, stdout);
	free(last);
	return 0;
}

int cmd_audit(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	optind = 1;
	if (strcmp(argv[1], "enrol") == 0)
		return enrol(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "checkpoint") == 0)
		return checkpoint(argc - 1, argv + 1);
	if (strcmp(argv[1], "export") == 0)
		return audit_cli_export(argc - 1, argv + 1);
	if (strcmp(argv[1], "witness") == 0) {
		int rc = audit_cli_witness(argc - 1, argv + 1);
		return rc == 2 ? usage() : rc;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	return usage();
}
