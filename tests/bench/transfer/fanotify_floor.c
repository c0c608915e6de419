/*
 * fanotify_floor.c - the floor of any fanotify design with permission events: marks a
 * medium's filesystem for FAN_OPEN_PERM as portcullis-xferwatch marks it (a content-class
 * group, the same event file flags) and answers every event with FAN_ALLOW, doing nothing
 * else (mode "allow"), or after finding out who opened (the attribution modes):
 *   proc    readlink /proc/PID/exe and the uid from /proc/PID/status (the watcher's first
 *           look at a process);
 *   cached  readlink /proc/PID/exe and PIDFD_GET_INFO on a pidfd opened at the pid's first
 *           event and kept (the watcher's remembered process, lib/xfer/pidcache.c);
 *   pidfd   the group made with FAN_REPORT_PIDFD: readlink /proc/PID/exe, PIDFD_GET_INFO on
 *           the event's own pidfd, which is then closed.
 * Prints "ready" once marked; runs until SIGTERM or SIGINT, then prints the number of
 * events answered and its own CPU time per event in microseconds (user + system). Benchmark program
 * only, run as root by bench_daemon.py: fanotify_floor MODE MOUNTPOINT. Its events come from the
 * kernel; the buffer is walked with the kernel's own bounds macros.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#ifndef FAN_REPORT_PIDFD
#define FAN_REPORT_PIDFD 0x00000080
#endif
#ifndef FAN_EVENT_INFO_TYPE_PIDFD
#define FAN_EVENT_INFO_TYPE_PIDFD 4
#endif

/* The kernel's struct pidfd_info, first version (Linux 6.13), as lib/xfer/pidcache.c. */
struct floor_pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid;
	uint32_t ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	uint32_t spare0[1];
};
#define FLOOR_PIDFD_GET_INFO   _IOC(_IOC_READ | _IOC_WRITE, 0xFF, 11, 64)
#define FLOOR_PIDFD_INFO_CREDS (1ULL << 1)

enum mode { MODE_ALLOW, MODE_PROC, MODE_CACHED, MODE_PIDFD };

static volatile sig_atomic_t stop;
static unsigned long answered, attributed;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int pidfd_uid(int pidfd, uid_t *uid)
{
	struct floor_pidfd_info info = {.mask = FLOOR_PIDFD_INFO_CREDS};

	if (ioctl(pidfd, FLOOR_PIDFD_GET_INFO, &info) != 0 || !(info.mask & FLOOR_PIDFD_INFO_CREDS))
		return -1;
	*uid = info.ruid;
	return 0;
}

static int proc_uid(pid_t pid, uid_t *uid)
{
	char path[64], buf[4096], *line;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	line = strstr(buf, "\nUid:");
	if (line == NULL)
		return -1;
	*uid = (uid_t)strtoul(line + 5, NULL, 10);
	return 0;
}

/* One remembered pidfd (cp is one process): its pid and descriptor. */
static pid_t cached_pid;
static int cached_fd = -1;

static int cached_uid(pid_t pid, uid_t *uid)
{
	if (cached_fd >= 0 && cached_pid == pid && pidfd_uid(cached_fd, uid) == 0)
		return 0;
	if (cached_fd >= 0)
		close(cached_fd);
	cached_fd = (int)syscall(SYS_pidfd_open, pid, 0);
	cached_pid = pid;
	return cached_fd >= 0 ? pidfd_uid(cached_fd, uid) : -1;
}

/* The event's pidfd from its information records, or -1. */
static int event_pidfd(const struct fanotify_event_metadata *m)
{
	const unsigned char *p = (const unsigned char *)m + m->metadata_len;
	const unsigned char *end = (const unsigned char *)m + m->event_len;

	while (p + sizeof(struct fanotify_event_info_header) <= end) {
		struct fanotify_event_info_header h;
		memcpy(&h, p, sizeof(h));
		if (h.len < sizeof(h) || p + h.len > end)
			break;
		if (h.info_type == FAN_EVENT_INFO_TYPE_PIDFD && h.len >= sizeof(h) + 4) {
			int fd;
			memcpy(&fd, p + sizeof(h), 4);
			return fd;
		}
		p += h.len;
	}
	return -1;
}

static void attribute(enum mode mode, const struct fanotify_event_metadata *m)
{
	char path[64], exe[4096];
	uid_t uid = 0;
	int ok = -1, pfd;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)m->pid);
	if (readlink(path, exe, sizeof(exe) - 1) < 0)
		exe[0] = '\0';
	if (mode == MODE_PROC) {
		ok = proc_uid(m->pid, &uid);
	} else if (mode == MODE_CACHED) {
		ok = cached_uid(m->pid, &uid);
	} else if ((pfd = event_pidfd(m)) >= 0) {
		ok = pidfd_uid(pfd, &uid);
		close(pfd);
	}
	if (ok == 0)
		attributed++;
}

static int parse_mode(const char *s, enum mode *mode)
{
	static const char *const names[] = {"allow", "proc", "cached", "pidfd"};

	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*mode = (enum mode)i;
			return 0;
		}
	return -1;
}

static int serve(int fan, enum mode mode)
{
	_Alignas(struct fanotify_event_metadata) unsigned char buf[16384];

	while (!stop) {
		ssize_t n = read(fan, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			perror("fanotify_floor: read");
			return 1;
		}
		struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;
		for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			if (m->vers != FANOTIFY_METADATA_VERSION) {
				fprintf(stderr, "fanotify_floor: metadata version %u\n", m->vers);
				return 1;
			}
			if (m->fd < 0)
				continue;
			if (mode != MODE_ALLOW)
				attribute(mode, m);
			struct fanotify_response r = {.fd = m->fd, .response = FAN_ALLOW};
			if (write(fan, &r, sizeof(r)) != (ssize_t)sizeof(r)) {
				perror("fanotify_floor: write");
				return 1;
			}
			close(m->fd);
			answered++;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	enum mode mode;
	int fan, rc;

	if (argc != 3 || parse_mode(argv[1], &mode) != 0) {
		fprintf(stderr, "usage: fanotify_floor allow|proc|cached|pidfd MOUNTPOINT\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: the blocked read returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC |
				(mode == MODE_PIDFD ? FAN_REPORT_PIDFD : 0),
			    O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NOATIME);
	if (fan < 0) {
		perror("fanotify_floor: fanotify_init");
		return 1;
	}
	if (fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_PERM, AT_FDCWD,
			  argv[2]) < 0) {
		fprintf(stderr, "fanotify_floor: %s: fanotify_mark: %s\n", argv[2],
			strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	rc = serve(fan, mode);
	/* Closing the group lets any open still waiting through. */
	close(fan);
	struct rusage ru;
	double cpu = 0;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
		      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	printf("answered %lu attributed %lu cpu-us-per-event %.2f\n", answered, attributed,
	       answered ? cpu / (double)answered : 0.0);
	return rc;
}
