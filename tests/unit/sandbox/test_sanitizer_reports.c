/*
 * test_sanitizer_reports.c - built only with PCL_SANITIZE: inside each role's seccomp
 * filter, an AddressSanitizer finding is reported whole (the runtime's extras in
 * lib/sandbox), and a role that exits cleanly is not killed by the leak check at exit.
 * Children are forked; their stderr goes to a pipe the test reads.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox.h"

static volatile size_t past_end = 16;
static void *volatile held;
static volatile char sink;

/* Runs the child with stderr into a pipe; returns its wait status, output in out. */
static int run(enum sandbox_role role, int overflow, char *out, size_t len)
{
	int p[2];
	size_t n = 0;
	ssize_t r;
	int st;

	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		held = malloc(32); /* dropped below: a leak, if anything checked at exit */
		dup2(p[1], 2);
		close(p[0]);
		if (sandbox_apply(role) != 0)
			_exit(4);
		held = NULL;
		if (overflow) {
			/* Through a volatile pointer: UBSan cannot see the size, ASan must. */
			char *volatile v = malloc(16);
			char *buf = v;
			sink = buf[past_end]; /* heap-buffer-overflow (read) */
			free(buf);
		}
		exit(0); /* exit, not _exit: LeakSanitizer's at-exit hook runs */
	}
	close(p[1]);
	while (n + 1 < len && (r = read(p[0], out + n, len - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void an_overflow_inside_every_role_is_reported_whole(void **state)
{
	static char out[1 << 16];

	for (int r = SANDBOX_PARENT; r <= SANDBOX_FIDO; r++) {
		int st = run((enum sandbox_role)r, 1, out, sizeof(out));
		/* abort() after the report: SIGABRT, or SIGSYS where the filter kills tgkill. */
		assert_true(WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0));
		if (strstr(out, "ERROR: AddressSanitizer: heap-buffer-overflow") == NULL)
			fail_msg("role %d, status %#x, stderr:\n%s", r, st, out);
		/* The stack is symbolised (names, not only addresses) and the report ends. */
		assert_non_null(strstr(out, " in run "));
		assert_non_null(strstr(out, "SUMMARY: AddressSanitizer: heap-buffer-overflow"));
	}
}

static void a_clean_exit_inside_every_role_is_not_killed_by_the_leak_check(void **state)
{
	static char out[1 << 16];

	for (int r = SANDBOX_PARENT; r <= SANDBOX_FIDO; r++) {
		int st = run((enum sandbox_role)r, 0, out, sizeof(out));
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
		assert_null(strstr(out, "Sanitizer"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(an_overflow_inside_every_role_is_reported_whole),
	    cmocka_unit_test(a_clean_exit_inside_every_role_is_not_killed_by_the_leak_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
