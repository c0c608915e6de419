/*
 * test_tracker.c - unit tests of the transfer tracker: attribution taken at
 * the open-permission event, records at close with SHA-256 and size, overflow
 * and fail-closed, malware refusal, pseudonymisation. Real files in a
 * temporary directory stand in for the medium; /proc and clamd are seams.
 * Test program only.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <linux/fanotify.h>
#include <openssl/hmac.h>

#include "xfer.h"

#define MAXREC 16

struct ctx {
	char dir[64];
	struct json_object *rec[MAXREC];
	int nrec;
	int fail_closed_calls;
	atomic_int idle_calls;	 /* the sink's idle hook (hash workers or the test's thread) */
	atomic_int nrec_at_idle; /* the fewest records out at an idle call */
	int lookups;
	bool proc_gone;
	struct xfer_config cfg;
	struct xfer_tracker *t;
};

static void sink_record(void *arg, struct json_object *rec)
{
	struct ctx *c = arg;
	assert_true(c->nrec < MAXREC);
	c->rec[c->nrec++] = json_object_get(rec);
}

static void sink_fail_closed(void *arg, const char *reason)
{
	struct ctx *c = arg;
	c->fail_closed_calls++;
	assert_true(strstr(reason, "overflow") || strstr(reason, "decoder") ||
		    strstr(reason, "ring buffer full"));
}

static void sink_idle(void *arg)
{
	struct ctx *c = arg;
	int n = c->nrec; /* serialised with sink_record */
	if (atomic_fetch_add(&c->idle_calls, 1) == 0 || n < atomic_load(&c->nrec_at_idle))
		atomic_store(&c->nrec_at_idle, n);
}

static const struct xfer_sink_ops sink = {
    .record = sink_record, .fail_closed = sink_fail_closed, .idle = sink_idle};

/* pid 100 is user 1001 running /usr/bin/cp; pid 200 is user 1002 running rsync. */
static int fake_lookup(void *arg, pid_t pid, struct xfer_proc_info *info)
{
	struct ctx *c = arg;
	c->lookups++;
	if (c->proc_gone)
		return -ESRCH;
	info->uid = info->euid = pid == 100 ? 1001 : 1002;
	snprintf(info->exe, sizeof(info->exe), "%s", pid == 100 ? "/usr/bin/cp" : "/usr/bin/rsync");
	return 0;
}

static const struct xfer_proc_ops proc = {.lookup = fake_lookup};

/* Files whose content starts with "EVIL" are infected; "BROKEN" fails the scan. */
static int fake_scan(void *arg, int fd, char *sig, size_t len)
{
	char head[8] = {0};
	if (pread(fd, head, 6, 0) < 0)
		return -errno;
	if (!memcmp(head, "EVIL", 4)) {
		snprintf(sig, len, "Test.Evil");
		return 1;
	}
	if (!memcmp(head, "BROKEN", 6))
		return -ETIMEDOUT;
	return 0;
}

static const struct xfer_scan_ops scan = {.scan = fake_scan};

static void start(struct ctx *c, bool with_scan)
{
	struct xfer_device dev = {.id = "0781:5581", .serial = "4C530001", .approval_id = "apr-7"};
	struct xfer_tracker_params p = {.config = &c->cfg,
					.device = &dev,
					.mountpoint = c->dir,
					.sink = &sink,
					.sink_arg = c,
					.proc = &proc,
					.proc_arg = c,
					.scan = with_scan ? &scan : NULL,
					.mount_fd = -1};
	assert_int_equal(xfer_tracker_new(&c->t, &p), 0);
	xfer_tracker_set_observability(c->t, false, "file-id events refused: test");
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "/tmp/xfer-test-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	xfer_config_defaults(&c->cfg);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	xfer_tracker_free(&c->t);
	for (int i = 0; i < c->nrec; i++)
		json_object_put(c->rec[i]);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
	assert_int_equal(system(cmd), 0);
	free(c);
	return 0;
}

static void write_file(struct ctx *c, const char *name, const char *content)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", c->dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static int open_file(struct ctx *c, const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", c->dir, name);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	return fd;
}

/* Deliver one event; returns the permission response. */
static uint32_t deliver(struct ctx *c, uint64_t mask, const char *name, pid_t pid)
{
	struct xfer_event ev = {.mask = mask, .fd = name ? open_file(c, name) : -1, .pid = pid};
	uint32_t resp = 0;
	assert_int_equal(xfer_tracker_handle(c->t, &ev, &resp), 0);
	if (mask & FAN_OPEN_PERM)
		close(ev.fd);
	return resp;
}

static const char *str_at(struct json_object *rec, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(rec, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *find_action(struct ctx *c, const char *action, int nth)
{
	for (int i = 0; i < c->nrec; i++) {
		const char *a = str_at(c->rec[i], "event.action");
		if (a && !strcmp(a, action) && nth-- == 0)
			return c->rec[i];
	}
	return NULL;
}

static void written_file_is_attributed_to_the_opener(void **state)
{
	struct ctx *c = *state;
	start(c, false);
	write_file(c, "abc.txt", "abc");
	assert_int_equal(deliver(c, FAN_OPEN_PERM, "abc.txt", 100), FAN_ALLOW);
	c->proc_gone = true; /* the writer has exited by the time of the close */
	deliver(c, FAN_CLOSE_WRITE, "abc.txt", 100);
	xfer_tracker_drain(c->t);
	struct json_object *r = find_action(c, "file-written", 0);
	assert_non_null(r);
	assert_string_equal(str_at(r, "file.path"), "abc.txt");
	assert_string_equal(str_at(r, "file.size"), "3");
	assert_string_equal(str_at(r, "file.hash.sha256"),
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_string_equal(str_at(r, "user.id"), "1001");
	assert_string_equal(str_at(r, "process.pid"), "100");
	assert_string_equal(str_at(r, "process.executable"), "/usr/bin/cp");
	assert_string_equal(str_at(r, "portcullis.attribution"), "open");
	assert_string_equal(str_at(r, "device.id"), "0781:5581");
	assert_string_equal(str_at(r, "device.serial_number"), "4C530001");
	assert_string_equal(str_at(r, "portcullis.approval.id"), "apr-7");
	assert_string_equal(str_at(r, "observability.create_delete_rename"), "false");
	assert_non_null(strstr(str_at(r, "observability.reason"), "refused"));
}

/* The sink hears that the watcher is idle only once the events' queue was drained and
 * every record of it is out, never while more events are being read. */
static void idle_is_announced_after_the_last_record(void **state)
{
	struct ctx *c = *state;
	start(c, false);
	write_file(c, "a.txt", "a");
	write_file(c, "b.txt", "bb");
	deliver(c, FAN_CLOSE_WRITE, "a.txt", 100);
	deliver(c, FAN_CLOSE_WRITE, "b.txt", 200);
	xfer_tracker_flush(c->t, false); /* one read handled, more to read */
	xfer_tracker_drain(c->t);
	assert_int_equal(c->nrec, 2);
	assert_int_equal(atomic_load(&c->idle_calls), 0);
	xfer_tracker_flush(c->t, true); /* the queue is empty: idle now */
	assert_true(atomic_load(&c->idle_calls) >= 1);
	assert_int_equal(atomic_load(&c->nrec_at_idle), 2);
	assert_non_null(find_action(c, "file-written", 1));
}

/* The eBPF backend: the identity comes from the kernel's open record, never from /proc. */
static void kernel_attributed_close_is_hashed_without_proc(void **state)
{
	struct ctx *c = *state;
	start(c, false);
	write_file(c, "abc.txt", "abc");
	struct xfer_proc_info pi = {.uid = 1003, .euid = 0};
	snprintf(pi.exe, sizeof(pi.exe), "/usr/bin/python3.11");
	xfer_tracker_closed(c->t, open_file(c, "abc.txt"), true, 4242, &pi, "open", 3, "writer");
	xfer_tracker_drain(c->t);
	struct json_object *r = find_action(c, "file-written", 0);
	assert_non_null(r);
	assert_string_equal(str_at(r, "file.path"), "abc.txt");
	assert_string_equal(str_at(r, "file.hash.sha256"),
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_string_equal(str_at(r, "user.id"), "1003");
	assert_string_equal(str_at(r, "user.effective.id"), "0");
	assert_string_equal(str_at(r, "process.pid"), "4242");
	assert_string_equal(str_at(r, "process.executable"), "/usr/bin/python3.11");
	assert_string_equal(str_at(r, "process.name"), "writer");
	assert_string_equal(str_at(r, "portcullis.attribution"), "open");
	assert_int_equal(c->lookups, 0);
}

/* The size at close ends the hash's reads early only when it has been reached: a file that
 * grew or shrank after its close is hashed whole as it is now, and flagged. */
static void a_file_changed_after_close_is_hashed_whole(void **state)
{
	struct ctx *c = *state;
	static const off_t sizes[] = {1, 3, 10};
	start(c, false);
	write_file(c, "abc.txt", "abc");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		xfer_tracker_closed(c->t, open_file(c, "abc.txt"), true, 4242, NULL, "open",
				    sizes[i], "");
	xfer_tracker_drain(c->t);
	for (int i = 0; i < 3; i++) {
		struct json_object *r = find_action(c, "file-written", i);
		assert_non_null(r);
		assert_string_equal(
		    str_at(r, "file.hash.sha256"),
		    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
		assert_string_equal(str_at(r, "file.size"), "3");
	}
	int flagged = 0;
	for (int i = 0; i < 3; i++)
		flagged += json_object_object_get_ex(find_action(c, "file-written", i),
						     "portcullis.changed_after_close", NULL);
	assert_int_equal(flagged, 2);
}

static void unhashed_close_says_why_and_keeps_the_path_relative(void **state)
{
	struct ctx *c = *state;
	start(c, false);
	char path[160];
	snprintf(path, sizeof(path), "%s/sub/report.odt", c->dir);
	struct xfer_proc_info pi = {.uid = 1002, .euid = 1002};
	xfer_tracker_unhashed(c->t, false, path, 77, &pi, "open", 12, "cat",
			      "renamed or deleted before hashing: No such file or directory");
	xfer_tracker_unhashed(c->t, true, "/elsewhere/x", 78, NULL, "close", 1, "", "gone");
	struct json_object *r = find_action(c, "file-read", 0);
	assert_non_null(r);
	assert_string_equal(str_at(r, "file.path"), "sub/report.odt");
	assert_string_equal(str_at(r, "file.size"), "12");
	assert_null(str_at(r, "file.hash.sha256"));
	assert_non_null(strstr(str_at(r, "portcullis.hash_error"), "renamed or deleted"));
	assert_string_equal(str_at(r, "user.id"), "1002");
	assert_string_equal(str_at(r, "process.name"), "cat");
	r = find_action(c, "file-written", 0);
	assert_non_null(r);
	assert_string_equal(str_at(r, "file.path"), "/elsewhere/x");
	assert_string_equal(str_at(r, "portcullis.path_outside_mount"), "true");
	assert_null(str_at(r, "user.id"));
	assert_null(str_at(r, "process.name"));
}

static void lost_ring_records_fail_closed_once(void **state)
{
	struct ctx *c = *state;
	start(c, false);
	xfer_tracker_overflow(c->t, "eBPF ring buffer full: 3 records were lost");
	xfer_tracker_overflow(c->t, "eBPF ring buffer full: 1 records were lost");
	struct json_object *r = find_action(c, "xfer-overflow", 1);
	assert_non_null(r);
	assert_string_equal(str_at(r, "portcullis.on_overflow"), "fail-closed");
	assert_non_null(find_action(c, "xfer-fail-closed", 0));
	assert_null(find_action(c, "xfer-fail-closed", 1));
	assert_int_equal(c->fail_closed_calls, 1);
	assert_true(xfer_tracker_failed_closed(c->t));
}

static void backend_and_reason_are_in_the_start_record(void **state)
{
	struct ctx *c = *state;
	start(c, false);
	xfer_tracker_set_backend(c->t, "fanotify", "eBPF unavailable: test");
	xfer_tracker_note(c->t, "xfer-watch-started", "filesystem mark");
	xfer_tracker_note(c->t, "xfer-watch-stopped", NULL);
	struct json_object *r = find_action(c, "xfer-watch-started", 0);
	assert_string_equal(str_at(r, "xfer.backend"), "fanotify");
	assert_string_equal(str_at(r, "xfer.backend_reason"), "eBPF unavailable: test");
	assert_null(str_at(find_action(c, "xfer-watch-stopped", 0), "xfer.backend"));
}

static void read_file_uses_each_openers_identity(void **state)
{
	struct ctx *c = *state;
	start(c, false);
	write_file(c, "shared.txt", "hello\n");
	deliver(c, FAN_OPEN_PERM, "shared.txt", 100);
	deliver(c, FAN_OPEN_PERM, "shared.txt", 200);
	deliver(c, FAN_CLOSE_NOWRITE, "shared.txt", 200);
	deliver(c, FAN_CLOSE_NOWRITE, "shared.txt", 100);
	xfer_tracker_drain(c->t);
	assert_int_equal(c->nrec, 2);
	for (int i = 0; i < 2; i++) {
		struct json_object *r = c->rec[i];
		assert_string_equal(str_at(r, "event.action"), "file-read");
		bool is100 = !strcmp(str_at(r, "process.pid"), "100");
		assert_string_equal(str_at(r, "user.id"), is100 ? "1001" : "1002");
		assert_string_equal(
		    str_at(r, "file.hash.sha256"),
		    "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
	}
}

static void close_without_open_falls_back_to_close_time(void **state)
{
	struct ctx *c = *state;
	start(c, false);
	write_file(c, "old.txt", "x");
	deliver(c, FAN_CLOSE_WRITE, "old.txt", 200);
	c->proc_gone = true;
	deliver(c, FAN_CLOSE_NOWRITE, "old.txt", 100);
	xfer_tracker_drain(c->t);
	struct json_object *w = find_action(c, "file-written", 0);
	struct json_object *r = find_action(c, "file-read", 0);
	assert_non_null(w);
	assert_non_null(r);
	assert_string_equal(str_at(w, "portcullis.attribution"), "close");
	assert_string_equal(str_at(w, "user.id"), "1002");
	assert_null(str_at(r, "user.id")); /* gone: no guess */
	assert_string_equal(str_at(r, "process.pid"), "100");
}

static void merged_close_gives_both_records(void **state)
{
	struct ctx *c = *state;
	start(c, false);
	write_file(c, "m.txt", "abc");
	deliver(c, FAN_OPEN_PERM, "m.txt", 100);
	deliver(c, FAN_OPEN_PERM, "m.txt", 100);
	deliver(c, FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE, "m.txt", 100);
	xfer_tracker_drain(c->t);
	assert_non_null(find_action(c, "file-written", 0));
	assert_non_null(find_action(c, "file-read", 0));
	assert_string_equal(str_at(find_action(c, "file-read", 0), "portcullis.attribution"),
			    "open");
}

static void overflow_fails_closed_and_denies_later_opens(void **state)
{
	struct ctx *c = *state;
	start(c, false);
	write_file(c, "f.txt", "abc");
	deliver(c, FAN_Q_OVERFLOW, NULL, 0);
	assert_int_equal(c->fail_closed_calls, 1);
	assert_true(xfer_tracker_failed_closed(c->t));
	assert_int_equal(deliver(c, FAN_OPEN_PERM, "f.txt", 100), FAN_DENY);
	deliver(c, FAN_Q_OVERFLOW, NULL, 0);
	assert_int_equal(c->fail_closed_calls, 1); /* once */
	struct json_object *o = find_action(c, "xfer-overflow", 0);
	assert_non_null(o);
	assert_string_equal(str_at(o, "portcullis.on_overflow"), "fail-closed");
	assert_non_null(find_action(c, "xfer-fail-closed", 0));
	assert_non_null(find_action(c, "open-denied", 0));
	assert_non_null(find_action(c, "xfer-overflow", 1));
}

static void broken_watch_fails_closed(void **state)
{
	struct ctx *c = *state;
	start(c, false);
	write_file(c, "f.txt", "abc");
	xfer_tracker_note(c->t, "xfer-watch-failed", "decoder: event 3: metadata.vers");
	assert_int_equal(c->fail_closed_calls, 1);
	assert_int_equal(deliver(c, FAN_OPEN_PERM, "f.txt", 100), FAN_DENY);
	assert_non_null(find_action(c, "xfer-watch-failed", 0));
	assert_non_null(find_action(c, "xfer-fail-closed", 0));
}

static void overflow_with_continue_keeps_going(void **state)
{
	struct ctx *c = *state;
	c->cfg.on_overflow = XFER_OVERFLOW_CONTINUE;
	start(c, false);
	write_file(c, "f.txt", "abc");
	deliver(c, FAN_Q_OVERFLOW, NULL, 0);
	assert_int_equal(c->fail_closed_calls, 0);
	assert_false(xfer_tracker_failed_closed(c->t));
	assert_int_equal(deliver(c, FAN_OPEN_PERM, "f.txt", 100), FAN_ALLOW);
	assert_string_equal(str_at(find_action(c, "xfer-overflow", 0), "portcullis.on_overflow"),
			    "continue");
	assert_null(find_action(c, "xfer-fail-closed", 0));
}

static void malware_is_denied_and_logged(void **state)
{
	struct ctx *c = *state;
	start(c, true);
	write_file(c, "clean.txt", "fine");
	write_file(c, "bad.exe", "EVIL payload");
	write_file(c, "odd.bin", "BROKEN file");
	assert_int_equal(deliver(c, FAN_OPEN_PERM, "clean.txt", 100), FAN_ALLOW);
	assert_int_equal(deliver(c, FAN_OPEN_PERM, "bad.exe", 200), FAN_DENY);
	assert_int_equal(deliver(c, FAN_OPEN_PERM, "odd.bin", 200), FAN_DENY);
	struct json_object *m = find_action(c, "malware-blocked", 0);
	assert_non_null(m);
	assert_string_equal(str_at(m, "file.path"), "bad.exe");
	assert_string_equal(str_at(m, "portcullis.malware.signature"), "Test.Evil");
	assert_string_equal(str_at(m, "user.id"), "1002");
	struct json_object *f = find_action(c, "malware-scan-failed", 0);
	assert_non_null(f);
	assert_string_equal(str_at(f, "file.path"), "odd.bin");
	assert_int_equal(c->nrec, 2);
}

static void pseudonymised_records_hide_path_and_serial(void **state)
{
	struct ctx *c = *state;
	c->cfg.pseudonymise = true;
	for (int i = 0; i < 32; i++)
		c->cfg.pseudo_key[i] = (unsigned char)i;
	c->cfg.pseudo_key_len = 32;
	start(c, false);
	write_file(c, "minutes-2026.docx", "abc");
	deliver(c, FAN_OPEN_PERM, "minutes-2026.docx", 100);
	deliver(c, FAN_CLOSE_WRITE, "minutes-2026.docx", 100);
	xfer_tracker_drain(c->t);
	struct json_object *r = find_action(c, "file-written", 0);
	assert_non_null(r);
	const char *text = json_object_to_json_string(r);
	assert_null(strstr(text, "minutes-2026"));
	assert_null(strstr(text, "4C530001"));
	unsigned char mac[32];
	unsigned len = 0;
	HMAC(EVP_sha256(), c->cfg.pseudo_key, 32, (const unsigned char *)"minutes-2026.docx", 17,
	     mac, &len);
	char want[80] = "hmac-sha256:";
	for (int i = 0; i < 32; i++)
		snprintf(want + 12 + 2 * i, 3, "%02x", mac[i]);
	assert_string_equal(str_at(r, "file.path"), want);
	assert_non_null(strstr(str_at(r, "device.serial_number"), "hmac-sha256:"));
	assert_string_equal(str_at(r, "portcullis.pseudonymised"), "true");
}

static void relative_mountpoint_is_refused(void **state)
{
	struct ctx *c = *state;
	struct xfer_tracker_params p = {
	    .config = &c->cfg, .mountpoint = "media/x", .sink = &sink, .mount_fd = -1};
	struct xfer_tracker *t = NULL;
	assert_int_equal(xfer_tracker_new(&t, &p), -EINVAL);
	assert_null(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(written_file_is_attributed_to_the_opener, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(read_file_uses_each_openers_identity, setup, teardown),
	    cmocka_unit_test_setup_teardown(close_without_open_falls_back_to_close_time, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(merged_close_gives_both_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(idle_is_announced_after_the_last_record, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(overflow_fails_closed_and_denies_later_opens, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(broken_watch_fails_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(overflow_with_continue_keeps_going, setup, teardown),
	    cmocka_unit_test_setup_teardown(malware_is_denied_and_logged, setup, teardown),
	    cmocka_unit_test_setup_teardown(pseudonymised_records_hide_path_and_serial, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(relative_mountpoint_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_file_changed_after_close_is_hashed_whole, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(kernel_attributed_close_is_hashed_without_proc, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(unhashed_close_says_why_and_keeps_the_path_relative,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(lost_ring_records_fail_closed_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(backend_and_reason_are_in_the_start_record, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
