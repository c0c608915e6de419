/*
 * portcullis.c - the portcullis command-line tool: dispatch to subcommands, and the
 * helpers every subcommand uses (pcl_fail, pcl_read_text).
 * Runs as the invoking user (councillor, Clerk, IT provider); arguments are untrusted.
 */
#include "commands.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

/* One line per subcommand; each is defined in its own tools/cmd_*.c. */
static const struct pcl_command commands[] = {
    {"status", "which devices are plugged in, which are blocked and what to do", cmd_status},
    {"notify", "show desktop notifications when a device is blocked", cmd_notify},
    {"devices", "present devices, their state and the deciding rule", cmd_devices},
    {"watch", "follow the daemon's decisions live", cmd_watch},
    {"policy", "generate or check device rules", cmd_policy},
    {"audit", "audit trail: enrol, verify, checkpoint, export", cmd_audit},
    {"approve", "approve an exception for a device with the approver's FIDO2 key", cmd_approve},
    {"approver", "enrol, remove or list the approvers of exceptions", cmd_approver},
    {"request", "export, show or import approval requests and responses", cmd_request},
    {"bundle", "build, show, apply or package the council bundle", cmd_bundle},
    {"wipe", "securely wipe a removable medium, verify it, write a certificate", cmd_wipe},
    {"media", "prepare a council stick; accept a council-data wipe; close an owed wipe", cmd_media},
    {"fleet", "collector: verify every PC's collected trail, fleet status and metrics", cmd_fleet},
    {NULL, NULL, NULL},
};

int pcl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("portcullis: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

char *pcl_read_text(const char *path, size_t max, size_t *len)
{
	char *buf;
	int rc;

	if (strcmp(path, "-") == 0)
		rc = pcl_read_fd(0, max, &buf, len);
	else
		rc = pcl_read_file(path, max, 0, &buf, len);
	if (rc == -EFBIG) {
		if (max % 1024 == 0)
			pcl_fail("%s: larger than %zu KiB", path, max / 1024);
		else
			pcl_fail("%s: larger than %zu bytes", path, max);
		return NULL;
	}
	if (rc != 0) {
		pcl_fail("%s: %s", path, pcl_read_strerror(rc));
		return NULL;
	}
	if (memchr(buf, '\0', *len) != NULL) {
		pcl_fail("%s: contains a NUL byte", path);
		explicit_bzero(buf, *len);
		free(buf);
		return NULL;
	}
	return buf;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: portcullis COMMAND [ARGS...]\n\ncommands:\n");
	for (const struct pcl_command *c = commands; c->name != NULL; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (const struct pcl_command *c = commands; c->name != NULL; c++)
		if (strcmp(argv[1], c->name) == 0)
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "portcullis: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
