/*
 * parent.c - the root parent of portcullisd: gates the root hubs before anything
 * is enumerated, starts the unprivileged engine, answers its requests, restarts it
 * when it dies. Linked by portcullisd. Its only input is the engine's messages
 * (validated by ipc_decode and re-checked by parent_handle) and signals.
 */
#include "parent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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

#include "engine.h"
#include "log.h"
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

/* The directory PATH, owned by the engine user with MODE. Owner and mode are only set
 * where they differ: under the systemd unit, tmpfiles.d has set them before the start
 * (ExecStartPre=+systemd-tmpfiles), so the parent needs neither CAP_CHOWN nor CAP_FOWNER. */
static int make_dir(const char *path, mode_t mode, const struct passwd *pw)
{
	struct stat st;

	if (mkdir(path, mode) != 0 && errno != EEXIST) {
		log_err("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(path, &st) != 0) {
		log_err("cannot stat %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_err("%s: not a directory", path);
		return -1;
	}
	/* The mode first: a directory the parent has just created is still its own. */
	if ((st.st_mode & 07777) != mode && chmod(path, mode) != 0) {
		log_err("cannot set mode of %s: %s", path, strerror(errno));
		return -1;
	}
	if ((st.st_uid != pw->pw_uid || st.st_gid != pw->pw_gid) &&
	    chown(path, pw->pw_uid, pw->pw_gid) != 0) {
		log_err("cannot set owner of %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Files left in a directory by root (e.g. `portcullis audit enrol`) are handed to the
 * engine user; links are never followed, files it owns already are left alone. */
static int hand_over_files(const char *dir, const struct passwd *pw)
{
	DIR *d = opendir(dir);

	if (d == NULL)
		return -1;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		struct stat st;
		if (e->d_name[0] == '.' ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || (st.st_uid == pw->pw_uid && st.st_gid == pw->pw_gid))
			continue;
		if (fchownat(dirfd(d), e->d_name, pw->pw_uid, pw->pw_gid, AT_SYMLINK_NOFOLLOW) !=
		    0) {
			if (errno == EPERM)
				log_err(
				    "cannot hand %s/%s to %s: the service has no CAP_CHOWN; run "
				    "`chown -h %s: %s/%s` once",
				    dir, e->d_name, pw->pw_name, pw->pw_name, dir, e->d_name);
			else
				log_err("cannot hand %s/%s to %s: %s", dir, e->d_name, pw->pw_name,
					strerror(errno));
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

static int prepare_dirs(const struct conf *c, const struct passwd *pw)
{
	char state[CONF_PATH_MAX + 8];
	struct stat st;

	char sockdir[CONF_PATH_MAX];

	snprintf(sockdir, sizeof(sockdir), "%s", c->control_socket);
	char *slash = strrchr(sockdir, '/');
	if (slash != NULL && slash != sockdir)
		*slash = '\0';
	char certs[CONF_PATH_MAX + 16];
	snprintf(certs, sizeof(certs), "%s/certificates", c->state_dir);
	if (make_dir(c->state_dir, 0750, pw) != 0 || make_dir(c->audit_log, 0750, pw) != 0 ||
	    make_dir(sockdir, 0755, pw) != 0 || make_dir(certs, 0755, pw) != 0)
		return -1;
	/* Fail closed: without an enrolled trail nothing could be recorded, so nothing
	 * could be decided. */
	snprintf(state, sizeof(state), "%s/state", c->audit_log);
	if (stat(state, &st) != 0) {
		log_err("the audit trail in %s is not enrolled: run `portcullis audit enrol --dir "
			"%s --origin portcullis/$(hostname)` and give the key to the IT provider",
			c->audit_log, c->audit_log);
		return -1;
	}
	return hand_over_files(c->audit_log, pw) || hand_over_files(c->state_dir, pw) ? -1 : 0;
}

struct engine_proc {
	pid_t pid;
	int fd;
	bool ready;
};

static int spawn_engine(const struct conf *c, const struct passwd *pw, int sigfd,
			struct engine_proc *e)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		log_err("socketpair: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		close(sigfd);
		_exit(engine_main(c, sv[1], pw->pw_uid, pw->pw_gid));
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

static void stop_engine(struct engine_proc *e)
{
	/* SIGTERM lets the engine record its stop. An engine blocked waiting for our
	 * answer cannot see it: closing our end then ends its wait. SIGKILL last. */
	if (e->pid > 0) {
		kill(e->pid, SIGTERM);
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

/* One request from the engine; a malformed one is fatal for the engine. */
static int serve_engine(struct engine_proc *e, struct parent_table *t)
{
	struct ipc_msg req, res = {.type = IPC_RESULT};
	int rc = ipc_recv(e->fd, &req);

	if (rc != 0) {
		if (rc != -ECONNRESET)
			log_err("malformed message from the engine (%s): stopping it",
				strerror(-rc));
		return -1;
	}
	if (req.type == IPC_HELLO) {
		e->ready = true;
		log_info("engine ready");
		return 0;
	}
	if (!e->ready || req.type == IPC_RESULT) {
		log_err("unexpected %s from the engine: stopping it", ipc_type_name(req.type));
		return -1;
	}
	res.id = req.id;
	res.u.result.err = parent_handle(t, &req);
	if (res.u.result.err != 0)
		log_warn("%s refused: %s", ipc_type_name(req.type), strerror(-res.u.result.err));
	return ipc_send(e->fd, &res) == 0 ? 0 : -1;
}

/* Seconds on the monotonic clock: a wall clock stepped back must not delay a restart. */
static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int parent_run(const struct conf *c)
{
	static struct parent_table table;
	struct engine_proc eng = {-1, -1, false};
	struct passwd *pw = getpwnam(c->engine_user);
	sigset_t mask;
	unsigned backoff = 1;
	time_t restart_at = 0;
	int status = 0;

	if (pw == NULL) {
		log_err("engine user '%s' does not exist", c->engine_user);
		return 1;
	}
	/* Gate first: nothing new is let in while the engine starts and decides, nor if
	 * anything below fails. */
	if (parent_gate_root_hubs(c) != 0)
		log_warn("some root hubs could not be gated; continuing with the others");
	if (prepare_dirs(c, pw) != 0 || parent_jobs_init(c) != 0)
		return 1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sigfd < 0) {
		log_err("signalfd: %s", strerror(errno));
		return 1;
	}
	if (spawn_engine(c, pw, sigfd, &eng) != 0)
		return 1;
	int rc = sandbox_apply(SANDBOX_PARENT);
	if (rc != 0) {
		log_err("cannot install the parent's seccomp filter: %s", strerror(-rc));
		stop_engine(&eng);
		return 1;
	}

	for (;;) {
		struct pollfd p[2] = {{sigfd, POLLIN, 0}, {eng.fd, POLLIN, 0}};
		int timeout = eng.pid < 0 ? 1000 : -1;
		if (poll(p, eng.fd >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			status = 1;
			break;
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
				log_info("stopping");
				break;
			}
			if (si.ssi_signo == SIGHUP && eng.pid > 0) {
				kill(eng.pid, SIGHUP); /* the engine reloads its rules */
				continue;
			}
			int st;
			pid_t pid;
			while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
				if (pid != eng.pid) {
					parent_jobs_reaped(pid);
					continue;
				}
				log_err("engine exited (%s %d): no device is authorised until it "
					"is back",
					WIFSIGNALED(st) ? "signal" : "status",
					WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
				if (eng.fd >= 0)
					close(eng.fd);
				eng.fd = -1;
				eng.pid = -1;
				restart_at = mono_now() + backoff;
				backoff = backoff < 30 ? backoff * 2 : 30;
			}
		}
		if (eng.fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (serve_engine(&eng, &table) != 0) {
				/* Fatal for the engine; SIGCHLD reaps it and schedules a restart.
				 */
				kill(eng.pid, SIGKILL);
				close(eng.fd);
				eng.fd = -1;
			} else if (eng.ready) {
				backoff = 1;
			}
		}
		if (eng.pid < 0 && mono_now() >= restart_at)
			spawn_engine(c, pw, sigfd, &eng);
	}
	stop_engine(&eng);
	parent_jobs_stop_all();
	close(sigfd);
	return status;
}
