/*
 * engine_wipe_cmd.c - the control socket's `wipe` command and who may call it: root,
 * the user who requested the exception the medium is approved by, or a member of the
 * configured wipe-group (portcullisd.conf(5)); anyone else is refused and recorded.
 * Linked by the engine. The request comes from any local user (untrusted); the caller's
 * uid and groups come from the kernel; /etc/group is root's file, read with bounds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "engine.h"
#include "engine_approval.h"
#include "engine_jobs.h"
#include "jsonx.h"

/* The gid of a group named in /etc/group, read directly: under the engine's seccomp
 * filter NSS modules are not available. -ENOENT when there is no such group. */
static int group_gid(const char *name, gid_t *gid)
{
	FILE *f = fopen("/etc/group", "re");
	char line[4096];
	int rc = -ENOENT;

	while (f && rc != 0 && fgets(line, sizeof(line), f) != NULL) {
		char *save = NULL, *g = strtok_r(line, ":", &save);
		char *pw = strtok_r(NULL, ":", &save), *id = strtok_r(NULL, ":\n", &save), *end;
		if (g && pw && id && strcmp(g, name) == 0) {
			unsigned long v = strtoul(id, &end, 10);
			if (*end == '\0' && end != id && v < (unsigned long)(gid_t)-1) {
				*gid = (gid_t)v;
				rc = 0;
			}
		}
	}
	if (f)
		fclose(f);
	return rc;
}

static bool may_wipe(struct engine *e, const struct ctl_caller *who, const struct dev_entry *d)
{
	const char *group = engine_conf(e)->wipe_group;
	gid_t gid;

	if (who->uid == 0 || eappr_requested_by(d, who->uid))
		return true;
	return group[0] != '\0' && group_gid(group, &gid) == 0 && ctl_in_group(who, gid);
}

static int run_wipe(struct ctl_call *call)
{
	const char *device = jsonx_get_str(call->req, "device");
	const struct dev_entry *d = device ? engine_find(call->eng, device) : NULL;
	char why[256];

	/* A device that is not there, or not approved, is answered by the wipe itself. */
	if (d != NULL && d->state == DEV_ALLOWED && !may_wipe(call->eng, call->caller, d)) {
		const char *group = engine_conf(call->eng)->wipe_group;
		snprintf(call->why, sizeof(call->why),
			 "wipe of %s: only root, the user who requested its exception%s%s may "
			 "wipe it",
			 d->id.sysname, group[0] ? " or a member of group " : "", group);
		return CTL_REFUSED;
	}
	if (engine_wipe_request(call->eng, call->caller->client, (uint32_t)call->caller->uid,
				device, why, sizeof(why)) != 0) {
		call->answer = json_object_new_object();
		jsonx_set_str(call->answer, "error", why);
		return 0;
	}
	call->next = CTL_RELAY;
	return 0;
}

/* wipe-owed-close: root or the wipe group closes an owed wipe by hand, with a reason. */
static int run_owed_close(struct ctl_call *call)
{
	const char *group = engine_conf(call->eng)->wipe_group;
	gid_t gid;

	if (call->caller->uid != 0 &&
	    !(group[0] != '\0' && group_gid(group, &gid) == 0 && ctl_in_group(call->caller, gid))) {
		snprintf(call->why, sizeof(call->why), "closing an owed wipe: only root%s%s may",
			 group[0] ? " or group " : "", group);
		return CTL_REFUSED;
	}
	call->answer = eappr_owed_close(call->eng, jsonx_get_str(call->req, "ref"),
					jsonx_get_str(call->req, "reason"), call->caller->uid);
	return 0;
}

const struct ctl_command engine_wipe_commands[] = {
    {"wipe", CTL_HANDLER, true, run_wipe},
    {"wipe-owed-close", CTL_HANDLER, true, run_owed_close},
};
const size_t engine_wipe_n_commands = 2;
