/*
 * parent_jobs.c - helpers the root parent runs on an approved medium for the engine:
 * portcullis-xferwatch on a mounted medium (transfer logging), portcullis-wipe (the
 * code of `portcullis wipe --local`, without the CLI's other libraries) on an unmounted
 * one. Linked by portcullisd (parent). The engine's request is
 * untrusted: the medium must belong to a USB device this parent authorised (sysfs path
 * under that device, bus and device number re-read now), and for a watch the mount must
 * be of exactly that block device. The helper's standard output is one end of a
 * socketpair made here; the other end goes to the engine with the answer (SCM_RIGHTS),
 * so its records reach the engine and no one else can speak for it. Every helper's
 * exit is reported to the engine (IPC_JOB_EXIT). A wipe's certificates are made in the
 * certificates directory the parent opened at start and holds (descriptor 3 of the
 * helper), each a new file never reached through a link, never by a path the engine
 * could redirect.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mountinfo.h"
#include "parent.h"
#include "sysfs.h"
#include "usbdev.h"

#define MAX_JOBS 32

static struct {
	pid_t pid;
	uint32_t job; /* the engine's number for it; 0 once that engine is gone */
} jobs[MAX_JOBS];

static const struct conf *conf;
static int certdir = -1;	   /* STATE/certificates, held open */
static char bindir[PATH_MAX - 64]; /* directory of the running portcullisd */

int parent_libexec(const char *name, char *out, size_t len)
{
	int n;

	if (bindir[0] == '\0') {
		char exe[PATH_MAX];
		ssize_t k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (k <= 0)
			return -errno;
		exe[k] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash == NULL)
			return -EINVAL;
		*slash = '\0';
		if (strlen(exe) >= sizeof(bindir))
			return -ENAMETOOLONG;
		memcpy(bindir, exe, strlen(exe) + 1);
	}
	n = snprintf(out, len, "%s/../libexec/portcullis/%s", bindir, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int parent_jobs_init(const struct conf *c, int certs_fd)
{
	char ignored[PATH_MAX];

	certdir = certs_fd;
	conf = c;
	int rc = parent_libexec("portcullis-xferwatch", ignored, sizeof(ignored));
	if (rc != 0)
		log_err("cannot locate portcullis-xferwatch: %s", strerror(-rc));
	return rc;
}

uint32_t parent_jobs_reaped(pid_t pid)
{
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].pid == pid) {
			uint32_t job = jobs[i].job;
			jobs[i].pid = 0;
			jobs[i].job = 0;
			return job;
		}
	return 0;
}

void parent_jobs_engine_gone(void)
{
	/* A new engine numbers its jobs afresh: the old ones are stopped and can no longer
	 * be named by it. Their channels went with the old engine. */
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].pid > 0) {
			kill(jobs[i].pid, SIGTERM);
			jobs[i].job = 0;
		}
}

/* The medium's sysfs directory must lie under the USB device's (parent_requests.c). */
static int check_medium(const struct parent_table *t, const struct ipc_msg *req, dev_t *devnum)
{
	char *bdir, buf[32];
	unsigned maj, min;
	int rc = 0;

	if ((rc = parent_disk_of_device(t, &req->u.job.dev, req->u.job.block, &bdir)) != 0)
		return rc;
	if ((rc = sysfs_read(bdir, "dev", buf, sizeof(buf))) == 0 &&
	    sscanf(buf, "%u:%u", &maj, &min) != 2)
		rc = -EINVAL;
	free(bdir);
	if (rc == 0)
		*devnum = makedev(maj, min);
	return rc;
}

/* The mount point of mount `id`, if it is a mount of `dev`. */
static int mount_point(const struct parent_table *t, uint32_t id, dev_t dev, char *out, size_t len)
{
	FILE *f = fopen(parent_sys_of(t)->mountinfo, "re");
	static char line[PCL_MOUNT_PATH_MAX * 2 + 512];
	static struct pcl_mount m;
	int rc = -ENOENT;

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (pcl_mountinfo_line(line, strlen(line), &m) != 0 || m.id != id)
			continue;
		rc = makedev(m.major, m.minor) == dev ? 0 : -EPERM;
		if (rc == 0 && strlen(m.mountpoint) >= len)
			rc = -ENAMETOOLONG;
		if (rc == 0)
			strcpy(out, m.mountpoint);
		break;
	}
	fclose(f);
	return rc;
}

/* Start a helper through the launcher: standard output the channel to the engine,
 * descriptor 3 (for a wipe) the certificates directory, nothing else inherited, a clean
 * environment. Returns the pid, or negative errno; *chan is the parent's end. */
static pid_t spawn_helper(const struct parent_table *t, enum pcl_role_id role, char *const argv[],
			  int pass_dir, int *chan)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	/* Root helpers get a clean environment, never the daemon's. */
	char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin", env_lang[] = "LANG=C.UTF-8";
	char *envp[] = {env_path, env_lang, NULL};
	const int fds[2] = {sv[1], pass_dir}, at[2] = {1, 3};
	pid_t pid = parent_sys_of(t)->launch(role, argv, envp, fds, at);
	close(sv[1]);
	if (pid < 0)
		close(sv[0]);
	else
		*chan = sv[0];
	return pid;
}

static int remember(pid_t pid, uint32_t job)
{
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].pid == 0) {
			jobs[i].pid = pid;
			jobs[i].job = job;
			return 0;
		}
	kill(pid, SIGTERM);
	return -ENOSPC;
}

/* A wipe's arguments: where its certificate goes, what the parent verified (the device
 * number and size of the disk under the authorised USB device, that device's ids,
 * serial and hash, read now from sysfs), who asked, the approval, the PC's wipe key. */
struct wipe_args {
	char local[8], json[8], certopt[8], diropt[16], three[2], devopt[16], sizeopt[16],
	    idsopt[12], opopt[12], apopt[12], keyopt[12], method[16];
	char cert[CONF_PATH_MAX + 160], expect_dev[24], expect_size[24], ids[16];
	char serial[USBDEV_STR_MAX + 16], hash[64], op[24], ref[IPC_NAME_MAX], key[CONF_PATH_MAX];
};

static int wipe_args(const struct parent_table *t, const struct ipc_msg *req, dev_t dev,
		     const char *blockdir, struct wipe_args *a)
{
	static struct usbdev u;
	struct pcl_diag d = {0};
	char udir[300], stamp[32];
	unsigned long sectors;
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	if ((rc = parent_sys_path(t, udir, sizeof(udir), "bus/usb/devices", req->u.job.dev.name)) !=
	    0)
		return rc;
	if ((rc = usbdev_from_sysfs_at(parent_sys_of(t)->sysfs, udir, &u, &d)) != 0)
		return rc;
	if ((rc = sysfs_read_uint(blockdir, "size", &sectors)) != 0)
		return rc;
	*a = (struct wipe_args){.local = "--local",
				.json = "--json",
				.certopt = "--cert",
				.diropt = "--cert-dir-fd",
				.three = "3",
				.devopt = "--expect-dev",
				.sizeopt = "--expect-size",
				.idsopt = "--usb-ids",
				.opopt = "--operator",
				.apopt = "--approval",
				.keyopt = "--sign-key",
				/* A LUKS container (a council stick) is crypto-erased first. */
				.method = "--method=auto"};
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime_r(&now, &tm));
	snprintf(a->cert, sizeof(a->cert), "%s/certificates/wipe-%s-%s", conf->state_dir, stamp,
		 req->u.job.block);
	snprintf(a->expect_dev, sizeof(a->expect_dev), "%u:%u", major(dev), minor(dev));
	snprintf(a->expect_size, sizeof(a->expect_size), "%llu", (unsigned long long)sectors * 512);
	snprintf(a->ids, sizeof(a->ids), "%04x:%04x", u.vid, u.pid);
	snprintf(a->serial, sizeof(a->serial), "--usb-serial=%s", u.serial);
	snprintf(a->hash, sizeof(a->hash), "--usb-hash=%s", u.hash);
	if (req->u.job.uid == IPC_JOB_AUTOMATIC)
		snprintf(a->op, sizeof(a->op), "automatic");
	else
		snprintf(a->op, sizeof(a->op), "uid %u", (unsigned)req->u.job.uid);
	snprintf(a->ref, sizeof(a->ref), "%s", req->u.job.ref);
	snprintf(a->key, sizeof(a->key), "%s", conf->wipe_key);
	return 0;
}

/* A disk set read-only for a bring-in (BLKROSET, parent_requests.c) is wiped too when its
 * council data has been imported: the flag is lifted for the wipe, which holds the disk
 * O_EXCL from its open to its end. devnode must still be the device dev. */
static int writable_for_wipe(const char *devnode, dev_t dev)
{
	int zero = 0, rc = 0;
	int fd = open(devnode, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || !S_ISBLK(st.st_mode) || st.st_rdev != dev)
		rc = -ENODEV;
	else if (syscall(SYS_ioctl, fd, BLKROSET, &zero) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

int parent_job_start(const struct parent_table *t, const struct ipc_msg *req, int *chan)
{
	char path[PATH_MAX], target[PATH_MAX];
	dev_t dev;
	pid_t pid;
	size_t free_slots = 0;
	int rc = check_medium(t, req, &dev);

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < MAX_JOBS; i++) {
		if (jobs[i].pid > 0 && jobs[i].job == req->u.job.job)
			return -EEXIST; /* one number, one helper */
		free_slots += jobs[i].pid == 0;
	}
	if (free_slots == 0)
		return -ENOSPC;
	if (req->u.job.kind == IPC_JOB_XFER) {
		if ((rc = mount_point(t, req->u.job.mount_id, dev, target, sizeof(target))) != 0)
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
		pid = spawn_helper(t, PCL_ROLE_XFERWATCH, argv, -1, chan);
	} else {
		char devnode[PATH_MAX], partition[8];
		if ((rc = parent_sys_path(t, target, sizeof(target), "class/block",
					  req->u.job.block)) != 0)
			return rc;
		if (sysfs_read(target, "partition", partition, sizeof(partition)) == 0)
			return -EINVAL; /* the whole medium is wiped, never one partition */
		if (snprintf(devnode, sizeof(devnode), "%s/%s", parent_sys_of(t)->dev,
			     req->u.job.block) >= (int)sizeof(devnode))
			return -ENAMETOOLONG;
		struct stat st;
		if (stat(devnode, &st) != 0 || !S_ISBLK(st.st_mode) || st.st_rdev != dev)
			return -ENODEV; /* the node must be that very device */
		if ((rc = parent_libexec("portcullis-wipe", path, sizeof(path))) != 0)
			return rc;
		if (certdir < 0)
			return -ENOENT;
		struct wipe_args a;
		if ((rc = wipe_args(t, req, dev, target, &a)) != 0 ||
		    (rc = writable_for_wipe(devnode, dev)) != 0)
			return rc;
		char *argv[24] = {path,		 a.local,  a.json,   a.certopt,	   a.cert,
				  a.diropt,	 a.three,  a.devopt, a.expect_dev, a.sizeopt,
				  a.expect_size, a.idsopt, a.ids,    a.serial,	   a.hash,
				  a.opopt,	 a.op,	   a.apopt,  a.ref,	   a.method};
		int n = 20;
		if (conf->wipe_key[0] != '\0') {
			argv[n++] = a.keyopt;
			argv[n++] = a.key;
		}
		argv[n++] = devnode;
		argv[n] = NULL;
		pid = spawn_helper(t, PCL_ROLE_WIPE, argv, certdir, chan);
	}
	if (pid < 0)
		return pid;
	log_info("%s job for %s started (pid %d)",
		 req->u.job.kind == IPC_JOB_XFER ? "transfer-log" : "wipe", req->u.job.block,
		 (int)pid);
	return remember(pid, req->u.job.job);
}

int parent_job_stop(const struct ipc_msg *req)
{
	for (size_t i = 0; i < MAX_JOBS; i++)
		if (jobs[i].pid > 0 && jobs[i].job == req->u.stop.job) {
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
