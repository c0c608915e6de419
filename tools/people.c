/*
 * people.c - settings shared by `portcullis status` and `portcullis notify` (people.h).
 * Linked by the portcullis CLI; portcullisd.conf and the council profile it names are
 * written by the IT provider (root-owned) and parsed by lib/conf and lib/approval.
 */
#include "people.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "profile.h"

/* The council profile named in the configuration: who approves, and whether exceptions
 * exist at all. Options given on the command line (already in ctx) win. */
static void from_profile(const struct conf *c, struct notice_ctx *ctx, bool approver_given)
{
	static char approver[sizeof(((struct appr_profile *)0)->approver_title) + 8];
	struct appr_profile p;
	struct pcl_diag diag;

	if (c->profile[0] == '\0' || appr_profile_load(c->profile, PCL_PROFILE_DIR, &p, &diag) != 0)
		return;
	if (!approver_given && p.approver_title[0] != '\0') {
		snprintf(approver, sizeof(approver), "the %s", p.approver_title);
		ctx->approver = approver;
	}
	if (!p.exceptions)
		ctx->no_exceptions = true;
}

void people_context(const char *config, struct notice_ctx *ctx)
{
	struct pcl_diag diag;
	struct conf c;
	size_t n = 0;
	const char *env = getenv("PORTCULLIS_CONF");
	bool approver_given = ctx->approver != NULL && *ctx->approver != '\0';

	if (!approver_given)
		ctx->approver = NOTICE_DEFAULT_APPROVER;
	if (config == NULL)
		config = env && *env ? env : NULL;
	conf_defaults(&c);
	if (config == NULL) {
		config = PEOPLE_DEFAULT_CONF;
		if (access(config, F_OK) != 0 && errno == ENOENT) {
			ctx->retention_months = c.retention_months;
			return;
		}
	}
	if (conf_load_file(&c, config, &diag, 1, &n) != 0) {
		ctx->retention_months = 0;
		return;
	}
	ctx->retention_months = c.retention_months;
	from_profile(&c, ctx, approver_given);
}
