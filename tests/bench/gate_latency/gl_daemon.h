/*
 * gl_daemon.h - process helpers of the gate latency benchmark: start a daemon
 * under umockdev's preload, tell when its process tree is idle, find its uevent
 * socket, send it a kernel-format uevent. Linked by gate-latency-bench only.
 */
#ifndef GL_DAEMON_H
#define GL_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

#define GL_MAX_PIDS 16

struct gl_tree {
	pid_t pid[GL_MAX_PIDS];
	size_t n;
};

/* Fork and exec argv with LD_PRELOAD=libumockdev-preload.so.0, stdout and stderr
 * to log_path. Returns the child's pid or -1. */
pid_t gl_spawn(char *const argv[], const char *log_path);

/* Stop the daemon (SIGTERM, then SIGKILL after 5 s) and reap it. */
void gl_stop(pid_t pid);

/* pid and its descendants (one scan of /proc). */
void gl_tree_scan(struct gl_tree *t, pid_t root);

/* Wait until every thread of the tree has been asleep (state S) for quiet_us
 * in a row. Returns 0, or -1 after timeout_ms or if the root process died. */
int gl_wait_idle(const struct gl_tree *t, unsigned quiet_us, unsigned timeout_ms);

/* The filesystem path of the AF_UNIX socket that umockdev's preload bound for
 * pid's uevent (netlink) socket: "<testbed root>/event<fd>". 0 or -1. */
int gl_event_socket(pid_t pid, char *path, size_t size);

/* One uevent datagram as a daemon's uevent socket receives it. */
struct gl_msg {
	char buf[2048];
	size_t len;
};

/* A kernel-format uevent: "ACTION@DEVPATH" then ACTION, DEVPATH, SUBSYSTEM=usb,
 * DEVTYPE, SEQNUM fields, each NUL-terminated. 0 or -EMSGSIZE. */
int gl_kernel_uevent(struct gl_msg *m, const char *action, const char *devpath, const char *devtype,
		     unsigned long long seqnum);

/* Bind a datagram socket at path (a testbed's "event<N>", where umockdev sends),
 * call send(arg), and keep the first datagram that arrives within 5 s. 0 or -errno. */
int gl_capture(const char *path, void (*send)(void *), void *arg, struct gl_msg *m);

/* Send m through the unbound datagram socket fd to the socket at path, with
 * SCM_CREDENTIALS claiming cred_pid, uid 0, gid 0 (a pid other than ours needs
 * CAP_SYS_ADMIN). *t0 is the time just before sendmsg(). 0 or -errno. */
int gl_send(int fd, const char *path, pid_t cred_pid, struct gl_msg *m, double *t0);

/* CLOCK_MONOTONIC in microseconds. */
double gl_now_us(void);

#endif
