/*
 * cmd_approve.c - `portcullis approve`: the approver's touch on their FIDO2 key.
 *   approve DEVICE [scope options] [--key PATH] [--pin-fd N]  at the PC, through the daemon
 *   approve --request FILE [--out FILE] [--key PATH] [--pin-fd N]
 * The PIN is typed at the terminal without echo (or read from --pin-fd N or
 * $PORTCULLIS_PIN); --pin on the command line is refused.
 *                                        on the approver's own PC, no daemon needed
 *   approve --end DEVICE                 ends an exception now (root or who asked)
 * Runs as the approver; request files are untrusted and shown before the key is touched.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approval_cli.h"
#include "approval_key.h"
#include "client.h"
#include "commands.h"

static int usage(void)
{
	fprintf(
	    stderr,
	    "usage: portcullis approve DEVICE [--read-only [--council-data]|--read-write]\n"
	    "           [--until-unplug|--for DURATION|--until TIME] [--reason TEXT]\n"
	    "           [--key PATH] [--pin-fd N]\n"
	    "       portcullis approve --request FILE [--council-data] [--out FILE] [--key PATH]\n"
	    "           [--pin-fd N]\n"
	    "       portcullis approve --end DEVICE\n");
	return 2;
}

static int approve_file(const char *path, const char *out, const char *key, const char *pin_fd,
			bool council_data)
{
	char *resp = malloc(APPR_TEXT_MAX);
	size_t len;
	char *text = acli_read_file(path, &len);
	int rc = 1;

	/* The approver's tick: the request is signed with the mark (the PC accepts exactly
	 * that one line changed, on a bring-in). */
	if (text && council_data && acli_mark_council_data(text, APPR_TEXT_MAX) != 0) {
		free(text);
		free(resp);
		return 1;
	}
	/* The council's profile is not known here: ask at a terminal, empty for none. */
	if (text && resp &&
	    acli_sign(text, key, pin_fd, "PIN of your key (Enter if it has none): ", resp) == 0)
		rc = acli_write_file(out ? out : "-", resp);
	if (rc == 0 && out)
		fprintf(stderr, "Response written to %s: send it back to the PC.\n", out);
	free(text);
	free(resp);
	return rc;
}

/* approve --end DEVICE: the exception ends now. */
static int end_exception(const char *device)
{
	struct json_object *req = json_object_new_object(), *ans;

	json_object_object_add(req, "cmd", json_object_new_string("exception-end"));
	if ((ans = acli_call_device(req, device)) == NULL)
		return 1;
	printf("the exception for %s has ended\n", client_field(ans, "ended"));
	json_object_put(ans);
	return 0;
}

int cmd_approve(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--end") == 0)
		return end_exception(argv[2]);
	const char *device = NULL, *key = getenv("PORTCULLIS_KEY"), *pin_fd = NULL;
	const char *request = NULL, *out = NULL;
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string("approval-request"));
	for (int i = 1; i < argc; i++) {
		int used = acli_scope_option(argc, argv, i, req);
		if (used < 0) {
			json_object_put(req);
			return 2;
		}
		if (used > 0) {
			i += used - 1;
		} else if (strcmp(argv[i], "--pin") == 0) {
			json_object_put(req);
			return akey_pin_refused("--pin");
		} else if (i + 1 < argc &&
			   (strcmp(argv[i], "--key") == 0 || strcmp(argv[i], "--pin-fd") == 0 ||
			    strcmp(argv[i], "--request") == 0 || strcmp(argv[i], "--out") == 0)) {
			const char **dst = argv[i][2] == 'k'   ? &key
					   : argv[i][2] == 'p' ? &pin_fd
					   : argv[i][2] == 'r' ? &request
							       : &out;
			*dst = argv[++i];
		} else if (argv[i][0] != '-' && device == NULL) {
			device = argv[i];
		} else {
			json_object_put(req);
			return usage();
		}
	}
	if ((device == NULL) == (request == NULL) || (out && !request)) {
		json_object_put(req);
		return usage();
	}
	if (request) {
		struct json_object *cd = NULL;
		bool mark = json_object_object_get_ex(req, "council-data", &cd);
		json_object_put(req);
		return approve_file(request, out, key, pin_fd, mark);
	}
	struct json_object *ans = acli_call_device(req, device);
	if (ans == NULL)
		return 1;
	char *resp = malloc(APPR_TEXT_MAX);
	struct json_object *uv = NULL;
	json_object_object_get_ex(ans, "uv", &uv);
	int rc = resp ? acli_sign(client_field(ans, "request"), key, pin_fd,
				  json_object_get_boolean(uv) ? "PIN of your key: " : NULL, resp)
		      : 1;
	json_object_put(ans);
	if (rc == 0) {
		req = json_object_new_object();
		json_object_object_add(req, "cmd", json_object_new_string("approve"));
		json_object_object_add(req, "response", json_object_new_string(resp));
		ans = acli_call(req);
		rc = ans == NULL;
		if (ans)
			printf("%s approved by %s (%s)\n", client_field(ans, "approved"),
			       client_field(ans, "approver"), client_field(ans, "scope"));
		json_object_put(ans);
	}
	free(resp);
	return rc;
}
