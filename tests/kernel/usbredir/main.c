/*
 * main.c: pcl-usbredir-dev, a USB device of our choosing for a QEMU guest's real USB
 * stack, over QEMU's usb-redir device:
 *
 *   pcl-usbredir-dev --device token|badusb|lookalike|council (--socket PATH | --connect PATH)
 *                    [--state FILE] [--serial S] [--auto-touch] [--up-timeout MS] [--poll-ms MS]
 *                    [--verbose]
 *
 * --socket listens (the path appears once it accepts; QEMU connects with a client
 * chardev, e.g. QMP chardev-add then device_add usb-redir), --connect dials a QEMU
 * chardev server. The token is touched with SIGUSR1, as portcullis-token-sim; its main
 * loop calls token_poll(--poll-ms) as the RP2350 board does (100 ms, the default). The
 * program ends when QEMU closes the connection (the device was unplugged) or on SIGTERM.
 * A test tool, linked by nothing; its input is its command line and QEMU.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_board.h"
#include "urdev.h"
#include "urdev_devices.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: pcl-usbredir-dev --device token|badusb|lookalike|council (--socket PATH | "
	    "--connect PATH)\n"
	    "                        [--state FILE] [--serial S] [--auto-touch] [--up-timeout MS] "
	    "[--poll-ms MS] [--verbose]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"device", required_argument, NULL, 'd'},
	    {"socket", required_argument, NULL, 's'},
	    {"connect", required_argument, NULL, 'c'},
	    {"state", required_argument, NULL, 'f'},
	    {"serial", required_argument, NULL, 'n'},
	    {"auto-touch", no_argument, NULL, 'a'},
	    {"up-timeout", required_argument, NULL, 'u'},
	    {"poll-ms", required_argument, NULL, 'p'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct urdev_options o = {.up_timeout_ms = 30000, .poll_ms = 100};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.device = optarg;
			break;
		case 's':
			o.listen = optarg;
			break;
		case 'c':
			o.connect = optarg;
			break;
		case 'f':
			o.state = optarg;
			break;
		case 'n':
			o.serial = optarg;
			break;
		case 'a':
			o.auto_touch = 1;
			break;
		case 'u':
			if (sim_board_parse_ms("pcl-usbredir-dev", "--up-timeout", optarg,
					       &o.up_timeout_ms) != 0)
				return 2;
			break;
		case 'p':
			if (sim_board_parse_ms("pcl-usbredir-dev", "--poll-ms", optarg,
					       &o.poll_ms) != 0)
				return 2;
			break;
		case 'v':
			urdev_verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o.device || !o.listen == !o.connect || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(o.device, "token") == 0)
		return urdev_run_token(&o);
	return urdev_run_stick(&o);
}
