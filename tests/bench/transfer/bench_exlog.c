/*
 * bench_exlog.c - the engine's CPU per file record taken from a transfer-log watcher
 * (daemon/engine_xferlog.c, exlog_take): groups of 64 lines as portcullis-xferwatch
 * writes them (a file-written record of a 4 KiB file), each parsed, checked and laid
 * under the device's fields. The trail's part (serialising, MAC, write) is measured by
 * tests/bench/audit, not here: this program defines the two recording calls itself, as
 * taking the records and writing nothing, so only the engine's own work per record is
 * timed. Prints microseconds per record (CPU time of this process). Benchmark program
 * only: bench_exlog [GROUPS].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_xferlog.h"
#include "jsonx.h"

#define PER_GROUP 64

int engine_record_group(struct engine *e, struct json_object *const *recs, size_t n,
			struct json_object *common)
{
	(void)e;
	(void)recs;
	(void)n;
	(void)common;
	return 0;
}

int engine_record_grouped(struct engine *e, struct json_object *rec)
{
	(void)e;
	(void)rec;
	return 0;
}

#define LINE                                                                                       \
	"{\"event.created\":\"2026-12-06T05:10:01.123Z\",\"event.action\":\"file-written\","       \
	"\"event.category\":\"file\",\"event.module\":\"portcullis.xfer\",\"device.id\":\"1-2\","  \
	"\"device.serial_number\":\"AA00000000011111\",\"file.device.fstype\":\"ext4\","           \
	"\"observability.open_close\":true,\"observability.create_delete_rename\":true,"           \
	"\"file.path\":\"small/f0001\",\"process.pid\":12345,\"portcullis.attribution\":\"open\"," \
	"\"user.id\":0,\"user.name\":\"root\",\"process.executable\":\"/usr/bin/cp\","             \
	"\"file.hash.sha256\":"                                                                    \
	"\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","                    \
	"\"file.size\":4096}\n"

int main(int argc, char **argv)
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
	static char lines[PER_GROUP * sizeof(LINE)], work[sizeof(lines)];
	long groups = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	struct json_object *dev = json_object_new_object();
	struct timespec a, b;

	if (groups <= 0 || dev == NULL)
		return 2;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		jsonx_set_str(dev, keys[i], "a value of the device's, as long as most");
	jsonx_set(dev, "usb.interfaces", json_object_new_array());
	struct exlog_src src = {dev, "sdb1", "1-2"};
	for (int i = 0; i < PER_GROUP; i++)
		memcpy(lines + i * (sizeof(LINE) - 1), LINE, sizeof(LINE) - 1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	for (long g = 0; g < groups; g++) {
		bool written = false;
		memcpy(work, lines, sizeof(lines));
		for (char *p = work; *p != '\0';) {
			char *next = exlog_take(NULL, &src, p, &written);
			if (next == p)
				return 1; /* not taken: the line is not a file record */
			p = next;
		}
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3;
	printf("%ld groups of %d records: %.2f us per record\n", groups, PER_GROUP,
	       us / ((double)groups * PER_GROUP));
	json_object_put(dev);
	return 0;
}
