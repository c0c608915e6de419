/*
 * wipe_opts.c - the command line of `portcullis wipe --local|--check|--identify`: the
 * usage text and the options, one table row each. Linked by the portcullis CLI and by
 * portcullis-wipe (root; the portcullisd parent writes its arguments). Every argument is
 * untrusted: numbers are range-checked, names length-checked, a descriptor must be open.
 */
#include "wipe_opts.h"

#include "commands.h"
#include "wipe.h"
#include "wipe_crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void wipe_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: portcullis wipe USB-DEVICE                 finish and wipe an approved medium\n"
	    "       portcullis wipe --local [OPTIONS] DEVICE   wipe, verify, certify (root)\n"
	    "       portcullis wipe --check DEVICE             pre-checks only\n"
	    "       portcullis wipe --identify DEVICE          print the identity record\n"
	    "       portcullis wipe key-init --key-out PEM     make this PC's wipe key (root)\n"
	    "options:\n"
	    "  --identity FILE   refuse unless DEVICE still matches this identity record\n"
	    "  --cert PREFIX     write PREFIX.json (signed), PREFIX.txt and PREFIX.html\n"
	    "                    (new files only: an existing file is never overwritten)\n"
	    "  --cert-dir-fd N   make them in the directory open as descriptor N\n"
	    "  --sign-key PEM    Ed25519 private key that signs the certificate\n"
	    "  --operator NAME   who ran the wipe (default: the invoking user)\n"
	    "  --approval ID     the approval that covered this medium\n"
	    "  --method overwrite|crypto-erase|crypto-erase+overwrite|auto\n"
	    "                    crypto-erase: destroy the LUKS headers and keyslots, verify\n"
	    "                    (default overwrite: the keyed pattern over every byte;\n"
	    "                    auto: crypto-erase+overwrite for a LUKS container)\n"
	    "  --mkfs vfat|none  filesystem afterwards (default vfat)\n"
	    "  --no-discard      do not discard (TRIM) after the verified pass\n"
	    "  --chunk BYTES     I/O size (default 4 MiB)\n"
	    "  --user NAME       unprivileged user for the wiper (default nobody)\n"
	    "  --json            progress and outcome as JSON lines (for portcullisd)\n"
	    "  --expect-dev MAJ:MIN, --expect-size BYTES\n"
	    "                    refuse unless the open device is this one, this size\n"
	    "  --usb-ids VID:PID, --usb-serial=S, --usb-hash=H\n"
	    "                    the USB device the medium belongs to (certificate; refused\n"
	    "                    when the medium's own USB device differs)\n");
}

/* How a row's argument is taken: a flag set or cleared, a string kept, or a value
 * checked by its own function (cert-dir-fd, expect-size, chunk, method). */
enum opt_kind { OPT_SET, OPT_CLEAR, OPT_STR, OPT_FD, OPT_SIZE, OPT_CHUNK, OPT_METHOD, OPT_HELP };

struct opt_row {
	const char *name;
	enum opt_kind kind;
	size_t field; /* offsetof in struct wipe_opts (OPT_SET, OPT_CLEAR, OPT_STR) */
};

#define F(m) offsetof(struct wipe_opts, m)
static const struct opt_row rows[] = {
    {"local", OPT_SET, F(local)},
    {"check", OPT_SET, F(check)},
    {"identify", OPT_SET, F(identify)},
    {"identity", OPT_STR, F(identity)},
    {"cert", OPT_STR, F(cert)},
    {"cert-dir-fd", OPT_FD, 0},
    {"sign-key", OPT_STR, F(sign_key)},
    {"operator", OPT_STR, F(op)},
    {"approval", OPT_STR, F(approval)},
    {"mkfs", OPT_STR, F(mkfs)},
    {"no-discard", OPT_CLEAR, F(discard)},
    {"chunk", OPT_CHUNK, 0},
    {"user", OPT_STR, F(user)},
    {"json", OPT_SET, F(json)},
    {"expect-dev", OPT_STR, F(expect_dev)},
    {"expect-size", OPT_SIZE, 0},
    {"usb-ids", OPT_STR, F(usb_ids)},
    {"usb-serial", OPT_STR, F(usb_serial)},
    {"usb-hash", OPT_STR, F(usb_hash)},
    {"method", OPT_METHOD, 0},
    {"help", OPT_HELP, 0},
};
#undef F
#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* The value of a checked option into o: 0, or the subcommand's exit code. */
static int take_value(const struct opt_row *row, const char *arg, struct wipe_opts *o)
{
	char *end;
	long v;

	errno = 0;
	switch (row->kind) {
	case OPT_FD:
		v = strtol(arg, &end, 10);
		if (errno || *end || v < 3 || v > 1023 || fcntl((int)v, F_GETFD) < 0)
			return pcl_fail("--cert-dir-fd %s: not an open descriptor", arg);
		o->cert_dir_fd = (int)v;
		return 0;
	case OPT_SIZE:
		o->expect_size = strtoull(arg, &end, 10);
		if (errno || *end || end == arg || o->expect_size == 0) {
			fprintf(stderr, "portcullis: --expect-size '%s': not a size\n", arg);
			return 2;
		}
		return 0;
	case OPT_CHUNK:
		v = strtol(arg, &end, 10);
		if (errno || *end || v < 4096 || v > (64 << 20) || v % 4096) {
			fprintf(stderr,
				"portcullis: --chunk '%s': want a multiple of 4096 between 4096 "
				"and 64 MiB\n",
				arg);
			return 2;
		}
		o->chunk = (int)v;
		return 0;
	case OPT_METHOD:
		if (wipe_method_parse(arg, &o->crypto, &o->overwrite) == 0)
			return 0;
		fprintf(stderr,
			"portcullis: --method '%s': want overwrite, crypto-erase, "
			"crypto-erase+overwrite or auto\n",
			arg);
		return 2;
	default:
		return 0;
	}
}

/* One option of the table into o: 0, -1 after --help, or the subcommand's exit code. */
static int take_option(const struct opt_row *row, const char *arg, struct wipe_opts *o)
{
	char *base = (char *)o;

	switch (row->kind) {
	case OPT_SET:
		*(int *)(void *)(base + row->field) = 1;
		return 0;
	case OPT_CLEAR:
		*(int *)(void *)(base + row->field) = 0;
		return 0;
	case OPT_STR:
		*(const char **)(void *)(base + row->field) = arg;
		return 0;
	case OPT_HELP:
		wipe_usage(stdout);
		return -1;
	default:
		return take_value(row, arg, o);
	}
}

/* What no single option can say: a device and a mode, a known filesystem, a short user. */
static int check_opts(int argc, char **argv, struct wipe_opts *o)
{
	if (optind != argc - 1 || (!o->local && !o->check && !o->identify)) {
		wipe_usage(stderr);
		return 2;
	}
	if (strcmp(o->mkfs, "vfat") != 0 && strcmp(o->mkfs, "none") != 0) {
		fprintf(stderr, "portcullis: --mkfs '%s': want vfat or none\n", o->mkfs);
		return 2;
	}
	if (strlen(o->user) >= 64) {
		fprintf(stderr, "portcullis: --user: name too long\n");
		return 2;
	}
	o->device = argv[optind];
	return 0;
}

int wipe_opts_parse(int argc, char **argv, struct wipe_opts *o)
{
	struct option lo[NROWS + 1];
	int c, r;

	for (size_t i = 0; i < NROWS; i++) {
		int takes = rows[i].kind != OPT_SET && rows[i].kind != OPT_CLEAR &&
			    rows[i].kind != OPT_HELP;
		lo[i] = (struct option){rows[i].name, takes ? required_argument : no_argument, NULL,
					256 + (int)i};
	}
	lo[NROWS] = (struct option){NULL, 0, NULL, 0};
	*o = (struct wipe_opts){.discard = 1,
				.mkfs = "vfat",
				.user = "nobody",
				.chunk = (int)WIPE_CHUNK_DEFAULT,
				.cert_dir_fd = -1,
				.overwrite = 1};
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c < 256 || c >= 256 + (int)NROWS) {
			fprintf(stderr, "portcullis: wipe: bad option '%s'\n", argv[optind - 1]);
			wipe_usage(stderr);
			return 2;
		}
		r = take_option(&rows[c - 256], optarg, o);
		if (r != 0)
			return r;
	}
	return check_opts(argc, argv, o);
}
