/*
 * people.h - settings shared by `portcullis status` and `portcullis notify`.
 * Linked by the portcullis CLI.
 */
#ifndef PCL_TOOLS_PEOPLE_H
#define PCL_TOOLS_PEOPLE_H

#include "notice.h"

#define PEOPLE_DEFAULT_CONF "/etc/portcullis/portcullisd.conf"

/* Fill in what the notices need from the daemon's configuration (`config`, else
 * PORTCULLIS_CONF from the environment, else PEOPLE_DEFAULT_CONF) and the council profile
 * it names: the retention period, the approver's title ("the " + approver-title; kept if
 * already set, else "the Clerk") and whether the council allows no exceptions. A missing
 * default file means the daemon runs on its defaults; an unreadable or invalid one leaves
 * the retention unknown (0), never guessed. */
void people_context(const char *config, struct notice_ctx *ctx);

#endif
