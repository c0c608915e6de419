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
};

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

static void parent_cannot_open_network_sockets_nor_trace(void **state)
{
	expect_sigsys(SANDBOX_PARENT, DO_SOCKET_INET);
	expect_sigsys(SANDBOX_PARENT, DO_PTRACE);
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

static void every_role_can_do_its_ordinary_work(void **state)
{
	int code;

	for (int r = SANDBOX_PARENT; r <= SANDBOX_FIDO; r++) {
		assert_int_equal(run((enum sandbox_role)r, DO_ALLOWED, &code), 0);
		assert_int_equal(code, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(engine_cannot_exec_connect_out_trace_fork_or_map_code),
	    cmocka_unit_test(wiper_cannot_open_anything_nor_exec_nor_connect),
	    cmocka_unit_test(parent_cannot_open_network_sockets_nor_trace),
	    cmocka_unit_test(fido_helper_cannot_exec_connect_out_open_trace_fork_or_map_code),
	    cmocka_unit_test(every_role_can_do_its_ordinary_work),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
