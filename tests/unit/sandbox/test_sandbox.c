/*
 * test_sandbox.c - each role's seccomp filter, installed in a forked child that then
 * attempts a forbidden system call: the child must die of SIGSYS. The same child
 * doing only what the role needs must exit normally.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <pthread.h>
#include <sys/fanotify.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox.h"

enum attempt {
	DO_ALLOWED,
	DO_EXECVE,
	DO_SOCKET_INET,
	DO_OPEN,
	DO_PTRACE,
	DO_EXEC_MEMORY,
	DO_FORK,
	DO_FANOTIFY_INIT,
	DO_BPF,
	DO_OPEN_BY_HANDLE,
	DO_MOUNT,
	DO_OPEN_WRITE,
	DO_THREAD,
};

static void *thread_body(void *arg)
{
	return arg;
}

static void attempt(enum attempt a)
{
	char *const argv[] = {"/bin/true", NULL};

	switch (a) {
	case DO_ALLOWED: {
		/* What every role does: memory, time, its own descriptors. */
		void *m =
		    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *buf = malloc(1 << 20);
		if (m == MAP_FAILED || buf == NULL || getpid() <= 0 || write(2, "", 0) != 0)
			_exit(3);
		free(buf);
		_exit(0);
	}
	case DO_EXECVE:
		execve(argv[0], argv, NULL);
		break;
	case DO_SOCKET_INET:
		socket(AF_INET, SOCK_STREAM, 0);
		break;
	case DO_OPEN:
		open("/etc/passwd", O_RDONLY);
		break;
	case DO_PTRACE:
		syscall(SYS_ptrace, 0, 0, 0, 0);
		break;
	case DO_EXEC_MEMORY:
		mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
		break;
	case DO_FORK:
		syscall(SYS_fork);
		break;
	case DO_FANOTIFY_INIT:
		syscall(SYS_fanotify_init, FAN_CLASS_NOTIF, 0);
		break;
	case DO_BPF:
		syscall(SYS_bpf, 0, NULL, 0);
		break;
	case DO_OPEN_BY_HANDLE:
		syscall(SYS_open_by_handle_at, -1, NULL, 0);
		break;
	case DO_MOUNT:
		syscall(SYS_mount, "none", "/", "tmpfs", 0, NULL);
		break;
	case DO_OPEN_WRITE:
		open("/dev/null", O_WRONLY);
		break;
	case DO_THREAD: {
		/* A thread, and a read-only open: what the watcher's work needs. */
		pthread_t th;
		static int marker;
		void *res = NULL;
		int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || pthread_create(&th, NULL, thread_body, &marker) != 0 ||
		    pthread_join(th, &res) != 0 || res != &marker)
			_exit(3);
		close(fd);
		_exit(0);
	}
	}
	_exit(2); /* survived */
}

/* Returns the signal that ended the child, 0 if it exited normally (status in *code). */
static int run(enum sandbox_role role, enum attempt a, int *code)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		if (sandbox_apply(role) != 0)
			_exit(4);
		attempt(a);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	*code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void expect_sigsys(enum sandbox_role role, enum attempt a)
{
	int code;

	assert_int_equal(run(role, a, &code), SIGSYS);
}

static void engine_cannot_exec_connect_out_trace_fork_or_map_code(void **state)
{
	expect_sigsys(SANDBOX_ENGINE, DO_EXECVE);
	expect_sigsys(SANDBOX_ENGINE, DO_SOCKET_INET);
	expect_sigsys(SANDBOX_ENGINE, DO_PTRACE);
	expect_sigsys(SANDBOX_ENGINE, DO_EXEC_MEMORY);
	expect_sigsys(SANDBOX_ENGINE, DO_FORK);
}

static void wiper_cannot_open_anything_nor_exec_nor_connect(void **state)
{
	expect_sigsys(SANDBOX_WIPER, DO_OPEN);
	expect_sigsys(SANDBOX_WIPER, DO_EXECVE);
	expect_sigsys(SANDBOX_WIPER, DO_SOCKET_INET);
	expect_sigsys(SANDBOX_WIPER, DO_FORK);
	expect_sigsys(SANDBOX_WIPER, DO_EXEC_MEMORY);
}

/* The parent asks its launcher to start programs: it keeps none of what they need
 * before their own filters (exec, fork, fanotify, handles, mount, executable memory). */
static void parent_cannot_exec_fork_fanotify_mount_connect_out_nor_trace(void **state)
{
	expect_sigsys(SANDBOX_PARENT, DO_SOCKET_INET);
	expect_sigsys(SANDBOX_PARENT, DO_PTRACE);
	expect_sigsys(SANDBOX_PARENT, DO_FANOTIFY_INIT);
	expect_sigsys(SANDBOX_PARENT, DO_BPF);
	expect_sigsys(SANDBOX_PARENT, DO_OPEN_BY_HANDLE);
	expect_sigsys(SANDBOX_PARENT, DO_EXECVE);
	expect_sigsys(SANDBOX_PARENT, DO_FORK);
	expect_sigsys(SANDBOX_PARENT, DO_MOUNT);
	expect_sigsys(SANDBOX_PARENT, DO_EXEC_MEMORY);
}

/* The wipe orchestrator's starter starts the wiper and mkfs.vfat: the orchestrator
 * itself execs nothing, forks nothing, maps no code, does no transfer logging, mounts
 * nothing, reaches no network, traces nothing. */
static void
wipe_cannot_exec_fork_map_code_fanotify_use_handles_mount_connect_out_nor_trace(void **state)
{
	expect_sigsys(SANDBOX_WIPE, DO_EXECVE);
	expect_sigsys(SANDBOX_WIPE, DO_FORK);
	expect_sigsys(SANDBOX_WIPE, DO_EXEC_MEMORY);
	expect_sigsys(SANDBOX_WIPE, DO_FANOTIFY_INIT);
	expect_sigsys(SANDBOX_WIPE, DO_BPF);
	expect_sigsys(SANDBOX_WIPE, DO_OPEN_BY_HANDLE);
	expect_sigsys(SANDBOX_WIPE, DO_MOUNT);
	expect_sigsys(SANDBOX_WIPE, DO_SOCKET_INET);
	expect_sigsys(SANDBOX_WIPE, DO_PTRACE);
}

/* Its starter keeps execve (the wiper's and mkfs.vfat's start-up run under its list) but
 * does no transfer logging, mounts nothing, reaches no network, traces nothing. */
static void wipe_starter_cannot_fanotify_use_handles_mount_connect_out_nor_trace(void **state)
{
	expect_sigsys(SANDBOX_WIPE_STARTER, DO_FANOTIFY_INIT);
	expect_sigsys(SANDBOX_WIPE_STARTER, DO_OPEN_BY_HANDLE);
	expect_sigsys(SANDBOX_WIPE_STARTER, DO_MOUNT);
	expect_sigsys(SANDBOX_WIPE_STARTER, DO_SOCKET_INET);
	expect_sigsys(SANDBOX_WIPE_STARTER, DO_PTRACE);
}

/* The launcher holds what the programs it starts need, and still no network, no trace. */
static void launcher_cannot_open_network_sockets_nor_trace(void **state)
{
	expect_sigsys(SANDBOX_LAUNCHER, DO_SOCKET_INET);
	expect_sigsys(SANDBOX_LAUNCHER, DO_PTRACE);
}

static void fido_helper_cannot_exec_connect_out_open_trace_fork_or_map_code(void **state)
{
	expect_sigsys(SANDBOX_FIDO, DO_EXECVE);
	expect_sigsys(SANDBOX_FIDO, DO_SOCKET_INET);
	expect_sigsys(SANDBOX_FIDO, DO_OPEN);
	expect_sigsys(SANDBOX_FIDO, DO_PTRACE);
	expect_sigsys(SANDBOX_FIDO, DO_FORK);
	expect_sigsys(SANDBOX_FIDO, DO_EXEC_MEMORY);
}

/* The transfer-log watcher runs as root with CAP_SYS_ADMIN, CAP_DAC_READ_SEARCH and
 * CAP_SYS_PTRACE: once it reads events it can neither run programs, nor reach the
 * network, nor trace, nor make a new fanotify group, nor load an eBPF program, nor open a
 * file for writing. */
static void xferwatch_cannot_exec_connect_out_trace_fanotify_or_write(void **state)
{
	expect_sigsys(SANDBOX_XFERWATCH, DO_EXECVE);
	expect_sigsys(SANDBOX_XFERWATCH, DO_SOCKET_INET);
	expect_sigsys(SANDBOX_XFERWATCH, DO_PTRACE);
	expect_sigsys(SANDBOX_XFERWATCH, DO_FORK);
	expect_sigsys(SANDBOX_XFERWATCH, DO_EXEC_MEMORY);
	expect_sigsys(SANDBOX_XFERWATCH, DO_FANOTIFY_INIT);
	expect_sigsys(SANDBOX_XFERWATCH, DO_BPF);
	expect_sigsys(SANDBOX_XFERWATCH, DO_OPEN_WRITE);
	expect_sigsys(SANDBOX_XFERWATCH, DO_MOUNT); /* only its own read-only remount */
}

static void xferwatch_can_start_threads_and_read(void **state)
{
	int code;

	assert_int_equal(run(SANDBOX_XFERWATCH, DO_THREAD, &code), 0);
	assert_int_equal(code, 0);
}

static void wipe_can_start_threads_and_read(void **state)
{
	int code;

	assert_int_equal(run(SANDBOX_WIPE, DO_THREAD, &code), 0);
	assert_int_equal(code, 0);
}

static void every_role_can_do_its_ordinary_work(void **state)
{
	int code;

	for (int r = SANDBOX_PARENT; r <= SANDBOX_WIPE_STARTER; r++) {
		assert_int_equal(run((enum sandbox_role)r, DO_ALLOWED, &code), 0);
		assert_int_equal(code, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(engine_cannot_exec_connect_out_trace_fork_or_map_code),
	    cmocka_unit_test(wiper_cannot_open_anything_nor_exec_nor_connect),
	    cmocka_unit_test(parent_cannot_exec_fork_fanotify_mount_connect_out_nor_trace),
	    cmocka_unit_test(launcher_cannot_open_network_sockets_nor_trace),
	    cmocka_unit_test(
		wipe_cannot_exec_fork_map_code_fanotify_use_handles_mount_connect_out_nor_trace),
	    cmocka_unit_test(wipe_starter_cannot_fanotify_use_handles_mount_connect_out_nor_trace),
	    cmocka_unit_test(fido_helper_cannot_exec_connect_out_open_trace_fork_or_map_code),
	    cmocka_unit_test(xferwatch_cannot_exec_connect_out_trace_fanotify_or_write),
	    cmocka_unit_test(xferwatch_can_start_threads_and_read),
	    cmocka_unit_test(wipe_can_start_threads_and_read),
	    cmocka_unit_test(every_role_can_do_its_ordinary_work),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
