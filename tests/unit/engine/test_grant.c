/*
 * test_grant.c - the engine's side of a grant in two steps (daemon/engine_grant.c), on
 * its own: the parent is played by this file (engine_request_early, engine_answer_early
 * and engine_request answer from a script and log what was asked), the prepare's
 * descriptor is a file of the test's. Shown: once allowed, the engine writes 1 through
 * the descriptor before it asks for the commit, and closes it; a device left undecided
 * (settled) has its descriptor dropped unwritten (engine_answer_early closes what it is
 * not asked for); a refused commit after the engine's write is followed by the grant in
 * one step, and if that too is refused the engine writes 0 through the same descriptor;
 * a refused prepare, or one without a descriptor, falls back to the parent's own write.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine.h"
#include "engine_grant.h"
#include "ipc.h"

/* The parent as this test plays it. */
static struct {
	bool early;	/* a prepare awaits its answer */
	int early_err;	/* its answer */
	int early_fd;	/* and the descriptor passed with it, -1 none */
	int results[4]; /* the answers to the next requests, in order */
	size_t n_results;
	struct ipc_msg asked[8]; /* what the engine asked, in order */
	size_t n_asked;
	char file_at_commit[8]; /* the file's content when the commit was asked for */
	char path[64];
} par;

static const char *file_now(char *buf, size_t len)
{
	int fd = open(par.path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return buf;
}

void engine_request_early(struct engine *e, struct ipc_msg *req)
{
	(void)e;
	assert_true(par.n_asked < 8);
	par.asked[par.n_asked++] = *req;
	par.early = true;
}

int engine_answer_early(struct engine *e, int *fd)
{
	(void)e;
	if (fd != NULL)
		*fd = -1;
	if (!par.early)
		return -ENOENT;
	par.early = false;
	if (fd != NULL)
		*fd = par.early_fd;
	else if (par.early_fd >= 0)
		close(par.early_fd);
	return par.early_err;
}

int engine_request(struct engine *e, struct ipc_msg *req)
{
	(void)e;
	assert_true(par.n_asked < 8);
	par.asked[par.n_asked++] = *req;
	if (req->type == IPC_DEV_COMMIT)
		file_now(par.file_at_commit, sizeof(par.file_at_commit));
	return par.n_results > 0 ? par.results[--par.n_results] : 0;
}

/* Answers to the next requests, first one last in the argument list. */
static void answers(size_t n, const int *rcs)
{
	par.n_results = n;
	for (size_t i = 0; i < n; i++)
		par.results[n - 1 - i] = rcs[i];
}

static int setup(void **state)
{
	(void)state;
	memset(&par, 0, sizeof(par));
	snprintf(par.path, sizeof(par.path), "/tmp/pcl-egrant-XXXXXX");
	int fd = mkstemp(par.path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0", 1), 1);
	close(fd);
	par.early_fd = open(par.path, O_WRONLY | O_CLOEXEC);
	assert_true(par.early_fd >= 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(par.path);
	return 0;
}

static struct dev_entry *stick(void)
{
	static struct dev_entry d;

	memset(&d, 0, sizeof(d));
	snprintf(d.id.sysname, sizeof(d.id.sysname), "1-2");
	d.busnum = 1;
	d.devnum = 5;
	return &d;
}

static bool open_fd(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void the_engine_writes_before_the_commit_and_closes(void **state)
{
	char buf[8];
	int fd;

	(void)state;
	fd = par.early_fd;
	egrant_prepare(NULL, "1-2", 1, 5);
	assert_int_equal(par.asked[0].type, IPC_DEV_PREPARE);
	assert_string_equal(file_now(buf, sizeof(buf)), "0"); /* nothing before the commit */
	assert_int_equal(egrant_commit(NULL, stick()), 0);
	assert_int_equal(par.n_asked, 2);
	assert_int_equal(par.asked[1].type, IPC_DEV_COMMIT);
	assert_string_equal(par.asked[1].u.grant.dev.name, "1-2");
	assert_string_equal(par.file_at_commit, "1"); /* written before the commit was asked */
	assert_false(open_fd(fd));
}

static void a_device_left_undecided_has_its_descriptor_closed_unwritten(void **state)
{
	char buf[8];
	int fd;

	(void)state;
	fd = par.early_fd;
	egrant_prepare(NULL, "1-2", 1, 5);
	egrant_settle(NULL);
	assert_false(open_fd(fd));
	assert_string_equal(file_now(buf, sizeof(buf)), "0");
	assert_int_equal(par.n_asked, 1); /* no commit */
}

static void a_refused_commit_after_the_write_is_granted_in_one_step_or_taken_back(void **state)
{
	char buf[8];

	(void)state;
	egrant_prepare(NULL, "1-2", 1, 5);
	answers(2, (const int[]){-EPERM, 0});
	assert_int_equal(egrant_commit(NULL, stick()), 0);
	assert_int_equal(par.n_asked, 3);
	assert_int_equal(par.asked[2].type, IPC_DEV_AUTHORIZE);
	assert_int_equal(par.asked[2].u.authorize.value, 1);
	/* Both refused: the engine takes its grant back through the same descriptor, which
	 * it then closes, without asking the parent. */
	teardown(NULL);
	assert_int_equal(setup(NULL), 0);
	int fd = par.early_fd;
	egrant_prepare(NULL, "1-2", 1, 5);
	answers(2, (const int[]){-EPERM, -ENOSPC});
	assert_int_equal(egrant_commit(NULL, stick()), -ENOSPC);
	assert_int_equal(par.n_asked, 3);
	assert_string_equal(par.file_at_commit, "1");
	assert_string_equal(file_now(buf, sizeof(buf)), "0");
	assert_false(open_fd(fd));
}

static void without_a_usable_descriptor_the_parent_grants(void **state)
{
	(void)state;
	/* A refused prepare: the grant in one step. */
	close(par.early_fd);
	par.early_fd = -1;
	par.early_err = -ESTALE;
	egrant_prepare(NULL, "1-2", 1, 5);
	assert_int_equal(egrant_commit(NULL, stick()), 0);
	assert_int_equal(par.n_asked, 2);
	assert_int_equal(par.asked[1].type, IPC_DEV_AUTHORIZE);
	assert_int_equal(par.asked[1].u.authorize.value, 1);
	/* A descriptor the engine cannot write: the commit alone, and its refusal is final
	 * (the engine granted nothing to take back). */
	par.early_err = 0;
	par.early_fd = open(par.path, O_RDONLY | O_CLOEXEC);
	par.n_asked = 0;
	egrant_prepare(NULL, "1-2", 1, 5);
	answers(1, (const int[]){-EPERM});
	assert_int_equal(egrant_commit(NULL, stick()), -EPERM);
	assert_int_equal(par.n_asked, 2);
	assert_int_equal(par.asked[1].type, IPC_DEV_COMMIT);
	/* A commit for another device than the one prepared: the one-step grant. */
	par.early_fd = -1;
	par.n_asked = 0;
	egrant_prepare(NULL, "1-3", 1, 6);
	assert_int_equal(egrant_commit(NULL, stick()), 0);
	assert_int_equal(par.asked[par.n_asked - 1].type, IPC_DEV_AUTHORIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(the_engine_writes_before_the_commit_and_closes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		a_device_left_undecided_has_its_descriptor_closed_unwritten, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		a_refused_commit_after_the_write_is_granted_in_one_step_or_taken_back, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(without_a_usable_descriptor_the_parent_grants, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
