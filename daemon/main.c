/*
 * main.c - portcullisd: the USB and removable-media gate of a council PC.
 * Runs as root; its inputs here are the command line and the config file. Before the
 * config file is read, the root hubs are gated (authorized_default=0): a configuration
 * that does not parse leaves the PC closed, never open.
 *   portcullisd -c CONFIG [-f]   run (-f: foreground, diagnostics on stderr)
 *   portcullisd -c CONFIG -n     check the config and rules, print file:line errors
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "parent.h"
#include "rules.h"

#define MAX_DIAGS 64

static void usage(FILE *f)
{
	fprintf(f, "usage: portcullisd -c CONFIG [-f] [-n]\n"
		   "  -c CONFIG  configuration file (portcullisd.conf(5))\n"
		   "  -f         stay in the foreground, diagnostics on stderr\n"
		   "  -n         check the configuration and rules, then exit\n");
}

static int print_diags(const struct pcl_diag *d, size_t n)
{
	char msg[600];

	for (size_t i = 0; i < n && i < MAX_DIAGS; i++) {
		pcl_diag_format(&d[i], msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
	}
	if (n > MAX_DIAGS)
		fprintf(stderr, "... and %zu more errors\n", n - MAX_DIAGS);
	return n > 0;
}

static int check(const struct conf *c)
{
	static struct pcl_diag diags[MAX_DIAGS];
	struct rules *r = NULL;
	size_t n = 0;

	rules_load_file(c->rules, &r, diags, MAX_DIAGS, &n);
	int bad = print_diags(diags, n);
	if (!bad)
		printf("%s: %zu rules, configuration OK\n", c->rules, rules_count(r));
	rules_free(&r);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct pcl_diag diags[MAX_DIAGS];
	const char *config = NULL;
	bool foreground = false, check_only = false;
	struct conf c;
	size_t n = 0;
	int opt;

	while ((opt = getopt(argc, argv, "c:fnh")) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			check_only = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (config == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	conf_defaults(&c);
	if (!check_only && geteuid() == 0) {
		log_init("parent", true);
		if (parent_gate_root_hubs(&c) != 0) /* the defaults: nothing new gets in */
			log_warn("some root hubs could not be gated");
	}
	if (conf_load_file(&c, config, diags, MAX_DIAGS, &n) != 0) {
		print_diags(diags, n);
		return 1;
	}
	if (check_only)
		return check(&c);
	if (geteuid() != 0) {
		fprintf(stderr, "portcullisd: must run as root\n");
		return 1;
	}
	log_init("parent", foreground);
	if (!foreground && daemon(0, 0) != 0) {
		perror("portcullisd: daemon");
		return 1;
	}
	return parent_run(&c, config, foreground);
}
