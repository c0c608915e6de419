/*
 * fidosim.c: libfido2 I/O functions (fido_dev_set_io_functions) that carry CTAPHID
 * reports to portcullis-token-sim over its UNIX SOCK_SEQPACKET socket; libfido2 itself
 * does the CTAPHID framing. Linked by the CLI, the daemon's fido helper and the tests.
 * The simulator is trusted no more than a USB key: only whole 64-byte reports are passed
 * up, and libfido2 parses them.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fidosim.h"

#define REPORT_LEN 64

struct sim_handle {
	int fd;
};

bool fidosim_is_sim_path(const char *path)
{
	size_t n = strlen(FIDOSIM_PREFIX);

	return path != NULL && strncmp(path, FIDOSIM_PREFIX, n) == 0 && path[n] != '\0';
}

static void *sim_open(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct sim_handle *h;
	const char *p;

	if (!fidosim_is_sim_path(path))
		return NULL;
	p = path + strlen(FIDOSIM_PREFIX);
	if (strlen(p) >= sizeof(sa.sun_path))
		return NULL;
	strcpy(sa.sun_path, p);
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return NULL;
	}
	return h;
}

static void sim_close(void *handle)
{
	struct sim_handle *h = handle;

	if (h) {
		close(h->fd);
		free(h);
	}
}

/* One IN report within ms milliseconds (-1: wait forever). */
static int sim_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct sim_handle *h = handle;
	struct pollfd pfd = {.fd = h->fd, .events = POLLIN};
	unsigned char pkt[REPORT_LEN];
	ssize_t n;
	int rc;

	if (len != REPORT_LEN)
		return -1;
	do
		rc = poll(&pfd, 1, ms);
	while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return -1;
	n = recv(h->fd, pkt, sizeof(pkt), 0);
	if (n != REPORT_LEN)
		return -1;
	memcpy(buf, pkt, REPORT_LEN);
	return REPORT_LEN;
}

/* libfido2 writes a report ID byte (0) followed by the 64-byte report. */
static int sim_write(void *handle, const unsigned char *buf, size_t len)
{
	struct sim_handle *h = handle;

	if (len != REPORT_LEN + 1 || buf[0] != 0)
		return -1;
	if (send(h->fd, buf + 1, REPORT_LEN, MSG_NOSIGNAL) != REPORT_LEN)
		return -1;
	return (int)len;
}

int fidosim_dev_open(fido_dev_t *dev, const char *path)
{
	static const fido_dev_io_t io = {sim_open, sim_close, sim_read, sim_write};
	int rc;

	if (dev == NULL || path == NULL)
		return FIDO_ERR_INVALID_ARGUMENT;
	if (!fidosim_is_sim_path(path))
		return fido_dev_open(dev, path);
	rc = fido_dev_set_io_functions(dev, &io);
	if (rc != FIDO_OK)
		return rc;
	return fido_dev_open(dev, path);
}
