/*
 * parent_jobs.c - helpers the root parent runs on an approved medium for the engine:
 * portcullis-xferwatch on a mounted medium (transfer logging), `portcullis wipe
 * --local` on an unmounted one. Linked by portcullisd (parent). The engine's request is
 * untrusted: the medium must belong to a USB device this parent authorised (sysfs path
 * under that device), and for a watch the mount must be of exactly that block device.
 * The helper's standard output is a connection to the engine's control socket that
 * starts with the job's token, so its records reach the engine and nobody else's do.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "parent.h"
#include "sysfs.h"

#define MAX_JOBS 32

static struct {
	pid_t pid;
	char token[IPC_NAME_MAX];
} jobs[MAX_JOBS];

static const struct conf *conf;
static char bindir[PATH_MAX - 64]; /* directory of the running portcullisd */

int parent_jobs_init(const struct conf *c)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	conf = c;
	if (n <= 0)
		return -errno;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash == NULL)
		return -EINVAL;
	*slash = '\0';
	if (strlen(exe) >= sizeof(bindir))
		return -ENAMETOOLONG;
	memcpy(bindir, exe, strlen(exe) + 1);
	return 0;
}

void parent_jobs_reaped(pid_t pid)
{
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].pid == pid)
			jobs[i].pid = 0;
}

/* The medium's sysfs directory must lie under the USB device's. */
static int check_medium(const struct parent_table *t, const struct ipc_msg *req, dev_t *devnum)
{
	char path[300], *udir, *bdir, buf[32];
	unsigned maj, min;
	int rc = 0;

	if (!parent_table_has(t, &req->u.job.dev))
		return -EPERM;
	snprintf(path, sizeof(path), "%s/%s", SYSFS_USB_DEVICES, req->u.job.dev.name);
	udir = realpath(path, NULL);
	snprintf(path, sizeof(path), "%s/%s", SYSFS_BLOCK, req->u.job.block);
	bdir = realpath(path, NULL);
	if (udir == NULL || bdir == NULL)
		rc = -ENODEV;
	else if (strncmp(bdir, udir, strlen(udir)) != 0 || bdir[strlen(udir)] != '/')
		rc = -EPERM; /* not a medium of that device */
	else if ((rc = sysfs_read(bdir, "dev", buf, sizeof(buf))) == 0 &&
		 sscanf(buf, "%u:%u", &maj, &min) != 2)
		rc = -EINVAL;
	free(udir);
	free(bdir);
	if (rc == 0)
		*devnum = makedev(maj, min);
	return rc;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* The mount point of mount `id`, if it is a mount of `dev`. */
static int mount_point(uint32_t id, dev_t dev, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mnt[4096];
	unsigned mid, pid, maj, min;
	int rc = -ENOENT;

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%u %u %u:%u %*s %4095s", &mid, &pid, &maj, &min, mnt) != 5 ||
		    mid != id)
			continue;
		rc = makedev(maj, min) == dev ? 0 : -EPERM;
		unescape(mnt);
		if (rc == 0 && strlen(mnt) >= len)
			rc = -ENAMETOOLONG;
		if (rc == 0)
			strcpy(out, mnt);
		break;
	}
	fclose(f);
	return rc;
}

static pid_t spawn_fed(const char *path, char *const argv[], const char *token)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* Child: signals as a fresh process, stdout to the engine, then exec. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (strlen(conf->control_socket) >= sizeof(sa.sun_path))
		_exit(126);
	memcpy(sa.sun_path, conf->control_socket, strlen(conf->control_socket) + 1);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    dprintf(s, "{\"cmd\":\"feed\",\"token\":\"%s\"}\n", token) < 0 || dup2(s, 1) != 1)
		_exit(126);
	close_range(3, ~0U, 0);
	/* Root helpers get a clean environment, never the daemon's. */
	char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin", env_lang[] = "LANG=C.UTF-8";
	char *envp[] = {env_path, env_lang, NULL};
	execve(path, argv, envp);
	_exit(127);
}

static int remember(pid_t pid, const char *token)
{
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].pid == 0) {
			jobs[i].pid = pid;
			snprintf(jobs[i].token, sizeof(jobs[i].token), "%s", token);
			return 0;
		}
	kill(pid, SIGTERM);
	return -ENOSPC;
}

int parent_job_start(const struct parent_table *t, const struct ipc_msg *req)
{
	char path[PATH_MAX], target[PATH_MAX];
	dev_t dev;
	pid_t pid;
	int rc = check_medium(t, req, &dev);

	if (rc != 0)
		return rc;
	if (req->u.job.kind == IPC_JOB_XFER) {
		if ((rc = mount_point(req->u.job.mount_id, dev, target, sizeof(target))) != 0)
			return rc;
		snprintf(path, sizeof(path), "%s/../libexec/portcullis/portcullis-xferwatch",
			 bindir);
		char devname[IPC_NAME_MAX];
		snprintf(devname, sizeof(devname), "%s", req->u.job.dev.name);
		/* The transfer log's options file, and the trail's retention for the notice. */
		char opt[] = "--device-id", copt[] = "-c", oopt[] = "-o", retention[48];
		char tlconf[CONF_PATH_MAX];
		snprintf(retention, sizeof(retention), "retention-days=%u",
			 conf->retention_months * 31);
		snprintf(tlconf, sizeof(tlconf), "%s", conf->transfer_log);
		char *argv[9] = {path, opt, devname, oopt, retention};
		int n = 5;
		if (tlconf[0] != '\0') {
			argv[n++] = copt;
			argv[n++] = tlconf;
		}
		argv[n++] = target;
		argv[n] = NULL;
		pid = spawn_fed(path, argv, req->u.job.token);
	} else {
		char devnode[IPC_NAME_MAX + 8], partition[8];
		snprintf(target, sizeof(target), "%s/%s", SYSFS_BLOCK, req->u.job.block);
		if (sysfs_read(target, "partition", partition, sizeof(partition)) == 0)
			return -EINVAL; /* the whole medium is wiped, never one partition */
		snprintf(devnode, sizeof(devnode), "/dev/%s", req->u.job.block);
		struct stat st;
		if (stat(devnode, &st) != 0 || !S_ISBLK(st.st_mode) || st.st_rdev != dev)
			return -ENODEV; /* the node must be that very device */
		snprintf(path, sizeof(path), "%s/../bin/portcullis", bindir);
		char wipe[] = "wipe", local[] = "--local", json[] = "--json", certopt[] = "--cert";
		char cert[CONF_PATH_MAX + 160], stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime_r(&now, &tm));
		snprintf(cert, sizeof(cert), "%s/certificates/wipe-%s-%s", conf->state_dir, stamp,
			 req->u.job.block);
		char *argv[] = {path, wipe, local, json, certopt, cert, devnode, NULL};
		pid = spawn_fed(path, argv, req->u.job.token);
	}
	if (pid < 0)
		return -errno;
	log_info("%s job for %s started (pid %d)",
		 req->u.job.kind == IPC_JOB_XFER ? "transfer-log" : "wipe", req->u.job.block,
		 (int)pid);
	return remember(pid, req->u.job.token);
}

int parent_job_stop(const struct ipc_msg *req)
{
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].pid > 0 && strcmp(jobs[i].token, req->u.stop.token) == 0) {
			kill(jobs[i].pid, SIGTERM);
			return 0;
		}
	return -ENOENT;
}

void parent_jobs_stop_all(void)
{
	for (int round = 0; round < 20; round++) {
		bool left = false;
		for (size_t i = 0; i < MAX_JOBS; i++) {
			if (jobs[i].pid <= 0)
				continue;
			if (waitpid(jobs[i].pid, NULL, WNOHANG) == jobs[i].pid) {
				jobs[i].pid = 0;
				continue;
			}
			kill(jobs[i].pid, round < 19 ? SIGTERM : SIGKILL);
			left = true;
		}
		if (!left)
			return;
		usleep(100000);
	}
}
