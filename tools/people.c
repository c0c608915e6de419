/*
 * people.c - settings shared by `portcullis status` and `portcullis notify` (people.h).
 * Linked by the portcullis CLI; portcullisd.conf is written by the IT provider and
 * parsed by lib/conf, which reports errors as file:line.
 */
#include "people.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"

void people_context(const char *config, struct notice_ctx *ctx)
{
	struct pcl_diag diag;
	struct conf c;
	size_t n = 0;
	const char *env = getenv("PORTCULLIS_CONF");

	if (ctx->approver == NULL || *ctx->approver == '\0')
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
	ctx->retention_months =
	    conf_load_file(&c, config, &diag, 1, &n) == 0 ? c.retention_months : 0;
}
