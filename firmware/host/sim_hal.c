/*
 * sim_hal.c: the board layer of portcullis-token-sim beyond what sim_board.c shares with
 * pcl-usbredir-dev (flash, randomness, clock, touch, unique id): the LED on stderr and
 * 64-byte CTAPHID reports over a UNIX SOCK_SEQPACKET
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
#include "sim_board.h"

struct sim sim;

void hal_led(enum hal_led_mode mode)
{
	static const char *const names[] = {"off", "on", "wait-up", "wink", "error"};

	if (sim.verbose && (unsigned)mode < sizeof(names) / sizeof(names[0]))
		fprintf(stderr, "portcullis-token-sim: led %s\n", names[mode]);
	if (mode == HAL_LED_WAIT_UP && !sim_board.auto_touch)
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
	uint64_t deadline = sim_board_now_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd[SIM_MAX_CLIENTS + 1];
		int i, n, who[SIM_MAX_CLIENTS + 1];
		uint64_t t;

		if (sim_board.stop)
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
		t = sim_board_now_ms();
		i = poll(pfd, (nfds_t)n, t >= deadline ? 0 : (int)(deadline - t));
		if (i < 0 && errno != EINTR)
			return -1;
		if (i <= 0) {
			if (sim_board_now_ms() >= deadline)
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
