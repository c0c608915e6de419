/*
 * urdev_devices.h: the devices pcl-usbredir-dev can present (dev_token.c, dev_sticks.c)
 * and the options they take. Linked by pcl-usbredir-dev (a test tool); the options come
 * from the test's command line.
 */
#ifndef PCL_URDEV_DEVICES_H
#define PCL_URDEV_DEVICES_H

#include <stdint.h>

struct urdev_options {
	const char *listen;  /* --socket PATH: wait for QEMU's chardev (client) here */
	const char *connect; /* --connect PATH: QEMU's chardev is the server */
	const char *device;  /* --device NAME */
	const char *state;   /* --state FILE: the token's flash */
	const char *serial;  /* --serial S: a stick's serial number string instead of its own */
	int auto_touch;	     /* --auto-touch: every presence check succeeds (tests only) */
	uint32_t up_timeout_ms;
	uint32_t poll_ms; /* --poll-ms: token_poll() period (RP2350: 100, simulator: 1000) */
};

/* Each runs the device until QEMU disconnects or SIGTERM; returns the exit status. */
int urdev_run_token(const struct urdev_options *o);
/* "badusb", "lookalike" or "council"; 2 for an unknown name. */
int urdev_run_stick(const struct urdev_options *o);

#endif /* PCL_URDEV_DEVICES_H */
