/*
 * sanitizer_hooks.c - LeakSanitizer's at-exit check, turned off in a process that runs
 * under a seccomp filter. Built and linked into every program only with PCL_SANITIZE
 * (cmake/Hardening.cmake); release builds never contain it. No input.
 *
 * The leak check stops the process's threads from a helper task that it clones and that
 * then attaches to them with ptrace. The role filters kill clone (engine, wiper) and ptrace
 * (every role), and an engine that has given up root is not dumpable, so ptrace would be
 * refused anyway: the check cannot run there, and trying it would turn a clean exit into
 * SIGSYS. Programs without a filter (unit tests, the CLI, the daemon before its filter)
 * keep the check. The filters allow prctl(PR_GET_SECCOMP) in sanitizer builds for this.
 */
#include <sys/prctl.h>

int __lsan_is_turned_off(void);

int __lsan_is_turned_off(void)
{
	/* 2: SECCOMP_MODE_FILTER, a filter of our own or inherited from the parent. */
	return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2;
}
