/*
 * wipe_starter.c - the starter of portcullis-wipe: a small root process forked at the
 * orchestrator's start, before its filter, so that the orchestrator's own filter
 * (SANDBOX_WIPE) has no execve and no fork. Linked by portcullis-wipe only.
 *
 * It starts two programs and nothing else, both fixed when it is forked: portcullis-wiper
 * (found as cmd_wipe finds it), as a child of the orchestrator (CLONE_PARENT, so the
 * orchestrator reaps and signals it) with the three descriptors the orchestrator passes
 * (its stdout, the disk, the job pipe) and the --user it names; and mkfs.vfat on the
 * device of the orchestrator's command line, whose exit it waits for. Its only input is
 * the orchestrator's requests over a private SOCK_SEQPACKET pair; it installs its own
 * filter (SANDBOX_WIPE_STARTER: what the two programs' start-up needs) at once, and exits
 * when the orchestrator's end closes or the orchestrator dies.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "ipc.h"
#include "sandbox.h"
#include "wipe_starter.h"

enum { START_WIPER = 1, START_MKFS = 2 };

struct start_req {
	uint32_t kind;
	char user[64];
};

static int chan = -1;

/* The user the wiper drops to: a plain user name or number, nothing an option could be. */
static int user_ok(const char *u)
{
	if (u[0] == '\0' || u[0] == '-')
		return 0;
	for (const char *p = u; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return 0;
	return 1;
}

static long start_wiper(const char *wiper, const char *user, const int fds[3])
{
	char a0[] = "portcullis-wiper", a1[] = "--fd", a2[] = "3", a3[] = "--job-fd", a4[] = "4",
	     a5[] = "--user", a6[64], e0[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	char *argv[] = {a0, a1, a2, a3, a4, a5, a6, NULL};
	char *envp[] = {e0, NULL};

	snprintf(a6, sizeof(a6), "%s", user);
	long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
	if (pid != 0)
		return pid < 0 ? -errno : pid;
	/* Above 4 first, so that the dup2 calls cannot clobber each other. */
	int o = fcntl(fds[0], F_DUPFD_CLOEXEC, 10), d = fcntl(fds[1], F_DUPFD_CLOEXEC, 10),
	    j = fcntl(fds[2], F_DUPFD_CLOEXEC, 10);
	if (o < 0 || d < 0 || j < 0 || dup2(o, 1) != 1 || dup2(d, 3) != 3 || dup2(j, 4) != 4)
		_exit(127);
	close_range(5, ~0U, 0);
	execve(wiper, argv, envp);
	_exit(127);
}

static int run_mkfs(const char *device)
{
	char a0[] = "mkfs.vfat", a1[] = "-I", a2[] = "-n", a3[] = "PORTCULLIS", dev[PATH_MAX];
	char *av[] = {a0, a1, a2, a3, dev, NULL};
	int st;

	snprintf(dev, sizeof(dev), "%s", device);
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, 1) != 1)
			_exit(127);
		close_range(3, ~0U, 0);
		execvp("mkfs.vfat", av);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

static void starter_loop(int fd, const char *wiper, const char *device)
{
	for (;;) {
		struct start_req r;
		int fds[3] = {-1, -1, -1};
		size_t nfds;
		ssize_t n = ipc_recv_rights(fd, &r, sizeof(r), fds, 3, &nfds);

		if (n == 0 || (n < 0 && n != -EMSGSIZE))
			_exit(n == 0 ? 0 : 1); /* the orchestrator is done */
		long answer = -EINVAL; /* too long or too many descriptors: all closed already */
		int ok = n == (ssize_t)sizeof(r);
		r.user[sizeof(r.user) - 1] = '\0';
		if (ok && r.kind == START_WIPER && nfds == 3 && user_ok(r.user))
			answer = start_wiper(wiper, r.user, fds);
		else if (ok && r.kind == START_MKFS && nfds == 0)
			answer = run_mkfs(device);
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		int32_t a = (int32_t)answer;
		if (send(fd, &a, sizeof(a), MSG_NOSIGNAL) != sizeof(a))
			_exit(1);
	}
}

int wipe_starter_start(const char *device)
{
	char wiper[PATH_MAX];
	int sv[2];

	if (wipe_find_wiper(wiper, sizeof(wiper)) != 0)
		wiper[0] = '\0'; /* a wipe then fails to start its wiper, and says so */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	pid_t parent = getpid(), pid = fork();
	if (pid < 0) {
		int err = errno;
		close(sv[0]);
		close(sv[1]);
		return -err;
	}
	if (pid == 0) {
		close(sv[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		if (sandbox_apply(SANDBOX_WIPE_STARTER) != 0)
			_exit(1);
		starter_loop(sv[1], wiper, device);
	}
	close(sv[1]);
	chan = sv[0];
	return 0;
}

static long ask(struct start_req *r, const int *fds, size_t nfds)
{
	int32_t a;

	if (chan < 0)
		return -ENOTCONN;
	int rc = ipc_send_rights(chan, r, sizeof(*r), fds, nfds);
	if (rc != 0)
		return rc;
	ssize_t n;
	while ((n = recv(chan, &a, sizeof(a), 0)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(a) ? a : -EPIPE;
}

long wipe_starter_wiper(const char *wiper, const char *user, const int fds[3])
{
	struct start_req r = {.kind = START_WIPER};

	(void)wiper; /* the starter runs the one it found itself */
	if (strlen(user) >= sizeof(r.user))
		return -ENAMETOOLONG;
	snprintf(r.user, sizeof(r.user), "%s", user);
	return ask(&r, fds, 3);
}

int wipe_starter_mkfs(const char *device)
{
	struct start_req r = {.kind = START_MKFS};

	(void)device; /* the starter's own: the device of the command line */
	return (int)ask(&r, NULL, 0);
}
