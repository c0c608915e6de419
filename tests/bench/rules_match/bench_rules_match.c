/*
 * bench_rules_match.c - benchmark of rules_decide(): a 10-rule policy, a
 * 10,000-rule policy as `usbguard generate-policy` writes it (indexed by id
 * and hash), and 10,000 rules that no key selects (the unindexed worst
 * case). Prints a markdown section for tests/bench/record.sh rules_match.
 * Not a test: it asserts nothing and is never run by CTest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules.h"

#define BATCHES	  200
#define PER_BATCH 2000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct usbdev device(unsigned i)
{
	struct usbdev d;

	memset(&d, 0, sizeof(d));
	snprintf(d.sysname, sizeof(d.sysname), "1-%u", 1 + i % 12);
	d.vid = (uint16_t)(0x1000 + i % 4000);
	d.pid = (uint16_t)i;
	snprintf(d.serial, sizeof(d.serial), "SN%08u", i);
	snprintf(d.product, sizeof(d.product), "Stick %u", i);
	snprintf(d.hash, sizeof(d.hash), "h%042u=", i);
	snprintf(d.parent_hash, sizeof(d.parent_hash),
		 "4xWRwHQrCKR0FxnHxS8y6JW0og6rj7xaxFRcLeJFxcA=");
	strcpy(d.connect_type, "hotplug");
	d.n_ifaces = 2;
	d.ifaces[0] = (struct usbdev_iface){1, 0, 0, 8, 6, 0x50};
	d.ifaces[1] = (struct usbdev_iface){1, 1, 0, 3, 1, 1};
	return d;
}

/* A policy: n-10 device rules (generate-policy lines) then 10 general rules. */
static char *policy(unsigned n, int indexed, size_t *len)
{
	size_t cap = (size_t)n * 400 + 4096, pos = 0;
	char *buf = malloc(cap);

	for (unsigned i = 0; i + 10 < n; i++) {
		struct usbdev d = device(i);
		char line[1024];

		if (indexed)
			rules_format_device(&d, RULES_ALLOW, line, sizeof(line));
		else
			snprintf(line, sizeof(line),
				 "allow serial \"%s\" name \"%s\" with-interface 08:06:50",
				 d.serial, d.product);
		pos += (size_t)snprintf(buf + pos, cap - pos, "%s\n", line);
	}
	pos += (size_t)snprintf(buf + pos, cap - pos,
				"allow with-interface equals { 09:00:* }\n"
				"allow id 0781:5581 serial \"4C530001140516116522\"\n"
				"allow id 1050:* with-interface all-of { 03:00:00 } "
				"authorize-interfaces { 03:00:00 0b:*:* }\n"
				"reject with-interface all-of { 08:*:* 03:01:* }\n"
				"reject with-interface one-of { ff:42:01 }\n"
				"block id 090c:1000 via-port one-of { \"1-2\" \"1-3\" }\n"
				"allow with-interface match-all { 03:01:01 03:00:00 }\n"
				"block with-interface none-of { 08:*:* }\n"
				"allow id 05e3:0610\n"
				"block\n");
	*len = pos;
	return buf;
}

struct result {
	double parse_ms, p50, p99;
};

static struct result run(unsigned n, int indexed, unsigned probe_id, int per_batch)
{
	size_t len;
	char *text = policy(n, indexed, &len);
	struct rules *r = NULL;
	struct pcl_diag diag;
	size_t nd;
	double t0, samples[BATCHES];
	struct result res;
	struct usbdev probe = device(probe_id);
	volatile unsigned sink = 0;

	t0 = now_ns();
	if (rules_parse_buffer("bench.rules", text, len, &r, &diag, 1, &nd) != 0) {
		fprintf(stderr, "rules-match-bench: %s:%u: %s\n", diag.file, diag.line, diag.msg);
		exit(1);
	}
	res.parse_ms = (now_ns() - t0) / 1e6;
	for (int b = 0; b < BATCHES; b++) {
		struct rules_decision dec;

		t0 = now_ns();
		for (int i = 0; i < per_batch; i++) {
			rules_decide(r, &probe, &dec);
			sink += dec.line;
		}
		samples[b] = (now_ns() - t0) / per_batch;
	}
	qsort(samples, BATCHES, sizeof(samples[0]), cmp_d);
	res.p50 = samples[BATCHES / 2];
	res.p99 = samples[BATCHES * 99 / 100];
	rules_free(&r);
	free(text);
	(void)sink;
	return res;
}

#define UNKNOWN 999999 /* no device rule names it: falls through to the general rules */

int main(void)
{
	struct result small = run(10, 1, UNKNOWN, PER_BATCH);
	struct result big = run(10000, 1, UNKNOWN, PER_BATCH);
	struct result known = run(10000, 1, 4321, PER_BATCH);
	struct result flat = run(10000, 0, UNKNOWN, 10);

	printf("\n## rules_match\n\n");
	printf("`rules_decide()` per-decision time, %d batches (p50/p99 over batch means). "
	       "Policies end with the same 10 general rules; the 10,000-rule ones start with "
	       "9,990 device rules. Run: `build/tests/bench/rules_match/rules-match-bench | "
	       "tests/bench/record.sh rules_match` (2-core shared build machine).\n\n",
	       BATCHES);
	printf("| policy | device | parse | p50 | p99 | p50 / 10-rule p50 |\n"
	       "|---|---|---|---|---|---|\n");
	printf("| 10 rules | unknown | %.2f ms | %.0f ns | %.0f ns | 1.00 |\n", small.parse_ms,
	       small.p50, small.p99);
	printf(
	    "| 10,000 generate-policy rules (indexed by id/hash) | unknown | %.1f ms | %.0f ns | "
	    "%.0f ns | %.2f |\n",
	    big.parse_ms, big.p50, big.p99, big.p50 / small.p50);
	printf("| 10,000 generate-policy rules (indexed by id/hash) | its rule is line 4,322 | "
	       "%.1f ms | %.0f ns | %.0f ns | %.2f |\n",
	       known.parse_ms, known.p50, known.p99, known.p50 / small.p50);
	printf("| 10,000 rules without id/hash (all in the fallback list) | unknown | %.1f ms | "
	       "%.0f ns | %.0f ns | %.2f |\n",
	       flat.parse_ms, flat.p50, flat.p99, flat.p50 / small.p50);
	printf("\nWith the index, 10,000 rules cost %.2fx the 10-rule decision; without it (the "
	       "last row, what a linear scan costs) %.0fx.\n",
	       big.p50 / small.p50, flat.p50 / small.p50);
	return 0;
}
