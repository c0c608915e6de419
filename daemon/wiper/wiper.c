/*
 * wiper.c - portcullis-wiper: wipe one block device handed over as an open fd.
 *
 *   portcullis-wiper --fd N --job-fd M [--user NAME]
 *
 * The root parent (portcullisd, or `portcullis wipe --local`) opens the medium with
 * O_EXCL and passes it as fd N, and writes the job (pattern key, size, chunk, discard;
 * see lib/wipe/job.c) into a pipe read as fd M: the key never appears in argv. Started
 * as root, the wiper drops to NAME (default "nobody") before reading the job, and installs
 * its seccomp allow-list (lib/sandbox, SANDBOX_WIPER) right after. It prints
 * JSON lines on stdout: start, progress (bytes, rate, ETA), result. Exit 0 when the
 * medium was overwritten and verified, 1 when the wipe failed, 2 on usage errors.
 * Inputs: argv and the job come from the parent (checked anyway); the medium's bytes are
 * untrusted and only compared.
 */
#include "sandbox.h"
#include "wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/fs.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOB_MAX 1024

static volatile sig_atomic_t stop_requested;
static int out_broken;

static void on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void emit(const struct wipe_report *r)
{
	char line[2048];
	int n = wipe_report_format(r, line, sizeof(line));
	size_t off = 0;

	while (n > 0 && off < (size_t)n && !out_broken) {
		ssize_t w = write(STDOUT_FILENO, line + off, (size_t)n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			out_broken = 1; /* nobody listens: stop the job */
		else
			off += (size_t)w;
	}
}

static void on_progress(void *ctx, const struct wipe_progress *p)
{
	struct wipe_report r = {.kind = WIPE_REPORT_PROGRESS, .progress = *p};

	(void)ctx;
	emit(&r);
}

static int is_cancelled(void *ctx)
{
	(void)ctx;
	return stop_requested || out_broken;
}

static void *noop_thread(void *arg)
{
	return arg;
}

/*
 * Do the one-time work of OpenSSL (configuration, seeding) and of glibc's first
 * pthread_create (its internal signal handlers) now, so that under the seccomp filter the
 * wipe makes no file, random or rt_sigaction calls.
 */
static int warm_up(void)
{
	static const uint8_t zero[WIPE_KEY_LEN];
	struct wipe_pattern *warm = NULL;
	pthread_t th;

	if (wipe_pattern_new(&warm, zero) != 0) {
		fprintf(stderr, "portcullis-wiper: OpenSSL AES-256-CTR unavailable\n");
		return -ENOSYS;
	}
	wipe_pattern_free(&warm);
	int rc = pthread_create(&th, NULL, noop_thread, NULL);
	if (rc == 0)
		rc = pthread_join(th, NULL);
	if (rc != 0) {
		fprintf(stderr, "portcullis-wiper: cannot start a thread: %s\n", strerror(rc));
		return -rc;
	}
	return 0;
}

/* A descriptor number of the command line (3 to 1024), or -EINVAL. */
static int parse_fd(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < 3 || v > 1024)
		return -EINVAL;
	return (int)v;
}

/* Drop every privilege for good: groups, gid, uid, no new privileges, not dumpable. 0, or
 * negative errno (said on stderr). */
static int drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() == 0) {
		pw = getpwnam(user);
		if (pw == NULL || pw->pw_uid == 0) {
			fprintf(stderr, "portcullis-wiper: user '%s': unknown or root\n", user);
			return -EINVAL;
		}
		if (setgroups(0, NULL) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
			int err = errno;
			perror("portcullis-wiper: dropping privileges");
			return -err;
		}
		if (setuid(0) == 0 || geteuid() == 0) {
			fprintf(stderr, "portcullis-wiper: could regain root, refusing\n");
			return -EPERM;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		int err = errno;
		perror("portcullis-wiper: prctl");
		return -err;
	}
	return 0;
}

/* The job from its pipe, parsed: 0, or negative errno (said on stderr). */
static int read_job(int fd, struct wipe_job *job)
{
	char buf[JOB_MAX];
	size_t len = 0;
	struct pcl_diag d = {0};
	char msg[600];
	int r;

	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			perror("portcullis-wiper: reading the job");
			return -err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf)) {
			fprintf(stderr, "portcullis-wiper: job longer than %d bytes\n", JOB_MAX);
			explicit_bzero(buf, sizeof(buf));
			return -EMSGSIZE;
		}
	}
	close(fd);
	r = wipe_job_parse(buf, len, job, &d);
	explicit_bzero(buf, sizeof(buf));
	if (r != 0) {
		pcl_diag_format(&d, msg, sizeof(msg));
		fprintf(stderr, "portcullis-wiper: %s\n", msg);
		return r;
	}
	return 0;
}

/* Report a refused job (reason already in r->result.reason) and wipe the key. */
static int refuse(struct wipe_report *r, struct wipe_job *job)
{
	explicit_bzero(job, sizeof(*job));
	r->kind = WIPE_REPORT_RESULT;
	r->result.status = WIPE_ERR_REFUSED;
	r->time = (int64_t)time(NULL);
	emit(r);
	return 1;
}

/* The medium on fd is the job's: a block device of the job's size, the job's block size
 * at least its logical one, read back from the medium itself (O_DIRECT). 0, or negative
 * errno with why said (for the refusal report). */
static int check_medium(int fd, struct wipe_job *job, char *why, size_t len)
{
	struct stat st;
	uint64_t devsize = 0;
	int lbs = 512, flags;

	if (fstat(fd, &st) != 0 || !S_ISBLK(st.st_mode)) {
		snprintf(why, len, "fd %d is not a block device", fd);
		return -ENOTBLK;
	}
	if (ioctl(fd, BLKGETSIZE64, &devsize) != 0 || ioctl(fd, BLKSSZGET, &lbs) != 0 ||
	    devsize != job->size) {
		snprintf(why, len, "device is %llu bytes, the job expects %llu (identity changed)",
			 (unsigned long long)devsize, (unsigned long long)job->size);
		return -ESTALE;
	}
	if (lbs > 0 && job->block < (uint32_t)lbs)
		job->block = (uint32_t)lbs;
	if (job->chunk % job->block != 0) {
		snprintf(why, len, "chunk %u is not a multiple of the block size %u", job->chunk,
			 job->block);
		return -EINVAL;
	}
	/* Read-back must come from the medium, not the page cache. */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_DIRECT) != 0) {
		int err = errno;
		snprintf(why, len, "cannot use O_DIRECT on fd %d: %s", fd, strerror(err));
		return -err;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *user = "nobody";
	int fd = -1, job_fd = -1, rc;
	struct wipe_job job;
	struct wipe_params p = {0};
	struct wipe_report r = {0};
	struct sigaction sa = {0};
	char *why = r.result.reason;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--fd") == 0 && i + 1 < argc)
			fd = parse_fd(argv[++i]);
		else if (strcmp(argv[i], "--job-fd") == 0 && i + 1 < argc)
			job_fd = parse_fd(argv[++i]);
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			user = argv[++i];
		else
			fd = job_fd = -EINVAL;
	}
	if (fd < 0 || job_fd < 0 || fd == job_fd) {
		fprintf(stderr, "usage: portcullis-wiper --fd N --job-fd M [--user NAME]\n");
		return 2;
	}
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (drop_privileges(user) != 0)
		return 1;
	if (warm_up() != 0)
		return 1;
	/* Hold nothing but stdio, the medium and the job pipe. */
	for (int f = 3; f < 1024; f++)
		if (f != fd && f != job_fd)
			close(f);
	if (read_job(job_fd, &job) != 0)
		return 2;
	/* From here on only the medium, stdout and memory: the wiper's seccomp list. */
	if ((rc = sandbox_apply(SANDBOX_WIPER)) != 0) {
		fprintf(stderr, "portcullis-wiper: seccomp: %s\n", strerror(-rc));
		explicit_bzero(&job, sizeof(job));
		return 1;
	}

	if (check_medium(fd, &job, why, sizeof(r.result.reason)) != 0)
		return refuse(&r, &job);

	r.kind = WIPE_REPORT_START;
	r.size = job.size;
	r.time = (int64_t)time(NULL);
	emit(&r);

	p.size = job.size;
	p.chunk = job.chunk;
	p.block = job.block;
	p.discard = job.discard;
	p.verify = 1;
	p.progress = on_progress;
	p.cancelled = is_cancelled;
	memset(&r, 0, sizeof(r));
	rc = wipe_run(&wipe_fd_ops, &fd, job.key, &p, &r.result);
	explicit_bzero(&job, sizeof(job));
	if (rc != 0) {
		r.result.status = WIPE_ERR_INTERNAL;
		snprintf(r.result.reason, sizeof(r.result.reason), "engine: %s", strerror(-rc));
	}
	r.kind = WIPE_REPORT_RESULT;
	r.time = (int64_t)time(NULL);
	emit(&r);
	return r.result.status == WIPE_OK ? 0 : 1;
}
