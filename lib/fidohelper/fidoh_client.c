/*
 * fidoh_client.c - the CLI's side of the fido helper (see fidoh.h): fork the helper on
 * a socketpair, wait for it to report the key open, send the request, take one answer,
 * reap the helper. Linked by the portcullis CLI. Everything the helper says is
 * untrusted: a malformed, missing or late answer, or a helper that dies, ends in a
 * plain error and a killed, reaped child, never a hang.
 */
#include "fidoh.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OPEN_TIMEOUT_MS 20000 /* opening and initialising the key */

static int helper_fail(struct fidoh_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int helper_fail(struct fidoh_result *r, const char *fmt, ...)
{
	va_list ap;

	r->fail = FIDOH_FAIL_HELPER;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* How the helper ended, in words, after a failed exchange. */
static void describe_exit(int st, char *buf, size_t len)
{
	if (WIFSIGNALED(st))
		snprintf(buf, len, "it was killed by signal %d (%s)%s", WTERMSIG(st),
			 strsignal(WTERMSIG(st)),
			 WTERMSIG(st) == SIGSYS ? ": a system call outside its sandbox" : "");
	else if (WIFEXITED(st))
		snprintf(buf, len, "it exited with status %d", WEXITSTATUS(st));
	else
		snprintf(buf, len, "it stopped");
}

static const char *recv_words(int rc)
{
	return rc == -ETIMEDOUT			   ? "no answer in time"
	       : rc == -EPIPE || rc == -ECONNRESET ? "it closed the channel without answering"
	       : rc == -EINVAL			   ? "malformed answer"
						   : "cannot read its answer";
}

/* One answer of the expected kind; on failure r says why (diag for garbage). */
static int expect(int fd, enum fidoh_kind kind, struct fidoh_msg *m, int timeout_ms, char *why,
		  size_t whylen)
{
	struct pcl_diag diag = {0};
	int rc = fidoh_recv(fd, m, timeout_ms, &diag);

	if (rc == 0 && m->kind != kind) {
		rc = -EINVAL;
		pcl_diag_set(&diag, "<fido helper>", 0, "field kind: %u where %u was due",
			     (unsigned)m->kind, (unsigned)kind);
	}
	if (rc == -EINVAL) {
		pcl_diag_format(&diag, why, whylen);
		fidoh_msg_wipe(m);
	} else if (rc != 0) {
		snprintf(why, whylen, "%s", recv_words(rc));
	}
	return rc;
}

int fidoh_call(const char *path, const struct fidoh_msg *req, struct fidoh_msg *res,
	       const struct fidoh_ops *ops, struct fidoh_result *r)
{
	static const struct fidoh_ops real = {0};
	int sv[2], st = 0, rc;
	char why[PCL_DIAG_MSG_MAX + 300] = "", how[128];
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	memset(res, 0, sizeof(*res));
	ops = ops ? ops : &real;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return helper_fail(r, "cannot start the key helper: %s", strerror(errno));
	fflush(NULL);
	if ((pid = fork()) < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return helper_fail(r, "cannot start the key helper: %s", strerror(e));
	}
	if (pid == 0) {
		close(sv[0]);
		(ops->child ? ops->child : fidoh_helper_main)(sv[1], path, ops->arg);
		_exit(127);
	}
	close(sv[1]);
	/* A helper that dies makes our writes fail with EPIPE, not kill the CLI. */
	sigaction(SIGPIPE, &ign, &old_pipe);
	rc = expect(sv[0], FIDOH_OPENED, res,
		    ops->timeout_ms > 0 && ops->timeout_ms < OPEN_TIMEOUT_MS ? ops->timeout_ms
									     : OPEN_TIMEOUT_MS,
		    why, sizeof(why));
	if (rc == 0 && res->status != 0) {
		r->fail = FIDOH_FAIL_OPEN;
		r->status = res->status;
	} else if (rc == 0) {
		if (ops->opened)
			ops->opened(pid, ops->arg);
		if ((rc = fidoh_send(sv[0], req)) == -EPIPE || rc == -ECONNRESET)
			snprintf(why, sizeof(why), "%s", recv_words(rc)); /* died before asked */
		else if (rc != 0)
			snprintf(why, sizeof(why), "cannot send it the request: %s", strerror(-rc));
		else
			rc = expect(sv[0],
				    req->kind == FIDOH_MAKE_CRED ? FIDOH_CRED : FIDOH_ASSERTION,
				    res, ops->timeout_ms > 0 ? ops->timeout_ms : FIDOH_TIMEOUT_MS,
				    why, sizeof(why));
		if (rc == 0 && res->status != 0) {
			r->fail = FIDOH_FAIL_KEY;
			r->status = res->status;
		}
	}
	/* A helper that closed the channel is given a second to finish dying (so its end
	 * can be told); one that misbehaved otherwise, or lingers, is killed. */
	bool killed = false, reaped = false;
	int grace = rc == -EPIPE || rc == -ECONNRESET ? 100 : 1;
	for (int i = 0; rc != 0 && i < grace && !reaped; i++) {
		reaped = waitpid(pid, &st, WNOHANG) == pid;
		if (!reaped && i + 1 < grace)
			usleep(10000);
	}
	if (rc != 0 && !reaped)
		killed = kill(pid, SIGKILL) == 0;
	close(sv[0]);
	while (!reaped && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGPIPE, &old_pipe, NULL);
	if (rc != 0) {
		describe_exit(st, how, sizeof(how));
		fidoh_msg_wipe(res);
		/* Killed by us: what it did wrong is the reason; otherwise how it died too. */
		return helper_fail(r, "the key helper failed: %s%s%s", why, killed ? "" : "; ",
				   killed ? "" : how);
	}
	return r->fail == FIDOH_FAIL_NONE ? 0 : -1;
}
