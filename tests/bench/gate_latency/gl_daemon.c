/*
 * gl_daemon.c - process helpers of the gate latency benchmark (see gl_daemon.h).
 * Linked by gate-latency-bench only; reads /proc of processes it started itself
 * and trusts it as the kernel's.
 */
#include "gl_daemon.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double gl_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

pid_t gl_spawn(char *const argv[], const char *log_path)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	setenv("LD_PRELOAD", "libumockdev-preload.so.0", 1);
	execvp(argv[0], argv);
	fprintf(stderr, "gate-latency-bench: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

void gl_stop(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* Field 4 (ppid) of /proc/PID/stat; the command name may hold spaces. */
static pid_t ppid_of(const char *pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	int ppid;
	if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

void gl_tree_scan(struct gl_tree *t, pid_t root)
{
	t->n = 0;
	t->pid[t->n++] = root;
	/* Parents come before children in the list, so one pass per level suffices. */
	for (size_t level = 0; level < 3; level++) {
		DIR *d = opendir("/proc");
		struct dirent *de;
		if (d == NULL)
			return;
		while ((de = readdir(d)) != NULL && t->n < GL_MAX_PIDS) {
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			pid_t pid = (pid_t)atoi(de->d_name), ppid = ppid_of(de->d_name);
			bool parent_known = false, known = false;
			for (size_t i = 0; i < t->n; i++) {
				parent_known |= t->pid[i] == ppid;
				known |= t->pid[i] == pid;
			}
			if (parent_known && !known)
				t->pid[t->n++] = pid;
		}
		closedir(d);
	}
}

/* 1 if every thread of pid sleeps, 0 if one runs or waits on the disk, -1 if gone. */
static int asleep(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	struct dirent *de;
	int all = 1;
	if (d == NULL)
		return -1;
	while (all && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char sp[300], buf[512];
		snprintf(sp, sizeof(sp), "/proc/%d/task/%s/stat", (int)pid, de->d_name);
		int fd = open(sp, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		char *p = strrchr(buf, ')');
		if (p != NULL && p[1] == ' ' && p[2] != 'S')
			all = 0;
	}
	closedir(d);
	return all;
}

int gl_wait_idle(const struct gl_tree *t, unsigned quiet_us, unsigned timeout_ms)
{
	double start = gl_now_us(), since = -1;

	while (gl_now_us() - start < timeout_ms * 1000.0) {
		int idle = 1;
		for (size_t i = 0; i < t->n && idle == 1; i++) {
			int a = asleep(t->pid[i]);
			if (a < 0 && i == 0)
				return -1;
			if (a == 0)
				idle = 0;
		}
		double now = gl_now_us();
		if (!idle)
			since = -1;
		else if (since < 0)
			since = now;
		else if (now - since >= quiet_us)
			return 0;
		usleep(100);
	}
	return -1;
}

int gl_event_socket(pid_t pid, char *path, size_t size)
{
	unsigned long inodes[64];
	size_t n = 0;
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(dir);
	struct dirent *de;
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && n < 64) {
		char lp[400], target[64];
		snprintf(lp, sizeof(lp), "%s/%s", dir, de->d_name);
		ssize_t len = readlink(lp, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (sscanf(target, "socket:[%lu]", &inodes[n]) == 1)
			n++;
	}
	closedir(d);

	FILE *f = fopen("/proc/net/unix", "re");
	char line[512];
	int rc = -1;
	if (f == NULL)
		return -1;
	while (rc != 0 && fgets(line, sizeof(line), f) != NULL) {
		unsigned long inode;
		char sock_path[256];
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu %255s", &inode, sock_path) != 2)
			continue;
		const char *base = strrchr(sock_path, '/');
		if (base == NULL || strncmp(base, "/event", 6) != 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (inodes[i] == inode && strlen(sock_path) < size) {
				strcpy(path, sock_path);
				rc = 0;
			}
	}
	fclose(f);
	return rc;
}

int gl_kernel_uevent(struct gl_msg *m, const char *action, const char *devpath, const char *devtype,
		     unsigned long long seqnum)
{
	size_t size = sizeof(m->buf);
	int len = snprintf(m->buf, size, "%s@%s", action, devpath) + 1;
	const char *fields[] = {"ACTION",    action, "DEVPATH", devpath,
				"SUBSYSTEM", "usb",  "DEVTYPE", devtype};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && len < (int)size; i += 2)
		len +=
		    snprintf(m->buf + len, size - (size_t)len, "%s=%s", fields[i], fields[i + 1]) +
		    1;
	if (len < (int)size)
		len += snprintf(m->buf + len, size - (size_t)len, "SEQNUM=%llu", seqnum) + 1;
	if (len >= (int)size)
		return -EMSGSIZE;
	m->len = (size_t)len;
	return 0;
}

int gl_capture(const char *path, void (*send)(void *), void *arg, struct gl_msg *m)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -ETIMEDOUT;
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	send(arg);
	struct pollfd p = {fd, POLLIN, 0};
	if (poll(&p, 1, 5000) == 1) {
		ssize_t n = recv(fd, m->buf, sizeof(m->buf), 0);
		rc = n > 0 ? 0 : -EIO;
		m->len = n > 0 ? (size_t)n : 0;
	}
	close(fd);
	unlink(path);
	return rc;
}

int gl_send(int fd, const char *path, pid_t cred_pid, struct gl_msg *m, double *t0)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct iovec iov = {.iov_base = m->buf, .iov_len = m->len};
	struct msghdr mh = {.msg_name = &addr,
			    .msg_namelen = sizeof(addr),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	struct ucred cred = {.pid = cred_pid, .uid = 0, .gid = 0};
	memcpy(CMSG_DATA(c), &cred, sizeof(cred));
	if (t0 != NULL)
		*t0 = gl_now_us();
	return sendmsg(fd, &mh, 0) == (ssize_t)m->len ? 0 : -errno;
}
