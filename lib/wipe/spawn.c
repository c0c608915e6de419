/*
 * spawn.c - start portcullis-wiper over an already-open block fd and read its report
 * lines. Used exactly the same way by `portcullis wipe --local` and portcullis-wipe (the
 * latter starts it through its starter: wipe_spawn_set_starter).
 * Linked by the CLI and the daemon parent (root). The wiper's output is untrusted: lines
 * are bounded and parsed strictly by report.c; a bad line is the caller's cue to kill it.
 */
#include "wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static wipe_start_fn starter;

void wipe_spawn_set_starter(wipe_start_fn start)
{
	starter = start;
}

int wipe_spawn(const char *wiper, int devfd, const struct wipe_job *job, const char *user,
	       struct wipe_child *c)
{
	int jp[2] = {-1, -1}, op[2] = {-1, -1}, r;
	char text[256];
	pid_t pid;

	memset(c, 0, sizeof(*c));
	c->out = -1;
	c->pid = -1;
	r = wipe_job_format(job, text, sizeof(text));
	if (r < 0)
		return r;
	if (pipe2(jp, O_CLOEXEC) != 0 || pipe2(op, O_CLOEXEC) != 0) {
		r = -errno;
		goto fail;
	}
	if (starter != NULL) {
		const int fds[3] = {op[1], devfd, jp[0]};
		long got = starter(wiper, user, fds);
		if (got < 0) {
			r = (int)got;
			goto fail;
		}
		pid = (pid_t)got;
	} else if ((pid = fork()) < 0) {
		r = -errno;
		goto fail;
	}
	if (pid == 0) {
		/* Move everything above 4 first so the dup2 calls cannot clobber each other. */
		int d = fcntl(devfd, F_DUPFD_CLOEXEC, 10), j = fcntl(jp[0], F_DUPFD_CLOEXEC, 10),
		    o = fcntl(op[1], F_DUPFD_CLOEXEC, 10);
		char a0[] = "portcullis-wiper", a1[] = "--fd", a2[] = "3", a3[] = "--job-fd",
		     a4[] = "4", a5[] = "--user", a6[64],
		     e0[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
		char *argv[] = {a0, a1, a2, a3, a4, a5, a6, NULL};
		char *envp[] = {e0, NULL};

		snprintf(a6, sizeof(a6), "%s", user);

		if (d < 0 || j < 0 || o < 0 || dup2(o, 1) < 0 || dup2(d, 3) < 0 || dup2(j, 4) < 0)
			_exit(127);
		execve(wiper, argv, envp);
		_exit(127);
	}
	close(jp[0]);
	close(op[1]);
	jp[0] = op[1] = -1;
	r = write_all(jp[1], text, (size_t)r);
	explicit_bzero(text, sizeof(text));
	close(jp[1]);
	c->pid = pid;
	c->out = op[0];
	if (r != 0) {
		wipe_child_finish(c, 1);
		return r;
	}
	return 0;
fail:
	explicit_bzero(text, sizeof(text));
	for (int i = 0; i < 2; i++) {
		if (jp[i] >= 0)
			close(jp[i]);
		if (op[i] >= 0)
			close(op[i]);
	}
	return r;
}

int wipe_child_next(struct wipe_child *c, struct wipe_report *r, struct pcl_diag *d)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		ssize_t n;

		if (nl != NULL) {
			size_t ll = (size_t)(nl - c->buf) + 1;
			int rc = wipe_report_parse(c->buf, ll, r, d);

			memmove(c->buf, c->buf + ll, c->len - ll);
			c->len -= ll;
			return rc == 0 ? 1 : rc;
		}
		if (c->len == sizeof(c->buf)) {
			pcl_diag_set(d, "<wiper report>", 0, "line longer than %zu bytes",
				     sizeof(c->buf));
			return -EINVAL;
		}
		n = read(c->out, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			if (c->len > 0) {
				pcl_diag_set(d, "<wiper report>", 0, "output ends mid-line");
				return -EINVAL;
			}
			return 0;
		}
		c->len += (size_t)n;
	}
}

int wipe_child_finish(struct wipe_child *c, int kill_it)
{
	int status = 0;

	if (c->pid > 0) {
		if (kill_it)
			kill(c->pid, SIGKILL);
		while (waitpid(c->pid, &status, 0) < 0)
			if (errno != EINTR) {
				status = -errno;
				break;
			}
		c->pid = -1;
	}
	if (c->out >= 0)
		close(c->out);
	c->out = -1;
	return status;
}
