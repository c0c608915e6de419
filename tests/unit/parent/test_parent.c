/*
 * test_parent.c - the root parent's request dispatcher (parent_handle, daemon/
 * parent_requests.c and parent_jobs.c) on a sysfs, /dev and mount table of the test's
 * (parent_tree.h): every request type well-formed and carried out, and refused when it is
 * malformed, names a disk not under a device the parent authorised, a stale bus/device
 * number, the system disk, or a node that is not that disk. The read-only grant is set on
 * a real loop device (root, /dev/loop-control), so BLKROSET itself is checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "parent.h"
#include "parent_tree.h"

/* What the dispatcher asked the launcher for: the last program it started. */
static struct {
	int calls;
	enum pcl_role_id role;
	char argv[40][160];
	int argc;
	int fd_at3; /* the descriptor passed as 3, -1 none */
	pid_t pid;
} launched;

/* The launcher's stand-in: a real child that says one line on its standard output (the
 * channel) and waits to be stopped. */
static pid_t fake_launch(enum pcl_role_id role, char *const argv[], char *const envp[],
			 const int fds[2], const int at[2])
{
	(void)envp;
	launched.calls++;
	launched.role = role;
	launched.argc = 0;
	for (int i = 0; argv[i] != NULL && i < 40; i++)
		snprintf(launched.argv[launched.argc++], sizeof(launched.argv[0]), "%s", argv[i]);
	launched.fd_at3 = -1;
	int out = -1;
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0 && at[i] == 1)
			out = fds[i];
		if (fds[i] >= 0 && at[i] == 3)
			launched.fd_at3 = fds[i];
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (out >= 0 && write(out, "started\n", 8) != 8)
			_exit(1);
		pause();
		_exit(0);
	}
	launched.pid = pid;
	return pid;
}

struct bed {
	struct ptree tree;
	struct parent_sys sys;
	struct parent_table table;
	struct conf conf;
	int loop_fd, backing_fd, certs;
	dev_t loop_rdev;
};

static struct bed *bed;

static int loop_ro(void)
{
	int ro = -1;

	assert_int_equal(ioctl(bed->loop_fd, BLKROGET, &ro), 0);
	return ro;
}

static int setup(void **state)
{
	char path[64], disk[32];
	struct stat st;

	bed = calloc(1, sizeof(*bed));
	assert_non_null(bed);
	/* A real loop device over a 1 MiB file: the disk of the stick. The tree's stick
	 * disk gets its number, so the tree is made once the device is known. */
	char backing[] = "/tmp/pcl-parent-loop-XXXXXX";
	bed->backing_fd = mkstemp(backing);
	assert_true(bed->backing_fd >= 0);
	unlink(backing);
	assert_int_equal(ftruncate(bed->backing_fd, 1 << 20), 0);
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	assert_true(ctl >= 0); /* the dispatcher's tests run as root, as the parent does */
	bed->loop_fd = -1;
	/* Others may take the free device between the two calls: try the next one. */
	for (int tries = 0; tries < 20 && bed->loop_fd < 0; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		assert_true(n >= 0);
		snprintf(path, sizeof(path), "/dev/loop%d", n);
		bed->loop_fd = open(path, O_RDWR | O_CLOEXEC);
		if (bed->loop_fd >= 0 && ioctl(bed->loop_fd, LOOP_SET_FD, bed->backing_fd) != 0) {
			close(bed->loop_fd);
			bed->loop_fd = -1;
		}
		if (bed->loop_fd < 0)
			fprintf(stderr, "%s: %s; trying another\n", path, strerror(errno));
	}
	close(ctl);
	assert_true(bed->loop_fd >= 0);
	assert_int_equal(fstat(bed->loop_fd, &st), 0);
	bed->loop_rdev = st.st_rdev;
	snprintf(disk, sizeof(disk), "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	if (ptree_make(&bed->tree, disk) != 0)
		fail_msg("test tree: %s", strerror(errno));
	int rw = 0;
	assert_int_equal(ioctl(bed->loop_fd, BLKROSET, &rw), 0);
	/* The disk's node in the tree's /dev: that very device number. */
	char node[256];
	snprintf(node, sizeof(node), "%s/sdb", bed->tree.dev);
	if (mknod(node, S_IFBLK | 0600, st.st_rdev) != 0)
		fail_msg("%s: %s", node, strerror(errno));
	bed->sys =
	    (struct parent_sys){bed->tree.sys, bed->tree.dev, bed->tree.mountinfo, fake_launch};
	bed->table.sys = &bed->sys;
	conf_defaults(&bed->conf);
	snprintf(bed->conf.state_dir, sizeof(bed->conf.state_dir), "%s", bed->tree.root);
	bed->certs = open(bed->tree.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(bed->certs >= 0);
	assert_int_equal(parent_jobs_init(&bed->conf, bed->certs), 0);
	memset(&launched, 0, sizeof(launched));
	*state = bed;
	return 0;
}

static int teardown(void **state)
{
	int rw = 0;

	(void)state;
	parent_grant_drop(&bed->table);
	parent_jobs_stop_all();
	ioctl(bed->loop_fd, BLKROSET, &rw);
	ioctl(bed->loop_fd, LOOP_CLR_FD, 0);
	close(bed->loop_fd);
	close(bed->backing_fd);
	close(bed->certs);
	ptree_remove(&bed->tree);
	free(bed);
	bed = NULL;
	return 0;
}

static struct ipc_device_ref ref(const char *name, unsigned bus, unsigned dev)
{
	struct ipc_device_ref r = {.busnum = (uint16_t)bus, .devnum = (uint16_t)dev};

	snprintf(r.name, sizeof(r.name), "%s", name);
	return r;
}

static int handle(struct ipc_msg *m)
{
	int passfd = -1;
	int rc = parent_handle(&bed->table, m, &passfd);

	if (passfd >= 0)
		close(passfd);
	return rc;
}

static int authorize(struct ipc_device_ref d, uint8_t value)
{
	struct ipc_msg m = {.type = IPC_DEV_AUTHORIZE};

	m.u.authorize.dev = d;
	m.u.authorize.value = value;
	return handle(&m);
}

static int readonly(struct ipc_device_ref d, const char *disk)
{
	struct ipc_msg m = {.type = IPC_BLOCK_READONLY};

	m.u.readonly.dev = d;
	snprintf(m.u.readonly.name, sizeof(m.u.readonly.name), "%s", disk);
	return handle(&m);
}

static const char *attr(const char *rel)
{
	static char buf[128];

	return ptree_get(&bed->tree, rel, buf, sizeof(buf));
}

static const struct ipc_device_ref *stick(void)
{
	static struct ipc_device_ref r;

	r = ref("1-2", 1, 5);
	return &r;
}

static void authorize_writes_the_device_and_remembers_it(void **state)
{
	(void)state;
	assert_int_equal(authorize(*stick(), 1), 0);
	assert_string_equal(attr(PTREE_STICK "/authorized"), "1");
	assert_true(parent_table_has(&bed->table, stick()));
	assert_int_equal(authorize(*stick(), 0), 0);
	assert_string_equal(attr(PTREE_STICK "/authorized"), "0");
	assert_false(parent_table_has(&bed->table, stick()));
}

static void authorize_refuses_stale_numbers_root_hubs_interfaces_and_gone_devices(void **state)
{
	(void)state;
	assert_int_equal(authorize(ref("1-2", 1, 6), 1), -ESTALE);
	assert_int_equal(authorize(ref("1-2", 2, 5), 1), -ESTALE);
	assert_int_equal(authorize(ref("usb1", 1, 1), 1), -EINVAL);
	assert_int_equal(authorize(ref("1-2:1.0", 1, 5), 1), -EINVAL);
	assert_int_equal(authorize(ref("1-9", 1, 5), 1), -ENODEV);
	assert_string_equal(attr(PTREE_STICK "/authorized"), "0");
	assert_string_equal(attr(PTREE_HUB "/authorized_default"), "0");
	assert_int_equal(bed->table.n, 0);
}

static int grant(uint8_t type, struct ipc_device_ref d)
{
	struct ipc_msg m = {.type = type};

	m.u.grant.dev = d;
	return handle(&m);
}

static void a_grant_in_two_steps_writes_only_at_the_commit_right_after_its_prepare(void **state)
{
	(void)state;
	/* The prepare checks and holds the file open, and writes nothing. */
	assert_int_equal(grant(IPC_DEV_PREPARE, *stick()), 0);
	assert_string_equal(attr(PTREE_STICK "/authorized"), "0");
	assert_false(parent_table_has(&bed->table, stick()));
	assert_int_equal(grant(IPC_DEV_COMMIT, *stick()), 0);
	assert_string_equal(attr(PTREE_STICK "/authorized"), "1");
	assert_true(parent_table_has(&bed->table, stick()));
	/* A commit is for one prepare only. */
	assert_int_equal(authorize(*stick(), 0), 0);
	assert_int_equal(grant(IPC_DEV_COMMIT, *stick()), -EPERM);
	assert_string_equal(attr(PTREE_STICK "/authorized"), "0");
	/* Without a prepare just before: any request in between ends it. */
	assert_int_equal(grant(IPC_DEV_PREPARE, *stick()), 0);
	assert_int_equal(readonly(*stick(), "sdb"), -EPERM);
	assert_int_equal(grant(IPC_DEV_COMMIT, *stick()), -EPERM);
	assert_string_equal(attr(PTREE_STICK "/authorized"), "0");
	/* Of another device (or other numbers) than the one prepared. */
	assert_int_equal(grant(IPC_DEV_PREPARE, *stick()), 0);
	assert_int_equal(grant(IPC_DEV_COMMIT, ref("1-2", 1, 6)), -EPERM);
	assert_int_equal(grant(IPC_DEV_COMMIT, *stick()), -EPERM);
	assert_string_equal(attr(PTREE_STICK "/authorized"), "0");
	/* The prepare checks what the grant in one step checks; a refused one holds nothing. */
	assert_int_equal(grant(IPC_DEV_PREPARE, ref("1-2", 1, 6)), -ESTALE);
	assert_int_equal(grant(IPC_DEV_COMMIT, ref("1-2", 1, 6)), -EPERM);
	assert_int_equal(grant(IPC_DEV_PREPARE, ref("usb1", 1, 1)), -EINVAL);
	assert_int_equal(grant(IPC_DEV_PREPARE, ref("1-2:1.0", 1, 5)), -EINVAL);
	assert_int_equal(grant(IPC_DEV_PREPARE, ref("1-9", 1, 5)), -ENODEV);
	assert_int_equal(grant(IPC_DEV_COMMIT, ref("1-9", 1, 5)), -EPERM);
	assert_string_equal(attr(PTREE_STICK "/authorized"), "0");
	assert_string_equal(attr(PTREE_HUB "/authorized_default"), "0");
	assert_int_equal(bed->table.n, 0);
	assert_false(bed->table.held);
}

/* The prepare's answer: the descriptor it hands over (-1 none) and its result. */
static int prepare_fd(struct ipc_device_ref d, int *fd)
{
	struct ipc_msg m = {.type = IPC_DEV_PREPARE};

	m.u.grant.dev = d;
	return parent_handle(&bed->table, &m, fd);
}

static void a_prepare_hands_the_engine_the_checked_device_authorized_file(void **state)
{
	char path[400];
	struct stat held, file;
	int fd = -2;

	(void)state;
	/* An accepted prepare passes a copy of the very file it opened and checked: write
	 * only, not inherited by a program the engine would start. */
	assert_int_equal(prepare_fd(*stick(), &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	snprintf(path, sizeof(path), "%s/" PTREE_STICK "/authorized", bed->tree.sys);
	assert_int_equal(fstat(fd, &held), 0);
	assert_int_equal(stat(path, &file), 0);
	assert_true(held.st_dev == file.st_dev && held.st_ino == file.st_ino);
	/* The engine's write through it (at offset 0, as the engine writes) grants the
	 * device before the parent's commit. */
	assert_int_equal(pwrite(fd, "1", 1, 0), 1);
	assert_int_equal(close(fd), 0);
	assert_string_equal(attr(PTREE_STICK "/authorized"), "1");
	assert_false(parent_table_has(&bed->table, stick()));
	/* The commit still checks, remembers the device and writes (a no-op for the kernel
	 * once the device is authorised). */
	assert_int_equal(grant(IPC_DEV_COMMIT, *stick()), 0);
	assert_true(parent_table_has(&bed->table, stick()));
	assert_string_equal(attr(PTREE_STICK "/authorized"), "1");
	/* A refused prepare passes nothing. */
	assert_int_equal(authorize(*stick(), 0), 0);
	const struct ipc_device_ref refused[] = {ref("1-2", 1, 6), ref("usb1", 1, 1),
						 ref("1-2:1.0", 1, 5), ref("1-9", 1, 5)};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		fd = -2;
		assert_true(prepare_fd(refused[i], &fd) < 0);
		assert_int_equal(fd, -1);
	}
	/* Nor does a commit, or any other request. */
	assert_int_equal(prepare_fd(*stick(), &fd), 0);
	assert_true(fd >= 0);
	close(fd);
	struct ipc_msg commit = {.type = IPC_DEV_COMMIT};
	commit.u.grant.dev = *stick();
	fd = -2;
	assert_int_equal(parent_handle(&bed->table, &commit, &fd), 0);
	assert_int_equal(fd, -1);
	assert_false(bed->table.held);
}

static int iface(struct ipc_device_ref d, const char *name, uint8_t value)
{
	struct ipc_msg m = {.type = IPC_IFACE_AUTHORIZE};

	m.u.iface.dev = d;
	snprintf(m.u.iface.iface, sizeof(m.u.iface.iface), "%s", name);
	m.u.iface.value = value;
	return handle(&m);
}

static void interfaces_only_of_a_device_it_authorised_and_then_probed(void **state)
{
	(void)state;
	assert_int_equal(iface(*stick(), "1-2:1.0", 1), -EPERM);
	assert_string_equal(attr(PTREE_IFACE "/authorized"), "0");
	assert_int_equal(authorize(*stick(), 1), 0);
	assert_int_equal(iface(*stick(), "1-3:1.0", 1), -EINVAL); /* another device's */
	assert_int_equal(iface(*stick(), "1-2:1.1", 1), -ENOENT); /* no such interface */
	assert_int_equal(iface(ref("1-2", 1, 6), "1-2:1.0", 1), -EPERM);
	assert_string_equal(attr("bus/usb/drivers_probe"), "");
	assert_int_equal(iface(*stick(), "1-2:1.0", 1), 0);
	assert_string_equal(attr(PTREE_IFACE "/authorized"), "1");
	assert_string_equal(attr("bus/usb/drivers_probe"), "1-2:1.0");
	/* Taking an interface away needs no grant, and probes nothing. */
	assert_int_equal(ptree_put(&bed->tree, "bus/usb/drivers_probe", ""), 0);
	assert_int_equal(iface(*stick(), "1-2:1.0", 0), 0);
	assert_string_equal(attr(PTREE_IFACE "/authorized"), "0");
	assert_string_equal(attr("bus/usb/drivers_probe"), "");
}

static void remove_writes_remove_and_forgets_the_device(void **state)
{
	struct ipc_msg m = {.type = IPC_DEV_REMOVE};

	(void)state;
	assert_int_equal(authorize(*stick(), 1), 0);
	m.u.remove.dev = ref("1-2", 1, 6);
	assert_int_equal(handle(&m), -ESTALE);
	assert_string_equal(attr(PTREE_STICK "/remove"), "");
	m.u.remove.dev = *stick();
	assert_int_equal(handle(&m), 0);
	assert_string_equal(attr(PTREE_STICK "/remove"), "1");
	assert_false(parent_table_has(&bed->table, stick()));
}

static int detach(const char *name, uint8_t how)
{
	struct ipc_msg m = {.type = IPC_MEDIUM_DETACH};

	snprintf(m.u.detach.name, sizeof(m.u.detach.name), "%s", name);
	m.u.detach.how = how;
	return handle(&m);
}

static void detach_only_removable_disks_and_sd_cards(void **state)
{
	(void)state;
	assert_int_equal(detach("sda", IPC_DETACH_SCSI_DELETE), -EPERM); /* the system disk */
	assert_string_equal(attr(PTREE_SATA "/delete"), "");
	assert_int_equal(detach("mmcblk1", IPC_DETACH_MMC_UNBIND), -EPERM); /* an eMMC */
	assert_int_equal(detach("sdb", IPC_DETACH_MMC_UNBIND), -EINVAL);
	assert_int_equal(detach("sdz", IPC_DETACH_SCSI_DELETE), -ENODEV);
	assert_int_equal(detach("loop9", IPC_DETACH_SCSI_DELETE), -EPERM); /* not removable */
	assert_string_equal(attr("bus/mmc/drivers/mmcblk/unbind"), "");
	assert_int_equal(detach("sdb", IPC_DETACH_SCSI_DELETE), 0);
	assert_string_equal(attr(PTREE_SCSI "/delete"), "1");
	assert_int_equal(detach("mmcblk0", IPC_DETACH_MMC_UNBIND), 0);
	assert_string_equal(attr("bus/mmc/drivers/mmcblk/unbind"), "mmc0:aaaa");
}

static void read_only_only_for_a_disk_of_a_device_it_authorised(void **state)
{
	(void)state;
	assert_int_equal(readonly(*stick(), "sdb"), -EPERM); /* not authorised yet */
	assert_int_equal(authorize(*stick(), 1), 0);
	assert_int_equal(readonly(*stick(), "sda"), -EPERM);	     /* the system disk */
	assert_int_equal(readonly(*stick(), "loop9"), -EPERM);	     /* a loop device, not USB */
	assert_int_equal(readonly(ref("1-2", 1, 6), "sdb"), -EPERM); /* a stale number */
	assert_int_equal(readonly(ref("1-3", 1, 5), "sdb"), -EPERM); /* another device */
	assert_int_equal(readonly(*stick(), "sdz"), -ENODEV);
	assert_int_equal(loop_ro(), 0);
	assert_int_equal(readonly(*stick(), "sdb"), 0);
	assert_int_equal(loop_ro(), 1);
}

static void read_only_opens_that_very_disk_and_no_other_node(void **state)
{
	char node[256], other[256];

	(void)state;
	assert_int_equal(authorize(*stick(), 1), 0);
	snprintf(node, sizeof(node), "%s/sdb", bed->tree.dev);
	snprintf(other, sizeof(other), "%s/elsewhere", bed->tree.dev);
	/* The disk's sysfs number is not the node's: another disk behind the name. */
	char num[32];
	snprintf(num, sizeof(num), "%u:%u\n", major(bed->loop_rdev), minor(bed->loop_rdev) + 1);
	assert_int_equal(ptree_put(&bed->tree, PTREE_SCSI "/block/sdb/dev", num), 0);
	assert_int_equal(readonly(*stick(), "sdb"), -ENODEV);
	snprintf(num, sizeof(num), "%u:%u\n", major(bed->loop_rdev), minor(bed->loop_rdev));
	assert_int_equal(ptree_put(&bed->tree, PTREE_SCSI "/block/sdb/dev", num), 0);
	/* A link at the node's name is never followed; a plain file is not a disk. */
	assert_int_equal(rename(node, other), 0);
	assert_int_equal(symlink(other, node), 0);
	assert_int_equal(readonly(*stick(), "sdb"), -ELOOP);
	assert_int_equal(unlink(node), 0);
	int fd = open(node, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(readonly(*stick(), "sdb"), -ENOTBLK);
	assert_int_equal(ptree_put(&bed->tree, PTREE_SCSI "/block/sdb/dev", "garbage\n"), 0);
	assert_int_equal(readonly(*stick(), "sdb"), -EINVAL);
	assert_int_equal(loop_ro(), 0);
}

static void an_unplugged_device_is_forgotten_before_the_next_request(void **state)
{
	(void)state;
	assert_int_equal(authorize(*stick(), 1), 0);
	/* Unplugged, and its name taken by a device with another number. */
	assert_int_equal(ptree_put(&bed->tree, PTREE_STICK "/devnum", "9\n"), 0);
	assert_int_equal(readonly(*stick(), "sdb"), -EPERM);
	assert_false(parent_table_has(&bed->table, stick()));
	/* The number coming back does not bring the grant back. */
	assert_int_equal(ptree_put(&bed->tree, PTREE_STICK "/devnum", "5\n"), 0);
	assert_int_equal(readonly(*stick(), "sdb"), -EPERM);
	assert_int_equal(loop_ro(), 0);
}

static int job(uint8_t kind, struct ipc_device_ref d, const char *block, uint32_t mount_id,
	       uint32_t number, int *chan)
{
	struct ipc_msg m = {.type = IPC_JOB_START};

	m.u.job.kind = kind;
	m.u.job.dev = d;
	snprintf(m.u.job.block, sizeof(m.u.job.block), "%s", block);
	m.u.job.mount_id = mount_id;
	m.u.job.job = number;
	m.u.job.uid = 1000;
	snprintf(m.u.job.ref, sizeof(m.u.job.ref), "A-0123456789abcdef");
	*chan = -1;
	return parent_handle(&bed->table, &m, chan);
}

static int stop(uint32_t number)
{
	struct ipc_msg m = {.type = IPC_JOB_STOP};

	m.u.stop.job = number;
	return handle(&m);
}

/* The helper's line arrives on the channel the engine gets; it is stopped on request. */
static void check_channel_and_stop(int chan, uint32_t number)
{
	char buf[16] = {0};
	int st;

	assert_true(chan >= 0);
	assert_int_equal(read(chan, buf, sizeof(buf) - 1), 8);
	assert_string_equal(buf, "started\n");
	close(chan);
	assert_int_equal(stop(number + 100), -ENOENT);
	assert_int_equal(stop(number), 0);
	assert_int_equal(waitpid(launched.pid, &st, 0), launched.pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	assert_int_equal(parent_jobs_reaped(launched.pid), number);
}

static void transfer_log_only_on_a_mount_of_that_very_disk(void **state)
{
	char lines[512];
	int chan;

	(void)state;
	snprintf(lines, sizeof(lines),
		 "25 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
		 "40 25 %u:%u / /media/stick rw,relatime shared:2 - ext4 /dev/sdb rw\n"
		 "41 25 8:0 / /srv rw,relatime shared:3 - ext4 /dev/sda rw\n",
		 major(bed->loop_rdev), minor(bed->loop_rdev));
	FILE *f = fopen(bed->tree.mountinfo, "w");
	assert_non_null(f);
	fputs(lines, f);
	fclose(f);
	assert_int_equal(job(IPC_JOB_XFER, *stick(), "sdb", 40, 1, &chan), -EPERM);
	assert_int_equal(authorize(*stick(), 1), 0);
	assert_int_equal(job(IPC_JOB_XFER, *stick(), "sda", 41, 1, &chan), -EPERM);
	assert_int_equal(job(IPC_JOB_XFER, *stick(), "sdb", 41, 1, &chan), -EPERM);
	assert_int_equal(job(IPC_JOB_XFER, *stick(), "sdb", 25, 1, &chan), -EPERM);
	assert_int_equal(job(IPC_JOB_XFER, *stick(), "sdb", 99, 1, &chan), -ENOENT);
	assert_int_equal(job(IPC_JOB_XFER, ref("1-2", 1, 6), "sdb", 40, 1, &chan), -EPERM);
	assert_int_equal(launched.calls, 0);
	assert_int_equal(job(IPC_JOB_XFER, *stick(), "sdb", 40, 7, &chan), 0);
	assert_int_equal(launched.calls, 1);
	assert_int_equal(launched.role, PCL_ROLE_XFERWATCH);
	assert_string_equal(launched.argv[launched.argc - 1], "/media/stick");
	assert_int_equal(launched.fd_at3, -1);
	int again;
	assert_int_equal(job(IPC_JOB_XFER, *stick(), "sdb", 40, 7, &again), -EEXIST);
	check_channel_and_stop(chan, 7);
}

static bool has_args(const char *opt, const char *value)
{
	for (int i = 0; i + 1 < launched.argc; i++)
		if (strcmp(launched.argv[i], opt) == 0 &&
		    (value == NULL || strcmp(launched.argv[i + 1], value) == 0))
			return true;
	return false;
}

static void wipe_only_of_a_whole_disk_with_what_the_parent_read_itself(void **state)
{
	char devnum[32], node[256];
	int chan;

	(void)state;
	assert_int_equal(job(IPC_JOB_WIPE, *stick(), "sdb", 0, 3, &chan), -EPERM);
	assert_int_equal(authorize(*stick(), 1), 0);
	assert_int_equal(job(IPC_JOB_WIPE, *stick(), "sda", 0, 3, &chan), -EPERM);
	assert_int_equal(job(IPC_JOB_WIPE, *stick(), "loop9", 0, 3, &chan), -EPERM);
	assert_int_equal(job(IPC_JOB_WIPE, ref("1-2", 1, 4), "sdb", 0, 3, &chan), -EPERM);
	assert_int_equal(job(IPC_JOB_WIPE, *stick(), "sdb1", 0, 3, &chan), -EINVAL);
	assert_int_equal(launched.calls, 0);
	assert_int_equal(job(IPC_JOB_WIPE, *stick(), "sdb", 0, 3, &chan), 0);
	assert_int_equal(launched.role, PCL_ROLE_WIPE);
	snprintf(devnum, sizeof(devnum), "%u:%u", major(bed->loop_rdev), minor(bed->loop_rdev));
	snprintf(node, sizeof(node), "%s/sdb", bed->tree.dev);
	assert_true(has_args("--local", NULL) && has_args("--cert-dir-fd", "3"));
	assert_true(has_args("--expect-dev", devnum));
	assert_true(has_args("--expect-size", "33554432")); /* 65536 sectors of sysfs */
	assert_true(has_args("--usb-ids", "090c:1000"));
	assert_true(has_args("--usb-serial=AA00000000011111", NULL));
	assert_true(has_args("--operator", "uid 1000"));
	assert_true(has_args("--approval", "A-0123456789abcdef"));
	assert_string_equal(launched.argv[launched.argc - 1], node);
	assert_true(launched.fd_at3 >= 0); /* the certificates directory it holds */
	check_channel_and_stop(chan, 3);
	/* A node that is not that disk: nothing started. */
	assert_int_equal(unlink(node), 0);
	assert_int_equal(
	    mknod(node, S_IFBLK | 0600, makedev(major(bed->loop_rdev), minor(bed->loop_rdev) + 1)),
	    0);
	assert_int_equal(job(IPC_JOB_WIPE, *stick(), "sdb", 0, 4, &chan), -ENODEV);
	assert_int_equal(launched.calls, 1);
}

static void other_message_types_are_refused(void **state)
{
	static const uint8_t types[] = {0, IPC_HELLO, IPC_RESULT, IPC_JOB_EXIT, IPC_TYPE_END, 200};

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		struct ipc_msg m = {.type = types[i]};
		assert_int_equal(handle(&m), -EINVAL);
	}
	assert_int_equal(stop(1), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(authorize_writes_the_device_and_remembers_it, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		authorize_refuses_stale_numbers_root_hubs_interfaces_and_gone_devices, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		interfaces_only_of_a_device_it_authorised_and_then_probed, setup, teardown),
	    cmocka_unit_test_setup_teardown(remove_writes_remove_and_forgets_the_device, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(detach_only_removable_disks_and_sd_cards, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(read_only_only_for_a_disk_of_a_device_it_authorised,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(read_only_opens_that_very_disk_and_no_other_node, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		an_unplugged_device_is_forgotten_before_the_next_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(transfer_log_only_on_a_mount_of_that_very_disk, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		wipe_only_of_a_whole_disk_with_what_the_parent_read_itself, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		a_grant_in_two_steps_writes_only_at_the_commit_right_after_its_prepare, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		a_prepare_hands_the_engine_the_checked_device_authorized_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(other_message_types_are_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
