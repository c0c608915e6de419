/*
 * approval_cli.c - see approval_cli.h. Linked by the portcullis CLI; request files are
 * untrusted (they may come by e-mail) and are parsed by lib/approval before anything
 * is shown or signed.
 */
#include "approval_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "approval_key.h"
#include "client.h"
#include "commands.h"

struct json_object *acli_call(struct json_object *req)
{
	FILE *f = client_request(client_socket_path(), req);
	struct json_object *res;

	json_object_put(req);
	if (f == NULL)
		return NULL;
	res = client_read(f);
	fclose(f);
	if (res == NULL) {
		pcl_fail("no valid answer from portcullisd");
		return NULL;
	}
	if (*client_field(res, "error")) {
		pcl_fail("%s", client_field(res, "error"));
		json_object_put(res);
		return NULL;
	}
	return res;
}

struct json_object *acli_call_device(struct json_object *req, const char *device)
{
	char port[64];

	if (client_device_name(device, port, sizeof(port)) != 0) {
		json_object_put(req);
		return NULL;
	}
	json_object_object_add(req, "device", json_object_new_string(port));
	return acli_call(req);
}

void acli_local_time(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL || strftime(out, len, "%Y-%m-%d %H:%M %Z", &tm) == 0)
		snprintf(out, len, "%lld (seconds since 1970)", (long long)t);
}

/* Everything the signature covers, so the approver sees what they sign. */
static void show(const struct appr_request *r)
{
	char until[96] = "until it is unplugged", when[64], issued[64], answer[64];
	char ifs[APPR_MAX_IFACES * 9 + 1] = "";

	if (r->until) {
		acli_local_time(r->until, when, sizeof(when));
		snprintf(until, sizeof(until), "until %s", when);
	}
	acli_local_time(r->issued, issued, sizeof(issued));
	acli_local_time(r->answer_by, answer, sizeof(answer));
	for (size_t i = 0; i < r->n_ifaces; i++)
		snprintf(ifs + strlen(ifs), sizeof(ifs) - strlen(ifs), "%s%02x:%02x:%02x",
			 i ? " " : "", r->ifaces[i].cls, r->ifaces[i].subclass,
			 r->ifaces[i].protocol);
	fprintf(stderr,
		"Approval request for council %s\n"
		"  PC:         %s (machine %s)\n"
		"  device:     %04x:%04x %s %s, serial \"%s\", port %s\n"
		"  interfaces: %s\n"
		"  hash:       %s\n"
		"  access:     %s (%s), %s%s\n"
		"  council data: %s\n"
		"  for:        %s (uid %u)\n"
		"  reason:     %s\n"
		"  issued:     %s\n"
		"  answer by:  %s\n"
		"  approvers:  %zu credential(s) accepted\n",
		r->council, r->host, r->machine_id, r->vid, r->pid, r->manufacturer, r->product,
		r->serial, r->port, *ifs ? ifs : "(none)", r->hash, appr_scope_name(r->scope),
		appr_direction_name(r->direction), until,
		r->wipe ? ", owes its wipe after it is taken out" : ", no wipe owed",
		r->council_data ? "YES: the stick carries council data and is wiped after the "
				  "import (its owner accepts this at the PC)"
		: r->direction == APPR_BRING_IN ? "no: the stick is not wiped"
						: "(a take-out)",
		r->user, (unsigned)r->uid, *r->reason ? r->reason : "(none given)", issued, answer,
		r->n_creds);
}

/* The request's credentials as the key's allow list (base64 strings). */
static struct json_object *allow_list(const struct appr_request *r)
{
	struct json_object *arr = json_object_new_array();
	char b64[APPR_CRED_MAX * 2];

	for (size_t i = 0; i < r->n_creds; i++)
		if (pcl_b64_encode(r->creds[i], r->cred_lens[i], b64, sizeof(b64)) >= 0)
			json_object_array_add(arr, json_object_new_string(b64));
	return arr;
}

int acli_mark_council_data(char *text, size_t cap)
{
	static struct appr_request r;
	struct pcl_diag diag = {0};
	char msg[400];

	if (appr_request_parse(text, strlen(text), "request", &r, &diag) != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		return pcl_fail("%s", msg);
	}
	if (r.version < 3 || r.direction != APPR_BRING_IN)
		return pcl_fail("--council-data marks a bring-in (read-only) request of version 3 "
				"or later; this one is a %s of version %u",
				appr_direction_name(r.direction), r.version);
	r.council_data = true;
	if (appr_request_encode(&r, text, cap) < 0)
		return pcl_fail("the request cannot be written again with the mark");
	return 0;
}

int acli_sign(const char *req_text, const char *key, const char *pin_fd, const char *ask, char *out)
{
	static char pinbuf[64];
	const char *pin;
	static struct appr_response resp;
	struct pcl_diag diag = {0};
	char rp[96], msg[400];
	uint8_t cdh[APPR_CDH_LEN];
	struct akey_assertion as;

	memset(&resp, 0, sizeof(resp));
	if (appr_request_parse(req_text, strlen(req_text), "request", &resp.req, &diag) != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		return pcl_fail("%s", msg);
	}
	show(&resp.req);
	if (resp.req.answer_by < (int64_t)time(NULL))
		return pcl_fail("the request is past its answer-by time: ask for a new one");
	snprintf(rp, sizeof(rp), "portcullis:%s", resp.req.council);
	if (appr_request_cdh(req_text, strlen(req_text), cdh) != 0)
		return pcl_fail("cannot hash the request");
	if (akey_pin(pin_fd, ask != NULL, ask, pinbuf, sizeof(pinbuf), &pin) != 0)
		return 1;
	struct json_object *allow = allow_list(&resp.req);
	int rc = akey_assert(key, rp, cdh, allow, pin, &as);
	explicit_bzero(pinbuf, sizeof(pinbuf));
	json_object_put(allow);
	if (rc != 0)
		return 1;
	memcpy(resp.cred, as.cred, as.cred_len);
	resp.cred_len = as.cred_len;
	memcpy(resp.authdata, as.authdata, as.authdata_len);
	resp.authdata_len = as.authdata_len;
	memcpy(resp.sig, as.sig, as.sig_len);
	resp.sig_len = as.sig_len;
	resp.req_len = strlen(req_text);
	memcpy(resp.req_text, req_text, resp.req_len + 1);
	if (appr_response_encode(&resp, out, APPR_TEXT_MAX) < 0)
		return pcl_fail("the key's answer does not fit a response");
	return 0;
}

static int64_t parse_duration(const char *s)
{
	char *end;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	int64_t mult = strcmp(end, "s") == 0   ? 1
		       : strcmp(end, "m") == 0 ? 60
		       : strcmp(end, "h") == 0 ? 3600
		       : strcmp(end, "d") == 0 ? 86400
					       : 0;
	if (errno || end == s || n <= 0 || mult == 0 || n > 366LL * 86400 / mult)
		return -1;
	return (int64_t)n * mult;
}

static int64_t parse_time(const char *s)
{
	struct tm tm = {0};
	char *end;
	long long n = strtoll(s, &end, 10);

	if (*end == '\0' && n > 0)
		return n;
	end = strptime(s, "%Y-%m-%dT%H:%M", &tm);
	if (end == NULL || *end)
		return -1;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

int acli_scope_option(int argc, char **argv, int i, struct json_object *req)
{
	const char *a = argv[i];

	if (strcmp(a, "--read-only") == 0 || strcmp(a, "--read-write") == 0) {
		json_object_object_add(req, "scope", json_object_new_string(a + 2));
		return 1;
	}
	if (strcmp(a, "--council-data") == 0) {
		json_object_object_add(req, "council-data", json_object_new_boolean(1));
		return 1;
	}
	if (strcmp(a, "--until-unplug") == 0) {
		json_object_object_del(req, "for");
		json_object_object_del(req, "until");
		return 1;
	}
	if (strcmp(a, "--for") != 0 && strcmp(a, "--until") != 0 && strcmp(a, "--reason") != 0)
		return 0;
	if (i + 1 >= argc) {
		fprintf(stderr, "portcullis: %s needs a value\n", a);
		return -1;
	}
	const char *v = argv[i + 1];
	if (strcmp(a, "--reason") == 0) {
		json_object_object_add(req, "reason", json_object_new_string(v));
		return 2;
	}
	int64_t x = a[2] == 'f' ? parse_duration(v) : parse_time(v);
	if (x < 0) {
		fprintf(stderr, "portcullis: %s: '%s' is not %s\n", a, v,
			a[2] == 'f' ? "a duration such as 30m, 8h or 2d"
				    : "unix seconds or YYYY-MM-DDTHH:MM");
		return -1;
	}
	json_object_object_add(req, a + 2, json_object_new_int64(x));
	return 2;
}

char *acli_read_file_max(const char *path, size_t max, size_t *len)
{
	return pcl_read_text(path, max, len);
}

char *acli_read_file(const char *path, size_t *len)
{
	return acli_read_file_max(path, APPR_TEXT_MAX, len);
}

int acli_write_file(const char *path, const char *text)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "we");

	if (f == NULL)
		return pcl_fail("%s: %s", path, strerror(errno));
	fputs(text, f);
	if ((f == stdout ? fflush(f) : fclose(f)) != 0)
		return pcl_fail("%s: %s", path, strerror(errno));
	return 0;
}
