/*
 * wipe_job_main.c - portcullis-wipe: the wipe orchestrator as its own program, exec'd as
 * root by the portcullisd parent for an approved medium (docs/architecture.md, role
 * table). It runs exactly `portcullis wipe --local` (tools/cmd_wipe.c, shared code), but
 * links none of the CLI's other libraries (libsystemd, libqrencode, libfido2): a root
 * process should carry no code it does not use. Its arguments come from the parent; the
 * wiper's report lines it reads are checked by lib/wipe. Before anything else it forks its
 * starter (wipe_starter.c), the one part of it that can start a program (the wiper and
 * mkfs.vfat), and installs its own seccomp allow-list (lib/sandbox, SANDBOX_WIPE): no
 * execve, no fork, nothing executable mapped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "luks.h"
#include "sandbox.h"
#include "wipe.h"
#include "wipe_starter.h"

int pcl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("portcullis-wipe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int main(int argc, char **argv)
{
	int local = 0;
	/* The starter first (the wiper and mkfs.vfat are started by it, on the device of
	 * this command line), then this process's own filter: no exec, no fork. */
	int rc = wipe_starter_start(argc > 1 ? argv[argc - 1] : "");

	if (rc != 0) {
		fprintf(stderr, "portcullis-wipe: cannot start its starter: %s\n", strerror(-rc));
		return 1;
	}
	/* What libcryptsetup would map on its first header read, mapped now. */
	rc = wipe_luks_preload();
	if (rc != 0) {
		fprintf(stderr, "portcullis-wipe: cannot load OpenSSL's legacy provider: %s\n",
			strerror(-rc));
		return 1;
	}
	rc = sandbox_apply(SANDBOX_WIPE);
	if (rc != 0) {
		fprintf(stderr, "portcullis-wipe: cannot install the seccomp filter: %s\n",
			strerror(-rc));
		return 1;
	}

	for (int i = 1; i < argc; i++)
		local |= strcmp(argv[i], "--local") == 0;
	if (!local || argc < 2) {
		fprintf(stderr, "usage: portcullis-wipe --local [OPTIONS] DEVICE (see portcullis "
				"wipe --help)\n");
		return 2;
	}
	wipe_spawn_set_starter(wipe_starter_wiper);
	cmd_wipe_mkfs = wipe_starter_mkfs;
	argv[0] = (char *)"wipe";
	return cmd_wipe(argc, argv);
}
