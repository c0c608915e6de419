/*
 * audit_testwriter.c - small writer for the audit integration tests and benchmark:
 * enrols or opens a trail and appends records, printing each acknowledged seq.
 * Test-only program; arguments come from the test scripts.
 *
 * usage: audit_testwriter DIR COUNT [SECURITY_EVERY] [THREADS]
 *   COUNT 0 = forever (until killed). Each acknowledged record prints "ack SEQ".
 *   Environment: AUDIT_TW_QUIET=1 prints only a summary with records/s;
 *   AUDIT_TW_KEY=FILE enrols first and writes the key file; AUDIT_TW_USER=NAME;
 *   AUDIT_TW_ORIGIN=ORIGIN (default portcullis/testhost); AUDIT_TW_NOW=UNIX: the wall
 *   clock reads that time (as after a reboot with the clock set there); AUDIT_TW_BOOT_ID;
 *   AUDIT_TW_TICK=1: one audit_tick (retention purge) after the records;
 *   AUDIT_TW_GROUPED=1: records that are not security records are appended grouped
 *   (audit_append_grouped), each ack then reads "ack SEQ durable SEQ trail SEQ" (durable:
 *   every record up to it is on disk, in the segment or the intent file; trail: in the
 *   segment itself, synced), and the summary
 *   gives the writer's fdatasync count ("syncs N"); AUDIT_TW_GROUP=N (2..64): those
 *   records are appended N at a time as one group (audit_append_group), one ack a group;
 *   AUDIT_TW_MARKS=1: the acks read as with AUDIT_TW_GROUPED whatever the mode;
 *   AUDIT_TW_DEVICE=each|group: every record also carries a stick's identity (14 fields,
 *   as the engine's transfer records do): laid on each event, or with AUDIT_TW_GROUP given
 *   once per group as its common fields (audit_append_group_common).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "audit.h"

static struct audit_log *log_;
static uint64_t count, sec_every;
static bool quiet;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t issued;
static const char *user; /* AUDIT_TW_USER: user.name of every record */
static time_t fixed_now; /* AUDIT_TW_NOW */
static bool grouped;	 /* AUDIT_TW_GROUPED */
static bool marks;	 /* AUDIT_TW_MARKS or AUDIT_TW_GROUPED */
#define GROUP_MAX 64
static size_t group_n;		/* AUDIT_TW_GROUP */
static const char *device_mode; /* AUDIT_TW_DEVICE */

static void clock_seam(void *ctx, struct timespec *ts)
{
	(void)ctx;
	ts->tv_sec = fixed_now;
	ts->tv_nsec = 0;
}

static struct json_object *make_event(uint64_t i)
{
	struct json_object *ev = json_object_new_object();
	char path[64];

	snprintf(path, sizeof(path), "/media/stick/report-%" PRIu64 ".odt", i);
	json_object_object_add(ev, "event.action", json_object_new_string("file-write"));
	json_object_object_add(ev, "event.outcome", json_object_new_string("success"));
	json_object_object_add(ev, "user.name",
			       json_object_new_string(user    ? user
						      : i % 3 ? "clerk"
							      : "cllr.smith"));
	json_object_object_add(ev, "file.path", json_object_new_string(path));
	json_object_object_add(ev, "file.size", json_object_new_int64((int64_t)(i * 37 % 100000)));
	json_object_object_add(
	    ev, "file.hash.sha256",
	    json_object_new_string(
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
	json_object_object_add(ev, "volume.serial", json_object_new_string("4C530001230812114565"));
	return ev;
}

/* A stick's identity as the engine gives it (each worker its own copy: json-c objects are
 * not shared between threads). NULL without AUDIT_TW_DEVICE. */
static struct json_object *make_device(void)
{
	static const char *const keys[] = {"volume.bus_type",
					   "volume.device_name",
					   "volume.vendor_id",
					   "volume.product_id",
					   "volume.vendor_name",
					   "volume.product_name",
					   "volume.serial_number",
					   "usb.hash",
					   "usb.parent_hash",
					   "usb.port",
					   "usb.connect_type",
					   "portcullis.state",
					   "rule.id"};
	struct json_object *d, *ifs;

	if (device_mode == NULL)
		return NULL;
	d = json_object_new_object();
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		json_object_object_add(
		    d, keys[k], json_object_new_string("a value of the device's, as long as most"));
	ifs = json_object_new_array();
	json_object_array_add(ifs, json_object_new_string("08:06:50"));
	json_object_object_add(d, "usb.interfaces", ifs);
	return d;
}

static bool device_each(const struct json_object *device)
{
	return device != NULL && strcmp(device_mode, "group") != 0;
}

static void acked(int rc)
{
	if (rc != 0) {
		fprintf(stderr, "audit_testwriter: append: %s\n", strerror(-rc));
		exit(1);
	}
	if (!quiet) {
		/* seq of this record is not returned; the last seq is at least it */
		struct audit_stats st;
		audit_get_stats(log_, &st);
		if (marks)
			printf("ack %" PRIu64 " durable %" PRIu64 " trail %" PRIu64 "\n",
			       audit_last_seq(log_), st.durable_seq, st.trail_seq);
		else
			printf("ack %" PRIu64 "\n", audit_last_seq(log_));
		fflush(stdout);
	}
}

/* The records gathered for one audit_append_group, appended (with the device's fields as
 * their common ones when given once per group). */
static void flush_group(struct json_object **evs, size_t *n, struct json_object *device)
{
	int rc = !*n		       ? 0
		 : device_each(device) ? audit_append_group(log_, evs, *n)
				       : audit_append_group_common(log_, evs, *n, device);

	for (size_t k = 0; k < *n; k++)
		json_object_put(evs[k]);
	if (*n)
		acked(rc);
	*n = 0;
}

static void *worker(void *arg)
{
	struct json_object *evs[GROUP_MAX], *device = make_device();
	size_t n = 0;

	(void)arg;
	for (;;) {
		uint64_t i;
		pthread_mutex_lock(&mu);
		i = ++issued;
		pthread_mutex_unlock(&mu);
		if (count && i > count)
			break;
		struct json_object *ev = make_event(i);
		if (device != NULL && (device_each(device) || group_n <= 1)) {
			json_object_object_foreach(device, k, v)
			{
				json_object_object_add(ev, k, json_object_get(v));
			}
		}
		bool sec = sec_every && i % sec_every == 0;
		if (group_n > 1 && !sec) {
			evs[n++] = ev;
			if (n == group_n)
				flush_group(evs, &n, device);
			continue;
		}
		flush_group(evs, &n, device); /* in order: the group before the security record */
		int rc = grouped && !sec ? audit_append_grouped(log_, ev) : audit_append(log_, ev);
		if (rc == 0 && sec)
			rc = audit_checkpoint(log_);
		json_object_put(ev);
		acked(rc);
	}
	flush_group(evs, &n, device);
	json_object_put(device);
	return NULL;
}

int main(int argc, char **argv)
{
	struct audit_config cfg = {
	    .origin = "portcullis/testhost", .host_name = "testhost", .checkpoint_interval_s = 1};
	struct pcl_diag diag = {0};
	char msg[600], *key = NULL;
	struct timespec t0, t1;
	unsigned threads;

	if (argc < 3)
		return 2;
	cfg.dir = argv[1];
	count = strtoull(argv[2], NULL, 10);
	sec_every = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
	threads = argc > 4 ? (unsigned)atoi(argv[4]) : 1;
	quiet = getenv("AUDIT_TW_QUIET") != NULL;
	grouped = getenv("AUDIT_TW_GROUPED") != NULL;
	marks = grouped || getenv("AUDIT_TW_MARKS") != NULL;
	if (getenv("AUDIT_TW_GROUP")) {
		group_n = strtoul(getenv("AUDIT_TW_GROUP"), NULL, 10);
		group_n = group_n > GROUP_MAX ? GROUP_MAX : group_n;
	}
	user = getenv("AUDIT_TW_USER");
	device_mode = getenv("AUDIT_TW_DEVICE");
	if (getenv("AUDIT_TW_ORIGIN"))
		cfg.origin = getenv("AUDIT_TW_ORIGIN");
	if (getenv("AUDIT_TW_NOW")) {
		fixed_now = (time_t)strtoll(getenv("AUDIT_TW_NOW"), NULL, 10);
		cfg.now = clock_seam;
	}
	cfg.boot_id = getenv("AUDIT_TW_BOOT_ID");
	if (getenv("AUDIT_TW_KEY")) {
		if (audit_enrol(&cfg, &key, &diag) == 0) {
			FILE *f = fopen(getenv("AUDIT_TW_KEY"), "w");
			fputs(key, f);
			fclose(f);
			free(key);
		} else if (diag.msg[0] && strstr(diag.msg, "already") == NULL) {
			pcl_diag_format(&diag, msg, sizeof(msg));
			fprintf(stderr, "audit_testwriter: %s\n", msg);
			return 1;
		}
	}
	if (audit_open(&log_, &cfg, &diag) != 0) {
		pcl_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "audit_testwriter: %s\n", msg);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_t tid[256];
	if (threads < 1 || threads > 256)
		threads = 1;
	for (unsigned i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, worker, NULL);
	for (unsigned i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	struct audit_stats st;
	audit_get_stats(log_, &st);
	if (audit_checkpoint(log_) != 0)
		return 1;
	if (getenv("AUDIT_TW_TICK") && audit_tick(log_) != 0) {
		fprintf(stderr, "audit_testwriter: tick failed\n");
		return 1;
	}
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (quiet)
		printf("%" PRIu64 " records in %.3f s: %.0f records/s, syncs %" PRIu64 "\n", count,
		       s, (double)count / s, st.syncs);
	audit_close(&log_);
	return 0;
}
