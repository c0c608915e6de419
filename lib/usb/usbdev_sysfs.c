/*
 * usbdev_sysfs.c - a USB device's identity read from sysfs, and its
 * USBGuard-compatible hash. Linked by the engine, the CLI and tests.
 * Paths come from the kernel (or udev); attribute contents are partly
 * device-controlled (strings, descriptors) and are length-checked here.
 * Plain open/read/realpath only, so umockdev's preload can serve them; a path the
 * kernel gave (the engine's uevent) is used as it is, without realpath. Reads
 * eight files per device on the gate's path: the device's product, serial,
 * descriptors, manufacturer and port/connect_type, and its hub's product,
 * serial and descriptors (ids, classes and interfaces come from descriptors);
 * five when the caller already knows the hub's hash.
 */
#include "usbdev.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

static int hash_parts(const void *const *parts, const size_t *lens, size_t n, char out[48])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (ctx == NULL)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, parts[i], lens[i]);
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	if (!ok || mdlen != 32)
		return -EIO;
	EVP_EncodeBlock((unsigned char *)out, md, 32); /* 44 chars + NUL */
	return 0;
}

int usbdev_hash_string(const char *s, char out[48])
{
	const void *parts[1] = {s};
	size_t lens[1] = {strlen(s)};

	return hash_parts(parts, lens, 1, out);
}

/* Linux root hubs (1d6b:0001..0003) are hashed with bcdDevice zeroed, as USBGuard does. */
static bool is_linux_root_hub_desc(const uint8_t *d, size_t len)
{
	if (len < 18 || d[0] != 18 || d[1] != 1)
		return false;
	return d[8] == 0x6b && d[9] == 0x1d && d[11] == 0 && d[10] >= 1 && d[10] <= 3;
}

int usbdev_hash(const char *name, const char *vid, const char *pid, const char *serial,
		const uint8_t *desc, size_t desc_len, char out[48])
{
	uint8_t devdesc[18];
	const void *parts[6] = {name, vid, pid, serial, desc, NULL};
	size_t lens[6] = {strlen(name), strlen(vid), strlen(pid), strlen(serial), desc_len, 0};

	if (is_linux_root_hub_desc(desc, desc_len)) {
		memcpy(devdesc, desc, sizeof(devdesc));
		devdesc[12] = devdesc[13] = 0;
		parts[4] = devdesc;
		lens[4] = sizeof(devdesc);
		parts[5] = desc + 18;
		lens[5] = desc_len - 18;
		return hash_parts(parts, lens, 6, out);
	}
	return hash_parts(parts, lens, 5, out);
}

/*
 * Read a whole attribute file into buf (at most cap bytes). Returns the
 * length, -ENOENT when absent, -EFBIG when longer than cap, or -errno.
 * Usually one read() per file (see below): each is on the gate's path.
 */
static ssize_t read_attr(const char *dir, const char *name, char *buf, size_t cap)
{
	char path[PATH_MAX];
	size_t got = 0;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r = read(fd, buf + got, cap - got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return r;
		}
		if (r == 0)
			break;
		/* Less than asked for and than a page: the end, without a second read to learn
		 * it (a regular file and a sysfs attribute give all they have at once, a binary
		 * one such as descriptors a page at most per read). */
		bool short_read = (size_t)r < cap - got && (size_t)r < 4096;
		got += (size_t)r;
		if (short_read)
			break;
		if (got == cap) {
			char extra;

			r = read(fd, &extra, 1);
			close(fd);
			return r > 0 ? -EFBIG : (ssize_t)got;
		}
	}
	close(fd);
	return (ssize_t)got;
}

/*
 * Read a text attribute as the kernel formats it ("value\n") into out
 * (NUL-terminated, newline removed). Absent optional attributes give "".
 */
static int read_text(const char *dir, const char *name, bool optional, char *out, size_t outlen,
		     struct pcl_diag *diag)
{
	char buf[USBDEV_STR_MAX + 2];
	ssize_t n = read_attr(dir, name, buf, sizeof(buf));

	out[0] = '\0';
	if (n == -ENOENT && optional)
		return 0;
	if (n == -EFBIG || (n >= 0 && (size_t)n > outlen)) {
		pcl_diag_set(diag, dir, 0, "attribute %s: value longer than %zu bytes", name,
			     outlen - 1);
		return -EINVAL;
	}
	if (n < 0) {
		pcl_diag_set(diag, dir, 0, "attribute %s: %s", name, strerror((int)-n));
		return (int)n;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if ((size_t)n >= outlen) {
		pcl_diag_set(diag, dir, 0, "attribute %s: value longer than %zu bytes", name,
			     outlen - 1);
		return -EINVAL;
	}
	if (memchr(buf, '\0', (size_t)n) != NULL) {
		pcl_diag_set(diag, dir, 0, "attribute %s: contains a NUL byte", name);
		return -EINVAL;
	}
	memcpy(out, buf, (size_t)n);
	out[n] = '\0';
	return 0;
}

/*
 * Is kernel name `name` a root hub ("usbN")? Linux names a root hub usbN and every other
 * USB device BUS-PORT[.PORT...], whose parent is always a hub: so a device's parent is
 * another USB device exactly when the device is not a root hub, and no file need be read
 * to tell (the engine's gate reads as few sysfs files as it can).
 */
bool usbdev_is_root_hub_name(const char *name)
{
	if (strncmp(name, "usb", 3) != 0 || name[3] == '\0')
		return false;
	for (const char *c = name + 3; *c != '\0'; c++)
		if (*c < '0' || *c > '9')
			return false;
	return true;
}

/*
 * Read what a device's USBGuard hash covers from directory abs: the product and serial
 * strings and the descriptors blob (into desc, parsed into dev), the ids taken from the
 * device descriptor as USBGuard takes them. Fills dev->sysname, ids, classes,
 * interfaces, product, serial and hash.
 */
static int read_hashed(const char *abs, struct usbdev *dev, uint8_t *desc, struct pcl_diag *diag)
{
	char vid[8], pid[8];
	const char *slash = strrchr(abs, '/');
	ssize_t dlen;
	int rc;

	if (slash == NULL || strlen(slash + 1) >= sizeof(dev->sysname)) {
		pcl_diag_set(diag, abs, 0, "kernel name of the device is too long");
		return -EINVAL;
	}
	snprintf(dev->sysname, sizeof(dev->sysname), "%s", slash + 1);
	if ((rc = read_text(abs, "product", true, dev->product, sizeof(dev->product), diag)) != 0 ||
	    (rc = read_text(abs, "serial", true, dev->serial, sizeof(dev->serial), diag)) != 0)
		return rc;
	dlen = read_attr(abs, "descriptors", (char *)desc, USBDEV_DESC_MAX);
	if (dlen < 0) {
		pcl_diag_set(diag, abs, 0, "attribute descriptors: %s",
			     dlen == -EFBIG ? "too large" : strerror((int)-dlen));
		return dlen == -EFBIG ? -EINVAL : (int)dlen;
	}
	rc = usbdesc_parse(desc, (size_t)dlen, dev, diag);
	if (rc != 0) {
		char msg[PCL_DIAG_MSG_MAX];

		if (diag != NULL) {
			memcpy(msg, diag->msg, sizeof(msg));
			msg[sizeof(msg) - 1] = '\0';
			pcl_diag_set(diag, abs, 0, "descriptors: %.200s", msg);
		}
		return rc;
	}
	/* The kernel's idVendor/idProduct are these two fields, printed "%04x". */
	snprintf(vid, sizeof(vid), "%04x", dev->vid);
	snprintf(pid, sizeof(pid), "%04x", dev->pid);
	return usbdev_hash(dev->product, vid, pid, dev->serial, desc, (size_t)dlen, dev->hash);
}

static int read_identity(const char *sysroot, const char *abs, const char *hub_hash,
			 struct usbdev *dev, uint8_t *desc, struct pcl_diag *diag)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(abs, '/');
	struct usbdev *pd;
	int rc;

	if ((rc = read_hashed(abs, dev, desc, diag)) != 0 ||
	    (rc = read_text(abs, "manufacturer", true, dev->manufacturer, sizeof(dev->manufacturer),
			    diag)) != 0 ||
	    (rc = read_text(abs, "port/connect_type", true, dev->connect_type,
			    sizeof(dev->connect_type), diag)) != 0)
		return rc;

	/* Parent: a hub (another USB device), or the host controller for a root hub. */
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - abs), abs);
	dev->parent_sysname[0] = '\0';
	dev->is_root_hub = usbdev_is_root_hub_name(dev->sysname);
	if (dev->is_root_hub) {
		/* USBGuard hashes the parent's path relative to /sys: "/devices/pci0000:00/..." */
		return usbdev_hash_string(parent + strlen(sysroot), dev->parent_hash);
	}
	/* Only the hub's own hash is needed, not its identity up to the root; none of its
	 * files when the caller knows it. */
	if (hub_hash != NULL) {
		snprintf(dev->parent_sysname, sizeof(dev->parent_sysname), "%s",
			 strrchr(parent, '/') + 1);
		snprintf(dev->parent_hash, sizeof(dev->parent_hash), "%s", hub_hash);
		return 0;
	}
	pd = calloc(1, sizeof(*pd));
	if (pd == NULL)
		return -ENOMEM;
	rc = read_hashed(parent, pd, desc, diag);
	if (rc == 0) {
		memcpy(dev->parent_hash, pd->hash, sizeof(dev->parent_hash));
		snprintf(dev->parent_sysname, sizeof(dev->parent_sysname), "%s", pd->sysname);
	}
	free(pd);
	return rc;
}

/* Does path name a directory plainly, with no empty, "." or ".." part (so that it is
 * what it says without being resolved)? */
static bool plain_path(const char *path)
{
	for (const char *p = path; *p != '\0';) {
		if (*p++ != '/')
			return false;
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p = end;
	}
	return path[0] == '/';
}

/* resolve: realpath of syspath (a path from anyone); otherwise syspath is the kernel's own
 * (a uevent's DEVPATH under sysroot), taken as it is once it is plain. */
static int from_sysfs(const char *sysroot, const char *syspath, bool resolve, const char *hub_hash,
		      struct usbdev *out, struct pcl_diag *diag)
{
	char abs[PATH_MAX], devices[PATH_MAX];
	struct usbdev *dev;
	uint8_t *desc;
	int rc;

	if (syspath == NULL || out == NULL) {
		pcl_diag_set(diag, "<sysfs>", 0, "no device path");
		return -EINVAL;
	}
	if (!resolve) {
		if (strlen(syspath) >= sizeof(abs) || !plain_path(syspath)) {
			pcl_diag_set(diag, syspath, 0, "not a plain absolute path");
			return -EINVAL;
		}
		memcpy(abs, syspath, strlen(syspath) + 1);
	} else if (realpath(syspath, abs) == NULL) {
		rc = -errno;
		pcl_diag_set(diag, syspath, 0, "%s", strerror(errno));
		return rc;
	}
	int n = snprintf(devices, sizeof(devices), "%s/devices/", sysroot);
	if (n < 0 || (size_t)n >= sizeof(devices) || strncmp(abs, devices, (size_t)n) != 0) {
		pcl_diag_set(diag, syspath, 0, "not a device under %s/devices (resolves to %s)",
			     sysroot, abs);
		return -EINVAL;
	}
	dev = calloc(1, sizeof(*dev));
	desc = malloc(USBDEV_DESC_MAX);
	if (dev == NULL || desc == NULL) {
		free(dev);
		free(desc);
		return -ENOMEM;
	}
	rc = read_identity(sysroot, abs, hub_hash, dev, desc, diag);
	if (rc == 0)
		*out = *dev;
	free(desc);
	free(dev);
	return rc;
}

int usbdev_from_sysfs(const char *syspath, struct usbdev *dev, struct pcl_diag *diag)
{
	return from_sysfs("/sys", syspath, true, NULL, dev, diag);
}

int usbdev_from_sysfs_at(const char *sysroot, const char *syspath, struct usbdev *dev,
			 struct pcl_diag *diag)
{
	return from_sysfs(sysroot, syspath, true, NULL, dev, diag);
}

int usbdev_from_devpath(const char *syspath, const char *hub_hash, struct usbdev *dev,
			struct pcl_diag *diag)
{
	return from_sysfs("/sys", syspath, false, hub_hash, dev, diag);
}

int usbdev_from_devpath_at(const char *sysroot, const char *syspath, const char *hub_hash,
			   struct usbdev *dev, struct pcl_diag *diag)
{
	return from_sysfs(sysroot, syspath, false, hub_hash, dev, diag);
}
