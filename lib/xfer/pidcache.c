/*
 * pidcache.c - who a process is, remembered between its opens on the medium, so that a
 * permission event of a process already seen is answered without reading /proc/PID/status
 * again. Linked by portcullis-xferwatch; used by its event thread only (no lock). Each
 * entry holds a pidfd taken while the process waits for our answer: the kernel's
 * PIDFD_GET_INFO on it fails once that process has been reaped, so a pid reused by another
 * process never finds the old entry valid, and while it lives it gives the process's
 * current real and effective uid. Its executable is read again at every use (readlink of
 * /proc/PID/exe, before the pidfd is asked, so the name read is the living process's):
 * an exec between two opens is seen. On a kernel without PIDFD_GET_INFO (before 6.13)
 * nothing is remembered and every event reads /proc as before. Inputs: pids from the
 * kernel's events, /proc answers (untrusted text, parsed by record.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "xfer_internal.h"

#define SLOTS 256

/* The kernel's struct pidfd_info, its first version (Linux 6.13): the build machine's
 * headers may predate it. */
struct xfer_pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid;
	uint32_t ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	uint32_t spare0[1];
};
#define XFER_PIDFD_GET_INFO   _IOC(_IOC_READ | _IOC_WRITE, 0xFF, 11, 64) /* lib/sandbox allows it */
#define XFER_PIDFD_INFO_CREDS (1ULL << 1)

_Static_assert(sizeof(struct xfer_pidfd_info) == 64, "PIDFD_INFO_SIZE_VER0");

struct slot {
	pid_t pid;
	int pidfd; /* -1: empty */
	char *exe;
};

struct xfer_pidcache {
	bool supported;
	struct slot slots[SLOTS];
	unsigned long hits, misses;
};

static int pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* The real and effective uid of the process behind pidfd: 0, or negative errno (-ESRCH
 * once it has been reaped). */
static int pidfd_creds(int pidfd, uid_t *uid, uid_t *euid)
{
	struct xfer_pidfd_info info = {.mask = XFER_PIDFD_INFO_CREDS};

	if (ioctl(pidfd, XFER_PIDFD_GET_INFO, &info) != 0)
		return -errno;
	if (!(info.mask & XFER_PIDFD_INFO_CREDS))
		return -ENOTTY;
	*uid = info.ruid;
	*euid = info.euid;
	return 0;
}

unsigned long xfer_pidcache_hits(const struct xfer_pidcache *c)
{
	return c ? c->hits : 0;
}

int xfer_pidcache_new(struct xfer_pidcache **out)
{
	struct xfer_pidcache *c = calloc(1, sizeof(*c));
	uid_t u, e;
	int fd;

	if (c == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < SLOTS; i++)
		c->slots[i].pidfd = -1;
	/* Whether this kernel answers PIDFD_GET_INFO: asked once, of ourselves. */
	fd = pidfd_of(getpid());
	c->supported = fd >= 0 && pidfd_creds(fd, &u, &e) == 0;
	if (fd >= 0)
		close(fd);
	*out = c;
	return 0;
}

bool xfer_pidcache_supported(const struct xfer_pidcache *c)
{
	return c && c->supported;
}

static void evict(struct slot *s)
{
	if (s->pidfd >= 0)
		close(s->pidfd);
	free(s->exe);
	*s = (struct slot){.pidfd = -1};
}

/* The executable of pid now ("" when unreadable: kernel threads). */
static void read_exe(pid_t pid, char *out, size_t len)
{
	char path[64];
	ssize_t m;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	m = readlink(path, out, len - 1);
	out[m > 0 ? m : 0] = '\0';
}

/* A remembered process still alive: 0 with pi filled, else negative errno. */
static int from_slot(struct slot *s, pid_t pid, struct xfer_proc_info *pi)
{
	uid_t uid, euid;
	int rc;

	read_exe(pid, pi->exe, sizeof(pi->exe));
	if ((rc = pidfd_creds(s->pidfd, &uid, &euid)) != 0)
		return rc; /* reaped: the pid may be another process's now */
	pi->uid = uid;
	pi->euid = euid;
	if (strcmp(pi->exe, s->exe) != 0) {
		char *exe = strdup(pi->exe);
		if (exe == NULL)
			return -ENOMEM;
		free(s->exe);
		s->exe = exe;
	}
	return 0;
}

int xfer_pidcache_lookup(struct xfer_pidcache *c, const struct xfer_proc_ops *ops, void *arg,
			 pid_t pid, struct xfer_proc_info *pi)
{
	struct slot *s;
	int fd, rc;

	if (c == NULL || !c->supported || pid <= 0)
		return ops->lookup(arg, pid, pi);
	s = &c->slots[(unsigned)pid % SLOTS];
	if (s->pidfd >= 0 && s->pid == pid) {
		if (from_slot(s, pid, pi) == 0) {
			c->hits++;
			return 0;
		}
		evict(s);
	}
	c->misses++;
	/* The pidfd first: it names the process that has pid now (the one waiting for our
	 * answer); if that one is reaped before /proc is read, the entry is never valid. */
	fd = pidfd_of(pid);
	rc = ops->lookup(arg, pid, pi);
	if (rc != 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	evict(s);
	s->exe = strdup(pi->exe);
	if (s->exe == NULL) {
		close(fd);
		return 0; /* not remembered; the answer stands */
	}
	s->pid = pid;
	s->pidfd = fd;
	return 0;
}

void xfer_pidcache_free(struct xfer_pidcache **cp)
{
	struct xfer_pidcache *c = *cp;

	if (c == NULL)
		return;
	for (unsigned i = 0; i < SLOTS; i++)
		evict(&c->slots[i]);
	free(c);
	*cp = NULL;
}
