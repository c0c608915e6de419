/*
 * parent.c - the root parent of portcullisd: gates the root hubs before anything
 * is enumerated, starts the unprivileged engine (through its launcher, parent_launch.c:
 * the parent itself execs nothing), answers its requests, restarts it when it dies.
 * Linked by portcullisd. Its only input is the engine's messages (validated by
 * ipc_decode and re-checked by parent_handle) and signals.
 */
#include "parent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "roles.h"
#include "sandbox.h"
#include "sysfs.h"

int parent_gate_root_hubs(const struct conf *c)
{
	char value[4], dir[300];
	DIR *d = opendir(SYSFS_USB_DEVICES);
	int failures = 0;

	if (d == NULL) {
		log_err("cannot list %s: %s", SYSFS_USB_DEVICES, strerror(errno));
		return -errno;
	}
	snprintf(value, sizeof(value), "%d", c->authorized_default);
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (strncmp(e->d_name, "usb", 3) != 0 || ipc_name_valid(e->d_name, 64) != 0)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", SYSFS_USB_DEVICES, e->d_name);
		int rc = sysfs_write(dir, "authorized_default", value);
		if (rc != 0) {
			log_err("%s: cannot write authorized_default: %s", e->d_name,
				strerror(-rc));
			failures++;
			continue;
		}
		/* Interfaces of newly authorised devices wait for the engine's decision. */
		if (c->authorized_default != CONF_AUTH_ALL) {
			rc = sysfs_write(dir, "interface_authorized_default", "0");
			if (rc != 0) {
				log_err("%s: cannot write interface_authorized_default: %s",
					e->d_name, strerror(-rc));
				failures++;
			}
		}
		log_info("%s: authorized_default=%s", e->d_name, value);
	}
	closedir(d);
	return failures ? -EIO : 0;
}

/* The directory PATH, owned by uid:gid with MODE; returns it open (O_DIRECTORY), or a
 * negative errno (logged).
 * Its last component is never followed: a symbolic link planted there (the engine user
 * owns the state directory) is refused, and owner and mode are set on the descriptor,
 * never by name. Owner and mode are only set where they differ: under the systemd unit,
 * tmpfiles.d has set them before the start (ExecStartPre=+systemd-tmpfiles), so the
 * parent needs neither CAP_CHOWN nor CAP_FOWNER. */
static int make_dir(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	char up[CONF_PATH_MAX];
	struct stat st;

	snprintf(up, sizeof(up), "%s", path);
	char *slash = strrchr(up, '/');
	const char *name = slash ? slash + 1 : up;
	if (slash == up)
		up[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	int parent = open(slash ? up : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0 || *name == '\0') {
		int err = parent < 0 ? errno : EINVAL;
		log_err("cannot open the directory of %s: %s", path,
			parent < 0 ? strerror(err) : "no name");
		if (parent >= 0)
			close(parent);
		return -err;
	}
	if (mkdirat(parent, name, mode) != 0 && errno != EEXIST) {
		int err = errno;
		log_err("cannot create %s: %s", path, strerror(err));
		close(parent);
		return -err;
	}
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int err = errno;
	close(parent);
	if (fd < 0) {
		log_err("%s: %s", path,
			err == ELOOP || err == ENOTDIR ? "not a directory (a symbolic link?)"
						       : strerror(err));
		return -err;
	}
	if (fstat(fd, &st) != 0) {
		err = errno;
		log_err("cannot stat %s: %s", path, strerror(err));
		close(fd);
		return -err;
	}
	/* The mode first: a directory the parent has just created is still its own. */
	if (((st.st_mode & 07777) != mode && fchmod(fd, mode) != 0) ||
	    ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) != 0)) {
		err = errno;
		log_err("cannot set owner and mode of %s: %s", path, strerror(err));
		close(fd);
		return -err;
	}
	return fd;
}

static int make_engine_dir(const char *path, mode_t mode, const struct passwd *pw)
{
	int fd = make_dir(path, mode, pw->pw_uid, pw->pw_gid);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* Files left in a directory by root (e.g. `portcullis audit enrol`) are handed to the
 * engine user; links are never followed, files it owns already are left alone. */
static int hand_over_files(const char *dir, const struct passwd *pw)
{
	DIR *d = opendir(dir);

	if (d == NULL) {
		int err = errno;
		log_err("cannot open %s: %s", dir, strerror(err));
		return -err;
	}
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		struct stat st;
		if (e->d_name[0] == '.' ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || (st.st_uid == pw->pw_uid && st.st_gid == pw->pw_gid))
			continue;
		if (fchownat(dirfd(d), e->d_name, pw->pw_uid, pw->pw_gid, AT_SYMLINK_NOFOLLOW) !=
		    0) {
			int err = errno;
			if (err == EPERM)
				log_err(
				    "cannot hand %s/%s to %s: the service has no CAP_CHOWN; run "
				    "`chown -h %s: %s/%s` once",
				    dir, e->d_name, pw->pw_name, pw->pw_name, dir, e->d_name);
			else
				log_err("cannot hand %s/%s to %s: %s", dir, e->d_name, pw->pw_name,
					strerror(err));
			closedir(d);
			return -err;
		}
	}
	closedir(d);
	return 0;
}

/* The engine's directories; *certs_fd: the certificates directory, held open (the wipe
 * helper makes its files there through that descriptor). */
static int prepare_dirs(const struct conf *c, const struct passwd *pw, int *certs_fd)
{
	char state[CONF_PATH_MAX + 8];
	struct stat st;

	char sockdir[CONF_PATH_MAX];

	snprintf(sockdir, sizeof(sockdir), "%s", c->control_socket);
	char *slash = strrchr(sockdir, '/');
	if (slash != NULL && slash != sockdir)
		*slash = '\0';
	char certs_path[CONF_PATH_MAX + 16];
	snprintf(certs_path, sizeof(certs_path), "%s/certificates", c->state_dir);
	int rc;
	if ((rc = make_engine_dir(c->state_dir, 0750, pw)) < 0 ||
	    (rc = make_engine_dir(c->audit_log, 0750, pw)) < 0 ||
	    (rc = make_engine_dir(sockdir, 0755, pw)) < 0)
		return rc;
	/* Root's (tmpfiles.d makes it so under the unit): the wipe, root without
	 * CAP_DAC_OVERRIDE, makes its certificates there, and the engine user, who can read
	 * them, can plant nothing there. Held open: each certificate is a new file made
	 * through this descriptor (O_CREAT|O_EXCL|O_NOFOLLOW), whatever is at its path. */
	if ((*certs_fd = make_dir(certs_path, 0755, 0, 0)) < 0)
		return *certs_fd;
	/* Fail closed: without an enrolled trail nothing could be recorded, so nothing
	 * could be decided. */
	snprintf(state, sizeof(state), "%s/state", c->audit_log);
	if (stat(state, &st) != 0) {
		log_err("the audit trail in %s is not enrolled: run `portcullis audit enrol --dir "
			"%s --origin portcullis/$(hostname)` and give the key to the IT provider",
			c->audit_log, c->audit_log);
		return -ENOENT;
	}
	if ((rc = hand_over_files(c->audit_log, pw)) < 0)
		return rc;
	return hand_over_files(c->state_dir, pw);
}

static int certs = -1;		   /* the certificates directory, held open */
static char config_path[PATH_MAX]; /* passed on to the engine */
static bool foreground;

struct engine_proc {
	pid_t pid;
	int fd;
	bool ready;
};

/* Whether this is the daemon's first start since boot: the marker in /run (a tmpfs,
 * root's directory) is made by the first start and seen by every later one. When it
 * cannot be made, the answer is "no": present devices are then decided by the rules. */
static bool first_start_since_boot(const char *marker)
{
	char dir[CONF_PATH_MAX];
	int fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 && errno == ENOENT) {
		snprintf(dir, sizeof(dir), "%s", marker);
		char *slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0700) == 0)
				fd = open(marker,
					  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					  0600);
		}
	}
	if (fd >= 0) {
		close(fd);
		return true;
	}
	if (errno != EEXIST)
		log_err("%s: %s: present devices are decided by the rules", marker,
			strerror(errno));
	return false;
}

/* What the parent passes on to the programs it execs besides a clean PATH and LANG: only
 * its own environment's test-bed and sanitizer settings, which only root sets. */
static const char *const keep_env[] = {
    "UMOCKDEV_DIR=", "LD_PRELOAD=", "ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LSAN_OPTIONS="};

static size_t clean_env(char **out, size_t max)
{
	extern char **environ;
	static char path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin", lang[] = "LANG=C.UTF-8";
	size_t n = 0;

	out[n++] = path;
	out[n++] = lang;
	for (char **e = environ; *e != NULL && n + 1 < max; e++)
		for (size_t k = 0; k < sizeof(keep_env) / sizeof(keep_env[0]); k++)
			if (strncmp(*e, keep_env[k], strlen(keep_env[k])) == 0)
				out[n++] = *e;
	out[n] = NULL;
	return n;
}

/* The engine is its own program (portcullis-engine, next to the helpers), exec'd with a
 * clean environment and nothing inherited but its channel, as descriptor 3. */
static int spawn_engine(const struct conf *c, const struct passwd *pw, struct engine_proc *e,
			bool first_start, int last_status)
{
	char exe[PATH_MAX], uid[16], gid[16], ropt[] = "-r", rval[16];
	int sv[2];

	int rc = parent_libexec("portcullis-engine", exe, sizeof(exe));
	if (rc != 0) {
		log_err("cannot locate portcullis-engine");
		return rc;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		rc = -errno;
		log_err("socketpair: %s", strerror(-rc));
		return rc;
	}
	snprintf(uid, sizeof(uid), "%u", (unsigned)pw->pw_uid);
	snprintf(gid, sizeof(gid), "%u", (unsigned)pw->pw_gid);
	char *envp[2 + sizeof(keep_env) / sizeof(keep_env[0]) + 1];
	char copt[] = "-c", uopt[] = "-u", gopt[] = "-g", fopt[] = "-f", sopt[] = "-s";
	char *argv[12] = {exe, copt, config_path, uopt, uid, gopt, gid, NULL};
	size_t argc = 7;
	if (foreground)
		argv[argc++] = fopt;
	if (first_start)
		argv[argc++] = sopt;
	if (last_status >= 0) { /* a restart: the new engine records why */
		snprintf(rval, sizeof(rval), "%c%d", WIFSIGNALED(last_status) ? 's' : 'e',
			 WIFSIGNALED(last_status) ? WTERMSIG(last_status)
						  : WEXITSTATUS(last_status));
		argv[argc++] = ropt;
		argv[argc++] = rval;
	}
	(void)c;
	clean_env(envp, sizeof(envp) / sizeof(envp[0]));
	/* Started by the launcher (parent_launch.c), a child of ours: the channel as
	 * descriptor 3, nothing else inherited. */
	const int fds[2] = {sv[1], -1}, at[2] = {3, -1};
	pid_t pid = parent_launch(PCL_ROLE_ENGINE, argv, envp, fds, at);
	if (pid < 0) {
		log_err("cannot start the engine: %s", strerror(-pid));
		close(sv[0]);
		close(sv[1]);
		return pid;
	}
	close(sv[1]);
	e->pid = pid;
	e->fd = sv[0];
	e->ready = false;
	log_info("engine started (pid %d)", (int)pid);
	return 0;
}

/* Wait up to ms for the engine to exit; true once it has been reaped. */
static bool reaped_within(pid_t pid, int ms)
{
	for (int waited = 0; waited <= ms; waited += 50) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			return true;
		usleep(50000);
	}
	return false;
}

static void stop_engine(struct engine_proc *e, int sig)
{
	/* SIGTERM (SIGUSR1: a stop for a fault, the launcher gone) lets the engine record its
	 * stop. An engine blocked waiting for our answer cannot see it: closing our end then
	 * ends its wait. SIGKILL last. */
	if (e->pid > 0) {
		kill(e->pid, sig);
		if (!reaped_within(e->pid, 1000)) {
			if (e->fd >= 0)
				close(e->fd);
			e->fd = -1;
			if (!reaped_within(e->pid, 1000)) {
				kill(e->pid, SIGKILL);
				waitpid(e->pid, NULL, 0);
			}
		}
	}
	if (e->fd >= 0)
		close(e->fd);
	e->pid = -1;
	e->fd = -1;
}

/* One request from the engine; a malformed one is fatal for the engine (negative errno,
 * logged). Any descriptor sent along with it is closed unread (ipc_recv). */
static int serve_engine(struct engine_proc *e, struct parent_table *t)
{
	struct ipc_msg req, res = {.type = IPC_RESULT};
	int passfd = -1;
	int rc = ipc_recv(e->fd, &req);

	if (rc != 0) {
		if (rc != -ECONNRESET)
			log_err("malformed message from the engine (%s): stopping it",
				strerror(-rc));
		return rc;
	}
	if (req.type == IPC_HELLO) {
		parent_grant_drop(t); /* a new engine: its predecessor's prepare means nothing */
		e->ready = true;
		log_info("engine ready");
		return 0;
	}
	if (!e->ready || req.type == IPC_RESULT || req.type == IPC_JOB_EXIT) {
		log_err("unexpected %s from the engine: stopping it", ipc_type_name(req.type));
		return -EPROTO;
	}
	res.id = req.id;
	res.u.result.err = parent_handle(t, &req, &passfd);
	if (res.u.result.err != 0)
		log_warn("%s refused: %s", ipc_type_name(req.type), strerror(-res.u.result.err));
	rc = ipc_send_fd(e->fd, &res, passfd);
	if (rc != 0)
		log_err("cannot answer the engine (%s): stopping it", strerror(-rc));
	if (passfd >= 0)
		close(passfd); /* the engine has its own copy now */
	return rc;
}

/* Seconds on the monotonic clock: a wall clock stepped back must not delay a restart. */
static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* A helper has exited: tell the engine, whose job it was (it fails closed if that was
 * a transfer log it had not asked to stop). */
static void report_exit(struct engine_proc *e, uint32_t job, int st)
{
	struct ipc_msg m = {.type = IPC_JOB_EXIT};

	log_info("job %u exited (%s %d)", (unsigned)job, WIFSIGNALED(st) ? "signal" : "status",
		 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	if (e->fd < 0 || !e->ready)
		return;
	m.u.exit.job = job;
	m.u.exit.signaled = WIFSIGNALED(st) ? 1 : 0;
	m.u.exit.code = (uint8_t)(WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	if (ipc_send(e->fd, &m) != 0)
		log_warn("the engine could not be told of job %u's exit", (unsigned)job);
}

/* The parent's loop: the engine, its restart back-off and how the last one ended. */
struct parent_loop {
	struct engine_proc eng;
	unsigned backoff;
	time_t restart_at;
	int status, last_status;
	bool launcher_lost;
};

/* Before any program starts: the configuration's path and the engine user checked, the
 * root hubs gated, the directories made. 0, or negative errno (logged). */
static int parent_prepare(const struct conf *c, const char *config, bool fg, struct passwd **pw)
{
	if (strlen(config) >= sizeof(config_path)) {
		log_err("%s: path too long", config);
		return -ENAMETOOLONG;
	}
	memcpy(config_path, config, strlen(config) + 1);
	foreground = fg;
	*pw = getpwnam(c->engine_user);
	if (*pw == NULL) {
		log_err("engine user '%s' does not exist", c->engine_user);
		return -ENOENT;
	}
	if ((*pw)->pw_uid == 0) {
		log_err("engine user '%s' is root: refusing to run", c->engine_user);
		return -EPERM;
	}
	/* Gate first: nothing new is let in while the engine starts and decides, nor if
	 * anything below fails. */
	if (parent_gate_root_hubs(c) != 0)
		log_warn("some root hubs could not be gated; continuing with the others");
	int rc = prepare_dirs(c, *pw, &certs);
	return rc < 0 ? rc : parent_jobs_init(c, certs);
}

/* SIGCHLD, SIGTERM, SIGINT and SIGHUP read from a signalfd: it, or negative errno
 * (logged). */
static int signal_fd(void)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		log_err("signalfd: %s", strerror(err));
		return -err;
	}
	return fd;
}

/* Every child that exited: the launcher (fail closed: stop), a helper job (the engine
 * told), or the engine (no device authorised until it is back; restart after the
 * back-off). */
static void reap(struct parent_loop *l)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == parent_launcher_pid()) {
			/* Nothing could be started any more: fail closed, let the service
			 * manager start us afresh. */
			log_err("the launcher exited: stopping");
			l->status = 1;
			l->launcher_lost = true;
			continue;
		}
		if (pid != l->eng.pid) {
			uint32_t job = parent_jobs_reaped(pid);
			if (job != 0)
				report_exit(&l->eng, job, st);
			continue;
		}
		log_err("engine exited (%s %d): no device is authorised until it is back",
			WIFSIGNALED(st) ? "signal" : "status",
			WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		if (l->eng.fd >= 0)
			close(l->eng.fd);
		l->eng.fd = -1;
		l->eng.pid = -1;
		parent_jobs_engine_gone();
		l->last_status = st;
		l->restart_at = mono_now() + l->backoff;
		l->backoff = l->backoff < 30 ? l->backoff * 2 : 30;
	}
}

/* One signal: true when it stops the service (SIGTERM, SIGINT). */
static bool on_signal(struct parent_loop *l, int sigfd)
{
	struct signalfd_siginfo si;

	if (read(sigfd, &si, sizeof(si)) != sizeof(si))
		return false;
	if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
		log_info("stopping");
		return true;
	}
	if (si.ssi_signo == SIGHUP && l->eng.pid > 0) {
		/* The engine reloads its rules; it runs as another uid, so this needs
		 * CAP_KILL. */
		if (kill(l->eng.pid, SIGHUP) != 0)
			log_err("cannot tell the engine to reload its rules: %s", strerror(errno));
		return false;
	}
	reap(l);
	return false;
}

int parent_run(const struct conf *c, const char *config, bool fg)
{
	static struct parent_table table;
	struct parent_loop l = {.eng = {-1, -1, false}, .backoff = 1, .last_status = -1};
	struct passwd *pw = NULL;
	int sigfd, rc;

	if (parent_prepare(c, config, fg, &pw) != 0)
		return 1;
	bool first_start = first_start_since_boot(c->boot_marker);
	if ((sigfd = signal_fd()) < 0)
		return 1;
	/* The launcher first: it holds what starting programs needs, the parent's filter
	 * does not. */
	if (parent_launcher_start() != 0 || spawn_engine(c, pw, &l.eng, first_start, -1) != 0)
		return 1;
	rc = sandbox_apply(SANDBOX_PARENT);
	if (rc != 0) {
		log_err("cannot install the parent's seccomp filter: %s", strerror(-rc));
		stop_engine(&l.eng, SIGTERM);
		return 1;
	}

	for (;;) {
		struct pollfd p[2] = {{sigfd, POLLIN, 0}, {l.eng.fd, POLLIN, 0}};
		int timeout = l.eng.pid < 0 ? 1000 : -1;
		if (poll(p, l.eng.fd >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			l.status = 1;
			break;
		}
		if ((p[0].revents & POLLIN) && on_signal(&l, sigfd))
			break;
		if (l.launcher_lost)
			break;
		if (l.eng.fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (serve_engine(&l.eng, &table) != 0) {
				/* Fatal for the engine; SIGCHLD reaps it and schedules a restart.
				 */
				kill(l.eng.pid, SIGKILL);
				close(l.eng.fd);
				l.eng.fd = -1;
			} else if (l.eng.ready) {
				l.backoff = 1;
			}
		}
		if (l.eng.pid < 0 && mono_now() >= l.restart_at)
			spawn_engine(c, pw, &l.eng, false, l.last_status); /* not the first */
	}
	stop_engine(&l.eng, l.launcher_lost ? SIGUSR1 : SIGTERM);
	parent_jobs_stop_all();
	parent_launcher_stop();
	close(sigfd);
	if (certs >= 0)
		close(certs);
	return l.status;
}
