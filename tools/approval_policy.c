/*
 * approval_policy.c - `portcullis policy sign FILE [--key PATH] [--pin-fd N] [--council ID]`
 * (an approver's key signs a rule file of standing approvals into FILE.sig) and
 * `portcullis policy show --verify` (the daemon checks the rule file in force against its
 * signature and enrolled approvers). Linked by the CLI, run by the approver; the rule
 * file is shown, hashed and signed as it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fileio.h"
#include "approval_cli.h"
#include "approval_key.h"
#include "client.h"
#include "commands.h"

int policy_sign(int argc, char **argv)
{
	const char *file = NULL, *key = getenv("PORTCULLIS_KEY"), *pin = NULL, *council = NULL;
	struct json_object *inf = NULL, *allow = NULL;

	for (int i = 2; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--key") == 0)
			key = argv[++i];
		else if (strcmp(argv[i], "--pin") == 0)
			return akey_pin_refused("--pin");
		else if (i + 1 < argc && strcmp(argv[i], "--pin-fd") == 0)
			pin = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--council") == 0)
			council = argv[++i];
		else if (argv[i][0] != '-' && file == NULL)
			file = argv[i];
		else
			file = NULL, i = argc;
	}
	if (file == NULL) {
		fprintf(stderr, "usage: portcullis policy sign FILE [--key PATH] [--pin-fd N]"
				" [--council ID]\n");
		return 2;
	}
	if (council == NULL) {
		struct json_object *req = json_object_new_object();
		json_object_object_add(req, "cmd", json_object_new_string("approval-info"));
		if ((inf = acli_call(req)) == NULL)
			return 1;
		council = client_field(inf, "council");
		struct json_object *list;
		if (json_object_object_get_ex(inf, "approvers", &list)) {
			allow = json_object_new_array();
			for (size_t i = 0; i < json_object_array_length(list); i++)
				json_object_array_add(
				    allow, json_object_new_string(client_field(
					       json_object_array_get_idx(list, i), "credential")));
		}
	}
	char *text = NULL;
	size_t len = 0;
	(void)pcl_read_file(file, (1u << 20) - 1, 0, &text, &len);
	struct appr_policy_sig ps = {0};
	char rp[96], out[APPR_TEXT_MAX], sigpath[4200];
	uint8_t cdh[APPR_CDH_LEN];
	struct akey_assertion as;
	int rc = text == NULL;
	if (rc)
		pcl_fail("%s: cannot read it (or larger than 1 MiB)", file);
	if (rc == 0) {
		fprintf(stderr, "Signing the standing approvals of council %s in %s:\n%.*s\n",
			council, file, (int)len, text);
		ps.signed_at = (int64_t)time(NULL);
		snprintf(rp, sizeof(rp), "portcullis:%s", council);
		rc = appr_sha256(text, len, ps.sha256) != 0 ||
		     appr_policy_cdh(council, ps.sha256, ps.signed_at, cdh) != 0;
	}
	static char pinbuf[64];
	const char *typed = NULL;
	bool uv = inf != NULL && json_object_get_boolean(json_object_object_get(inf, "uv"));
	rc = rc || akey_pin(pin, uv, "PIN of your key: ", pinbuf, sizeof(pinbuf), &typed) != 0 ||
	     akey_assert(key, rp, cdh, allow, typed, &as) != 0;
	explicit_bzero(pinbuf, sizeof(pinbuf));
	free(text);
	json_object_put(allow);
	json_object_put(inf);
	if (rc)
		return 1;
	memcpy(ps.cred, as.cred, as.cred_len);
	ps.cred_len = as.cred_len;
	memcpy(ps.authdata, as.authdata, as.authdata_len);
	ps.authdata_len = as.authdata_len;
	memcpy(ps.sig, as.sig, as.sig_len);
	ps.sig_len = as.sig_len;
	if (appr_policy_sig_encode(&ps, out, sizeof(out)) < 0)
		return pcl_fail("the key's answer does not fit a signature");
	snprintf(sigpath, sizeof(sigpath), "%s.sig", file);
	if (acli_write_file(sigpath, out) != 0)
		return 1;
	fprintf(stderr, "Signature written to %s; reload portcullisd (SIGHUP) to apply.\n",
		sigpath);
	return 0;
}

int policy_show(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[2], "--verify") != 0) {
		fprintf(stderr, "usage: portcullis policy show --verify\n");
		return 2;
	}
	struct json_object *req = json_object_new_object(), *v;
	json_object_object_add(req, "cmd", json_object_new_string("policy-verify"));
	struct json_object *ans = acli_call(req);
	if (ans == NULL)
		return 1;
	time_t t = json_object_object_get_ex(ans, "signed-at", &v) ? json_object_get_int64(v) : 0;
	char when[64];
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", localtime(&t));
	printf("%s\n# signature verified: signed by %s (%s) at %s\n", client_field(ans, "text"),
	       client_field(ans, "signed-by"), client_field(ans, "role"), when);
	json_object_put(ans);
	return 0;
}
