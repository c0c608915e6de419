/*
 * test_client.c - the CLI's side of the fido helper against helpers that misbehave
 * (seam: fidoh_ops.child): garbage, a wrong kind, a crash, silence, an early exit, a
 * length prefix over the limit. Each gives a plain error, in bounded time, with the
 * child reaped; a well-behaved fake shows the exchange and the PIN arriving intact.
 */
#include <errno.h>
#include <fido.h>
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

#include "fidoh.h"

static struct fidoh_msg req, res;
static pid_t opened_pid;

static void opened(pid_t pid, void *arg)
{
	(void)arg;
	opened_pid = pid;
}

static void send_opened(int sock, int32_t status)
{
	struct fidoh_msg m = {.kind = FIDOH_OPENED, .status = status};

	if (fidoh_send(sock, &m) != 0)
		_exit(9);
}

static void garbage(int sock, const char *path, void *arg)
{
	static const uint8_t junk[] = {0, 0, 0, 6, 1, 0, 1, 42, 0, 0};

	(void)path, (void)arg;
	if (write(sock, junk, sizeof(junk)) < 0)
		_exit(9);
	pause();
	_exit(0);
}

static void wrong_kind(int sock, const char *path, void *arg)
{
	struct fidoh_msg m = {.kind = FIDOH_CRED, .status = FIDO_ERR_RX};

	(void)path, (void)arg;
	send_opened(sock, 0);
	fidoh_send(sock, &m); /* an answer to a make-credential, not to an assertion */
	pause();
	_exit(0);
}

static void crash(int sock, const char *path, void *arg)
{
	(void)sock, (void)path, (void)arg;
	send_opened(sock, 0);
	signal(SIGSEGV, SIG_DFL);
	raise(SIGSEGV);
	_exit(0);
}

static void silent(int sock, const char *path, void *arg)
{
	(void)path, (void)arg;
	send_opened(sock, 0);
	for (;;)
		pause();
}

static void early_exit(int sock, const char *path, void *arg)
{
	(void)sock, (void)path, (void)arg;
	_exit(3);
}

static void too_long(int sock, const char *path, void *arg)
{
	static const uint8_t hdr[] = {0x7f, 0xff, 0xff, 0xff};

	(void)path, (void)arg;
	if (write(sock, hdr, sizeof(hdr)) < 0)
		_exit(9);
	pause();
	_exit(0);
}

static void no_device(int sock, const char *path, void *arg)
{
	(void)path, (void)arg;
	send_opened(sock, FIDOH_ST_NO_DEVICE);
	_exit(1);
}

/* A helper that behaves: checks the request it gets (PIN included) and answers. */
static void well_behaved(int sock, const char *path, void *arg)
{
	struct fidoh_msg in, out = {.kind = FIDOH_ASSERTION};
	struct pcl_diag d = {0};

	(void)arg;
	if (strcmp(path, "sim:/x") != 0)
		_exit(5);
	send_opened(sock, 0);
	if (fidoh_recv(sock, &in, 5000, &d) != 0 || in.kind != FIDOH_ASSERT ||
	    strcmp(in.pin, "4321") != 0 || strcmp(in.rp, "portcullis:x") != 0 || in.n_allow != 1)
		_exit(6);
	fidoh_msg_wipe(&in);
	out.cred_len = 3;
	memcpy(out.cred, "abc", 3);
	out.authdata_len = 2;
	memcpy(out.authdata, "\x41\x01", 2);
	out.sig_len = 1;
	fidoh_send(sock, &out);
	_exit(0);
}

static void assert_req(void)
{
	memset(&req, 0, sizeof(req));
	req.kind = FIDOH_ASSERT;
	strcpy(req.rp, "portcullis:x");
	strcpy(req.pin, "4321");
	req.has_pin = true;
	req.n_allow = 1;
	req.allow_len[0] = 4;
}

/* Run a fake helper; the result, and no child left behind. */
static int run(void (*child)(int, const char *, void *), struct fidoh_result *r)
{
	struct fidoh_ops ops = {.child = child, .opened = opened, .timeout_ms = 400};
	int rc;

	assert_req();
	opened_pid = 0;
	rc = fidoh_call("sim:/x", &req, &res, &ops, r);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	return rc;
}

static void expect_helper_error(void (*child)(int, const char *, void *), const char *want)
{
	struct fidoh_result r;

	assert_int_equal(run(child, &r), -1);
	assert_int_equal(r.fail, FIDOH_FAIL_HELPER);
	if (strstr(r.msg, want) == NULL)
		fail_msg("'%s' does not say '%s'", r.msg, want);
	assert_non_null(strstr(r.msg, "the key helper failed: "));
}

static void garbage_is_a_plain_error(void **state)
{
	(void)state;
	expect_helper_error(garbage, "<fido helper>: field kind at byte 3: unknown kind 42");
	expect_helper_error(too_long, "message length 2147483647 is over");
	expect_helper_error(wrong_kind, "field kind: 4 where 5 was due");
}

static void a_crash_is_named(void **state)
{
	(void)state;
	expect_helper_error(crash, "killed by signal 11");
	assert_true(opened_pid > 0);
	expect_helper_error(early_exit,
			    "closed the channel without answering; it exited with status 3");
}

static void silence_times_out(void **state)
{
	(void)state;
	expect_helper_error(silent, "no answer in time");
}

static void the_open_status_and_the_answer_reach_the_caller(void **state)
{
	struct fidoh_result r;

	(void)state;
	assert_int_equal(run(no_device, &r), -1);
	assert_int_equal(r.fail, FIDOH_FAIL_OPEN);
	assert_int_equal(r.status, FIDOH_ST_NO_DEVICE);
	assert_int_equal(opened_pid, 0); /* never reported open */

	assert_int_equal(run(well_behaved, &r), 0);
	assert_int_equal(r.fail, FIDOH_FAIL_NONE);
	assert_true(opened_pid > 0);
	assert_int_equal(res.kind, FIDOH_ASSERTION);
	assert_int_equal(res.cred_len, 3);
	assert_memory_equal(res.cred, "abc", 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(garbage_is_a_plain_error),
	    cmocka_unit_test(a_crash_is_named),
	    cmocka_unit_test(silence_times_out),
	    cmocka_unit_test(the_open_status_and_the_answer_reach_the_caller),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
