/*
 * log.c - portcullisd diagnostics to stderr (foreground) or syslog.
 * Linked by the parent and the engine; messages are the daemon's own text.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

static bool to_stderr = true;
static const char *role_name = "portcullisd";
static bool debug_enabled;

void log_init(const char *role, bool foreground)
{
	role_name = role;
	to_stderr = foreground;
	debug_enabled = getenv("PORTCULLIS_DEBUG") != NULL;
	if (!foreground)
		openlog("portcullisd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_role(const char *role)
{
	role_name = role;
}

__attribute__((format(printf, 2, 0))) static void vlog(int prio, const char *fmt, va_list ap)
{
	if (prio == LOG_DEBUG && !debug_enabled)
		return;
	if (to_stderr) {
		fprintf(stderr, "portcullisd[%s]: ", role_name);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(prio, fmt, ap);
	}
}

#define DEFINE_LOG(name, prio)                                                                     \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		vlog(prio, fmt, ap);                                                               \
		va_end(ap);                                                                        \
	}

DEFINE_LOG(log_err, LOG_ERR)
DEFINE_LOG(log_warn, LOG_WARNING)
DEFINE_LOG(log_info, LOG_INFO)
DEFINE_LOG(log_debug, LOG_DEBUG)
