/*
 * fuzz_xferlog.c - libFuzzer harness for the engine's taking of a transfer log's file
 * records as one group (daemon/engine_xferlog.c): whatever bytes the watcher sends, the
 * read is walked to its end as the engine walks it (a group, then one line left to the
 * caller), every line is taken at most once and never past its newline, at most 64 records
 * make a group, and each record taken is a file record with the volume and port set and
 * the device's fields the engine's: no key of the engine's that the device does not have,
 * each it has with the device's value.
 * The engine's recording is a seam; a group is refused now and then.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine_xferlog.h"
#include "jsonx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned calls;
static struct json_object *device, *current; /* the device's fields; this input's */

static bool engines(const char *k)
{
	static const char *const prefixes[] = {"usb.",	    "volume.",	"rule.",
					       "approval.", "council.", "portcullis.approval."};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(k, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return strcmp(k, "portcullis.state") == 0 || strcmp(k, "wipe.plan") == 0;
}

static void check(struct json_object *rec)
{
	const char *a = jsonx_get_str(rec, "event.action");

	if (a == NULL || strncmp(a, "file-", 5) != 0 ||
	    strcmp(jsonx_get_str(rec, "volume.device_name") ?: "", "sdb1") != 0 ||
	    strcmp(jsonx_get_str(rec, "usb.port") ?: "", "1-2") != 0 ||
	    json_object_object_get_ex(rec, "@timestamp", NULL))
		abort();
	json_object_object_foreach(rec, k, v)
	{
		struct json_object *d;
		if (!engines(k) || strcmp(k, "volume.device_name") == 0 ||
		    strcmp(k, "usb.port") == 0)
			continue;
		if (current == NULL || !json_object_object_get_ex(current, k, &d) ||
		    !json_object_equal(d, v))
			abort();
	}
}

int engine_record_group(struct engine *e, struct json_object *const *recs, size_t n,
			struct json_object *common)
{
	(void)e;
	if (n == 0 || n > 64 || common == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		/* The record as the trail writes it: its own fields, then the engine's, none
		 * twice. */
		struct json_object *rec = json_object_new_object();
		json_object_object_foreach(recs[i], k, v)
		{
			json_object_object_add(rec, k, json_object_get(v));
		}
		json_object_object_foreach(common, ck, cv)
		{
			if (json_object_object_get_ex(recs[i], ck, NULL))
				abort();
			json_object_object_add(rec, ck, json_object_get(cv));
		}
		check(rec);
		json_object_put(rec);
	}
	return ++calls % 7 == 0 ? -EINVAL : 0;
}

int engine_record_grouped(struct engine *e, struct json_object *rec)
{
	(void)e;
	check(rec);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exlog_src src = {NULL, "sdb1", "1-2"};
	char *buf;

	if (device == NULL) {
		device = json_object_new_object();
		jsonx_set_str(device, "volume.serial_number", "AA00000000011111");
		jsonx_set_str(device, "usb.hash", "7DjZpvQXmfIre/yuRsiCsds+ispnl3z1d68TZ6e+XHM=");
		jsonx_set_str(device, "portcullis.state", "allowed");
		jsonx_set_str(device, "rule.id", "rules.conf:1");
	}
	src.device = current = size % 2 ? device : NULL; /* with the device's fields, without */

	if (size > 65536)
		return 0;
	/* The engine's buffer: what was read, NUL-terminated. */
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *p = buf, *end = buf + strlen(buf);
	for (;;) {
		bool written = false;
		char *rest = exlog_take(NULL, &src, p, &written);
		if (rest < p || rest > end || (rest > p && rest[-1] != '\n'))
			abort();
		char *nl = strchr(rest, '\n');
		if (nl == NULL)
			break;
		p = nl + 1; /* the line left to the caller */
	}
	free(buf);
	return 0;
}
