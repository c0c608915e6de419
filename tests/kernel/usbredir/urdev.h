/*
 * urdev.h: a USB device presented to QEMU over the usbredir protocol (QEMU's usb-redir
 * device, the "usb-guest" side; this program is the "usb-host" side). urdev.c owns the
 * connection and the parser (Debian's libusbredirparser), answers the standard control
 * requests from the device's own descriptors and moves interrupt and bulk packets; a
 * function (dev_token.c, dev_sticks.c) supplies descriptors and data.
 * Linked by pcl-usbredir-dev (a test tool). Its peer is QEMU, trusted in the tests;
 * lengths are still bounded before any copy.
 */
#ifndef PCL_URDEV_H
#define PCL_URDEV_H

#include <stddef.h>
#include <stdint.h>

enum urdev_speed { URDEV_FULL = 1, URDEV_HIGH = 2 }; /* usbredir's speed codes */

struct urdev_function {
	const char *name;
	enum urdev_speed speed;
	/* GET_DESCRIPTOR: type << 8 | index, wIndex. Returns the length (0: stall); *out
	 * points into the function's tables or into scratch. */
	size_t (*descriptor)(uint16_t value, uint16_t index, const uint8_t **out, uint8_t *scratch,
			     size_t cap);
	/* A class or vendor request the standard handling does not know (may be NULL).
	 * Returns the IN data length written to buf, 0 for an accepted OUT request, -1 to
	 * stall. */
	int (*class_request)(uint8_t type, uint8_t req, uint16_t value, uint16_t index,
			     const uint8_t *data, size_t len, uint8_t *buf, size_t cap);
	/* An OUT packet on a non-control endpoint (interrupt or bulk). Returns 0, or -1 to
	 * stall. May be NULL. */
	int (*out_packet)(uint8_t ep, const uint8_t *data, size_t len);
	/* A bulk IN request of up to len bytes: fills buf, returns the length or -1 to stall.
	 * May be NULL (every bulk IN stalls). */
	int (*bulk_in)(uint8_t ep, uint8_t *buf, size_t len);
	/* The host started polling an interrupt IN endpoint (may be NULL). */
	void (*in_started)(uint8_t ep);
};

/* Listen on a UNIX socket at path (bound under a temporary name, then renamed, so the
 * path appears only when it accepts) and wait for QEMU's chardev to connect; or, with
 * connect_path, connect to a QEMU chardev server. Then say hello. 0 or -1 (message on
 * stderr naming the path). */
int urdev_open(const struct urdev_function *fn, const char *listen_path, const char *connect_path);
/* Serve the connection for up to timeout_ms: control requests, configuration, endpoint
 * starts, packets. Returns 1 early when an OUT packet was delivered to out_packet, 0 on
 * timeout, -1 when QEMU closed the connection or an error happened. */
int urdev_pump(uint32_t timeout_ms);
/* Queue an IN report on an interrupt endpoint the host polls. Returns 0, or -1 when the
 * device is not configured or the host does not poll the endpoint. */
int urdev_interrupt_in(uint8_t ep, const uint8_t *data, size_t len);
int urdev_configured(void);
int urdev_polling(uint8_t ep); /* the host has started interrupt receiving on ep */
void urdev_close(void);
extern int urdev_verbose;

#endif /* PCL_URDEV_H */
