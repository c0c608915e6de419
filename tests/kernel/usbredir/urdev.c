/*
 * urdev.c: one USB device presented to QEMU's usb-redir over a UNIX socket (see urdev.h):
 * the usbredir hello, interface and endpoint information derived from the function's own
 * configuration descriptor, device connect, the standard control requests answered from
 * the function's descriptors, configuration and alternate settings, interrupt receiving,
 * and interrupt and bulk packets handed to the function. Linked by pcl-usbredir-dev (a
 * test tool). Packets are parsed by libusbredirparser; the peer is QEMU, trusted in the
 * tests, but every length is bounded before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <usbredirparser.h>

#include "urdev.h"

#define EP2I(ep) ((((ep)&0x80) >> 3) | ((ep)&0x0f)) /* usbredir's endpoint index */

int urdev_verbose;

static struct {
	const struct urdev_function *fn;
	struct usbredirparser *parser;
	int fd;
	int gone;	/* the peer closed or failed */
	int delivered;	/* an OUT packet went to the function during this pump */
	uint8_t config; /* bConfigurationValue, 0 when not configured */
	uint8_t polling[32];
	uint64_t next_id;
} ur = {.fd = -1};

static void log_cb(void *priv, int level, const char *msg)
{
	(void)priv;
	if (level <= usbredirparser_warning || urdev_verbose)
		fprintf(stderr, "pcl-usbredir-dev: usbredir: %s\n", msg);
}

static int read_cb(void *priv, uint8_t *data, int count)
{
	ssize_t n = read(ur.fd, data, (size_t)count);

	(void)priv;
	if (n > 0)
		return (int)n;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	ur.gone = 1; /* end of stream: QEMU unplugged the device or stopped */
	return -1;
}

static int write_cb(void *priv, uint8_t *data, int count)
{
	ssize_t n = send(ur.fd, data, (size_t)count, MSG_NOSIGNAL);

	(void)priv;
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	ur.gone = 1;
	return -1;
}

/* The configuration descriptor, walked into usbredir's interface and endpoint tables. */
static int describe(struct usb_redir_interface_info_header *ifs,
		    struct usb_redir_ep_info_header *eps)
{
	uint8_t scratch[255];
	const uint8_t *d;
	size_t n = ur.fn->descriptor(0x0200, 0, &d, scratch, sizeof scratch), off = 0;
	int cur = -1;

	memset(ifs, 0, sizeof *ifs);
	memset(eps, 0, sizeof *eps);
	memset(eps->type, usb_redir_type_invalid, sizeof eps->type);
	eps->type[0] = eps->type[16] = usb_redir_type_control;
	eps->max_packet_size[0] = eps->max_packet_size[16] = 64;
	if (n < 9 || (size_t)(d[2] | d[3] << 8) != n)
		return -1;
	while (off + 2 <= n && d[off] >= 2 && off + d[off] <= n) {
		const uint8_t *p = d + off;

		if (p[1] == 4 && p[0] >= 9 && p[3] == 0 && ifs->interface_count < 32) {
			uint32_t i = ifs->interface_count++;

			cur = p[2];
			ifs->interface[i] = p[2];
			ifs->interface_class[i] = p[5];
			ifs->interface_subclass[i] = p[6];
			ifs->interface_protocol[i] = p[7];
		} else if (p[1] == 4) {
			cur = -1; /* an alternate setting: not announced */
		} else if (p[1] == 5 && p[0] >= 7 && cur >= 0) {
			int i = EP2I(p[2]);

			eps->type[i] = p[3] & 3;
			eps->interval[i] = p[6];
			eps->interface[i] = (uint8_t)cur;
			eps->max_packet_size[i] = (uint16_t)(p[4] | (p[5] & 0x07) << 8);
		}
		off += d[off];
	}
	return off == n ? 0 : -1;
}

static void hello_cb(void *priv, struct usb_redir_hello_header *h)
{
	struct usb_redir_interface_info_header ifs;
	struct usb_redir_ep_info_header eps;
	struct usb_redir_device_connect_header conn;
	uint8_t scratch[64];
	const uint8_t *d;

	(void)priv;
	if (urdev_verbose)
		fprintf(stderr, "pcl-usbredir-dev: peer %.64s\n", h->version);
	if (describe(&ifs, &eps) != 0 || ur.fn->descriptor(0x0100, 0, &d, scratch, 64) != 18) {
		fprintf(stderr, "pcl-usbredir-dev: %s: descriptors do not walk\n", ur.fn->name);
		ur.gone = 1;
		return;
	}
	usbredirparser_send_interface_info(ur.parser, &ifs);
	usbredirparser_send_ep_info(ur.parser, &eps);
	conn.speed = (uint8_t)ur.fn->speed;
	conn.device_class = d[4];
	conn.device_subclass = d[5];
	conn.device_protocol = d[6];
	conn.vendor_id = (uint16_t)(d[8] | d[9] << 8);
	conn.product_id = (uint16_t)(d[10] | d[11] << 8);
	conn.device_version_bcd = (uint16_t)(d[12] | d[13] << 8);
	usbredirparser_send_device_connect(ur.parser, &conn);
}

static void reset_cb(void *priv)
{
	(void)priv;
	ur.config = 0; /* a bus reset deconfigures, as on a real bus */
	memset(ur.polling, 0, sizeof ur.polling);
}

static void set_config_cb(void *priv, uint64_t id, struct usb_redir_set_configuration_header *h)
{
	struct usb_redir_configuration_status_header st = {usb_redir_success, 0};

	(void)priv;
	if (h->configuration <= 1) {
		ur.config = h->configuration;
		memset(ur.polling, 0, sizeof ur.polling);
	} else {
		st.status = usb_redir_stall;
	}
	st.configuration = ur.config;
	usbredirparser_send_configuration_status(ur.parser, id, &st);
}

static void get_config_cb(void *priv, uint64_t id)
{
	struct usb_redir_configuration_status_header st = {usb_redir_success, ur.config};

	(void)priv;
	usbredirparser_send_configuration_status(ur.parser, id, &st);
}

static void set_alt_cb(void *priv, uint64_t id, struct usb_redir_set_alt_setting_header *h)
{
	struct usb_redir_alt_setting_status_header st = {usb_redir_success, h->interface, 0};

	(void)priv;
	if (h->alt != 0)
		st.status = usb_redir_stall; /* every interface here has alternate setting 0 only */
	usbredirparser_send_alt_setting_status(ur.parser, id, &st);
}

static void get_alt_cb(void *priv, uint64_t id, struct usb_redir_get_alt_setting_header *h)
{
	struct usb_redir_alt_setting_status_header st = {usb_redir_success, h->interface, 0};

	(void)priv;
	usbredirparser_send_alt_setting_status(ur.parser, id, &st);
}

static void start_int_cb(void *priv, uint64_t id,
			 struct usb_redir_start_interrupt_receiving_header *h)
{
	struct usb_redir_interrupt_receiving_status_header st = {usb_redir_success, h->endpoint};

	(void)priv;
	if (!(h->endpoint & 0x80) || !ur.config)
		st.status = usb_redir_inval;
	usbredirparser_send_interrupt_receiving_status(ur.parser, id, &st);
	if (st.status == usb_redir_success) {
		ur.polling[EP2I(h->endpoint)] = 1;
		if (ur.fn->in_started)
			ur.fn->in_started(h->endpoint);
	}
}

static void stop_int_cb(void *priv, uint64_t id,
			struct usb_redir_stop_interrupt_receiving_header *h)
{
	struct usb_redir_interrupt_receiving_status_header st = {usb_redir_success, h->endpoint};

	(void)priv;
	ur.polling[EP2I(h->endpoint)] = 0;
	usbredirparser_send_interrupt_receiving_status(ur.parser, id, &st);
}

/* Standard requests the usb-redir device passes on (it answers SET_ADDRESS,
 * SET/GET_CONFIGURATION and SET/GET_INTERFACE itself through the packets above). */
static int standard_request(const struct usb_redir_control_packet_header *h, uint8_t *buf,
			    size_t cap)
{
	uint8_t scratch[255];
	const uint8_t *d;
	size_t n;

	switch (h->requesttype << 8 | h->request) {
	case 0x8006: /* GET_DESCRIPTOR, device */
	case 0x8106: /* GET_DESCRIPTOR, interface: HID class and report descriptors only */
		if ((h->requesttype == 0x81) !=
		    ((h->value >> 8) == 0x21 || (h->value >> 8) == 0x22))
			return -1;
		n = ur.fn->descriptor(h->value, h->index, &d, scratch, sizeof scratch);
		if (n == 0)
			return -1;
		if (n > cap)
			n = cap;
		memcpy(buf, d, n);
		return (int)n;
	case 0x8000: /* GET_STATUS device, interface, endpoint: bus powered, not halted */
	case 0x8100:
	case 0x8200:
		buf[0] = buf[1] = 0;
		return 2;
	case 0x0201: /* CLEAR_FEATURE(ENDPOINT_HALT) */
		return 0;
	default:
		return -1;
	}
}

static void control_cb(void *priv, uint64_t id, struct usb_redir_control_packet_header *h,
		       uint8_t *data, int data_len)
{
	struct usb_redir_control_packet_header r = *h;
	uint8_t buf[4096];
	size_t cap = h->length < sizeof buf ? h->length : sizeof buf;
	int n;

	(void)priv;
	if ((h->requesttype & 0x60) == 0)
		n = standard_request(h, buf, cap);
	else if (ur.fn->class_request)
		n = ur.fn->class_request(h->requesttype, h->request, h->value, h->index, data,
					 data_len > 0 ? (size_t)data_len : 0, buf, cap);
	else
		n = -1;
	if (urdev_verbose)
		fprintf(stderr,
			"pcl-usbredir-dev: control %02x %02x value %04x index %04x len %u: %d\n",
			h->requesttype, h->request, h->value, h->index, h->length, n);
	if (n < 0) {
		r.status = usb_redir_stall;
		r.length = 0;
	} else {
		r.status = usb_redir_success;
		r.length =
		    (h->requesttype & 0x80) ? (uint16_t)n : (uint16_t)(data_len > 0 ? data_len : 0);
	}
	usbredirparser_send_control_packet(ur.parser, id, &r,
					   (h->requesttype & 0x80) && n > 0 ? buf : NULL,
					   (h->requesttype & 0x80) && n > 0 ? n : 0);
	if (data)
		usbredirparser_free_packet_data(ur.parser, data);
}

static void interrupt_cb(void *priv, uint64_t id, struct usb_redir_interrupt_packet_header *h,
			 uint8_t *data, int data_len)
{
	struct usb_redir_interrupt_packet_header r = *h;

	(void)priv;
	r.status = usb_redir_success;
	r.length = (uint16_t)(data_len > 0 ? data_len : 0);
	if ((h->endpoint & 0x80) || !ur.config || !ur.fn->out_packet ||
	    ur.fn->out_packet(h->endpoint, data, r.length) != 0) {
		r.status = usb_redir_stall;
		r.length = 0;
	} else {
		ur.delivered = 1;
	}
	usbredirparser_send_interrupt_packet(ur.parser, id, &r, NULL, 0);
	if (data)
		usbredirparser_free_packet_data(ur.parser, data);
}

static void bulk_cb(void *priv, uint64_t id, struct usb_redir_bulk_packet_header *h, uint8_t *data,
		    int data_len)
{
	struct usb_redir_bulk_packet_header r = *h;
	size_t want = (size_t)h->length | (size_t)h->length_high << 16;
	uint8_t *buf = NULL;
	int n = -1;

	(void)priv;
	if (h->endpoint & 0x80) {
		buf = want ? malloc(want) : NULL;
		if (ur.config && ur.fn->bulk_in && (buf || !want))
			n = ur.fn->bulk_in(h->endpoint, buf, want);
	} else if (ur.config && ur.fn->out_packet &&
		   ur.fn->out_packet(h->endpoint, data, data_len > 0 ? (size_t)data_len : 0) == 0) {
		n = data_len > 0 ? data_len : 0;
		ur.delivered = 1;
	}
	r.status = n < 0 ? usb_redir_stall : usb_redir_success;
	if (n < 0)
		n = 0;
	r.length = (uint16_t)n;
	r.length_high = (uint16_t)((uint32_t)n >> 16);
	usbredirparser_send_bulk_packet(ur.parser, id, &r, (h->endpoint & 0x80) && n ? buf : NULL,
					(h->endpoint & 0x80) ? n : 0);
	free(buf);
	if (data)
		usbredirparser_free_packet_data(ur.parser, data);
}

static void cancel_cb(void *priv, uint64_t id)
{
	(void)priv;
	(void)id; /* every packet is answered as it arrives: nothing is left to cancel */
}

static void filter_cb(void *priv, struct usbredirfilter_rule *rules, int count)
{
	(void)priv;
	(void)count;
	free(rules); /* ownership passes to us; the guest side's filter is not applied here */
}

static int listen_and_accept(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char tmp[sizeof sa.sun_path];
	int fd, c;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid()) >= sizeof tmp) {
		fprintf(stderr, "pcl-usbredir-dev: --socket: path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, tmp);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(tmp);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 1) != 0 ||
	    rename(tmp, path) != 0) {
		fprintf(stderr, "pcl-usbredir-dev: --socket %s: %s\n", path, strerror(errno));
		unlink(tmp);
		close(fd);
		return -1;
	}
	do
		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	while (c < 0 && errno == EINTR);
	if (c < 0)
		fprintf(stderr, "pcl-usbredir-dev: --socket %s: accept: %s\n", path,
			strerror(errno));
	close(fd);
	unlink(path);
	return c;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		fprintf(stderr, "pcl-usbredir-dev: --connect: path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		fprintf(stderr, "pcl-usbredir-dev: --connect %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int urdev_open(const struct urdev_function *fn, const char *listen_path, const char *connect_path)
{
	uint32_t caps[USB_REDIR_CAPS_SIZE] = {0};

	ur.fn = fn;
	ur.fd = listen_path ? listen_and_accept(listen_path) : connect_to(connect_path);
	if (ur.fd < 0)
		return -1;
	fcntl(ur.fd, F_SETFL, fcntl(ur.fd, F_GETFL) | O_NONBLOCK);
	ur.parser = usbredirparser_create();
	if (!ur.parser) {
		fprintf(stderr, "pcl-usbredir-dev: out of memory\n");
		return -1;
	}
	ur.parser->log_func = log_cb;
	ur.parser->read_func = read_cb;
	ur.parser->write_func = write_cb;
	ur.parser->hello_func = hello_cb;
	ur.parser->reset_func = reset_cb;
	ur.parser->set_configuration_func = set_config_cb;
	ur.parser->get_configuration_func = get_config_cb;
	ur.parser->set_alt_setting_func = set_alt_cb;
	ur.parser->get_alt_setting_func = get_alt_cb;
	ur.parser->start_interrupt_receiving_func = start_int_cb;
	ur.parser->stop_interrupt_receiving_func = stop_int_cb;
	ur.parser->control_packet_func = control_cb;
	ur.parser->interrupt_packet_func = interrupt_cb;
	ur.parser->bulk_packet_func = bulk_cb;
	ur.parser->cancel_data_packet_func = cancel_cb;
	ur.parser->filter_filter_func = filter_cb;
	usbredirparser_caps_set_cap(caps, usb_redir_cap_connect_device_version);
	usbredirparser_caps_set_cap(caps, usb_redir_cap_ep_info_max_packet_size);
	usbredirparser_caps_set_cap(caps, usb_redir_cap_64bits_ids);
	usbredirparser_caps_set_cap(caps, usb_redir_cap_32bits_bulk_length);
	usbredirparser_init(ur.parser, "portcullis pcl-usbredir-dev", caps, USB_REDIR_CAPS_SIZE,
			    usbredirparser_fl_usb_host);
	return usbredirparser_do_write(ur.parser) == 0 || !ur.gone ? 0 : -1;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int urdev_pump(uint32_t timeout_ms)
{
	uint64_t deadline = mono_ms() + timeout_ms;

	ur.delivered = 0;
	for (;;) {
		struct pollfd pfd = {.fd = ur.fd, .events = POLLIN};
		uint64_t now;
		int rc;

		if (ur.gone)
			return -1;
		if (usbredirparser_has_data_to_write(ur.parser))
			pfd.events |= POLLOUT;
		now = mono_ms();
		rc = poll(&pfd, 1, now >= deadline ? 0 : (int)(deadline - now));
		if (rc < 0 && errno != EINTR)
			return -1;
		if (rc > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
			if (usbredirparser_do_read(ur.parser) == usbredirparser_read_io_error &&
			    ur.gone)
				return -1;
		}
		while (usbredirparser_has_data_to_write(ur.parser) && !ur.gone)
			if (usbredirparser_do_write(ur.parser) != 0)
				break;
		if (ur.delivered)
			return 1;
		if (rc < 0 || mono_ms() >= deadline)
			return 0; /* timeout, or a signal (the touch): let the caller look */
	}
}

int urdev_interrupt_in(uint8_t ep, const uint8_t *data, size_t len)
{
	struct usb_redir_interrupt_packet_header h = {ep, usb_redir_success, (uint16_t)len};
	uint8_t buf[1024];

	if (!ur.config || !ur.polling[EP2I(ep)] || ur.gone || len > sizeof buf)
		return -1;
	memcpy(buf, data, len); /* the parser copies it again; its prototype is not const */
	usbredirparser_send_interrupt_packet(ur.parser, ur.next_id++, &h, buf, (int)len);
	while (usbredirparser_has_data_to_write(ur.parser) && !ur.gone)
		if (usbredirparser_do_write(ur.parser) != 0)
			break;
	return ur.gone ? -1 : 0;
}

int urdev_configured(void)
{
	return ur.config != 0 && !ur.gone;
}

int urdev_polling(uint8_t ep)
{
	return ur.polling[EP2I(ep)] && ur.config && !ur.gone;
}

void urdev_close(void)
{
	if (ur.parser)
		usbredirparser_destroy(ur.parser);
	ur.parser = NULL;
	if (ur.fd >= 0)
		close(ur.fd);
	ur.fd = -1;
}
