/*
 * sim_board.c: the board layer shared by the host builds of the token (see sim_board.h):
 * hal_rng, hal_flash_*, hal_button_poll, hal_time_ms and hal_unique_id. Linked by
 * portcullis-token-sim and pcl-usbredir-dev. Its only input is the state file, the
 * simulator's own (simflash checks its geometry).
 */
#include "sim_board.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct sim_board sim_board;

uint64_t sim_board_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_usr1(int sig)
{
	(void)sig;
	sim_board.touch = 1;
}

static void on_term(int sig)
{
	(void)sig;
	sim_board.stop = 1;
}

int sim_board_open(const char *state, uint32_t page_size, uint32_t page_count)
{
	struct sigaction sa;
	uint64_t h = 1469598103934665603ull;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	rc = simflash_open(&sim_board.flash, state, page_size, page_count, 4);
	if (rc != 0)
		return rc;
	/* public: it only tells one simulated token from another */
	for (const char *p = state; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	memcpy(sim_board.unique_id, &h, sizeof(sim_board.unique_id));
	sim_board.t0 = sim_board_now_ms();
	return 0;
}

int sim_board_parse_ms(const char *prog, const char *opt, const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v > 3600000ul) {
		fprintf(stderr, "%s: %s: invalid milliseconds '%s'\n", prog, opt, s);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

void sim_board_close(void)
{
	simflash_close(&sim_board.flash);
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
	geo->page_size = sim_board.flash.page_size;
	geo->page_count = sim_board.flash.page_count;
	geo->write_align = sim_board.flash.align;
}

int hal_flash_read(uint32_t page, uint32_t off, void *buf, size_t len)
{
	return simflash_read(&sim_board.flash, page, off, buf, len);
}

int hal_flash_erase(uint32_t page)
{
	return simflash_erase(&sim_board.flash, page);
}

int hal_flash_program(uint32_t page, uint32_t off, const void *buf, size_t len)
{
	return simflash_program(&sim_board.flash, page, off, buf, len);
}

int hal_button_poll(void)
{
	if (sim_board.auto_touch)
		return 1;
	if (sim_board.touch) {
		sim_board.touch = 0;
		return 1;
	}
	return 0;
}

uint64_t hal_time_ms(void)
{
	return sim_board_now_ms() - sim_board.t0;
}

void hal_unique_id(uint8_t id[HAL_UNIQUE_ID_LEN])
{
	memcpy(id, sim_board.unique_id, HAL_UNIQUE_ID_LEN);
}
