/*
 * helpers.c - fixtures of the audit unit tests (see helpers.h). Test-only code.
 */
#include "helpers.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "audit_int.h"

static void clock_seam(void *ctx, struct timespec *ts)
{
	ts->tv_sec = *(time_t *)ctx;
	ts->tv_nsec = 0;
}

static void boot_seam(void *ctx, struct timespec *ts)
{
	const struct trail *t = (const struct trail *)((char *)ctx - offsetof(struct trail, now));

	ts->tv_sec = t->boot;
	ts->tv_nsec = 0;
}

void trail_boot_clock(struct trail *t)
{
	t->cfg.boot = boot_seam;
}

void trail_init(struct trail *t, time_t start)
{
	struct pcl_diag d = {0};

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/audit-unit-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	t->now = start;
	t->cfg.dir = t->dir;
	t->cfg.origin = "portcullis/unit-host";
	t->cfg.host_name = "unit-host";
	t->cfg.boot_id = "00000000-0000-4000-8000-000000000001";
	t->cfg.now = start ? clock_seam : NULL;
	t->cfg.now_ctx = &t->now;
	assert_int_equal(audit_enrol(&t->cfg, &t->key_text, &d), 0);
	assert_int_equal(audit_key_parse(&t->key, t->key_text, strlen(t->key_text), "key", &d), 0);
	trail_open(t);
}

void trail_open(struct trail *t)
{
	struct pcl_diag d = {0};

	assert_int_equal(audit_open(&t->log, &t->cfg, &d), 0);
}

void trail_append(struct trail *t, unsigned n, const char *user)
{
	for (unsigned i = 0; i < n; i++) {
		struct json_object *ev = json_object_new_object();
		json_object_object_add(ev, "event.action", json_object_new_string("file-write"));
		json_object_object_add(ev, "user.name", json_object_new_string(user));
		json_object_object_add(ev, "file.path", json_object_new_string("/media/x/a.txt"));
		assert_int_equal(audit_append(t->log, ev), 0);
		json_object_put(ev);
	}
}

void trail_fini(struct trail *t)
{
	char cmd[256];

	audit_close(&t->log);
	free(t->key_text);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
}

void seg_path(const struct trail *t, const char *month, char *out, size_t len)
{
	snprintf(out, len, "%s/trail-%s.jsonl", t->dir, month);
}

char *slurp_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

size_t file_lines(const char *path, char ***lines)
{
	size_t len, n = 0;
	char *buf = slurp_file(path, &len), *p = buf, *nl;

	*lines = calloc(len + 1, sizeof(char *));
	while ((nl = strchr(p, '\n')) != NULL) {
		(*lines)[n++] = strndup(p, (size_t)(nl - p));
		p = nl + 1;
	}
	free(buf);
	return n;
}

void write_lines(const char *path, char **lines, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", lines[i]);
	fclose(f);
}

void free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static void collect(void *ctx, uint64_t seq, const char *file, unsigned line, const char *msg)
{
	struct vres *v = ctx;
	size_t l = strlen(v->msgs);

	(void)file;
	(void)line;
	snprintf(v->msgs + l, sizeof(v->msgs) - l, "seq %llu: %s\n", (unsigned long long)seq, msg);
}

static void verify_opts(const struct trail *t, const char **files, size_t n, const char *ckpt,
			bool collected, struct vres *out)
{
	struct audit_verify_opts o = {
	    .key = &t->key, .report = collect, .report_ctx = out, .collected = collected};
	struct audit_verifier *v;

	memset(out, 0, sizeof(*out));
	assert_int_equal(audit_verifier_new(&v, &o), 0);
	if (ckpt)
		assert_int_equal(audit_verifier_add_checkpoint(v, ckpt, strlen(ckpt), "held"), 0);
	for (size_t i = 0; i < n; i++)
		audit_verifier_feed_file(v, files[i]);
	out->rc = audit_verifier_finish(v, &out->r);
	audit_verifier_free(&v);
}

void verify_files(const struct trail *t, const char **files, size_t n, const char *ckpt,
		  struct vres *out)
{
	verify_opts(t, files, n, ckpt, false, out);
}

void verify_collected(const struct trail *t, const char **files, size_t n, struct vres *out)
{
	verify_opts(t, files, n, NULL, true, out);
}

void verify_dir(const struct trail *t, struct vres *out)
{
	char cmd[300], path[4096];
	char *names[64];
	const char *files[64];
	size_t n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls %s/trail-*.jsonl 2>/dev/null | sort", t->dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (n < 64 && fgets(path, sizeof(path), p)) {
		path[strcspn(path, "\n")] = '\0';
		names[n] = strdup(path);
		files[n] = names[n];
		n++;
	}
	pclose(p);
	verify_files(t, files, n, NULL, out);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
}

void expect_failure(const struct vres *v, const char *what)
{
	if (strstr(v->msgs, what) == NULL)
		fprintf(stderr, "expected \"%s\" in:\n%s", what, v->msgs);
	assert_int_not_equal(v->rc, 0);
	assert_non_null(strstr(v->msgs, what));
}

void expect_clean(const struct vres *v)
{
	if (v->rc != 0)
		fprintf(stderr, "%s", v->msgs);
	assert_int_equal(v->rc, 0);
}

void replace_in(char *line, const char *from, const char *to)
{
	char *p = strstr(line, from);

	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
}

void reseal(char *line, const uint8_t key[32])
{
	struct audit_hasher *h = audit_hasher_new();
	uint8_t hash[32], mac[32];
	char hex[65];
	size_t len = strlen(line);

	assert_int_equal(audit_hasher_record(h, line, len, hash), 0);
	assert_int_equal(audit_hasher_set_key(h, key), 0);
	assert_int_equal(audit_hasher_mac(h, hash, mac), 0);
	audit_hex(hex, mac);
	memcpy(line + len - 66, hex, 64);
	audit_hasher_free(h);
}
