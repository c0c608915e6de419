/*
 * identity.c - what identifies a medium: size, vendor/model/serial of the disk and the
 * USB device it hangs off (idVendor, idProduct, serial). Read from sysfs before a wipe
 * and compared with what the approval recorded; JSON form for the record.
 * Linked by the CLI and the daemon parent. sysfs strings come from the device's own
 * descriptors (untrusted: lengths bounded, control characters replaced); the JSON record
 * is parsed strictly.
 */
#include "wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <json-c/json.h>

#define ID_NAME "<identity>"

/* Read a sysfs attribute, trimmed, control characters replaced by '?'; "" if absent. */
static void attr(const char *dir, const char *name, char *out, size_t len)
{
	char path[PATH_MAX + 64];
	int fd;
	ssize_t n;
	size_t s = 0;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, out, len - 1);
	close(fd);
	if (n <= 0) {
		out[0] = '\0';
		return;
	}
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	while (out[s] == ' ')
		s++;
	memmove(out, out + s, (size_t)n - s + 1);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			*p = '?';
}

int wipe_identity_read(const struct wipe_sysroot *root, dev_t disk, struct wipe_identity *id)
{
	char dir[512], real[PATH_MAX], rroot[PATH_MAX], val[32], *slash;
	unsigned long long sectors;

	memset(id, 0, sizeof(*id));
	snprintf(dir, sizeof(dir), "%s/dev/block/%u:%u", root->sysfs, major(disk), minor(disk));
	if (realpath(dir, real) == NULL || realpath(root->sysfs, rroot) == NULL)
		return -ENODEV;
	attr(real, "size", val, sizeof(val));
	if (sscanf(val, "%llu", &sectors) != 1 || sectors > UINT64_MAX / 512)
		return -EIO;
	id->size = (uint64_t)sectors * 512;
	attr(real, "device/vendor", id->vendor, sizeof(id->vendor));
	attr(real, "device/model", id->model, sizeof(id->model));
	attr(real, "serial", id->serial, sizeof(id->serial));
	if (id->serial[0] == '\0')
		attr(real, "device/serial", id->serial, sizeof(id->serial));
	if (id->vendor[0] == '\0' && id->model[0] == '\0') {
		char backing[128];

		attr(real, "loop/backing_file", backing, sizeof(backing));
		if (backing[0] != '\0') {
			snprintf(id->vendor, sizeof(id->vendor), "Linux");
			snprintf(id->model, sizeof(id->model), "loop");
			snprintf(id->serial, sizeof(id->serial), "%s", backing);
		}
	}
	/* Walk up to the USB device (the first ancestor with idVendor). */
	while ((slash = strrchr(real, '/')) != NULL && strlen(real) > strlen(rroot)) {
		struct stat st;
		char path[PATH_MAX + 16];

		*slash = '\0';
		snprintf(path, sizeof(path), "%s/idVendor", real);
		if (stat(path, &st) != 0)
			continue;
		attr(real, "idVendor", id->usb_vid, sizeof(id->usb_vid));
		attr(real, "idProduct", id->usb_pid, sizeof(id->usb_pid));
		attr(real, "serial", id->usb_serial, sizeof(id->usb_serial));
		snprintf(id->usb_path, sizeof(id->usb_path), "%s", strrchr(real, '/') + 1);
		break;
	}
	return 0;
}

int wipe_identity_compare(const struct wipe_identity *e, const struct wipe_identity *n,
			  struct pcl_diag *d)
{
	const struct {
		const char *name, *a, *b;
	} f[] = {
	    {"serial", e->serial, n->serial},	 {"vendor", e->vendor, n->vendor},
	    {"model", e->model, n->model},	 {"usb_vid", e->usb_vid, n->usb_vid},
	    {"usb_pid", e->usb_pid, n->usb_pid}, {"usb_serial", e->usb_serial, n->usb_serial},
	};

	if (e->size != n->size) {
		pcl_diag_set(d, "", 0, "identity changed: size was %" PRIu64 " bytes, now %" PRIu64,
			     e->size, n->size);
		return -EPERM;
	}
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcmp(f[i].a, f[i].b) != 0) {
			pcl_diag_set(d, "", 0, "identity changed: %s was '%.40s', now '%.40s'",
				     f[i].name, f[i].a, f[i].b);
			return -EPERM;
		}
	return 0;
}

int wipe_identity_to_json(const struct wipe_identity *id, char *buf, size_t len)
{
	json_object *o = json_object_new_object();
	int n;

	if (o == NULL)
		return -ENOMEM;
	json_object_object_add(o, "model", json_object_new_string(id->model));
	json_object_object_add(o, "serial", json_object_new_string(id->serial));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)id->size));
	json_object_object_add(o, "usb_path", json_object_new_string(id->usb_path));
	json_object_object_add(o, "usb_pid", json_object_new_string(id->usb_pid));
	json_object_object_add(o, "usb_serial", json_object_new_string(id->usb_serial));
	json_object_object_add(o, "usb_vid", json_object_new_string(id->usb_vid));
	json_object_object_add(o, "vendor", json_object_new_string(id->vendor));
	n = snprintf(buf, len, "%s",
		     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

int wipe_identity_from_json(const char *text, size_t len, struct wipe_identity *id,
			    struct pcl_diag *d)
{
	const struct {
		const char *name;
		char *out;
		size_t len;
	} f[] = {
	    {"vendor", id->vendor, sizeof(id->vendor)},
	    {"model", id->model, sizeof(id->model)},
	    {"serial", id->serial, sizeof(id->serial)},
	    {"usb_vid", id->usb_vid, sizeof(id->usb_vid)},
	    {"usb_pid", id->usb_pid, sizeof(id->usb_pid)},
	    {"usb_serial", id->usb_serial, sizeof(id->usb_serial)},
	    {"usb_path", id->usb_path, sizeof(id->usb_path)},
	};
	json_tokener *tok;
	json_object *o, *v;
	int rc = -EINVAL;

	memset(id, 0, sizeof(*id));
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	if (len == 0 || len > 65536) {
		pcl_diag_set(d, ID_NAME, 0, "empty or larger than 64 KiB");
		return -EINVAL;
	}
	tok = json_tokener_new_ex(4);
	if (tok == NULL)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (o == NULL || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object)) {
		pcl_diag_set(d, ID_NAME, 0, "not one JSON object");
		goto out;
	}
	json_object_object_foreach(o, key, val)
	{
		int known = strcmp(key, "size") == 0;

		(void)val;
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			known |= strcmp(key, f[i].name) == 0;
		if (!known) {
			pcl_diag_set(d, ID_NAME, 0, "unknown field '%.40s'", key);
			goto out;
		}
	}
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		size_t n;

		if (!json_object_object_get_ex(o, f[i].name, &v) ||
		    !json_object_is_type(v, json_type_string)) {
			pcl_diag_set(d, ID_NAME, 0, "field '%s': missing or not a string",
				     f[i].name);
			goto out;
		}
		n = (size_t)json_object_get_string_len(v);
		if (n >= f[i].len || memchr(json_object_get_string(v), '\0', n) != NULL) {
			pcl_diag_set(d, ID_NAME, 0, "field '%s': longer than %zu bytes", f[i].name,
				     f[i].len - 1);
			goto out;
		}
		memcpy(f[i].out, json_object_get_string(v), n + 1);
	}
	if (!json_object_object_get_ex(o, "size", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) <= 0) {
		pcl_diag_set(d, ID_NAME, 0, "field 'size': missing or not a positive integer");
		goto out;
	}
	id->size = (uint64_t)json_object_get_int64(v);
	rc = 0;
out:
	json_object_put(o);
	json_tokener_free(tok);
	if (rc != 0)
		memset(id, 0, sizeof(*id));
	return rc;
}
