/*
 * parent.h - the root parent of portcullisd: gates the root hubs, runs the engine,
 * and carries out the engine's requests after re-checking each one.
 */
#ifndef PCL_DAEMON_PARENT_H
#define PCL_DAEMON_PARENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "ipc.h"
#include "roles.h"

#define PARENT_MAX_AUTHORIZED 512

/* Where the request handling (parent_requests.c, parent_jobs.c) finds the kernel's files
 * and how it starts programs: parent_kernel in portcullisd ("/sys", "/dev",
 * "/proc/self/mountinfo", the launcher); a directory tree of a test's otherwise. */
struct parent_sys {
	const char *sysfs;     /* the sysfs root: "/sys" */
	const char *dev;       /* device nodes: "/dev" */
	const char *mountinfo; /* the mount table: "/proc/self/mountinfo" */
	/* Start a program of the role table (parent_launch below). */
	pid_t (*launch)(enum pcl_role_id role, char *const argv[], char *const envp[],
			const int fds[2], const int at[2]);
};
extern const struct parent_sys parent_kernel;

/* The parent's own table: devices it authorised, by name and bus/dev number; and where
 * it looks for them (NULL: parent_kernel). */
struct parent_table {
	const struct parent_sys *sys;
	struct ipc_device_ref dev[PARENT_MAX_AUTHORIZED];
	size_t n;
	/* parent_grant.c: the device of the last IPC_DEV_PREPARE and its authorized file,
	 * open for writing, until the next request. */
	bool held;
	int held_fd;
	struct ipc_device_ref held_dev;
};

/* Run until SIGTERM/SIGINT; returns the process exit status. config: the configuration
 * file's path (the engine reads it too); fg: diagnostics on stderr. */
int parent_run(const struct conf *c, const char *config, bool fg);
/* The path of one of the project's programs in LIBEXECDIR/portcullis (next to the running
 * portcullisd's SBINDIR); 0 or negative errno. */
int parent_libexec(const char *name, char *out, size_t len);

/* Write authorized_default (and interface_authorized_default) on every root hub. */
int parent_gate_root_hubs(const struct conf *c);

/* Carry out one engine request after re-checking it; returns 0 or negative errno,
 * which goes back to the engine in IPC_RESULT. */
int parent_handle(struct parent_table *t, const struct ipc_msg *req, int *passfd);

/* parent_requests.c: the table's paths (parent_kernel when it names none), and
 * SYSFS/sub[/name] in out; 0 or -ENAMETOOLONG. */
const struct parent_sys *parent_sys_of(const struct parent_table *t);
int parent_sys_path(const struct parent_table *t, char *out, size_t len, const char *sub,
		    const char *name);
/* parent_requests.c: is d the device the engine decided about (bus and device number as
 * sysfs has them now), not a root hub or an interface? Its sysfs directory in dir; 0,
 * -EINVAL, -ENODEV or -ESTALE. */
int parent_check_device(const struct parent_table *t, const struct ipc_device_ref *d, char *dir,
			size_t len);
/* parent_requests.c: add d to the table of devices authorised (0 or -ENOSPC), or forget
 * every entry of that name. */
int parent_table_add(struct parent_table *t, const struct ipc_device_ref *d);
void parent_table_forget(struct parent_table *t, const char *name);
/* parent_grant.c: a grant in two steps (see there). Prepare: check d and hold its
 * authorized file open, *passfd a copy of that descriptor for the engine (-1 on a
 * refusal); commit: write 1 to it, if the prepare just before was of d (else -EPERM), and
 * add d to the table; drop: close what a prepare holds. 0 or -errno. */
int parent_grant_prepare(struct parent_table *t, const struct ipc_device_ref *d, int *passfd);
int parent_grant_commit(struct parent_table *t, const struct ipc_device_ref *d);
void parent_grant_drop(struct parent_table *t);
/* parent_requests.c: is this device one the parent authorised? */
bool parent_table_has(const struct parent_table *t, const struct ipc_device_ref *d);
/* The sysfs directory (malloc'd) of disk `block`, if it lies under device d, which this
 * parent authorised and which is still there with its bus and device number; or -EPERM,
 * -ESTALE, -ENODEV. */
int parent_disk_of_device(const struct parent_table *t, const struct ipc_device_ref *d,
			  const char *block, char **diskdir);

/* parent_jobs.c: helpers on approved media (see there). certs_fd: the root-owned
 * certificates directory, held open. */
int parent_jobs_init(const struct conf *c, int certs_fd);
/* On success *chan is the engine's end of the helper's output channel. */
int parent_job_start(const struct parent_table *t, const struct ipc_msg *req, int *chan);
int parent_job_stop(const struct ipc_msg *req);
/* A child was reaped: the engine's number of the job it ran, or 0. */
uint32_t parent_jobs_reaped(pid_t pid);
/* The engine exited: stop its helpers; their numbers mean nothing to the next one. */
void parent_jobs_engine_gone(void);
/* At exit: stop every helper (SIGTERM, then SIGKILL after two seconds). */
void parent_jobs_stop_all(void);

/* parent_launch.c: the launcher, forked before the parent's filter goes on; the only
 * process that starts programs (see there). */
int parent_launcher_start(void);
pid_t parent_launcher_pid(void);
/* Start the program of role (a row of the role table that the launcher starts) as a child
 * of this process: argv (argv[0] is replaced by the program's path), envp, and fds[i]
 * (-1: none) as descriptor at[i] of the program. The pid, or negative errno. */
pid_t parent_launch(enum pcl_role_id role, char *const argv[], char *const envp[], const int fds[2],
		    const int at[2]);
/* Close the launcher's channel: it exits. */
void parent_launcher_stop(void);
#endif
