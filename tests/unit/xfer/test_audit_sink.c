/*
 * test_audit_sink.c - the transfer records go into the real tamper-evident trail
 * (lib/audit) as the engine will route them: every record is accepted by
 * audit_append (no reserved names, within the size limit) and the trail then
 * verifies with the enrolment key. Test program only.
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
#include <sys/stat.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <linux/fanotify.h>

#include "audit.h"
#include "xfer.h"

struct ctx {
	struct audit_log *log;
	int appended, failed;
};

static bool security_action(const char *a)
{
	return !strcmp(a, "malware-blocked") || !strcmp(a, "xfer-overflow") ||
	       !strcmp(a, "xfer-fail-closed") || !strcmp(a, "open-denied");
}

static void to_audit(void *arg, struct json_object *rec)
{
	struct ctx *c = arg;
	struct json_object *a;
	assert_true(json_object_object_get_ex(rec, "event.action", &a));
	int rc = audit_append(c->log, rec);
	if (rc == 0 && security_action(json_object_get_string(a)))
		rc = audit_checkpoint(c->log);
	if (rc == 0)
		c->appended++;
	else
		c->failed++;
}

static void no_fail_closed(void *arg, const char *reason)
{
}

static int lookup(void *arg, pid_t pid, struct xfer_proc_info *info)
{
	info->uid = info->euid = 1001;
	snprintf(info->exe, sizeof(info->exe), "/usr/bin/cp");
	return 0;
}

static const struct xfer_proc_ops proc = {.lookup = lookup};

static void records_are_accepted_by_the_trail_and_verify(void **state)
{
	char dir[] = "/tmp/xfer-audit-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char trail[64], medium[64];
	snprintf(trail, sizeof(trail), "%s/trail", dir);
	snprintf(medium, sizeof(medium), "%s/medium", dir);
	assert_int_equal(mkdir(trail, 0700), 0);
	assert_int_equal(mkdir(medium, 0700), 0);

	struct audit_config acfg = {.dir = trail, .origin = "portcullis/test", .host_name = "pc1"};
	char *key_text = NULL;
	struct pcl_diag d = {0};
	assert_int_equal(audit_enrol(&acfg, &key_text, &d), 0);
	struct ctx c = {0};
	assert_int_equal(audit_open(&c.log, &acfg, &d), 0);

	struct xfer_config cfg;
	xfer_config_defaults(&cfg);
	struct xfer_device dev = {.id = "0781:5581", .serial = "4C53", .approval_id = "apr-1"};
	static const struct xfer_sink_ops sink = {.record = to_audit,
						  .fail_closed = no_fail_closed};
	struct xfer_tracker_params p = {.config = &cfg,
					.device = &dev,
					.mountpoint = medium,
					.sink = &sink,
					.sink_arg = &c,
					.proc = &proc,
					.mount_fd = -1};
	struct xfer_tracker *t = NULL;
	assert_int_equal(xfer_tracker_new(&t, &p), 0);
	xfer_tracker_set_observability(t, false, "file-id events refused: test");
	xfer_tracker_note(t, "xfer-watch-started", "filesystem mark");

	char path[128];
	snprintf(path, sizeof(path), "%s/report.txt", medium);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("council minutes\n", f);
	fclose(f);
	uint32_t resp;
	struct xfer_event open_ev = {.mask = FAN_OPEN_PERM, .fd = open(path, O_RDONLY), .pid = 9};
	assert_int_equal(xfer_tracker_handle(t, &open_ev, &resp), 0);
	close(open_ev.fd);
	struct xfer_event close_ev = {
	    .mask = FAN_CLOSE_WRITE, .fd = open(path, O_RDONLY), .pid = 9};
	assert_int_equal(xfer_tracker_handle(t, &close_ev, &resp), 0);
	struct xfer_event ovf = {.mask = FAN_Q_OVERFLOW, .fd = -1};
	assert_int_equal(xfer_tracker_handle(t, &ovf, &resp), 0);
	xfer_tracker_free(&t);
	assert_int_equal(c.failed, 0);
	assert_int_equal(c.appended, 4); /* started, file-written, overflow, fail-closed */
	audit_close(&c.log);

	struct audit_key key;
	assert_int_equal(audit_key_parse(&key, key_text, strlen(key_text), "key", &d), 0);
	explicit_bzero(key_text, strlen(key_text));
	free(key_text);
	struct audit_verify_opts opts = {.key = &key};
	struct audit_verifier *v = NULL;
	assert_int_equal(audit_verifier_new(&v, &opts), 0);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ls %s/*.log %s/*.jsonl 2>/dev/null | head -1 > %s/seg", trail,
		 trail, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/seg", dir);
	f = fopen(path, "r");
	char seg[256] = "";
	assert_non_null(fgets(seg, sizeof(seg), f));
	fclose(f);
	seg[strcspn(seg, "\n")] = '\0';
	assert_int_equal(audit_verifier_feed_file(v, seg), 0);
	struct audit_verify_result res;
	assert_int_equal(audit_verifier_finish(v, &res), 0);
	assert_true(res.records >= 4);
	assert_int_equal(res.failures, 0);
	audit_verifier_free(&v);
	explicit_bzero(&key, sizeof(key));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(records_are_accepted_by_the_trail_and_verify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
