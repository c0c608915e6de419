/*
 * sandbox.h - one seccomp allow-list per process role. Applied after the role has
 * opened its resources and dropped its privileges, before its first untrusted byte.
 * Default action: kill the process (SIGSYS); a foreign architecture is killed too.
 * Built with -DSANDBOX_DEBUG=ON the default action reports (SIGSYS trap with the
 * syscall logged) instead of killing; that option is refused in release builds and
 * there is no runtime switch.
 */
#ifndef PCL_SANDBOX_H
#define PCL_SANDBOX_H

enum sandbox_role {
	SANDBOX_PARENT, /* root parent: sysfs writes, BLKROSET, engine requests; no exec */
	SANDBOX_ENGINE, /* unprivileged engine: events, sysfs reads, audit, control socket */
	SANDBOX_WIPER,	/* per-job wiper: read/write its block fd and pipes, nothing else */
	SANDBOX_FIDO,	/* the CLI's fido helper: its key fd and the CLI's socket, nothing else */
	SANDBOX_XFERWATCH, /* portcullis-xferwatch, once its fanotify groups are marked */
	SANDBOX_LAUNCHER,  /* the parent's launcher: what the programs it starts need */
	SANDBOX_WIPE,	   /* portcullis-wipe: no exec, no fork, no transfer logging, no servers */
	SANDBOX_WIPE_STARTER, /* portcullis-wipe's starter: what the wiper's and mkfs's
				 start-up needs */
};

/* Install the filter for role; 0 or negative errno. Sets no_new_privs first. */
int sandbox_apply(enum sandbox_role role);

const char *sandbox_role_name(enum sandbox_role role);

#endif
