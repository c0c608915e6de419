/*
 * engine.c - the portcullisd engine's loop: set-up, privilege drop, then the poll loop,
 * which only dispatches (usb uevents, from the kernel's socket (engine_kuevent.c) or
 * udev's, to engine_usb.c, udev's disks to engine_disk.c, the parent's messages, the
 * clock, the mount table, control clients, helpers' output). What the
 * features share (records, requests to the parent) is engine_core.c. Linked by the
 * engine (unprivileged). Inputs: uevents and sysfs (device-controlled strings and
 * descriptors, parsed by lib/usb), the rule file, control-socket clients.
 */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libudev.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "control.h"
#include "engine_approval.h"
#include "engine_audit.h"
#include "engine_council.h"
#include "engine_disk.h"
#include "engine_int.h"
#include "engine_jobs.h"
#include "engine_main.h"
#include "engine_usb.h"
#include "ipc.h"
#include "log.h"
#include "sandbox.h"

#define AUDIT_TICK_SECONDS 10

/* A message the parent sent on its own: only helper exits are expected. 0, or -EPROTO
 * (or the channel's negative errno) when the parent is gone or wrong. */
static int parent_message(struct engine *e)
{
	struct ipc_msg m;
	int rc = ipc_recv(e->ipc_fd, &m);

	if (rc != 0 || m.type != IPC_JOB_EXIT) {
		log_err("unexpected message or hang-up from the parent");
		return rc != 0 ? rc : -EPROTO;
	}
	engine_keep_exit(e, &m);
	return 0;
}

/* Handle the kept exits; handling one may ask the parent for more (and keep more). */
static void handle_exits(struct engine *e)
{
	while (e->n_exits > 0) {
		struct ipc_msg m = e->exits[0];
		memmove(e->exits, e->exits + 1, --e->n_exits * sizeof(e->exits[0]));
		engine_job_exited(e, m.u.exit.job, m.u.exit.signaled != 0, m.u.exit.code);
	}
}

/* Load the rule file in force (eappr_policy_select): 0 or negative errno, logged. */
static int load_rules(struct engine *e)
{
	struct pcl_diag diags[16];
	size_t n = 0;
	struct rules *r = NULL;
	char msg[600], path[CONF_PATH_MAX + 64];
	int rc;

	if ((rc = eappr_policy_select(e, path, sizeof(path))) != 0)
		return rc; /* unsigned or tampered, and no signed policy to keep */
	if ((rc = rules_load_file(path, &r, diags, 16, &n)) != 0) {
		for (size_t i = 0; i < n && i < 16; i++) {
			pcl_diag_format(&diags[i], msg, sizeof(msg));
			log_err("%s", msg);
		}
		if (n == 0)
			log_err("%s: %s", path, strerror(-rc));
		return rc;
	}
	rules_free(&e->rules);
	e->rules = r;
	log_info("%zu rules loaded from %s", rules_count(r), path);
	return 0;
}

/* 0 or negative errno, logged. */
static int drop_privileges(uid_t uid, gid_t gid)
{
	int rc;

	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0) {
		rc = -errno;
		log_err("cannot drop privileges: %s", strerror(-rc));
		return rc;
	}
	if (uid != 0 && setuid(0) == 0) {
		log_err("privileges could be regained: refusing to run");
		return -EPERM;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		rc = -errno;
		log_err("no_new_privs: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

static void handle_uevent(struct engine *e)
{
	errno = 0;
	struct udev_device *dev = udev_monitor_receive_device(e->mon);
	if (dev == NULL) {
		if (errno == ENOBUFS) {
			log_warn("uevents were lost (ENOBUFS): rescanning every device");
			engine_rescan(e, false);
		}
		return;
	}
	const char *subsystem = udev_device_get_subsystem(dev);
	const char *action = udev_device_get_action(dev);
	/* A usb event the kernel's own socket delivered first was handled then. */
	if (subsystem && action && strcmp(subsystem, "usb") == 0 &&
	    !ekuev_seen(e, &e->kuev, udev_device_get_seqnum(dev)))
		engine_usb_udev_event(e, dev, action, false);
	else if (subsystem && action && strcmp(subsystem, "block") == 0)
		engine_disk_event(e, dev, action);
	udev_device_unref(dev);
}

/* udev's monitor of usb devices and disks, and the kernel's own uevents, opened before
 * the privilege drop. */
static int follow_udev(struct engine *e)
{
	int rc;

	if ((rc = ekuev_open(&e->kuev)) != 0)
		return rc;
	e->udev = udev_new();
	e->mon = e->udev ? udev_monitor_new_from_netlink(e->udev, "udev") : NULL;
	if (e->mon == NULL ||
	    udev_monitor_filter_add_match_subsystem_devtype(e->mon, "usb", NULL) ||
	    udev_monitor_filter_add_match_subsystem_devtype(e->mon, "block", "disk") ||
	    udev_monitor_enable_receiving(e->mon) != 0) {
		log_err("cannot follow udev events");
		return -ENODEV;
	}
	udev_monitor_set_receive_buffer_size(e->mon, 4 * 1024 * 1024);
	return 0;
}

/* The features' hooks (the dispatch table, in the order they run) and control commands. */
static int register_features(struct engine *e)
{
	const struct engine_hooks *features[] = {&engine_jobs_hooks, &eappr_hooks,
						 &engine_council_hooks};
	int rc;

	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		if ((rc = engine_hooks_add(features[i])) != 0) {
			log_err("the %s feature's hooks: %s", features[i]->name, strerror(-rc));
			return rc;
		}
	if ((rc = control_register(e->ctl, eappr_commands, eappr_n_commands)) != 0 ||
	    (rc = control_register(e->ctl, engine_wipe_commands, engine_wipe_n_commands)) != 0)
		log_err("control commands: %s", strerror(-rc));
	return rc;
}

/* 0 or negative errno, logged where it failed. */
static int setup(struct engine *e, const struct conf *c, int ipc_fd, uid_t uid, gid_t gid)
{
	int rc;

	e->conf = c;
	e->ipc_fd = ipc_fd;
	e->tell = control_broadcast;
	e->relay = control_relay;
	e->watching = control_watching;
	if (gethostname(e->host, sizeof(e->host)) != 0)
		strcpy(e->host, "unknown");
	/* Resources first, then the privilege drop, then the first untrusted byte. */
	if ((rc = follow_udev(e)) != 0 || (rc = drop_privileges(uid, gid)) != 0 ||
	    (rc = eaudit_open(&e->audit, c, e->host)) != 0 || (rc = eappr_open(e)) != 0 ||
	    (rc = load_rules(e)) != 0)
		return rc;
	if ((e->mountinfo = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)) < 0) {
		rc = -errno;
		log_err("cannot follow the mount table: %s", strerror(-rc));
		return rc;
	}
	if ((rc = control_open(&e->ctl, c->control_socket, e)) != 0 ||
	    (rc = register_features(e)) != 0)
		return rc;
	if ((rc = sandbox_apply(SANDBOX_ENGINE)) != 0) {
		log_err("cannot install the engine's seccomp filter: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

/* The engine is up: the parent is told, the start recorded (and why there was a gap, after
 * a restart), the devices present decided. 0 or negative errno. */
static int start(struct engine *e, const char *restarted)
{
	struct ipc_msg hello = {.type = IPC_HELLO, .u.hello.pid = (uint32_t)getpid()};
	int rc = ipc_send(e->ipc_fd, &hello);

	if (rc != 0) {
		log_err("cannot greet the parent: %s", strerror(-rc));
		return rc;
	}
	engine_record(e, "service-started", "success", NULL, NULL, true);
	if (restarted != NULL) {
		/* While no engine ran, nothing new was let in (the root hubs are gated): say
		 * why there was a gap, before the devices plugged in it are decided. */
		char why[160];
		snprintf(why, sizeof(why),
			 "the previous engine ended (%s): devices plugged since stayed out until "
			 "this one decided them",
			 restarted);
		engine_record(e, "engine-restarted", "failure", NULL, why, true);
	}
	engine_rescan(e, true);
	engine_mounts_changed(e);
	return 0;
}

/* A signal came: true when the engine is to stop (its stop recorded). */
static bool on_signal(struct engine *e, int sigfd)
{
	struct signalfd_siginfo si;

	if (read(sigfd, &si, sizeof(si)) != sizeof(si))
		return false;
	if (si.ssi_signo == SIGTERM) {
		control_flush(e->ctl);
		engine_record(e, "service-stopped", "success", NULL, NULL, true);
		return true;
	}
	if (si.ssi_signo == SIGUSR1) {
		control_flush(e->ctl);
		engine_record(e, "service-stopped", "failure", NULL,
			      "the daemon's launcher exited: nothing could be started any more; "
			      "devices stay out until the service is back",
			      true);
		return true;
	}
	if (si.ssi_signo == SIGHUP && load_rules(e) == 0)
		engine_record(e, "policy-changed", "success", NULL, e->conf->rules, true);
	return false;
}

/* The engine's clock: the audit trail's checkpoints, then the features' on_tick. */
static void on_clock(struct engine *e, int tick)
{
	uint64_t expirations;

	if (read(tick, &expirations, sizeof(expirations)) > 0 && audit_tick(e->audit) != 0)
		log_err("audit trail: periodic checkpoint failed: failing closed");
	engine_on_tick(e);
	control_tick(e->ctl);
}

/* How long the loop may wait for events before a feature's timed work is due: -1 for
 * as long as it takes, else milliseconds, rounded up so that it wakes in the due second. */
static int due_timeout(const struct engine *e)
{
	int64_t due = engine_next_due(e);
	struct timespec now;

	if (due == 0 || clock_gettime(CLOCK_REALTIME, &now) != 0)
		return -1;
	int64_t ms = due * 1000 - ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000) + 1;
	if (ms <= 0)
		return 0;
	return ms > AUDIT_TICK_SECONDS * 1000 ? AUDIT_TICK_SECONDS * 1000 : (int)ms;
}

int engine_main(const struct conf *c, int ipc_fd, uid_t uid, gid_t gid, bool first_start,
		const char *restarted)
{
	static struct engine eng;
	struct engine *e = &eng;
	sigset_t mask;

	e->first_start = first_start;
	log_set_role("engine");
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGUSR1); /* the parent stops for a fault: its launcher is gone */
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGPIPE);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	/* The audit trail's clock: checkpoints, key evolution and retention are due by time. */
	int tick = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	struct itimerspec every = {{AUDIT_TICK_SECONDS, 0}, {AUDIT_TICK_SECONDS, 0}};
	if (sigfd < 0 || tick < 0 || timerfd_settime(tick, 0, &every, NULL) != 0) {
		log_err("cannot set up the engine's signals and clock: %s", strerror(errno));
		return 1;
	}
	if (setup(e, c, ipc_fd, uid, gid) != 0 || start(e, restarted) != 0)
		return 1;
	for (;;) {
		struct pollfd p[6 + ENGINE_MAX_CLIENTS + 1 + ENGINE_MAX_JOBS];
		size_t n = 0;
		p[n++] = (struct pollfd){sigfd, POLLIN, 0};
		p[n++] = (struct pollfd){udev_monitor_get_fd(e->mon), POLLIN, 0};
		p[n++] = (struct pollfd){ipc_fd, POLLIN, 0};
		p[n++] = (struct pollfd){tick, POLLIN, 0};
		p[n++] = (struct pollfd){e->mountinfo, POLLPRI, 0};
		p[n++] = (struct pollfd){e->kuev.fd, POLLIN, 0};
		size_t nctl = control_pollfds(e->ctl, p + n, ENGINE_MAX_CLIENTS);
		size_t njobs = engine_jobs_pollfds(p + n + nctl, ENGINE_MAX_JOBS);
		if (poll(p, n + nctl + njobs, due_timeout(e)) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			return 1;
		}
		if ((p[0].revents & POLLIN) && on_signal(e, sigfd))
			return 0;
		if ((p[2].revents & (POLLIN | POLLHUP | POLLERR)) && parent_message(e) != 0)
			return 1;
		if (p[5].revents & POLLIN)
			ekuev_drain(e, &e->kuev); /* the kernel's first: udev's copies come later */
		if (p[1].revents & POLLIN)
			handle_uevent(e);
		if (p[4].revents & (POLLPRI | POLLERR))
			engine_mounts_changed(e);
		if (p[3].revents & POLLIN)
			on_clock(e, tick);
		/* Helpers' output before their exits: a helper's last lines are recorded
		 * before its end is looked at. */
		engine_jobs_service(e, p + n + nctl, njobs);
		handle_exits(e);
		control_service(e->ctl, p + n, nctl);
		engine_on_due(e, (int64_t)time(NULL));
	}
}
