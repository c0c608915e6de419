/*
 * clock.c - the audit writer's clocks and calendar: the wall and boot clocks (or the
 * caller's seams), a record's @timestamp and its segment's month. Linked by the engine
 * (and the verifier's tools through pcl_audit); the times come from the clocks or the
 * trail's own records, never from outside.
 */
#include "audit_int.h"
#include "writer_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void audit_now(const struct audit_log *log, struct timespec *ts)
{
	if (log->now)
		log->now(log->now_ctx, ts);
	else
		clock_gettime(CLOCK_REALTIME, ts);
}

/* Records come many to a second: the calendar of the last second asked for is kept, one
 * per thread. */
static _Thread_local time_t cal_t = -1;
static _Thread_local char cal_month[8], cal_second[64]; /* YYYY-MM, YYYY-MM-DDTHH:MM:SS */

static void calendar(time_t t)
{
	struct tm tm;

	if (t == cal_t)
		return;
	gmtime_r(&t, &tm);
	snprintf(cal_month, sizeof(cal_month), "%04u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u);
	snprintf(cal_second, sizeof(cal_second), "%04d-%02d-%02dT%02d:%02d:%02d",
		 (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	cal_t = t;
}

void audit_month_of(char out[8], time_t t)
{
	calendar(t);
	memcpy(out, cal_month, 8);
}

int64_t audit_boot_now(const struct audit_log *log)
{
	struct timespec ts;

	if (log->boot)
		log->boot(log->now_ctx, &ts);
	else if (log->now)
		log->now(log->now_ctx, &ts);
	else
		clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec;
}

void audit_timestamp(char out[64], int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	int f = (int)(ms % 1000);

	if (ms < 0) { /* never a record's: as it always was */
		struct tm tm;
		gmtime_r(&t, &tm);
		snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, f);
		return;
	}
	calendar(t);
	memcpy(out, cal_second, 19);
	out[19] = '.';
	out[20] = (char)('0' + f / 100);
	out[21] = (char)('0' + f / 10 % 10);
	out[22] = (char)('0' + f % 10);
	memcpy(out + 23, "Z", 2);
}
