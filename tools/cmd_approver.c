/*
 * cmd_approver.c - `portcullis approver`: who may approve exceptions.
 *   approver enrol --name NAME --role ROLE [--key PATH] [--pin-fd N] [--by PATH]
 *                  [--by-pin-fd N] [--recovery]
 *   approver remove --name NAME --by PATH [--by-pin-fd N]
 * PINs are typed at the terminal without echo (or read from the file descriptors given,
 * or $PORTCULLIS_PIN); a PIN on the command line is refused.
 *   approver list
 * --recovery enrols the IT provider's recovery key (kept offline; consents to enrolling
 * and removing approvers for root at the PC, approves nothing): the lost-key path.
 * The first approver is enrolled by root at the PC; every later one needs an existing
 * approver's touch (--by: that approver's key). Runs at the PC; the daemon verifies the
 * new key's attestation and the consent.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approval_cli.h"
#include "approval_key.h"
#include "client.h"
#include "commands.h"

static int usage(void)
{
	fprintf(stderr, "usage: portcullis approver enrol --name NAME --role ROLE [--key PATH]"
			" [--pin-fd N]\n"
			"           [--by PATH] [--by-pin-fd N] [--recovery]\n"
			"       portcullis approver remove --name NAME --by PATH [--by-pin-fd N]\n"
			"       portcullis approver list\n");
	return 2;
}

static struct json_object *info(void)
{
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string("approval-info"));
	return acli_call(req);
}

static void put_b64(struct json_object *o, const char *k, const uint8_t *p, size_t n)
{
	char s[APPR_AUTHDATA_MAX * 2];

	if (pcl_b64_encode(p, n, s, sizeof(s)) >= 0)
		json_object_object_add(o, k, json_object_new_string(s));
}

/* An enrolled approver's consent: an assertion over h, by any enrolled credential but
 * the one named by skip (the approver being removed). Adds "by" to req. */
static int consent(struct json_object *inf, struct json_object *req, const char *by,
		   const char *by_pin, const uint8_t h[APPR_CDH_LEN], const char *skip)
{
	struct json_object *allow = json_object_new_array(), *list;
	struct akey_assertion as;

	if (json_object_object_get_ex(inf, "approvers", &list))
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			const char *c =
			    client_field(json_object_array_get_idx(list, i), "credential");
			if (skip == NULL || strcmp(c, skip) != 0)
				json_object_array_add(allow, json_object_new_string(c));
		}
	fprintf(stderr, "Now an enrolled approver consents with their key (%s).\n", by);
	int rc = akey_assert(by, client_field(inf, "rp"), h, allow, by_pin, &as) != 0;
	json_object_put(allow);
	if (rc)
		return 1;
	struct json_object *o = json_object_new_object();
	put_b64(o, "credential", as.cred, as.cred_len);
	put_b64(o, "authdata", as.authdata, as.authdata_len);
	put_b64(o, "sig", as.sig, as.sig_len);
	json_object_object_add(req, "by", o);
	return 0;
}

static int enrol_consent(struct json_object *inf, struct json_object *req, const char *by,
			 const char *by_pin, const char *name, const char *role)
{
	uint8_t cred[APPR_CRED_MAX], h[APPR_CDH_LEN];
	const char *c = client_field(req, "credential"), *council = client_field(inf, "council");
	int n = pcl_b64_decode(c, strlen(c), cred, sizeof(cred));
	const void *f[] = {council, name, role, cred};
	size_t l[] = {strlen(council), strlen(name), strlen(role), (size_t)(n > 0 ? n : 0)};

	if (n <= 0 || appr_hash_fields(APPR_DOMAIN_ENROL_CONSENT, f, l, 4, h) != 0)
		return pcl_fail("the new credential cannot be hashed");
	return consent(inf, req, by, by_pin, h, NULL);
}

/* approver remove --name NAME --by PATH: another approver's touch, or the recovery key's
 * for root at the PC. */
static int remove_approver(int argc, char **argv)
{
	const char *name = NULL, *by = NULL, *by_pin = NULL, *cred = NULL;

	for (int i = 2; i + 1 < argc; i += 2) {
		const char *o = argv[i];
		const char **dst = strcmp(o, "--name") == 0	   ? &name
				   : strcmp(o, "--by") == 0	   ? &by
				   : strcmp(o, "--by-pin-fd") == 0 ? &by_pin
								   : NULL;
		if (strcmp(o, "--by-pin") == 0)
			return akey_pin_refused(o);
		if (dst == NULL)
			return usage();
		*dst = argv[i + 1];
	}
	if (argc % 2 != 0 || name == NULL || by == NULL)
		return usage();
	static char pinbuf[64];
	struct json_object *inf = info(), *list;
	if (inf == NULL)
		return 1;
	if (json_object_object_get_ex(inf, "approvers", &list))
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *a = json_object_array_get_idx(list, i);
			if (strcmp(client_field(a, "name"), name) == 0) {
				if (cred != NULL) {
					json_object_put(inf);
					return pcl_fail("two approvers are named \"%s\"", name);
				}
				cred = client_field(a, "credential");
			}
		}
	uint8_t raw[APPR_CRED_MAX], h[APPR_CDH_LEN];
	const char *council = client_field(inf, "council");
	int n = cred ? pcl_b64_decode(cred, strlen(cred), raw, sizeof(raw)) : -1;
	const void *f[] = {council, raw};
	size_t l[] = {strlen(council), (size_t)(n > 0 ? n : 0)};
	if (n <= 0 || appr_hash_fields(APPR_DOMAIN_REMOVE, f, l, 2, h) != 0) {
		json_object_put(inf);
		return pcl_fail("no approver named \"%s\" is enrolled", name);
	}
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("approver-remove"));
	json_object_object_add(req, "credential", json_object_new_string(cred));
	fprintf(stderr, "Removing %s as an approver of council %s.\n", name, council);
	struct json_object *uv = NULL;
	json_object_object_get_ex(inf, "uv", &uv);
	const char *pin = NULL;
	int rc = akey_pin(by_pin, json_object_get_boolean(uv),
			  "PIN of the consenting key: ", pinbuf, sizeof(pinbuf), &pin) != 0 ||
		 consent(inf, req, by, pin, h, cred) != 0;
	explicit_bzero(pinbuf, sizeof(pinbuf));
	json_object_put(inf);
	if (rc) {
		json_object_put(req);
		return 1;
	}
	struct json_object *ans = acli_call(req);
	if (ans == NULL)
		return 1;
	printf("%s removed (consent of %s)\n", client_field(ans, "removed"),
	       client_field(ans, "by"));
	json_object_put(ans);
	return 0;
}

static int enrol(int argc, char **argv)
{
	const char *name = NULL, *role = NULL, *key = getenv("PORTCULLIS_KEY"), *pin = NULL;
	const char *by = NULL, *by_pin = NULL, *pin_fd = NULL;
	static char pinbuf[64], bypinbuf[64];
	bool recovery = argc > 2 && strcmp(argv[argc - 1], "--recovery") == 0;

	if (recovery)
		argc--;
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *o = argv[i], *v = argv[i + 1];
		const char **dst = strcmp(o, "--name") == 0	   ? &name
				   : strcmp(o, "--role") == 0	   ? &role
				   : strcmp(o, "--key") == 0	   ? &key
				   : strcmp(o, "--device") == 0	   ? &key
				   : strcmp(o, "--pin-fd") == 0	   ? &pin_fd
				   : strcmp(o, "--by") == 0	   ? &by
				   : strcmp(o, "--by-pin-fd") == 0 ? &by_pin
								   : NULL;
		if (strcmp(o, "--pin") == 0 || strcmp(o, "--by-pin") == 0)
			return akey_pin_refused(o);
		if (dst == NULL)
			return usage();
		*dst = v;
	}
	if (argc % 2 != 0 || name == NULL || role == NULL)
		return usage();
	struct json_object *inf = info(), *v;
	if (inf == NULL)
		return 1;
	bool uv = json_object_object_get_ex(inf, "uv", &v) && json_object_get_boolean(v);
	if (akey_pin(pin_fd, uv, "PIN of the new approver's key: ", pinbuf, sizeof(pinbuf), &pin) !=
	    0) {
		json_object_put(inf);
		return 1;
	}
	uint8_t nonce[32], cdh[APPR_CDH_LEN];
	const char *council = client_field(inf, "council");
	const void *f[] = {council, name, role, nonce};
	size_t l[] = {strlen(council), strlen(name), strlen(role), sizeof(nonce)};
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("approver-enrol"));
	json_object_object_add(req, "name", json_object_new_string(name));
	json_object_object_add(req, "role", json_object_new_string(role));
	if (recovery)
		json_object_object_add(req, "recovery", json_object_new_boolean(1));
	int rc = RAND_bytes(nonce, sizeof(nonce)) != 1 ||
		 appr_hash_fields(APPR_DOMAIN_ENROL, f, l, 4, cdh) != 0;
	put_b64(req, "nonce", nonce, sizeof(nonce));
	rc = rc || akey_make_cred(key, client_field(inf, "rp"), cdh, name, uv, pin, req) != 0;
	explicit_bzero(pinbuf, sizeof(pinbuf));
	const char *bypin = NULL;
	if (rc == 0 && by)
		rc = akey_pin(by_pin, uv, "PIN of the consenting key: ", bypinbuf, sizeof(bypinbuf),
			      &bypin) != 0 ||
		     enrol_consent(inf, req, by, bypin, name, role) != 0;
	explicit_bzero(bypinbuf, sizeof(bypinbuf));
	json_object_put(inf);
	if (rc) {
		json_object_put(req);
		return 1;
	}
	struct json_object *ans = acli_call(req);
	if (ans == NULL)
		return 1;
	printf("%s enrolled as %s\n", name, role);
	json_object_put(ans);
	return 0;
}

static int list(void)
{
	struct json_object *inf = info(), *arr;

	if (inf == NULL)
		return 1;
	printf("council %s (%s), approver title: %s, exceptions: %s, PIN required: %s\n",
	       client_field(inf, "council"), client_field(inf, "council-name"),
	       client_field(inf, "approver-title"),
	       json_object_get_boolean(json_object_object_get(inf, "exceptions")) ? "yes" : "no",
	       json_object_get_boolean(json_object_object_get(inf, "uv")) ? "yes" : "no");
	int64_t bundle = json_object_get_int64(json_object_object_get(inf, "bundle-version"));
	if (bundle > 0)
		printf("council bundle: version %lld in force\n", (long long)bundle);
	else
		printf("council bundle: none (approvers enrolled at this PC)\n");
	if (json_object_object_get_ex(inf, "approvers", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *a = json_object_array_get_idx(arr, i);
			printf("  %-24s %s%s\n", client_field(a, "name"), client_field(a, "role"),
			       json_object_get_boolean(json_object_object_get(a, "recovery"))
				   ? " (recovery key, kept offline)"
				   : "");
		}
	json_object_put(inf);
	return 0;
}

int cmd_approver(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "enrol") == 0)
		return enrol(argc, argv);
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return list();
	if (argc >= 2 && strcmp(argv[1], "remove") == 0)
		return remove_approver(argc, argv);
	return usage();
}
