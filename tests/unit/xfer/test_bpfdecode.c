/*
 * test_bpfdecode.c - unit tests of the decoder of the eBPF program's ring-buffer
 * records: open and close records as the kernel writes them, and every check
 * (lengths, kinds, ids, path and executable termination; open, close, exit and gone).
 * Test program only; records are built by the test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sys/sysmacros.h>
#include <linux/types.h>

#include "bpf/xfer_bpf_rec.h"
#include "diag.h"
#include "xfer.h"

struct rec {
	unsigned char b[sizeof(struct xfer_bpf_rec) + XFER_BPF_EXE_MAX + XFER_BPF_PATH_MAX + 8];
	size_t len;
};

static struct xfer_bpf_rec header(unsigned kind)
{
	struct xfer_bpf_rec r;
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.tgid = 4242;
	r.tid = 4243;
	r.uid = 1001;
	r.euid = 0;
	r.f_flags = 01;
	r.f_mode = XFER_BPF_FMODE_WRITE | XFER_BPF_FMODE_OPENED;
	r.cookie = 0xffff888012345600ull;
	r.ino = 12;
	r.size = 4096;
	r.exe_ino = 99;
	r.exe_dev = (8u << 20) | 1u;
	r.dev = (7u << 20) | 3u;
	memcpy(r.comm, "cp", 3);
	return r;
}

static void open_rec(struct rec *out, const char *exe, const char *path)
{
	struct xfer_bpf_rec r = header(XFER_BPF_OPEN);
	r.path_len = path ? (uint32_t)strlen(path) + 1 : 0;
	memset(out, 0, sizeof(*out));
	memcpy(out->b, &r, sizeof(r));
	snprintf((char *)out->b + sizeof(r), XFER_BPF_EXE_MAX, "%s", exe);
	out->len = sizeof(r) + XFER_BPF_EXE_MAX;
	if (path) {
		memcpy(out->b + out->len, path, r.path_len);
		out->len += r.path_len;
	}
}

static void set_hdr(struct rec *out, const struct xfer_bpf_rec *r)
{
	memcpy(out->b, r, sizeof(*r));
}

static void expect_bad(const struct rec *r, const char *field)
{
	struct xfer_bpf_event ev;
	struct pcl_diag d = {0};
	assert_int_equal(xfer_bpf_decode(r->b, r->len, &ev, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, field));
}

static void open_record_decodes(void **state)
{
	struct rec r;
	open_rec(&r, "/usr/bin/cp", "/media/stick/report.odt");
	struct xfer_bpf_event ev;
	struct pcl_diag d = {0};
	assert_int_equal(xfer_bpf_decode(r.b, r.len, &ev, &d), 0);
	assert_int_equal(ev.kind, XFER_BPF_EV_OPEN);
	assert_int_equal(ev.pid, 4242);
	assert_int_equal(ev.tid, 4243);
	assert_int_equal(ev.uid, 1001);
	assert_int_equal(ev.euid, 0);
	assert_string_equal(ev.path, "/media/stick/report.odt");
	assert_int_equal(ev.path_len, strlen("/media/stick/report.odt"));
	assert_string_equal(ev.exe, "/usr/bin/cp");
	assert_string_equal(ev.comm, "cp");
	assert_true(ev.written);
	assert_true(ev.opened);
	assert_int_equal(ev.ino, 12);
	assert_int_equal(ev.size, 4096);
	assert_true(ev.cookie == 0xffff888012345600ull);
}

static void open_record_without_path_or_exe_decodes(void **state)
{
	struct rec r;
	open_rec(&r, "", NULL);
	struct xfer_bpf_event ev;
	assert_int_equal(xfer_bpf_decode(r.b, r.len, &ev, NULL), 0);
	assert_null(ev.path);
	assert_string_equal(ev.exe, "");
}

static void close_record_decodes(void **state)
{
	struct rec r = {0};
	struct xfer_bpf_rec h = header(XFER_BPF_CLOSE);
	h.f_mode = XFER_BPF_FMODE_OPENED; /* read only */
	set_hdr(&r, &h);
	r.len = sizeof(h);
	struct xfer_bpf_event ev;
	assert_int_equal(xfer_bpf_decode(r.b, r.len, &ev, NULL), 0);
	assert_int_equal(ev.kind, XFER_BPF_EV_CLOSE);
	assert_false(ev.written);
	assert_true(ev.opened);
	assert_null(ev.path);
}

static void comm_without_nul_is_cut(void **state)
{
	struct rec r = {0};
	struct xfer_bpf_rec h = header(XFER_BPF_CLOSE);
	memset(h.comm, 'A', sizeof(h.comm));
	set_hdr(&r, &h);
	r.len = sizeof(h);
	struct xfer_bpf_event ev;
	assert_int_equal(xfer_bpf_decode(r.b, r.len, &ev, NULL), 0);
	assert_int_equal(strlen(ev.comm), 15);
}

static void short_record_is_rejected(void **state)
{
	struct rec r;
	open_rec(&r, "/bin/cp", "/m/a");
	r.len = sizeof(struct xfer_bpf_rec) - 1;
	expect_bad(&r, "record");
	r.len = sizeof(struct xfer_bpf_rec) + 10; /* an open record cut in its exe field */
	expect_bad(&r, "exe");
}

static void unknown_kind_is_rejected(void **state)
{
	struct rec r;
	open_rec(&r, "/bin/cp", "/m/a");
	struct xfer_bpf_rec h = header(7);
	h.path_len = 5;
	set_hdr(&r, &h);
	expect_bad(&r, "kind");
}

static void bad_ids_are_rejected(void **state)
{
	struct rec r;
	open_rec(&r, "/bin/cp", "/m/a");
	struct xfer_bpf_rec h;
	memcpy(&h, r.b, sizeof(h));
	h.tgid = 0;
	set_hdr(&r, &h);
	expect_bad(&r, "tgid");
	h.tgid = 5;
	h.cookie = 0;
	set_hdr(&r, &h);
	expect_bad(&r, "cookie");
}

static void path_len_past_record_is_rejected(void **state)
{
	struct rec r;
	open_rec(&r, "/bin/cp", "/m/a");
	struct xfer_bpf_rec h;
	memcpy(&h, r.b, sizeof(h));
	h.path_len = 6; /* one byte more than there is */
	set_hdr(&r, &h);
	expect_bad(&r, "path_len");
	h.path_len = XFER_BPF_PATH_MAX + 1;
	set_hdr(&r, &h);
	expect_bad(&r, "path_len");
}

static void path_not_terminated_where_its_length_says_is_rejected(void **state)
{
	struct rec r;
	open_rec(&r, "/bin/cp", "/m/a");
	r.b[r.len - 1] = 'x'; /* the NUL overwritten */
	expect_bad(&r, "path");
	open_rec(&r, "/bin/cp", "/m/a");
	r.b[r.len - 3] = '\0'; /* an early NUL: the length lies */
	expect_bad(&r, "path");
	open_rec(&r, "/bin/cp", "m/a");
	expect_bad(&r, "not absolute");
}

static void exe_not_terminated_or_relative_is_rejected(void **state)
{
	struct rec r;
	open_rec(&r, "", "/m/a");
	memset(r.b + sizeof(struct xfer_bpf_rec), 'e', XFER_BPF_EXE_MAX);
	expect_bad(&r, "exe");
	open_rec(&r, "bin/cp", "/m/a");
	expect_bad(&r, "exe");
}

static void close_with_a_path_is_rejected(void **state)
{
	struct rec r = {0};
	struct xfer_bpf_rec h = header(XFER_BPF_CLOSE);
	h.path_len = 2;
	set_hdr(&r, &h);
	memcpy(r.b + sizeof(h), "/", 2);
	r.len = sizeof(h) + 2;
	expect_bad(&r, "path_len");
}

/* An exit record: the header and the executable's field, no path. */
static void exit_rec(struct rec *out, const char *exe, uint32_t path_len)
{
	struct xfer_bpf_rec h = header(XFER_BPF_EXIT);
	h.f_flags = h.f_mode = 0;
	h.ino = 5123456789; /* the process's start time */
	h.size = 0;
	h.path_len = path_len;
	memset(out, 0, sizeof(*out));
	set_hdr(out, &h);
	snprintf((char *)out->b + sizeof(h), XFER_BPF_EXE_MAX, "%s", exe);
	out->len = sizeof(h) + XFER_BPF_EXE_MAX + path_len;
}

static void exit_record_decodes(void **state)
{
	struct rec r;
	exit_rec(&r, "/usr/bin/uring", 0);
	struct xfer_bpf_event ev;
	assert_int_equal(xfer_bpf_decode(r.b, r.len, &ev, NULL), 0);
	assert_int_equal(ev.kind, XFER_BPF_EV_EXIT);
	assert_int_equal(ev.pid, 4242);
	assert_int_equal(ev.uid, 1001);
	assert_string_equal(ev.exe, "/usr/bin/uring");
	assert_null(ev.path);
	assert_false(ev.written);
	assert_true(ev.start_time == 5123456789ull);
	assert_true(ev.ino == 0);
}

static void exit_with_a_path_or_cut_exe_is_rejected(void **state)
{
	struct rec r;
	exit_rec(&r, "/usr/bin/uring", 2);
	expect_bad(&r, "path_len");
	exit_rec(&r, "/usr/bin/uring", 0);
	r.len = sizeof(struct xfer_bpf_rec) + 8;
	expect_bad(&r, "exe");
	exit_rec(&r, "uring", 0);
	expect_bad(&r, "exe");
}

/* A gone record: the header alone, the process's start time in ino. */
static void gone_rec(struct rec *out)
{
	struct xfer_bpf_rec h = header(XFER_BPF_GONE);
	h.f_flags = h.f_mode = 0;
	h.ino = 5123456789;
	h.size = 0;
	memset(out, 0, sizeof(*out));
	set_hdr(out, &h);
	out->len = sizeof(h);
}

static void gone_record_decodes(void **state)
{
	struct rec r;
	gone_rec(&r);
	struct xfer_bpf_event ev;
	assert_int_equal(xfer_bpf_decode(r.b, r.len, &ev, NULL), 0);
	assert_int_equal(ev.kind, XFER_BPF_EV_GONE);
	assert_int_equal(ev.pid, 4242);
	assert_true(ev.start_time == 5123456789ull);
	assert_true(ev.ino == 0);
	assert_string_equal(ev.exe, "");
	assert_null(ev.path);
}

static void gone_with_a_path_or_bad_ids_is_rejected(void **state)
{
	struct rec r;
	gone_rec(&r);
	struct xfer_bpf_rec h;
	memcpy(&h, r.b, sizeof(h));
	h.path_len = 2;
	set_hdr(&r, &h);
	memcpy(r.b + sizeof(h), "/", 2);
	r.len = sizeof(h) + 2;
	expect_bad(&r, "path_len");
	gone_rec(&r);
	r.len = sizeof(h) - 1;
	expect_bad(&r, "record");
	gone_rec(&r);
	memcpy(&h, r.b, sizeof(h));
	h.tgid = 0x40000000u;
	set_hdr(&r, &h);
	expect_bad(&r, "tgid");
}

static void kernel_device_encoding(void **state)
{
	assert_int_equal(xfer_bpf_kdev(makedev(7, 3)), (7u << 20) | 3u);
	assert_int_equal(xfer_bpf_kdev(makedev(259, 70000)), (259u << 20) | 70000u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(open_record_decodes),
	    cmocka_unit_test(open_record_without_path_or_exe_decodes),
	    cmocka_unit_test(close_record_decodes),
	    cmocka_unit_test(comm_without_nul_is_cut),
	    cmocka_unit_test(short_record_is_rejected),
	    cmocka_unit_test(unknown_kind_is_rejected),
	    cmocka_unit_test(bad_ids_are_rejected),
	    cmocka_unit_test(path_len_past_record_is_rejected),
	    cmocka_unit_test(path_not_terminated_where_its_length_says_is_rejected),
	    cmocka_unit_test(exe_not_terminated_or_relative_is_rejected),
	    cmocka_unit_test(close_with_a_path_is_rejected),
	    cmocka_unit_test(exit_record_decodes),
	    cmocka_unit_test(exit_with_a_path_or_cut_exe_is_rejected),
	    cmocka_unit_test(gone_record_decodes),
	    cmocka_unit_test(gone_with_a_path_or_bad_ids_is_rejected),
	    cmocka_unit_test(kernel_device_encoding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
