/*
 * fuzz_parent.c - libFuzzer harness for the root parent's request dispatcher
 * (parent_handle: daemon/parent_requests.c, parent_jobs.c), driven as a compromised
 * engine would drive it: a sequence of messages, each decoded by ipc_decode and, if
 * valid, handled, against the test tree of tests/unit/parent/parent_tree.h. Input: a
 * length byte, that many bytes of one message, and again. Whatever the sequence, the
 * parent never authorises anything but the stick, never touches the system disk or the
 * eMMC, and starts helpers only on the stick's disk. The tree's /dev holds no node and
 * the launcher's stand-in starts nothing, so no real device is ever acted on.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parent.h"
#include "parent_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ptree tree;
static struct parent_sys sys;
static struct conf conf;
static int launches_elsewhere;

static pid_t no_launch(enum pcl_role_id role, char *const argv[], char *const envp[],
		       const int fds[2], const int at[2])
{
	(void)role;
	(void)envp;
	(void)fds;
	(void)at;
	size_t n = 0;
	while (argv[n] != NULL)
		n++;
	/* The watch's last argument is the mount point of the stick's disk. */
	if (role != PCL_ROLE_XFERWATCH || n == 0 || strcmp(argv[n - 1], "/media/stick") != 0)
		launches_elsewhere++;
	return -EAGAIN;
}

static void cleanup(void)
{
	ptree_remove(&tree);
}

static void init(void)
{
	if (ptree_make(&tree, "7:250") != 0)
		abort();
	atexit(cleanup);
	FILE *f = fopen(tree.mountinfo, "w");
	if (f == NULL)
		abort();
	fputs("25 1 254:0 / / rw shared:1 - ext4 /dev/vda rw\n"
	      "40 25 7:250 / /media/stick rw shared:2 - vfat /dev/sdb rw\n"
	      "41 25 8:0 / /srv rw shared:3 - ext4 /dev/sda rw\n",
	      f);
	fclose(f);
	sys = (struct parent_sys){tree.sys, tree.dev, tree.mountinfo, no_launch};
	conf_defaults(&conf);
	if (parent_jobs_init(&conf, -1) != 0)
		abort();
}

static void check(const char *rel, const char *never)
{
	char buf[64];

	if (strcmp(ptree_get(&tree, rel, buf, sizeof(buf)), never) == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct parent_table table;
	static int ready;

	if (!ready) {
		init();
		ready = 1;
	}
	parent_grant_drop(&table); /* the last input's prepare, if any */
	memset(&table, 0, sizeof(table));
	table.sys = &sys;
	ptree_put(&tree, PTREE_STICK "/authorized", "0\n");
	ptree_put(&tree, PTREE_STICK "/devnum", "5\n");
	for (size_t off = 0; off < size;) {
		size_t len = data[off++];
		if (len > size - off)
			len = size - off;
		struct ipc_msg m;
		int passfd = -1;
		if (ipc_decode(data + off, len, &m) == 0) {
			(void)parent_handle(&table, &m, &passfd);
			if (passfd >= 0)
				abort(); /* nothing was started, so no channel */
		}
		off += len;
		/* Only the stick, with its own numbers, is ever in the table. */
		for (size_t i = 0; i < table.n; i++)
			if (strcmp(table.dev[i].name, "1-2") != 0 || table.dev[i].busnum != 1 ||
			    table.dev[i].devnum != 5)
				abort();
	}
	check(PTREE_SATA "/delete", "1");
	check("bus/mmc/drivers/mmcblk/unbind", "mmc1:0001");
	check(PTREE_HUB "/authorized_default", "1");
	if (launches_elsewhere != 0)
		abort();
	return 0;
}
