/*
 * sim_hal.c: the board layer of portcullis-token-sim: implements firmware/hal/hal.h with
 * a file-backed simflash, getrandom(), CLOCK_MONOTONIC, a button pressed by SIGUSR1 (or
 * always, with --auto-touch), and 64-byte CTAPHID reports over a UNIX SOCK_SEQPACKET
 * socket (every IN report goes to every connected client, as hidraw does).
 * Linked by portcullis-token-sim. Clients are untrusted: only whole 64-byte reports are
 * accepted, anything else is dropped.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hal.h"
#include "sim.h"

struct sim sim;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void sim_clock_start(void)
{
	sim.t0 = now_ms();
}

int hal_rng(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void hal_flash_geometry(struct hal_flash_geometry *geo)
{
	geo->page_size = sim.flash.page_size;
	geo->page_count = sim.flash.page_count;
	geo->write_align = sim.flash.align;
}

int hal_flash_read(uint32_t page, uint32_t off, void *buf, size_t len)
{
	return simflash_read(&sim.flash, page, off, buf, len);
}

int hal_flash_erase(uint32_t page)
{
	return simflash_erase(&sim.flash, page);
}

int hal_flash_program(uint32_t page, uint32_t off, const void *buf, size_t len)
{
	return simflash_program(&sim.flash, page, off, buf, len);
}

int hal_button_poll(void)
{
	if (sim.auto_touch)
		return 1;
	if (sim.touch) {
		sim.touch = 0;
		return 1;
	}
	return 0;
}

void hal_led(enum hal_led_mode mode)
{
	static const char *const names[] = {"off", "on", "wait-up", "wink", "error"};

	if (sim.verbose && (unsigned)mode < sizeof(names) / sizeof(names[0]))
		fprintf(stderr, "portcullis-token-sim: led %s\n", names[mode]);
	if (mode == HAL_LED_WAIT_UP && !sim.auto_touch)
		fprintf(stderr, "portcullis-token-sim: waiting for touch (kill -USR1 %ld)\n",
			(long)getpid());
}

int hal_usb_send(const uint8_t report[HAL_REPORT_LEN])
{
	int i, sent = 0;

	for (i = 0; i < SIM_MAX_CLIENTS; i++) {
		if (sim.client[i] < 0)
			continue;
		if (send(sim.client[i], report, HAL_REPORT_LEN, MSG_DONTWAIT | MSG_NOSIGNAL) ==
		    HAL_REPORT_LEN)
			sent++;
	}
	return sent ? 0 : -1;
}

static void accept_client(void)
{
	int fd = accept4(sim.listen_fd, NULL, NULL, SOCK_CLOEXEC), i;

	if (fd < 0)
		return;
	for (i = 0; i < SIM_MAX_CLIENTS; i++) {
		if (sim.client[i] < 0) {
			sim.client[i] = fd;
			return;
		}
	}
	close(fd); /* too many clients */
}

int hal_usb_recv(uint8_t report[HAL_REPORT_LEN], uint32_t timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd[SIM_MAX_CLIENTS + 1];
		int i, n, who[SIM_MAX_CLIENTS + 1];
		uint64_t t;

		if (sim.stop)
			return -1;
		pfd[0].fd = sim.listen_fd;
		pfd[0].events = POLLIN;
		n = 1;
		for (i = 0; i < SIM_MAX_CLIENTS; i++) {
			if (sim.client[i] >= 0) {
				pfd[n].fd = sim.client[i];
				pfd[n].events = POLLIN;
				who[n++] = i;
			}
		}
		t = now_ms();
		i = poll(pfd, (nfds_t)n, t >= deadline ? 0 : (int)(deadline - t));
		if (i < 0 && errno != EINTR)
			return -1;
		if (i <= 0) {
			if (now_ms() >= deadline)
				return 0;
			continue; /* a signal: the button or a stop */
		}
		if (pfd[0].revents & POLLIN)
			accept_client();
		for (i = 1; i < n; i++) {
			ssize_t got;
			uint8_t buf[HAL_REPORT_LEN + 1];

			if (!pfd[i].revents)
				continue;
			got = recv(pfd[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
				close(pfd[i].fd);
				sim.client[who[i]] = -1;
				continue;
			}
			if (got == HAL_REPORT_LEN) {
				memcpy(report, buf, HAL_REPORT_LEN);
				return 1;
			}
			/* anything but one whole report is dropped */
		}
		if (timeout_ms == 0)
			return 0;
	}
}

uint64_t hal_time_ms(void)
{
	return now_ms() - sim.t0;
}

void hal_unique_id(uint8_t id[HAL_UNIQUE_ID_LEN])
{
	memcpy(id, sim.unique_id, HAL_UNIQUE_ID_LEN);
}
