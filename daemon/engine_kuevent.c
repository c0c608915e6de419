/*
 * engine_kuevent.c - the kernel's own uevents (netlink NETLINK_KOBJECT_UEVENT, group 1)
 * of the usb subsystem, handled as they arrive: a USB device is decided when the kernel
 * announces it, not after systemd-udevd has run its rules and re-broadcast the event.
 * udev's monitor stays for disks (it carries udevd's blkid properties) and as a second
 * source of usb events; each event is handled once, whichever comes first (SEQNUM: the
 * kernel numbers its events in order and udevd passes the number on).
 * Linked by the engine (unprivileged; the socket is opened as root before the privilege
 * drop). Input: datagrams on the socket. Only the kernel's are taken (sender port 0,
 * group 1, credentials pid 0 uid 0); their bytes are parsed by lib/usb/uevent.c, which
 * trusts none of them.
 */
#include "engine_kuevent.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine_usb.h"
#include "log.h"
#include "uevent.h"

#define KUEV_GROUP  1u
#define KUEV_RCVBUF (4 * 1024 * 1024)

int ekuev_open(struct ekuev *k)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = KUEV_GROUP};
	int on = 1, size = KUEV_RCVBUF, rc;

	k->fd =
	    socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	if (k->fd < 0 || setsockopt(k->fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0 ||
	    bind(k->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
		log_err("cannot follow the kernel's uevents: %s", strerror(-rc));
		if (k->fd >= 0)
			close(k->fd);
		k->fd = -1;
		return rc;
	}
	if (setsockopt(k->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
		setsockopt(k->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return 0;
}

/* Whether the message came from the kernel: port 0 and group 1 (a process's port is
 * never 0, and only root over the socket's network namespace may send on this family),
 * and the kernel's credentials (pid 0, uid 0). */
static bool from_kernel(struct msghdr *mh, const struct sockaddr_nl *sa)
{
	if (mh->msg_namelen < sizeof(*sa) || sa->nl_family != AF_NETLINK || sa->nl_pid != 0 ||
	    sa->nl_groups != KUEV_GROUP || (mh->msg_flags & MSG_CTRUNC) != 0)
		return false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			struct ucred cred;
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			return cred.pid == 0 && cred.uid == 0;
		}
	return false;
}

static void foreign(struct ekuev *k, const char *why)
{
	/* Said once: under a test bed's emulation every message is udev's, and a sender
	 * that is not the kernel can only be root. */
	if (k->foreign++ == 0)
		log_info("a message on the kernel's uevent socket was dropped (%s); later ones "
			 "are dropped silently",
			 why);
}

static void handle(struct engine *e, struct ekuev *k, const struct uevent *ev)
{
	char syspath[sizeof(ev->devpath) + 8];

	if (ev->seqnum > k->seen)
		k->seen = ev->seqnum;
	if (strcmp(ev->subsystem, "usb") != 0)
		return;
	snprintf(syspath, sizeof(syspath), "/sys%s", ev->devpath);
	const struct eusb_event u = {
	    .action = ev->action,
	    .syspath = syspath,
	    .sysname = uevent_sysname(ev),
	    .devtype = ev->devtype[0] ? ev->devtype : NULL,
	    .busnum = ev->busnum[0] ? ev->busnum : NULL,
	    .devnum = ev->devnum[0] ? ev->devnum : NULL,
	};
	engine_usb_event(e, &u, false);
}

void ekuev_drain(struct engine *e, struct ekuev *k)
{
	static char buf[UEVENT_MSG_MAX + 1];
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(struct ucred)) * 2];
	} ctl;
	struct uevent ev;

	if (k->fd < 0)
		return;
	for (;;) {
		struct sockaddr_nl sa;
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr mh = {.msg_name = &sa,
				    .msg_namelen = sizeof(sa),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.b,
				    .msg_controllen = sizeof(ctl.b)};
		memset(&sa, 0, sizeof(sa));
		ssize_t n = recvmsg(k->fd, &mh, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			log_warn("kernel uevents were lost (ENOBUFS): rescanning every device");
			engine_rescan(e, false);
			continue;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("kernel uevents: %s", strerror(errno));
			return;
		}
		int rc;
		if (!from_kernel(&mh, &sa))
			foreign(k, "not sent by the kernel");
		else if ((mh.msg_flags & MSG_TRUNC) != 0)
			foreign(k, "longer than a uevent");
		else if ((rc = uevent_parse(buf, (size_t)n, &ev)) != 0)
			foreign(k, strerror(-rc));
		else
			handle(e, k, &ev);
	}
}

bool ekuev_seen(struct engine *e, struct ekuev *k, uint64_t seqnum)
{
	if (seqnum == 0 || k->fd < 0)
		return false;
	if (seqnum > k->seen)
		ekuev_drain(e, k); /* the kernel sent it to us as it did to udevd: read it */
	return seqnum <= k->seen;
}
