/*
 * wipe_opts.h - the options of `portcullis wipe --local|--check|--identify`
 * (tools/wipe_opts.c), shared by tools/cmd_wipe.c. Linked by the portcullis CLI and by
 * portcullis-wipe (root, its arguments from the portcullisd parent); the command line is
 * untrusted. Tools convention: the caller prints nothing more for a refused line.
 */
#ifndef PCL_TOOLS_WIPE_OPTS_H
#define PCL_TOOLS_WIPE_OPTS_H

#include <stdio.h>

struct wipe_opts {
	int local, check, identify, discard, chunk, cert_dir_fd, json;
	const char *device, *identity, *mkfs, *cert, *sign_key, *op, *approval, *user;
	int crypto, overwrite; /* --method: crypto-erase first, the overwrite (or not) */
	/* What portcullisd verified: the device number and size re-checked once open, and
	 * the USB device it belongs to (named on the certificate, compared when visible). */
	const char *expect_dev, *usb_ids, *usb_serial, *usb_hash;
	unsigned long long expect_size;
};

/* `portcullis wipe`'s usage text. */
void wipe_usage(FILE *f);
/* Parse argv (argv[0] the subcommand) into o: 0, -1 after --help (exit 0), 1 after a
 * pcl_fail line, 2 after a usage error (its message and the usage printed). */
int wipe_opts_parse(int argc, char **argv, struct wipe_opts *o);

#endif
