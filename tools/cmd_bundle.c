/*
 * cmd_bundle.c - `portcullis bundle`: the council bundle, one signed file for every PC
 * of a council (profile, approvers, rules, a version that only goes up).
 *   bundle build --profile FILE --rules FILE --version N --out FILE [--key PATH] [--pin-fd N]
 *                [--owed FILE]
 *                     at a PC of the council: its approvers, an approver's touch; the
 *                     council's open owed wipes (portcullis fleet owed --format json)
 *   bundle show FILE  what a bundle says
 *   bundle apply FILE the PC takes it (root; the daemon verifies it)
 *   bundle deb FILE --out DIR [--maintainer TEXT]
 *                     a Debian package of the bundle, for the PCs' normal updates
 * Runs as the approver or the IT provider; bundle files are untrusted (parsed by
 * lib/approval here, verified in full by the daemon).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "approval_cli.h"
#include "approval_key.h"
#include "bundle.h"
#include "client.h"
#include "commands.h"
#include "notice.h"
#include "profile.h"

static struct appr_bundle b;

static int usage(void)
{
	fprintf(
	    stderr,
	    "usage: portcullis bundle build --profile FILE --rules FILE --version N --out FILE\n"
	    "           [--key PATH] [--pin-fd N] [--owed FILE]\n"
	    "       portcullis bundle show FILE\n"
	    "       portcullis bundle apply FILE\n"
	    "       portcullis bundle deb FILE --out DIR [--maintainer TEXT]\n");
	return 2;
}

static int load(const char *path, char **text)
{
	struct pcl_diag diag = {0};
	char msg[400];
	size_t len;

	*text = pcl_read_text(path, APPR_BUNDLE_MAX, &len);
	if (*text == NULL)
		return 1;
	if (appr_bundle_parse(*text, len, path, &b, &diag) != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		free(*text);
		*text = NULL;
		return pcl_fail("%s", msg);
	}
	return 0;
}

static int copy_in(const char *path, char *dst, size_t cap, size_t *len)
{
	char *t = pcl_read_text(path, cap - 1, len);

	if (t == NULL)
		return 1;
	memcpy(dst, t, *len);
	free(t);
	return 0;
}

/* The approvers as the daemon of this PC knows them. */
static int take_approvers(struct json_object *inf)
{
	struct json_object *arr;

	if (!json_object_object_get_ex(inf, "approvers", &arr) ||
	    json_object_array_length(arr) == 0)
		return pcl_fail("no approver is enrolled at this PC: enrol one first");
	if (json_object_array_length(arr) > APPR_BUNDLE_APPROVERS)
		return pcl_fail("more than %d approvers", APPR_BUNDLE_APPROVERS);
	b.n_approvers = json_object_array_length(arr);
	for (size_t i = 0; i < b.n_approvers; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i), *v;
		struct appr_bundle_approver *a = &b.approvers[i];
		const char *c = client_field(o, "credential"), *k = client_field(o, "public-key");
		int n = pcl_b64_decode(c, strlen(c), a->cred, sizeof(a->cred));
		if (n <= 0 || pcl_b64_decode(k, strlen(k), a->pk, sizeof(a->pk)) != 64 ||
		    strlen(client_field(o, "name")) >= sizeof(a->name) ||
		    strlen(client_field(o, "role")) >= sizeof(a->role))
			return pcl_fail("the daemon's approver %zu is malformed", i + 1);
		a->cred_len = (size_t)n;
		strcpy(a->name, client_field(o, "name"));
		strcpy(a->role, client_field(o, "role"));
		a->recovery =
		    json_object_object_get_ex(o, "recovery", &v) && json_object_get_boolean(v);
	}
	return 0;
}

/* The bundle's version number, profile and rules (into the bundle b) and the profile
 * parsed: 0, or 1 (said). */
static int read_inputs(const char *profile, const char *rules, const char *version,
		       struct appr_profile *prof)
{
	struct pcl_diag diag = {0};
	char msg[400], *end;

	memset(&b, 0, sizeof(b));
	errno = 0;
	b.version = strtoull(version, &end, 10);
	if (errno || *end || b.version == 0 || version[0] == '-')
		return pcl_fail("--version: '%s' is not a number from 1 up", version);
	if (copy_in(profile, b.profile, sizeof(b.profile), &b.profile_len) != 0 ||
	    copy_in(rules, b.rules, sizeof(b.rules), &b.rules_len) != 0)
		return 1;
	if (appr_profile_parse(b.profile, b.profile_len, profile, prof, &diag) != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		return pcl_fail("%s", msg);
	}
	return 0;
}

/* Say what is signed, then have an approver's key (not a recovery key) sign the body (n
 * bytes): 0 with *as its answer, or 1 (said). inf: the daemon's approval-info. */
static int sign_body(struct json_object *inf, const char *key, const char *pin, const char *body,
		     size_t n, const char *profile, const char *rules, struct akey_assertion *as)
{
	static char pinbuf[64];
	struct json_object *allow = json_object_new_array();
	uint8_t cdh[APPR_CDH_LEN];
	const char *typed = NULL;

	for (size_t i = 0; i < b.n_approvers; i++) {
		char c[APPR_CRED_MAX * 2];
		if (!b.approvers[i].recovery &&
		    pcl_b64_encode(b.approvers[i].cred, b.approvers[i].cred_len, c, sizeof(c)) >= 0)
			json_object_array_add(allow, json_object_new_string(c));
	}
	fprintf(stderr,
		"Council bundle for %s, version %" PRIu64 ": profile %s, rules %s (%zu "
		"bytes), %zu approver(s), %zu open owed wipe(s)\n",
		b.council, b.version, profile, rules, b.rules_len, b.n_approvers, b.n_owed);
	for (size_t i = 0; i < b.n_approvers; i++)
		fprintf(stderr, "  %s (%s)%s\n", b.approvers[i].name, b.approvers[i].role,
			b.approvers[i].recovery ? ", recovery key" : "");
	int rc = appr_bundle_cdh(body, n, cdh) != 0 ||
		 akey_pin(pin, json_object_get_boolean(json_object_object_get(inf, "uv")),
			  "PIN of your key: ", pinbuf, sizeof(pinbuf), &typed) != 0 ||
		 akey_assert(key, client_field(inf, "rp"), cdh, allow, typed, as) != 0;
	explicit_bzero(pinbuf, sizeof(pinbuf));
	json_object_put(allow);
	return rc;
}

static int build(int argc, char **argv)
{
	const char *profile = NULL, *rules = NULL, *version = NULL, *out = NULL, *pin = NULL;
	const char *key = getenv("PORTCULLIS_KEY"), *owed = NULL;
	struct appr_profile prof;

	for (int i = 2; i + 1 < argc; i += 2) {
		const char *o = argv[i];
		const char **dst = strcmp(o, "--profile") == 0	 ? &profile
				   : strcmp(o, "--rules") == 0	 ? &rules
				   : strcmp(o, "--version") == 0 ? &version
				   : strcmp(o, "--out") == 0	 ? &out
				   : strcmp(o, "--key") == 0	 ? &key
				   : strcmp(o, "--pin-fd") == 0	 ? &pin
				   : strcmp(o, "--owed") == 0	 ? &owed
								 : NULL;
		if (strcmp(o, "--pin") == 0)
			return akey_pin_refused(o);
		if (dst == NULL)
			return usage();
		*dst = argv[i + 1];
	}
	if (argc % 2 != 0 || !profile || !rules || !version || !out)
		return usage();
	if (read_inputs(profile, rules, version, &prof) != 0)
		return 1;
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("approval-info"));
	struct json_object *inf = acli_call(req);
	if (inf == NULL)
		return 1;
	int rc = strcmp(client_field(inf, "council"), prof.council) != 0
		     ? pcl_fail("%s is council %s's profile; this PC is %s's", profile,
				prof.council, client_field(inf, "council"))
		     : take_approvers(inf);
	snprintf(b.council, sizeof(b.council), "%s", prof.council);
	if (rc == 0 && owed != NULL)
		rc = acli_owed_take(owed, &b);
	b.issued = (int64_t)time(NULL);
	char *body = malloc(APPR_BUNDLE_MAX + 1);
	int n = rc || body == NULL ? -1 : appr_bundle_encode_body(&b, body, APPR_BUNDLE_MAX + 1);
	if (rc == 0 && n < 0)
		rc = pcl_fail("the bundle cannot be encoded (a field is empty or too large)");
	struct akey_assertion as;
	if (rc == 0)
		rc = sign_body(inf, key, pin, body, (size_t)n, profile, rules, &as);
	json_object_put(inf);
	if (rc == 0) {
		memcpy(b.signer, as.cred, as.cred_len);
		b.signer_len = as.cred_len;
		memcpy(b.authdata, as.authdata, as.authdata_len);
		b.authdata_len = as.authdata_len;
		memcpy(b.sig, as.sig, as.sig_len);
		b.sig_len = as.sig_len;
		n = appr_bundle_encode(&b, body, APPR_BUNDLE_MAX + 1);
		rc = n < 0 ? pcl_fail("the key's answer does not fit the bundle")
			   : acli_write_file(out, body);
	}
	if (rc == 0)
		fprintf(stderr,
			"Bundle written to %s: `portcullis bundle deb %s --out DIR` "
			"packages it.\n",
			out, out);
	free(body);
	return rc;
}

static int show(const char *path)
{
	char *text;

	if (load(path, &text) != 0)
		return 1;
	free(text);
	time_t t = (time_t)b.issued;
	char when[64];
	struct tm tm;
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M %Z", &tm) == 0)
		snprintf(when, sizeof(when), "%" PRId64, b.issued);
	printf("council:   %s\nversion:   %" PRIu64 "\nissued:    %s\nprofile:   %zu bytes\n"
	       "rules:     %zu bytes\napprovers:\n",
	       b.council, b.version, when, b.profile_len, b.rules_len);
	for (size_t i = 0; i < b.n_approvers; i++)
		printf("  %-24s %s%s\n", b.approvers[i].name, b.approvers[i].role,
		       b.approvers[i].recovery ? " (recovery key)" : "");
	printf("owed wipes: %zu\n", b.n_owed);
	for (size_t i = 0; i < b.n_owed; i++) {
		char serial[80];
		notice_clean(b.owed[i].serial, serial, sizeof(serial));
		printf("  %s %04x:%04x serial \"%s\"\n", b.owed[i].ref, b.owed[i].vid,
		       b.owed[i].pid, serial);
	}
	const struct appr_bundle_approver *s = appr_bundle_find(&b, b.signer, b.signer_len);
	printf("signed by: %s (verified by portcullisd when applied)\n",
	       s ? s->name : "a credential the bundle does not name");
	return 0;
}

static int apply(const char *path)
{
	char *text;

	if (load(path, &text) != 0)
		return 1;
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("bundle-apply"));
	json_object_object_add(req, "bundle", json_object_new_string(text));
	free(text);
	struct json_object *ans = acli_call(req);
	if (ans == NULL)
		return 1;
	printf("council bundle version %" PRId64 " %s\n",
	       json_object_get_int64(json_object_object_get(ans, "version")),
	       client_field(ans, "state"));
	json_object_put(ans);
	return 0;
}

static int put(const char *dir, const char *name, const char *text, size_t len, mode_t mode)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int ok = fd >= 0 && write(fd, text, len) == (ssize_t)len && fchmod(fd, mode) == 0;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : pcl_fail("%s: %s", path, strerror(errno));
}

static int run_dpkg_deb(const char *root, const char *deb)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return pcl_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		execlp("dpkg-deb", "dpkg-deb", "--root-owner-group", "--build", root, deb,
		       (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return pcl_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return pcl_fail("dpkg-deb failed (exit %d): is dpkg installed?",
				WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

static int deb(int argc, char **argv)
{
	const char *file = argv[2], *out = NULL, *maint = "Council IT provider <it@invalid>";
	char *text, root[] = "/tmp/portcullis-bundle-deb.XXXXXX", d[600], name[600], buf[2048];

	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--out") == 0)
			out = argv[i + 1];
		else if (strcmp(argv[i], "--maintainer") == 0)
			maint = argv[i + 1];
		else
			return usage();
	}
	if (argc % 2 == 0 || out == NULL || strchr(maint, '\n'))
		return usage();
	if (load(file, &text) != 0)
		return 1;
	if (mkdtemp(root) == NULL) {
		free(text);
		return pcl_fail("mkdtemp: %s", strerror(errno));
	}
	static const char *dirs[] = {"DEBIAN", "usr", "usr/share", "usr/share/portcullis",
				     "usr/share/portcullis/council"};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(d, sizeof(d), "%s/%s", root, dirs[i]);
		if (mkdir(d, 0755) != 0)
			rc = pcl_fail("%s: %s", d, strerror(errno));
	}
	int n = snprintf(buf, sizeof(buf),
			 "Package: portcullis-council-%s\nVersion: %" PRIu64 "\n"
			 "Architecture: all\nMaintainer: %s\nDepends: portcullis\n"
			 "Section: admin\nPriority: optional\n"
			 "Description: Portcullis council bundle for %s\n"
			 " The council's profile, approvers and rules for its own equipment,\n"
			 " signed by an approver; every PC of the council applies it.\n",
			 b.council, b.version, maint, b.council);
	rc = rc ?: put(root, "DEBIAN/control", buf, (size_t)n, 0644);
	n = snprintf(buf, sizeof(buf),
		     "#!/bin/sh\n# Generated by portcullis bundle deb.\nset -e\n"
		     "if [ \"$1\" = configure ]; then\n"
		     "\tportcullis bundle apply /usr/share/portcullis/council/%s.bundle\n"
		     "\tif [ -d /run/systemd/system ]; then\n"
		     "\t\tsystemctl reload portcullisd.service || true\n\tfi\nfi\nexit 0\n",
		     b.council);
	rc = rc ?: put(root, "DEBIAN/postinst", buf, (size_t)n, 0755);
	snprintf(name, sizeof(name), "usr/share/portcullis/council/%s.bundle", b.council);
	rc = rc ?: put(root, name, text, strlen(text), 0644);
	snprintf(name, sizeof(name), "usr/share/portcullis/council/%s.profile", b.council);
	rc = rc ?: put(root, name, b.profile, b.profile_len, 0644);
	snprintf(d, sizeof(d), "%s/portcullis-council-%s_%" PRIu64 "_all.deb", out, b.council,
		 b.version);
	rc = rc ?: run_dpkg_deb(root, d);
	/* Clean up the staging tree whatever happened. */
	const char *files[] = {"DEBIAN/control", "DEBIAN/postinst"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "%s/%s", root, files[i]);
		unlink(name);
	}
	snprintf(name, sizeof(name), "%s/usr/share/portcullis/council/%s.bundle", root, b.council);
	unlink(name);
	snprintf(name, sizeof(name), "%s/usr/share/portcullis/council/%s.profile", root, b.council);
	unlink(name);
	for (size_t i = sizeof(dirs) / sizeof(dirs[0]); i-- > 0;) {
		snprintf(name, sizeof(name), "%s/%s", root, dirs[i]);
		rmdir(name);
	}
	rmdir(root);
	free(text);
	if (rc == 0)
		printf("%s\n", d);
	return rc;
}

int cmd_bundle(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "build") == 0)
		return build(argc, argv);
	if (argc == 3 && strcmp(argv[1], "show") == 0)
		return show(argv[2]);
	if (argc == 3 && strcmp(argv[1], "apply") == 0)
		return apply(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "deb") == 0)
		return deb(argc, argv);
	return usage();
}
