/*
 * parent_launch.c - the launcher: a small root process forked by the parent before the
 * parent installs its own filter, the only process of portcullisd that starts programs.
 * Linked by portcullisd. A seccomp filter is inherited across fork and exec and can only
 * be narrowed, so whatever starts the engine and the root helpers must allow what they
 * call before their own filters go on (privilege drop, fanotify, exec start-up). Held by
 * the launcher (SANDBOX_LAUNCHER), that set is kept out of the parent, which answers the
 * engine (SANDBOX_PARENT: no exec, no fork, no fanotify, no mount).
 *
 * Its only input is the parent's requests over a private SOCK_SEQPACKET pair: a role of
 * the role table (lib/sandbox/roles.c: the program is the table's, never a path from the
 * request), the arguments and environment, and up to two descriptors with the numbers
 * they get in the program. It starts the program as a child of the parent (CLONE_PARENT),
 * so the parent reaps and signals it as before, and answers with its pid. It exits when
 * the parent's end closes, and dies with the parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "parent.h"
#include "roles.h"
#include "sandbox.h"

#define LAUNCH_TEXT_MAX	   4096
#define LAUNCH_STRINGS_MAX 40

struct launch_req {
	uint32_t role;	/* enum pcl_role_id */
	uint32_t nargs; /* argv strings, then nenv environment strings, in text */
	uint32_t nenv;
	int32_t at[2]; /* descriptor numbers in the program of the fds passed; -1 none */
	uint32_t textlen;
	char text[LAUNCH_TEXT_MAX];
};

static int launcher_fd = -1;
static pid_t launcher_pid = -1;

/* In the new process: descriptors to their numbers, nothing else inherited, exec. */
static void exec_child(const char *path, char **argv, char **envp, const int *fds,
		       const int32_t *at)
{
	int high[2] = {-1, -1}, top = 2;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0 && (high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 64)) < 0)
			_exit(126);
	for (int i = 0; i < 2; i++) {
		if (high[i] < 0)
			continue;
		if (dup2(high[i], at[i]) != at[i]) /* dup2 clears close-on-exec */
			_exit(126);
		if (at[i] > top)
			top = at[i];
	}
	close_range((unsigned)top + 1, ~0U, 0);
	execve(path, argv, envp);
	_exit(127);
}

/* Split the request's text into argv and envp (NULL-terminated); 0 or -EINVAL. */
static int split(struct launch_req *r, char **argv, char **envp)
{
	size_t n = r->nargs + r->nenv, k = 0;
	char *p = r->text, *end = r->text + r->textlen;

	if (r->nargs < 1 || n > LAUNCH_STRINGS_MAX || r->textlen > LAUNCH_TEXT_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char *z = memchr(p, '\0', (size_t)(end - p));
		if (z == NULL)
			return -EINVAL;
		if (i < r->nargs)
			argv[i] = p;
		else
			envp[k++] = p;
		p = z + 1;
	}
	argv[r->nargs] = NULL;
	envp[k] = NULL;
	return p == end ? 0 : -EINVAL;
}

/* One request: returns the new pid, or negative errno. The descriptors are closed. */
static int serve(struct launch_req *r, size_t len, int *fds, int nfds)
{
	char *argv[LAUNCH_STRINGS_MAX + 1], *envp[LAUNCH_STRINGS_MAX + 1], path[PATH_MAX];
	const struct pcl_role *role = NULL;
	int rc = 0;

	if (len < offsetof(struct launch_req, text) ||
	    len != offsetof(struct launch_req, text) + r->textlen ||
	    (role = pcl_role_get(r->role)) == NULL || !role->launched)
		rc = -EINVAL;
	for (int i = 0; rc == 0 && i < 2; i++)
		if ((i < nfds) != (r->at[i] >= 0) || r->at[i] > 9)
			rc = -EINVAL;
	if (rc == 0)
		rc = split(r, argv, envp);
	if (rc == 0)
		rc = parent_libexec(role->program, path, sizeof(path));
	if (rc == 0) {
		argv[0] = path;
		/* A child of the parent, not of the launcher: the parent reaps it. */
		long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
		if (pid == 0)
			exec_child(path, argv, envp, fds, r->at);
		rc = pid < 0 ? -errno : (int)pid;
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	return rc;
}

static void launcher_loop(int fd)
{
	static struct launch_req r;

	for (;;) {
		int fds[2] = {-1, -1};
		size_t nfds;
		ssize_t n = ipc_recv_rights(fd, &r, sizeof(r), fds, 2, &nfds);
		int32_t answer;

		if (n == 0 || (n < 0 && n != -EMSGSIZE))
			_exit(n == 0 ? 0 : 1); /* the parent is gone */
		if (n < 0)
			answer = -EINVAL; /* too long, or too many descriptors: all closed */
		else
			answer = serve(&r, (size_t)n, fds, (int)nfds);
		if (send(fd, &answer, sizeof(answer), MSG_NOSIGNAL) != sizeof(answer))
			_exit(1);
	}
}

int parent_launcher_start(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		int err = errno;
		log_err("launcher socketpair: %s", strerror(err));
		return -err;
	}
	pid_t parent = getpid(), pid = fork();
	if (pid < 0) {
		int err = errno;
		log_err("launcher fork: %s", strerror(err));
		close(sv[0]);
		close(sv[1]);
		return -err;
	}
	if (pid == 0) {
		/* Nothing of the parent's but its channel (as descriptor 3) and stdio; the
		 * syslog socket is opened afresh when needed, never reused by number. */
		closelog();
		if (sv[1] != 3 && dup2(sv[1], 3) != 3)
			_exit(1);
		close_range(4, ~0U, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, "pcl-launcher"); /* told apart from the parent in ps */
		if (getppid() != parent)
			_exit(1); /* the parent died before the line above */
		int rc = sandbox_apply(SANDBOX_LAUNCHER);
		if (rc != 0) {
			log_err("cannot install the launcher's seccomp filter: %s", strerror(-rc));
			_exit(1);
		}
		launcher_loop(3);
	}
	close(sv[1]);
	launcher_fd = sv[0];
	launcher_pid = pid;
	return 0;
}

pid_t parent_launcher_pid(void)
{
	return launcher_pid;
}

pid_t parent_launch(enum pcl_role_id role, char *const argv[], char *const envp[], const int fds[2],
		    const int at[2])
{
	static struct launch_req r;
	size_t used = 0, nfds = 0;
	int send_fds[2];

	memset(&r, 0, offsetof(struct launch_req, text));
	r.role = (uint32_t)role;
	for (int pass = 0; pass < 2; pass++) {
		char *const *v = pass == 0 ? argv : envp;
		for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
			size_t len = strlen(v[i]) + 1;
			if (used + len > sizeof(r.text) || r.nargs + r.nenv >= LAUNCH_STRINGS_MAX)
				return -E2BIG;
			memcpy(r.text + used, v[i], len);
			used += len;
			if (pass == 0)
				r.nargs++;
			else
				r.nenv++;
		}
	}
	r.textlen = (uint32_t)used;
	for (int i = 0; i < 2; i++) {
		r.at[i] = fds[i] >= 0 ? at[i] : -1;
		if (fds[i] >= 0)
			send_fds[nfds++] = fds[i];
	}
	if (nfds == 1 && fds[0] < 0) { /* keep the order: fds[1] alone goes as the first */
		r.at[0] = r.at[1];
		r.at[1] = -1;
	}
	int32_t answer;
	if (launcher_fd < 0)
		return -ENOTCONN;
	int rc = ipc_send_rights(launcher_fd, &r, offsetof(struct launch_req, text) + used,
				 send_fds, nfds);
	if (rc != 0)
		return rc;
	ssize_t n = recv(launcher_fd, &answer, sizeof(answer), 0);
	if (n != (ssize_t)sizeof(answer))
		return n < 0 ? -errno : -EPIPE;
	if (answer < 0)
		return answer;
	return (pid_t)answer;
}

void parent_launcher_stop(void)
{
	if (launcher_fd >= 0)
		close(launcher_fd); /* it exits at end of file; the parent reaps it */
	launcher_fd = -1;
}
