/*
 * engine_exec.c - portcullis-engine: the unprivileged engine as its own program, exec'd
 * by the portcullisd parent with a clean environment (docs/architecture.md, role table).
 *   portcullis-engine -c CONFIG -u UID -g GID [-f] [-s] [-r s|e NUMBER]
 * Descriptor 3 is its end of the parent's SOCK_SEQPACKET channel. It starts as root,
 * opens what needs root (the kernel's uevent socket and the udev monitor), drops to
 * UID:GID, installs its own filter and only then reads its first untrusted byte
 * (engine_main). Its command line and config file
 * come from the root parent and are trusted as the parent's own.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "engine.h"
#include "engine_main.h"
#include "log.h"

#define PARENT_FD 3
#define MAX_DIAGS 16

static int id_arg(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out < 0xffffffffUL ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	static struct pcl_diag diags[MAX_DIAGS];
	const char *config = NULL;
	unsigned long uid = 0, gid = 0;
	bool have_uid = false, have_gid = false, foreground = false, first_start = false;
	char restarted[48] = "";
	unsigned long why = 0;
	struct conf c;
	size_t n = 0;
	int opt, type;
	socklen_t len = sizeof(type);

	while ((opt = getopt(argc, argv, "c:u:g:fsr:")) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'u':
			have_uid = id_arg(optarg, &uid) == 0;
			break;
		case 'g':
			have_gid = id_arg(optarg, &gid) == 0;
			break;
		case 'f':
			foreground = true;
			break;
		case 's': /* the daemon's first start since boot (present-devices) */
			first_start = true;
			break;
		case 'r': /* a restart: how the previous engine ended, "s9" or "e1" */
			if ((optarg[0] == 's' || optarg[0] == 'e') && id_arg(optarg + 1, &why) == 0)
				snprintf(restarted, sizeof(restarted), "%s %lu",
					 optarg[0] == 's' ? "killed by signal" : "exit status",
					 why);
			else
				config = NULL;
			break;
		default:
			config = NULL;
			break;
		}
	}
	if (config == NULL || !have_uid || !have_gid || uid == 0 || optind != argc) {
		fprintf(
		    stderr,
		    "usage: portcullis-engine -c CONFIG -u UID -g GID [-f] [-s] [-r s|eN] (run by "
		    "portcullisd, descriptor 3 its channel)\n");
		return 2;
	}
	if (getsockopt(PARENT_FD, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
	    type != SOCK_SEQPACKET) {
		fprintf(stderr, "portcullis-engine: descriptor 3 is not the parent's channel\n");
		return 2;
	}
	log_init("engine", foreground);
	conf_defaults(&c);
	if (conf_load_file(&c, config, diags, MAX_DIAGS, &n) != 0) {
		char msg[600];
		for (size_t i = 0; i < n && i < MAX_DIAGS; i++) {
			pcl_diag_format(&diags[i], msg, sizeof(msg));
			log_err("%s", msg);
		}
		return 1;
	}
	return engine_main(&c, PARENT_FD, (uid_t)uid, (gid_t)gid, first_start,
			   restarted[0] != '\0' ? restarted : NULL);
}
