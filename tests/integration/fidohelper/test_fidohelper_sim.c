/*
 * test_fidohelper_sim.c - the fido helper for real, against portcullis-token-sim: it
 * runs sandboxed (its /proc status, read while it holds the key, shows seccomp filter
 * mode, no_new_privs, no capabilities and, for root, another uid), makes a credential
 * whose attestation verifies and an assertion that verifies with its key, passes a
 * wrong PIN's refusal through, names a key it cannot open, and a helper killed by its
 * filter gives the caller a plain error.
 */
#include <errno.h>
#include <fcntl.h>
#include <fido.h>
#include <fido/es256.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fidoh.h"
#include "sandbox.h"
#include "simproc.h"

static const char *const auto_touch[] = {"--auto-touch", NULL};

struct seen {
	int calls;
	char status[4096];
};

/* While the helper holds the key: its kernel-reported process status. */
static void look(pid_t pid, void *arg)
{
	struct seen *s = arg;
	char path[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, s->status, sizeof(s->status) - 1);
	close(fd);
	assert_true(n > 0);
	s->status[n] = '\0';
	s->calls++;
}

static const char *field(const char *status, const char *name, char *buf, size_t len)
{
	const char *p = strstr(status, name);

	assert_non_null(p);
	p += strlen(name);
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strcspn(p, "\n");
	assert_true(n < len);
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

static int setup(void **state)
{
	static struct simproc s;

	simproc_setup(&s);
	simproc_start(&s, auto_touch);
	*state = &s;
	return 0;
}

static int teardown(void **state)
{
	simproc_stop(*state);
	simproc_teardown(*state);
	return 0;
}

static void make_cred_req(struct fidoh_msg *req)
{
	memset(req, 0, sizeof(*req));
	req->kind = FIDOH_MAKE_CRED;
	strcpy(req->rp, "portcullis:test");
	strcpy(req->user, "Jane Clerk");
	memset(req->cdh, 0x5a, sizeof(req->cdh));
	memset(req->user_id, 0x11, sizeof(req->user_id));
	req->prot = FIDO_CRED_PROT_UV_OPTIONAL;
}

static void helper_runs_sandboxed_and_the_key_answers(void **state)
{
	struct simproc *s = *state;
	static struct fidoh_msg req, res;
	struct seen seen = {0};
	struct fidoh_ops ops = {.opened = look, .arg = &seen};
	struct fidoh_result r;
	char v[128];

	make_cred_req(&req);
	assert_int_equal(fidoh_call(s->path, &req, &res, &ops, &r), 0);
	assert_int_equal(seen.calls, 1);
	assert_string_equal(field(seen.status, "\nSeccomp:", v, sizeof(v)), "2");
	assert_string_equal(field(seen.status, "\nNoNewPrivs:", v, sizeof(v)), "1");
	assert_string_equal(field(seen.status, "\nCapEff:", v, sizeof(v)), "0000000000000000");
	assert_string_equal(field(seen.status, "\nCapPrm:", v, sizeof(v)), "0000000000000000");
	assert_string_equal(field(seen.status, "\nCapAmb:", v, sizeof(v)), "0000000000000000");
	if (geteuid() == 0) {
		/* root's helper runs as nobody: real, effective, saved and fs uid. */
		field(seen.status, "\nUid:", v, sizeof(v));
		assert_null(strstr(v, "\t0\t"));
		assert_true(v[0] != '0');
		field(seen.status, "\nGroups:", v, sizeof(v));
		assert_string_equal(v, "");
	}

	/* The credential's attestation verifies, as the CLI checks it. */
	assert_int_equal(res.kind, FIDOH_CRED);
	assert_int_equal(res.status, FIDO_OK);
	fido_cred_t *c = fido_cred_new();
	assert_int_equal(fido_cred_set_type(c, COSE_ES256), FIDO_OK);
	assert_int_equal(fido_cred_set_clientdata_hash(c, req.cdh, sizeof(req.cdh)), FIDO_OK);
	assert_int_equal(fido_cred_set_rp(c, "portcullis:test", NULL), FIDO_OK);
	assert_int_equal(fido_cred_set_authdata_raw(c, res.authdata, res.authdata_len), FIDO_OK);
	assert_int_equal(fido_cred_set_sig(c, res.sig, res.sig_len), FIDO_OK);
	if (res.x5c_len)
		assert_int_equal(fido_cred_set_x509(c, res.x5c, res.x5c_len), FIDO_OK);
	assert_int_equal(fido_cred_set_fmt(c, res.fmt), FIDO_OK);
	assert_int_equal(fido_cred_set_prot(c, req.prot), FIDO_OK);
	assert_int_equal(res.x5c_len ? fido_cred_verify(c) : fido_cred_verify_self(c), FIDO_OK);

	/* An assertion through a second helper, over another hash, verifies with the key. */
	static struct fidoh_msg areq;
	areq.kind = FIDOH_ASSERT;
	strcpy(areq.rp, "portcullis:test");
	memset(areq.cdh, 0xa5, sizeof(areq.cdh));
	areq.n_allow = 1;
	areq.allow_len[0] = fido_cred_id_len(c);
	memcpy(areq.allow[0], fido_cred_id_ptr(c), areq.allow_len[0]);
	seen.calls = 0;
	assert_int_equal(fidoh_call(s->path, &areq, &res, &ops, &r), 0);
	assert_int_equal(seen.calls, 1);
	assert_string_equal(field(seen.status, "\nSeccomp:", v, sizeof(v)), "2");
	assert_int_equal(res.kind, FIDOH_ASSERTION);
	assert_memory_equal(res.cred, fido_cred_id_ptr(c), fido_cred_id_len(c));

	fido_assert_t *a = fido_assert_new();
	es256_pk_t *pk = es256_pk_new();
	assert_int_equal(es256_pk_from_ptr(pk, fido_cred_pubkey_ptr(c), fido_cred_pubkey_len(c)),
			 FIDO_OK);
	assert_int_equal(fido_assert_set_rp(a, "portcullis:test"), FIDO_OK);
	assert_int_equal(fido_assert_set_clientdata_hash(a, areq.cdh, sizeof(areq.cdh)), FIDO_OK);
	assert_int_equal(fido_assert_set_count(a, 1), FIDO_OK);
	assert_int_equal(fido_assert_set_authdata(a, 0, res.authdata, res.authdata_len), FIDO_OK);
	assert_int_equal(fido_assert_set_sig(a, 0, res.sig, res.sig_len), FIDO_OK);
	assert_int_equal(fido_assert_verify(a, 0, COSE_ES256, pk), FIDO_OK);
	/* A signature over another hash does not. */
	memset(areq.cdh, 0xa6, sizeof(areq.cdh));
	assert_int_equal(fido_assert_set_clientdata_hash(a, areq.cdh, sizeof(areq.cdh)), FIDO_OK);
	assert_int_not_equal(fido_assert_verify(a, 0, COSE_ES256, pk), FIDO_OK);
	es256_pk_free(&pk);
	fido_assert_free(&a);
	fido_cred_free(&c);
}

static void a_key_refusal_reaches_the_caller(void **state)
{
	struct simproc *s = *state;
	static struct fidoh_msg req, res;
	struct fidoh_result r;

	/* No credential for this relying party on the key. */
	memset(&req, 0, sizeof(req));
	req.kind = FIDOH_ASSERT;
	strcpy(req.rp, "portcullis:nobody-enrolled");
	assert_int_equal(fidoh_call(s->path, &req, &res, NULL, &r), -1);
	assert_int_equal(r.fail, FIDOH_FAIL_KEY);
	assert_int_equal(r.status, FIDO_ERR_NO_CREDENTIALS);
}

static void a_key_that_cannot_be_opened_is_named(void **state)
{
	static struct fidoh_msg req, res;
	struct fidoh_result r;

	(void)state;
	make_cred_req(&req);
	assert_int_equal(fidoh_call("sim:/nonexistent/token.sock", &req, &res, NULL, &r), -1);
	assert_int_equal(r.fail, FIDOH_FAIL_OPEN);
	assert_int_equal(r.status, FIDOH_ST_ERRNO(ENOENT));
	assert_int_equal(fidoh_call("/nonexistent/hidraw9", &req, &res, NULL, &r), -1);
	assert_int_equal(r.fail, FIDOH_FAIL_OPEN);
	assert_string_equal(fidoh_status_str(r.status), strerror(ENOENT));
}

/* A helper whose code strays outside the list: the filter kills it, the caller says so. */
static void stray(int sock, const char *path, void *arg)
{
	(void)sock, (void)path, (void)arg;
	if (sandbox_apply(SANDBOX_FIDO) == 0)
		open("/etc/passwd", O_RDONLY);
	_exit(0);
}

static void a_helper_killed_by_its_filter_is_a_plain_error(void **state)
{
	static struct fidoh_msg req, res;
	struct fidoh_ops ops = {.child = stray};
	struct fidoh_result r;

	(void)state;
	make_cred_req(&req);
	assert_int_equal(fidoh_call("sim:/unused", &req, &res, &ops, &r), -1);
	assert_int_equal(r.fail, FIDOH_FAIL_HELPER);
	assert_non_null(strstr(r.msg, "closed the channel without answering"));
	assert_non_null(strstr(r.msg, "a system call outside its sandbox"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(helper_runs_sandboxed_and_the_key_answers, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(a_key_refusal_reaches_the_caller, setup, teardown),
	    cmocka_unit_test(a_key_that_cannot_be_opened_is_named),
	    cmocka_unit_test(a_helper_killed_by_its_filter_is_a_plain_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
