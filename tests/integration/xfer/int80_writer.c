/*
 * int80_writer.c - test program for the transfer log (test_xfer_bpf.py): as uid UID,
 * opens PATH with x86's 32-bit open system call (int 0x80, from this 64-bit process),
 * writes TEXT and exits at once without closing it. Exits 77 where the kernel refuses
 * 32-bit system calls. Usage: xfer_int80_writer UID PATH TEXT. Its arguments come from
 * the test: trusted. Built without PIE, so that its buffers have 32-bit addresses.
 */
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#define IA32_GETPID 20
#define IA32_OPEN   5

static char path[4096];

static int int80(int nr, unsigned a, unsigned b, unsigned c)
{
	int ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

/* Whether this kernel takes 32-bit system calls: tried in a child, which a kernel that
 * refuses them kills with a signal. */
static int int80_works(void)
{
	int status;
	pid_t pid = fork();
	if (pid == 0)
		_exit(int80(IA32_GETPID, 0, 0, 0) == getpid() ? 0 : 1);
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv)
{
	if (argc != 4 || strlen(argv[2]) >= sizeof(path)) {
		fprintf(stderr, "usage: xfer_int80_writer UID PATH TEXT\n");
		return 2;
	}
	if ((unsigned long)path > 0xffffffffUL) {
		fprintf(stderr, "xfer_int80_writer: built as PIE: no 32-bit address\n");
		return 2;
	}
	if (!int80_works())
		return 77;
	uid_t uid = (uid_t)strtoul(argv[1], NULL, 10);
	if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		perror("xfer_int80_writer: setresuid");
		return 1;
	}
	memcpy(path, argv[2], strlen(argv[2]) + 1);
	int fd = int80(IA32_OPEN, (unsigned)(unsigned long)path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		fprintf(stderr, "xfer_int80_writer: open %s: %s\n", path, strerror(-fd));
		return 1;
	}
	size_t len = strlen(argv[3]);
	if (write(fd, argv[3], len) != (ssize_t)len) {
		perror("xfer_int80_writer: write");
		return 1;
	}
	_exit(0); /* the file is closed by the exit */
}
