/*
 * init.c - PID 1 of the kernel test bed's initramfs (tests/kernel; never shipped).
 * Loads the modules listed in /modules.order, mounts the host's root (9p tag "hostroot",
 * read-only) as the lower layer of an overlay on a tmpfs, and executes the bed's guest
 * init (pcl.init= on the kernel command line) inside it. Its input, the initramfs and the
 * command line, is written by the bed itself: trusted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "bed init: %s: %s\n", what, strerror(errno));
	sleep(2);
	_exit(1); /* the kernel panics; panic=-1 stops the guest */
}

static void load_modules(void)
{
	FILE *f = fopen("/modules.order", "r");
	char line[512];

	if (f == NULL)
		die("/modules.order");
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		int fd = open(line, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die(line);
		if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
			die(line);
		close(fd);
	}
	fclose(f);
}

/* The value of KEY= on the kernel command line, or NULL. */
static char *cmdline_value(const char *key)
{
	static char buf[4096];
	FILE *f = fopen("/proc/cmdline", "r");
	size_t klen = strlen(key);

	if (f == NULL)
		die("/proc/cmdline");
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (char *tok = strtok(buf, " \n"); tok != NULL; tok = strtok(NULL, " \n"))
		if (strncmp(tok, key, klen) == 0 && tok[klen] == '=')
			return tok + klen + 1;
	return NULL;
}

int main(void)
{
	mkdir("/dev", 0755);
	mkdir("/proc", 0555);
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) != 0)
		die("mount /dev");
	if (mount("proc", "/proc", "proc", 0, NULL) != 0)
		die("mount /proc");
	load_modules();
	char *init = cmdline_value("pcl.init");
	if (init == NULL) {
		errno = EINVAL;
		die("pcl.init= missing");
	}
	init = strdup(init);
	mkdir("/lower", 0755);
	mkdir("/rw", 0755);
	mkdir("/newroot", 0755);
	if (mount("hostroot", "/lower", "9p", MS_RDONLY,
		  "trans=virtio,version=9p2000.L,msize=262144,cache=loose") != 0)
		die("mount hostroot");
	if (mount("rw", "/rw", "tmpfs", 0, "mode=0755") != 0)
		die("mount /rw");
	mkdir("/rw/upper", 0755);
	mkdir("/rw/work", 0755);
	if (mount("overlay", "/newroot", "overlay", 0,
		  "lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work") != 0)
		die("mount overlay");
	if (mount("/dev", "/newroot/dev", NULL, MS_MOVE, NULL) != 0)
		die("move /dev");
	umount("/proc");
	if (chdir("/newroot") != 0 || mount(".", "/", NULL, MS_MOVE, NULL) != 0 ||
	    chroot(".") != 0 || chdir("/") != 0)
		die("switch root");
	char *argv[] = {init, NULL};
	execv(init, argv);
	die(init);
	return 1;
}
