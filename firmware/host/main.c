/*
 * main.c: portcullis-token-sim, the Portcullis FIDO2 token running on the host: the
 * firmware core over a file-backed flash, with CTAPHID reports on a UNIX socket.
 * The button is pressed with SIGUSR1 (or always, with --auto-touch). Runs unprivileged;
 * its only untrusted input is what clients write to the socket (handled by the core).
 *
 *   portcullis-token-sim --socket PATH --state FILE [--auto-touch] [--up-timeout MS]
 *                        [--reset-window MS] [--verbose]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hal.h"
#include "sim.h"
#include "sim_board.h"
#include "token.h"

#define SIM_PAGE_SIZE  4096
#define SIM_PAGE_COUNT 16

static void usage(FILE *f)
{
	fprintf(f,
		"usage: portcullis-token-sim --socket PATH --state FILE [--auto-touch]\n"
		"                            [--up-timeout MS] [--reset-window MS] [--verbose]\n");
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char tmp[sizeof(sa.sun_path)];
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid()) >= sizeof(tmp)) {
		fprintf(stderr, "portcullis-token-sim: --socket: path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, tmp);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(tmp);
	/* bind and listen under a temporary name, then rename: whoever sees the socket path
	 * can connect to it */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0 ||
	    rename(tmp, path) != 0) {
		fprintf(stderr, "portcullis-token-sim: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"state", required_argument, NULL, 'f'},
	    {"auto-touch", no_argument, NULL, 'a'},
	    {"up-timeout", required_argument, NULL, 'u'},
	    {"reset-window", required_argument, NULL, 'r'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct token_config cfg = {.up_timeout_ms = 30000, .reset_window_ms = 10000};
	const char *sock = NULL, *state = NULL;
	int c, i, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'f':
			state = optarg;
			break;
		case 'a':
			sim_board.auto_touch = 1;
			break;
		case 'u':
			if (sim_board_parse_ms("portcullis-token-sim", "--up-timeout", optarg,
					       &cfg.up_timeout_ms) != 0)
				return 2;
			break;
		case 'r':
			if (sim_board_parse_ms("portcullis-token-sim", "--reset-window", optarg,
					       &cfg.reset_window_ms) != 0)
				return 2;
			break;
		case 'v':
			sim.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!sock || !state || optind != argc) {
		usage(stderr);
		return 2;
	}

	rc = sim_board_open(state, SIM_PAGE_SIZE, SIM_PAGE_COUNT);
	if (rc != 0) {
		fprintf(stderr, "portcullis-token-sim: --state %s: %s\n", state, strerror(-rc));
		return 1;
	}
	for (i = 0; i < SIM_MAX_CLIENTS; i++)
		sim.client[i] = -1;
	sim.listen_fd = listen_on(sock);
	if (sim.listen_fd < 0)
		return 1;
	rc = token_init(&cfg);
	if (rc != 0) {
		hal_led(HAL_LED_ERROR);
		fprintf(stderr, "portcullis-token-sim: token store failed (CTAP 0x%02x)\n", rc);
		unlink(sock);
		return 1;
	}
	fprintf(stderr, "portcullis-token-sim: listening on %s (pid %ld)\n", sock, (long)getpid());
	if (sim_board.auto_touch)
		fprintf(stderr, "portcullis-token-sim: --auto-touch: every presence check succeeds "
				"(for tests only)\n");
	rc = 0;
	while (!sim_board.stop) {
		if (token_poll(1000) < 0 && !sim_board.stop) {
			fprintf(stderr, "portcullis-token-sim: socket failure, stopping\n");
			rc = 1;
			break;
		}
	}
	for (i = 0; i < SIM_MAX_CLIENTS; i++)
		if (sim.client[i] >= 0)
			close(sim.client[i]);
	close(sim.listen_fd);
	unlink(sock);
	sim_board_close();
	return rc;
}
