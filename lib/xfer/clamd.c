/*
 * clamd.c - malware scanning of a file by ClamAV's clamd over its UNIX socket.
 * Linked by portcullis-xferwatch. The open file is passed with zFILDES and
 * SCM_RIGHTS, so clamd never needs access to the medium's path. clamd's reply
 * is untrusted: it is length-bounded and parsed strictly; anything that is not
 * "OK" or "<signature> FOUND" is an error (the caller fails closed).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "xfer.h"

#define REPLY_MAX 1024

int xfer_clamd_parse_reply(const char *reply, size_t len, char *sig, size_t siglen)
{
	if (siglen > 0)
		sig[0] = '\0';
	/* Strip the terminator(s) clamd sends: NUL for z-commands, newline otherwise. */
	while (len > 0 && (reply[len - 1] == '\0' || reply[len - 1] == '\n'))
		len--;
	if (len == 0 || memchr(reply, '\0', len) != NULL)
		return -EPROTO;
	/* "<name>: <result>"; the name is ours ("fd[N]" / "stream"), find ": " */
	const char *colon = NULL;
	for (size_t i = 0; i + 1 < len; i++) {
		if (reply[i] == ':' && reply[i + 1] == ' ') {
			colon = reply + i;
			break;
		}
	}
	if (colon == NULL)
		return -EPROTO;
	const char *res = colon + 2;
	size_t rlen = len - (size_t)(res - reply);
	if (rlen == 2 && memcmp(res, "OK", 2) == 0)
		return 0;
	static const char found[] = " FOUND";
	size_t flen = sizeof(found) - 1;
	if (rlen > flen && memcmp(res + rlen - flen, found, flen) == 0) {
		size_t n = rlen - flen;
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)res[i];
			if (ch < 0x20 || ch == 0x7f)
				return -EPROTO;
		}
		if (siglen > 0) {
			if (n >= siglen)
				n = siglen - 1;
			memcpy(sig, res, n);
			sig[n] = '\0';
		}
		return 1;
	}
	return -EPROTO;
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000L +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000L;
}

static int wait_fd(int s, short ev, const struct timespec *deadline)
{
	for (;;) {
		long left = ms_left(deadline);
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = s, .events = ev};
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int xfer_clamd_scan_fd(const char *socket_path, unsigned timeout_ms, int fd, char *sig,
		       size_t siglen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, socket_path);
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	int rc;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		rc = -errno;
		goto out;
	}
	if ((rc = wait_fd(s, POLLOUT, &deadline)) < 0)
		goto out;
	static const char cmd[] = "zFILDES";
	if (send(s, cmd, sizeof(cmd), MSG_NOSIGNAL) != (ssize_t)sizeof(cmd)) {
		rc = errno ? -errno : -EIO;
		goto out;
	}
	char byte = 0;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(s, &msg, MSG_NOSIGNAL) != 1) {
		rc = errno ? -errno : -EIO;
		goto out;
	}
	char reply[REPLY_MAX];
	size_t got = 0;
	for (;;) {
		if ((rc = wait_fd(s, POLLIN, &deadline)) < 0)
			goto out;
		ssize_t n = recv(s, reply + got, sizeof(reply) - got, 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (memchr(reply, '\0', got) != NULL)
			break;
		if (got == sizeof(reply)) {
			rc = -EPROTO;
			goto out;
		}
	}
	const char *nul = memchr(reply, '\0', got);
	rc = xfer_clamd_parse_reply(reply, nul ? (size_t)(nul - reply) : got, sig, siglen);
out:
	close(s);
	return rc;
}

static int clamd_scan(void *arg, int fd, char *sig, size_t siglen)
{
	const struct xfer_config *c = arg;
	return xfer_clamd_scan_fd(c->clamd_socket, c->clamd_timeout_ms, fd, sig, siglen);
}

const struct xfer_scan_ops xfer_scan_clamd = {.scan = clamd_scan};
