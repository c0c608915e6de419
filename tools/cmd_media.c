/*
 * cmd_media.c - `portcullis media prepare DEVICE`: the IT provider makes a council stick,
 * a LUKS2 container (Debian's libcryptsetup: aes-xts-plain64, a 512-bit volume key,
 * argon2id) over the whole removable disk, opened by a passphrase and/or a key file,
 * with an exFAT (default) or FAT file system inside. Runs as root in the CLI; the
 * device path and the options are the operator's; the disk's sysfs strings and the
 * mount table are read as untrusted. The passphrase is typed at the terminal without
 * echo (readpassphrase) or read from a descriptor, never an argument; it and the key
 * file's bytes are wiped after use.
 */
#include "commands.h"
#include "wipe.h"

#include <bsd/readpassphrase.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libcryptsetup.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define MEDIA_SECRET_MAX  512  /* passphrase bytes */
#define MEDIA_KEYFILE_MAX 8192 /* cryptsetup's default key file limit */

struct media_opts {
	const char *device, *key_file, *pass_fd, *fs, *label;
	int passphrase;
	unsigned iter_ms; /* argon2id unlock time to aim for; 0: libcryptsetup's default */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: portcullis media prepare [--passphrase] [--passphrase-fd N]\n"
		   "                                [--key-file FILE] [--fs exfat|vfat]\n"
		   "                                [--label NAME] [--iter-time MS] DEVICE\n"
		   "  make DEVICE (a whole removable disk, not mounted) an encrypted council\n"
		   "  stick: LUKS2, opened by the passphrase (typed, or one line from\n"
		   "  descriptor N) and/or the key file, a file system inside. Root only.\n"
		   "  Everything on DEVICE is lost. --iter-time: the key derivation's time\n"
		   "  per unlock on this machine (default 2000 ms, as cryptsetup).\n"
		   "       portcullis media accept DEVICE\n"
		   "  the owner accepts that a stick approved as carrying council data is\n"
		   "  erased when it is ejected; until then it stays switched off.\n"
		   "       portcullis media close-owed REF --reason TEXT\n"
		   "  close an owed wipe by hand (root or the wipe group), with the reason.\n");
}

static void quiet_log(int level, const char *msg, void *usrptr)
{
	(void)usrptr;
	if (level == CRYPT_LOG_ERROR)
		fprintf(stderr, "portcullis: libcryptsetup: %s", msg);
}

/* One line from descriptor `spec` or typed twice at the terminal; its length or -1. */
static int read_passphrase(const char *spec, char *buf, size_t len)
{
	char again[MEDIA_SECRET_MAX];
	size_t n = 0;
	char *end, c;
	ssize_t got;

	if (spec != NULL) {
		errno = 0;
		long fd = strtol(spec, &end, 10);
		if (errno || *end || end == spec || fd < 0 || fd > INT32_MAX)
			return pcl_fail("--passphrase-fd: '%s' is not a file descriptor", spec), -1;
		while ((got = read((int)fd, &c, 1)) == 1 && c != '\n')
			if (n + 1 < len)
				buf[n++] = c;
			else
				return pcl_fail("--passphrase-fd %s: longer than %zu bytes", spec,
						len - 1),
				       -1;
		buf[n] = '\0';
		if (got < 0)
			return pcl_fail("--passphrase-fd %s: %s", spec, strerror(errno)), -1;
	} else {
		if (readpassphrase("New passphrase for the council stick: ", buf, len,
				   RPP_REQUIRE_TTY) == NULL ||
		    readpassphrase("The same passphrase again: ", again, sizeof(again),
				   RPP_REQUIRE_TTY) == NULL) {
			explicit_bzero(again, sizeof(again));
			return pcl_fail("no terminal to type the passphrase at: give "
					"--passphrase-fd N"),
			       -1;
		}
		int same = strcmp(buf, again) == 0;
		explicit_bzero(again, sizeof(again));
		if (!same)
			return pcl_fail("the two passphrases differ"), -1;
	}
	n = strlen(buf);
	if (n < 8)
		return pcl_fail("the passphrase must be at least 8 characters"), -1;
	return (int)n;
}

static int read_key_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return pcl_fail("--key-file %s: %s", path, strerror(errno)), -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 16 ||
	    (size_t)st.st_size > len) {
		close(fd);
		return pcl_fail("--key-file %s: want a regular file of 16 to %zu bytes", path, len),
		       -1;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size)
		return pcl_fail("--key-file %s: short read", path), -1;
	return (int)n;
}

/* Refuse what must not be formatted: not a whole disk, the system disk, anything of it
 * mounted or used as swap (lib/wipe's pre-checks), or a disk that is not removable. */
static int check_device(const char *device, char *why, size_t len)
{
	struct wipe_identity id;
	struct pcl_diag d = {0};
	struct stat st;
	char path[128];
	FILE *f;
	int removable = 0;

	if (stat(device, &st) != 0)
		return snprintf(why, len, "%s", strerror(errno)), -1;
	if (!S_ISBLK(st.st_mode))
		return snprintf(why, len, "not a block device"), -1;
	if (wipe_precheck(&wipe_sysroot_default, st.st_rdev, &d) != 0) {
		pcl_diag_format(&d, why, len);
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/removable", major(st.st_rdev),
		 minor(st.st_rdev));
	if ((f = fopen(path, "re")) != NULL) {
		removable = fgetc(f) == '1';
		fclose(f);
	}
	/* A USB stick's disk may not say removable; its USB ancestor does. */
	if (!removable && wipe_identity_read(&wipe_sysroot_default, st.st_rdev, &id) == 0 &&
	    id.usb_vid[0] != '\0')
		removable = 1;
	if (!removable)
		return snprintf(why, len,
				"not a removable disk (neither removable in sysfs nor "
				"on USB)"),
		       -1;
	return 0;
}

static int run_mkfs(const char *fs, const char *label, const char *dev)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char l[16], d[PATH_MAX];
		snprintf(l, sizeof(l), "%s", label);
		snprintf(d, sizeof(d), "%s", dev);
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		if (strcmp(fs, "vfat") == 0)
			execlp("mkfs.vfat", "mkfs.vfat", "-I", "-n", l, d, (char *)NULL);
		else
			execlp("mkfs.exfat", "mkfs.exfat", "-L", l, d, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/* Format, add the keyslots, open, make the file system, close. */
static int prepare(const struct media_opts *o, const char *pass, size_t plen, const char *key,
		   size_t klen)
{
	struct crypt_device *cd = NULL;
	struct crypt_params_luks2 params = {.sector_size = 512};
	char name[64], mapped[96];
	const char *secret = pass ? pass : key;
	size_t slen = pass ? plen : klen;
	int r, slot;

	snprintf(name, sizeof(name), "portcullis-prepare-%d", (int)getpid());
	snprintf(mapped, sizeof(mapped), "/dev/mapper/%s", name);
	crypt_set_log_callback(NULL, quiet_log, NULL);
	if ((r = crypt_init(&cd, o->device)) < 0)
		return pcl_fail("%s: cannot open: %s", o->device, strerror(-r));
	params.label = o->label;
	if (o->iter_ms != 0) {
		const struct crypt_pbkdf_type *def = crypt_get_pbkdf_default(CRYPT_LUKS2);
		struct crypt_pbkdf_type pbkdf = *def;
		pbkdf.time_ms = o->iter_ms;
		if ((r = crypt_set_pbkdf_type(cd, &pbkdf)) < 0) {
			crypt_free(cd);
			return pcl_fail("--iter-time: %s", strerror(-r));
		}
	}
	r = crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, 64, &params);
	if (r < 0) {
		crypt_free(cd);
		return pcl_fail("%s: LUKS2 format failed: %s", o->device, strerror(-r));
	}
	slot = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, secret, slen);
	if (slot >= 0 && pass != NULL && key != NULL)
		slot = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, key, klen);
	if (slot < 0) {
		crypt_free(cd);
		return pcl_fail("%s: cannot add a keyslot: %s", o->device, strerror(-slot));
	}
	r = crypt_activate_by_passphrase(cd, name, CRYPT_ANY_SLOT, secret, slen, 0);
	if (r < 0) {
		crypt_free(cd);
		return pcl_fail("%s: formatted, but cannot open it to make the file system "
				"(device-mapper: dm-crypt): %s",
				o->device, strerror(-r));
	}
	r = run_mkfs(o->fs, o->label, mapped);
	int d = crypt_deactivate(cd, name);
	crypt_free(cd);
	if (r != 0)
		return pcl_fail("%s: mkfs.%s inside the container failed", o->device, o->fs);
	if (d < 0)
		return pcl_fail("%s: made, but %s could not be closed: %s", o->device, mapped,
				strerror(-d));
	return 0;
}

/* The options of `media prepare` into o, checked: true to go on; false to exit with
 * *status (0 after --help, 2 for a usage error, said on stderr). */
static bool prepare_opts(int argc, char **argv, struct media_opts *o, int *status)
{
	static const struct option lo[] = {
	    {"passphrase", no_argument, NULL, 'p'},
	    {"passphrase-fd", 1, NULL, 'P'},
	    {"key-file", 1, NULL, 'k'},
	    {"fs", 1, NULL, 'f'},
	    {"label", 1, NULL, 'l'},
	    {"iter-time", 1, NULL, 'i'},
	    {"help", 0, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->passphrase = 1;
			break;
		case 'P':
			o->passphrase = 1;
			o->pass_fd = optarg;
			break;
		case 'k':
			o->key_file = optarg;
			break;
		case 'f':
			o->fs = optarg;
			break;
		case 'l':
			o->label = optarg;
			break;
		case 'i': {
			char *end;
			unsigned long v;
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 100 || v > 60000) {
				fprintf(stderr,
					"portcullis: --iter-time '%s': want 100 to 60000 ms\n",
					optarg);
				*status = 2;
				return false;
			}
			o->iter_ms = (unsigned)v;
			break;
		}
		case 'h':
			usage(stdout);
			*status = 0;
			return false;
		default:
			fprintf(stderr, "portcullis: media prepare: bad option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			*status = 2;
			return false;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		*status = 2;
		return false;
	}
	o->device = argv[optind];
	if (!o->passphrase && o->key_file == NULL) {
		fprintf(stderr, "portcullis: media prepare: give --passphrase (typed, or "
				"--passphrase-fd N) and/or --key-file FILE\n");
		*status = 2;
		return false;
	}
	if (strcmp(o->fs, "exfat") != 0 && strcmp(o->fs, "vfat") != 0) {
		fprintf(stderr, "portcullis: --fs '%s': want exfat or vfat\n", o->fs);
		*status = 2;
		return false;
	}
	if (strlen(o->label) == 0 || strlen(o->label) > 11 ||
	    strspn(o->label, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(o->label)) {
		fprintf(stderr, "portcullis: --label '%s': want 1 to 11 of A-Z, 0-9, '-', '_'\n",
			o->label);
		*status = 2;
		return false;
	}
	return true;
}

static int media_prepare(int argc, char **argv)
{
	struct media_opts o = {.fs = "exfat", .label = "COUNCIL"};
	static char pass[MEDIA_SECRET_MAX], key[MEDIA_KEYFILE_MAX];
	char why[300];
	int plen = -1, klen = -1, rc;

	if (!prepare_opts(argc, argv, &o, &rc))
		return rc;
	if (geteuid() != 0)
		return pcl_fail("%s: refused: media prepare must run as root", o.device);
	if (check_device(o.device, why, sizeof(why)) != 0)
		return pcl_fail("%s: refused: %s", o.device, why);
	if (o.key_file != NULL && (klen = read_key_file(o.key_file, key, sizeof(key))) < 0)
		return 1;
	if (o.passphrase && (plen = read_passphrase(o.pass_fd, pass, sizeof(pass))) < 0) {
		explicit_bzero(pass, sizeof(pass)); /* a partial or mismatched one */
		explicit_bzero(key, sizeof(key));
		return 1;
	}
	/* Checked again: nothing may have mounted it while the passphrase was typed. */
	rc = check_device(o.device, why, sizeof(why)) != 0
		 ? pcl_fail("%s: refused: %s", o.device, why)
		 : prepare(&o, plen >= 0 ? pass : NULL, plen >= 0 ? (size_t)plen : 0,
			   klen >= 0 ? key : NULL, klen >= 0 ? (size_t)klen : 0);
	explicit_bzero(pass, sizeof(pass));
	explicit_bzero(key, sizeof(key));
	if (rc != 0)
		return rc;
	printf("%s: council stick made: LUKS2 (aes-xts-plain64), opened by %s%s%s; %s file "
	       "system %s inside\n",
	       o.device, plen >= 0 ? "the passphrase" : "", plen >= 0 && klen >= 0 ? " or " : "",
	       klen >= 0 ? "the key file" : "", o.fs, o.label);
	return 0;
}

int cmd_media(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "prepare") == 0)
		return media_prepare(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "accept") == 0 || strcmp(argv[1], "close-owed") == 0))
		return cmd_media_accept(argc,
					argv); /* the owner's and the Clerk's: over the socket */
	usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
	return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
}
