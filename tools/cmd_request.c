/*
 * cmd_request.c - `portcullis request`: approvals from elsewhere.
 *   request export DEVICE [scope options] [--out FILE]   a request file for the approver
 *   request show FILE                                    what a request or response says
 *   request import FILE                                  apply the approver's response
 * Runs as the requesting user at the PC; files are untrusted (they travel by e-mail):
 * parsed by lib/approval here, verified in full by the daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "approval_cli.h"
#include "client.h"
#include "commands.h"

static int usage(void)
{
	fprintf(stderr, "usage: portcullis request export DEVICE\n"
			"           [--read-only [--council-data]|--read-write]\n"
			"           [--until-unplug|--for DURATION|--until TIME] [--reason TEXT]"
			" [--out FILE]\n"
			"       portcullis request show FILE\n"
			"       portcullis request import FILE\n");
	return 2;
}

static int export(int argc, char **argv)
{
	const char *device = NULL, *out = "-";
	struct json_object *req = json_object_new_object(), *v;

	json_object_object_add(req, "cmd", json_object_new_string("approval-request"));
	json_object_object_add(req, "remote", json_object_new_boolean(1));
	for (int i = 2; i < argc; i++) {
		int used = acli_scope_option(argc, argv, i, req);
		if (used < 0 || (used == 0 && argv[i][0] == '-' && strcmp(argv[i], "--out") != 0) ||
		    (used == 0 && argv[i][0] != '-' && device)) {
			json_object_put(req);
			return usage();
		}
		if (used > 0)
			i += used - 1;
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (argv[i][0] != '-')
			device = argv[i];
		else {
			json_object_put(req);
			return usage();
		}
	}
	if (device == NULL) {
		json_object_put(req);
		return usage();
	}
	struct json_object *ans = acli_call_device(req, device);
	if (ans == NULL)
		return 1;
	int rc = acli_write_file(out, client_field(ans, "request"));
	if (rc == 0 && strcmp(out, "-") != 0 &&
	    json_object_object_get_ex(ans, "approver-title", &v))
		fprintf(stderr,
			"Request written to %s: send it to the %s, who runs\n"
			"  portcullis approve --request FILE --out RESPONSE\n"
			"and sends the response back for `portcullis request import RESPONSE`.\n",
			out, json_object_get_string(v));
	json_object_put(ans);
	return rc;
}

static int show(const char *path)
{
	static struct appr_response resp;
	struct pcl_diag diag = {0};
	char msg[400];
	size_t len;
	char *text = acli_read_file(path, &len);

	if (text == NULL)
		return 1;
	int rc = appr_response_parse(text, len, path, &resp, &diag);
	if (rc != 0 && strncmp(text, APPR_REQUEST_MAGIC, strlen(APPR_REQUEST_MAGIC)) == 0)
		rc = appr_request_parse(text, len, path, &resp.req, &diag);
	free(text);
	if (rc != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		return pcl_fail("%s", msg);
	}
	const struct appr_request *r = &resp.req;
	char until[64] = "it is unplugged", issued[64], answer[64];
	char ifs[APPR_MAX_IFACES * 9 + 1] = "";
	if (r->until != 0)
		acli_local_time(r->until, until, sizeof(until));
	acli_local_time(r->issued, issued, sizeof(issued));
	acli_local_time(r->answer_by, answer, sizeof(answer));
	for (size_t i = 0; i < r->n_ifaces; i++)
		snprintf(ifs + strlen(ifs), sizeof(ifs) - strlen(ifs), "%s%02x:%02x:%02x",
			 i ? " " : "", r->ifaces[i].cls, r->ifaces[i].subclass,
			 r->ifaces[i].protocol);
	printf("council:    %s\npc:         %s (%s)\n"
	       "device:     %04x:%04x %s %s serial \"%s\" at %s\n"
	       "interfaces: %s\nhash:       %s\naccess:     %s (%s), until %s, wipe %s\n"
	       "council data: %s\n"
	       "user:       %s (%u)\nreason:     %s\nissued:     %s\nanswer by:  %s\n"
	       "approvers:  %zu credential(s) accepted\nsigned:     %s\n",
	       r->council, r->host, r->machine_id, r->vid, r->pid, r->manufacturer, r->product,
	       r->serial, r->port, *ifs ? ifs : "(none)", r->hash, appr_scope_name(r->scope),
	       appr_direction_name(r->direction), until, r->wipe ? "yes" : "no",
	       r->council_data ? "yes (wiped after import, accepted by its owner)" : "no", r->user,
	       (unsigned)r->uid, r->reason, issued, answer, r->n_creds,
	       resp.cred_len ? "yes (verified by portcullisd)" : "no");
	return 0;
}

static int import(const char *path)
{
	size_t len;
	char *text = acli_read_file(path, &len);

	if (text == NULL)
		return 1;
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("approve"));
	json_object_object_add(req, "response", json_object_new_string(text));
	free(text);
	struct json_object *ans = acli_call(req);
	if (ans == NULL)
		return 1;
	printf("%s approved by %s (%s)\n", client_field(ans, "approved"),
	       client_field(ans, "approver"), client_field(ans, "scope"));
	json_object_put(ans);
	return 0;
}

int cmd_request(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "export") == 0)
		return export(argc, argv);
	if (argc == 3 && strcmp(argv[1], "show") == 0)
		return show(argv[2]);
	if (argc == 3 && strcmp(argv[1], "import") == 0)
		return import(argv[2]);
	return usage();
}
