/*
 * log.h - portcullisd diagnostics: stderr in the foreground (-f), syslog otherwise.
 * Linked by the parent and the engine. Messages never carry secrets.
 */
#ifndef PCL_DAEMON_LOG_H
#define PCL_DAEMON_LOG_H

#include <stdbool.h>

void log_init(const char *role, bool foreground);
void log_set_role(const char *role);
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
