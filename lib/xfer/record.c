/*
 * record.c - ECS-style json-c records of transfers, pseudonymisation of
 * paths and serial numbers (HMAC-SHA256, data minimisation), the notice shown
 * at first insertion, and the /proc lookup of the process behind an event.
 * Linked by portcullis-xferwatch. Inputs: the tracker's decoded events;
 * /proc contents of other users' processes are parsed defensively.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "xfer_internal.h"
#include "hex.h"

/* Records are flat ECS objects ("event.action": ...), as the audit trail stores them. */
void xfer_rec_set_str(struct json_object *rec, const char *key, const char *value)
{
	json_object_object_add(rec, key, json_object_new_string(value ? value : ""));
}

void xfer_rec_set_int(struct json_object *rec, const char *key, int64_t value)
{
	json_object_object_add(rec, key, json_object_new_int64(value));
}

void xfer_rec_set_bool(struct json_object *rec, const char *key, bool value)
{
	json_object_object_add(rec, key, json_object_new_boolean(value));
}

int xfer_pseudonym(const struct xfer_config *cfg, const char *in, char *out, size_t outlen)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;
	if (outlen < 12 + 64 + 1)
		return -ENOSPC;
	if (HMAC(EVP_sha256(), cfg->pseudo_key, (int)cfg->pseudo_key_len, (const unsigned char *)in,
		 strlen(in), mac, &maclen) == NULL)
		return -EIO;
	strcpy(out, "hmac-sha256:");
	pcl_hex_encode(out + 12, mac, maclen < 32 ? maclen : 32);
	explicit_bzero(mac, sizeof(mac));
	return 0;
}

static void set_maybe_pseudo(struct json_object *rec, const char *path,
			     const struct xfer_config *cfg, const char *value)
{
	if (value == NULL)
		return;
	char buf[96];
	if (cfg->pseudonymise) {
		if (xfer_pseudonym(cfg, value, buf, sizeof(buf)) < 0)
			strcpy(buf, "hmac-sha256:unavailable");
		xfer_rec_set_str(rec, path, buf);
	} else {
		xfer_rec_set_str(rec, path, value);
	}
}

struct json_object *xfer_rec_new(const char *action, const struct xfer_device *dev,
				 const struct xfer_config *cfg, const struct xfer_obs *obs)
{
	struct json_object *rec = json_object_new_object();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[64];
	size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000L);
	xfer_rec_set_str(rec, "event.created", when); /* the trail adds @timestamp */
	xfer_rec_set_str(rec, "event.action", action);
	xfer_rec_set_str(rec, "event.category", "file");
	xfer_rec_set_str(rec, "event.module", "portcullis.xfer");
	if (dev != NULL) {
		if (dev->id)
			xfer_rec_set_str(rec, "device.id", dev->id);
		set_maybe_pseudo(rec, "device.serial_number", cfg, dev->serial);
		if (dev->approval_id)
			xfer_rec_set_str(rec, "portcullis.approval.id", dev->approval_id);
		if (dev->fstype)
			xfer_rec_set_str(rec, "file.device.fstype", dev->fstype);
	}
	if (cfg->pseudonymise)
		xfer_rec_set_bool(rec, "portcullis.pseudonymised", true);
	if (obs != NULL) {
		xfer_rec_set_bool(rec, "observability.open_close", true);
		xfer_rec_set_bool(rec, "observability.create_delete_rename", obs->fid_events);
		if (!obs->fid_events) {
			struct json_object *un = json_object_new_array();
			json_object_array_add(un, json_object_new_string("create"));
			json_object_array_add(un, json_object_new_string("delete"));
			json_object_array_add(un, json_object_new_string("rename"));
			json_object_object_add(rec, "observability.unobserved", un);
			xfer_rec_set_str(rec, "observability.reason", obs->reason);
		}
	}
	return rec;
}

void xfer_rec_set_path(struct json_object *rec, const char *path, const struct xfer_config *cfg,
		       const char *relpath)
{
	set_maybe_pseudo(rec, path, cfg, relpath);
}

void xfer_rec_set_actor(struct json_object *rec, pid_t pid, const struct xfer_proc_info *info,
			const char *user_name, const char *attribution)
{
	xfer_rec_set_int(rec, "process.pid", pid);
	xfer_rec_set_str(rec, "portcullis.attribution", attribution);
	if (info == NULL)
		return;
	xfer_rec_set_int(rec, "user.id", info->uid);
	if (info->euid != info->uid)
		xfer_rec_set_int(rec, "user.effective.id", info->euid);
	if (user_name != NULL && user_name[0] != '\0')
		xfer_rec_set_str(rec, "user.name", user_name);
	xfer_rec_set_str(rec, "process.executable", info->exe);
}

int xfer_notice_text(unsigned retention_days, char *buf, size_t len)
{
	return snprintf(buf, len,
			"This device has been approved for use on a council computer. While it "
			"is connected, every file copied to it or from it is logged: the file "
			"name, size and a fingerprint (SHA-256), the user, the program used and "
			"the time. File contents are not recorded. Files read from the device "
			"are checked for malware when scanning is enabled. The log is kept for "
			"%u days for the council's information security audit and may be "
			"reviewed by the council's IT provider.",
			retention_days);
}

int xfer_parse_proc_status(const char *buf, size_t len, uid_t *uid, uid_t *euid)
{
	/* "Uid:\t<real>\t<effective>\t<saved>\t<fs>" at the start of a line. The
	 * kernel escapes control characters in the Name: line, so a process cannot
	 * forge a line; still, only whole lines inside buf are considered. */
	size_t off = 0;
	while (off < len) {
		const char *line = buf + off;
		const char *nl = memchr(line, '\n', len - off);
		size_t n = nl ? (size_t)(nl - line) : len - off;
		off += n + 1;
		if (n < 5 || memcmp(line, "Uid:", 4) != 0)
			continue;
		unsigned long v[2];
		size_t i = 4;
		for (int k = 0; k < 2; k++) {
			while (i < n && (line[i] == '\t' || line[i] == ' '))
				i++;
			if (i >= n || line[i] < '0' || line[i] > '9')
				return -EPROTO;
			unsigned long x = 0;
			while (i < n && line[i] >= '0' && line[i] <= '9') {
				if (x > (0xffffffffUL - 9) / 10)
					return -EPROTO;
				x = x * 10 + (unsigned long)(line[i] - '0');
				i++;
			}
			v[k] = x;
		}
		*uid = (uid_t)v[0];
		*euid = (uid_t)v[1];
		return 0;
	}
	return -EPROTO;
}

static int procfs_lookup(void *arg, pid_t pid, struct xfer_proc_info *info)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int err = errno;
	close(fd);
	if (n <= 0)
		return n < 0 ? -err : -ESRCH;
	int rc = xfer_parse_proc_status(buf, (size_t)n, &info->uid, &info->euid);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	ssize_t m = readlink(path, info->exe, sizeof(info->exe) - 1);
	if (m < 0)
		m = 0; /* kernel threads, or the exe is not readable: leave empty */
	info->exe[m] = '\0';
	return 0;
}

const struct xfer_proc_ops xfer_proc_procfs = {.lookup = procfs_lookup};
