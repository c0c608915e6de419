/*
 * rights.c - one datagram with descriptors (SCM_RIGHTS) over a SOCK_SEQPACKET socket,
 * sent or received: the one place that builds and walks the control data. Linked by
 * portcullisd (parent/engine channel, the launcher), portcullis-wipe (its starter) and
 * the tests. A received datagram is untrusted: its descriptors are counted and kept up
 * to the caller's limit, and every one the caller did not ask for is closed, so a peer
 * can never plant a descriptor in the receiver's table.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"

union rights_ctl {
	struct cmsghdr align;
	char space[CMSG_SPACE(IPC_RIGHTS_MAX * sizeof(int))];
};

int ipc_send_rights(int fd, const void *buf, size_t len, const int *fds, size_t nfds)
{
	union rights_ctl ctl;
	union {
		const void *in;
		void *base; /* sendmsg only reads it, through a non-const iovec */
	} data = {buf};
	struct iovec iov = {data.base, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds > IPC_RIGHTS_MAX || (nfds > 0 && fds == NULL))
		return -EINVAL;
	if (nfds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.space;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	for (;;) {
		ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (w >= 0)
			return (size_t)w == len ? 0 : -EIO;
		if (errno != EINTR)
			return -errno;
	}
}

/* Walk the control data: the first max descriptors into fds, the others closed. Returns
 * how many came in all. */
static size_t take_rights(struct msghdr *mh, int *fds, size_t max, size_t *kept)
{
	size_t total = 0;

	*kept = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++, total++) {
			int got;
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*kept < max)
				fds[(*kept)++] = got;
			else
				close(got);
		}
	}
	return total;
}

ssize_t ipc_recv_rights(int fd, void *buf, size_t len, int *fds, size_t max, size_t *nfds)
{
	union rights_ctl ctl;
	struct iovec iov = {buf, len};
	struct msghdr mh;
	ssize_t n;

	*nfds = 0;
	if (max > IPC_RIGHTS_MAX || (max > 0 && fds == NULL))
		return -EINVAL;
	do {
		mh = (struct msghdr){.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = ctl.space,
				     .msg_controllen = CMSG_SPACE(max * sizeof(int))};
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	size_t kept, total = take_rights(&mh, fds, max, &kept);
	if (total > max || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
		for (size_t i = 0; i < kept; i++)
			close(fds[i]);
		return -EMSGSIZE;
	}
	*nfds = kept;
	return n;
}
