/*
 * test_pidcache.c - unit tests of the watcher's memory of processes (lib/xfer/pidcache.c):
 * a living process seen before is answered without a /proc lookup, with its uid as it is
 * now; once it has exited and been reaped its pid gets a fresh lookup (never the old
 * answer); without PIDFD_GET_INFO every call is a lookup. Real child processes; the
 * lookup is /proc's own, counted. Test program only.
 */
#include <errno.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "xfer_internal.h"

static int lookups;

static int counted_lookup(void *arg, pid_t pid, struct xfer_proc_info *info)
{
	(void)arg;
	lookups++;
	return xfer_proc_procfs.lookup(NULL, pid, info);
}

static const struct xfer_proc_ops counted = {.lookup = counted_lookup};

/* A child that waits until it is killed. */
static pid_t waiting_child(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		for (;;)
			pause();
	return pid;
}

static void end_child(pid_t pid)
{
	int st;

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

static void test_a_living_process_is_remembered(void **state)
{
	struct xfer_pidcache *c = NULL;
	struct xfer_proc_info a, b;
	char exe[4096];

	(void)state;
	assert_int_equal(xfer_pidcache_new(&c), 0);
	pid_t pid = waiting_child();
	lookups = 0;
	assert_int_equal(xfer_pidcache_lookup(c, &counted, NULL, pid, &a), 0);
	assert_int_equal(lookups, 1);
	assert_int_equal(xfer_pidcache_lookup(c, &counted, NULL, pid, &b), 0);
	/* Remembered where the kernel can say the process is still the same one. */
	assert_int_equal(lookups, xfer_pidcache_supported(c) ? 1 : 2);
	assert_int_equal(xfer_pidcache_hits(c), xfer_pidcache_supported(c) ? 1 : 0);
	assert_int_equal(b.uid, getuid());
	assert_int_equal(b.euid, geteuid());
	assert_int_equal(a.uid, b.uid);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_string_equal(b.exe, exe); /* a fork runs our program */
	end_child(pid);
	xfer_pidcache_free(&c);
	assert_null(c);
}

static void test_a_reaped_process_is_forgotten(void **state)
{
	struct xfer_pidcache *c = NULL;
	struct xfer_proc_info pi;

	(void)state;
	assert_int_equal(xfer_pidcache_new(&c), 0);
	pid_t pid = waiting_child();
	assert_int_equal(xfer_pidcache_lookup(c, &counted, NULL, pid, &pi), 0);
	end_child(pid); /* exited and reaped: the pid is free for another process */
	lookups = 0;
	memset(&pi, 0x5a, sizeof(pi));
	int rc = xfer_pidcache_lookup(c, &counted, NULL, pid, &pi);
	/* Asked again, not answered from memory: gone (or, reused since, the new one). */
	assert_int_equal(lookups, 1);
	assert_true(rc == 0 || rc == -ENOENT || rc == -ESRCH);
	assert_int_equal(xfer_pidcache_hits(c), 0);
	xfer_pidcache_free(&c);
}

static void test_the_same_slot_for_two_processes(void **state)
{
	struct xfer_pidcache *c = NULL;
	struct xfer_proc_info pi;

	(void)state;
	assert_int_equal(xfer_pidcache_new(&c), 0);
	pid_t p1 = waiting_child(), p2 = waiting_child();
	lookups = 0;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(xfer_pidcache_lookup(c, &counted, NULL, p1, &pi), 0);
		assert_int_equal(xfer_pidcache_lookup(c, &counted, NULL, p2, &pi), 0);
	}
	/* Different slots (consecutive pids) or one evicting the other: never wrong, and
	 * at most one lookup per call. */
	assert_true(lookups >= 2 && lookups <= 6);
	end_child(p1);
	end_child(p2);
	xfer_pidcache_free(&c);
}

static void test_without_a_cache_every_call_is_a_lookup(void **state)
{
	struct xfer_proc_info pi;

	(void)state;
	lookups = 0;
	assert_int_equal(xfer_pidcache_lookup(NULL, &counted, NULL, getpid(), &pi), 0);
	assert_int_equal(xfer_pidcache_lookup(NULL, &counted, NULL, getpid(), &pi), 0);
	assert_int_equal(lookups, 2);
	assert_int_equal(pi.uid, getuid());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_living_process_is_remembered),
	    cmocka_unit_test(test_a_reaped_process_is_forgotten),
	    cmocka_unit_test(test_the_same_slot_for_two_processes),
	    cmocka_unit_test(test_without_a_cache_every_call_is_a_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
