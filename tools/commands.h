/*
 * commands.h - the subcommands of the portcullis CLI.
 * Each subcommand lives in its own tools/cmd_*.c and is listed once in portcullis.c.
 * Convention: return 0 on success, 1 on failure (one "portcullis: ..." line on stderr
 * already printed), 2 on a usage error.
 */
#ifndef PCL_TOOLS_COMMANDS_H
#define PCL_TOOLS_COMMANDS_H

#include <stddef.h>

struct pcl_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
};

int cmd_devices(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_notify(int argc, char **argv);
int cmd_approve(int argc, char **argv);
int cmd_approver(int argc, char **argv);
int cmd_request(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
/* `policy sign` and `policy show --verify` (tools/approval_policy.c). */
int policy_sign(int argc, char **argv);
int policy_show(int argc, char **argv);

/* Print "portcullis: <formatted>" to stderr; returns 1 for `return pcl_fail(...)`. */
int pcl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Read a whole text file ("-" = standard input) of at most max bytes (lib/common's
 * pcl_read_file), refusing one that holds a NUL byte: NUL-terminated, for the caller to
 * free, or NULL after a pcl_fail message naming path (tools/portcullis.c). */
char *pcl_read_text(const char *path, size_t max, size_t *len);

int cmd_wipe(int argc, char **argv);
/* cmd_wipe.c: portcullis-wiper's path (next to this program, or in libexec); 0 or
 * -ENOENT. cmd_wipe_mkfs: how the fresh vfat is made (NULL: fork and exec mkfs.vfat here;
 * portcullis-wipe sets its starter's, tools/wipe_starter.c); 0, or negative errno. */
int wipe_find_wiper(char *out, size_t len);
extern int (*cmd_wipe_mkfs)(const char *device);
int cmd_media_accept(int argc, char **argv);
int cmd_fleet(int argc, char **argv);
int cmd_media(int argc, char **argv);

#endif
