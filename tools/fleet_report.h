/*
 * fleet_report.h - the council's report: figures per PC and for the council, filled by
 * fleet_report.c (from verified trails) and written by fleet_chart.c as HTML or CSV.
 * Linked by the portcullis CLI; keys of the tallies come from trails (untrusted).
 */
#ifndef PCL_TOOLS_FLEET_REPORT_H
#define PCL_TOOLS_FLEET_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define FREP_TALLY_MAX 32 /* distinct approvers/reasons shown; the rest is "(others)" */

struct frep_tally {
	char key[96];
	uint64_t n, bytes;
};

struct frep_tallies {
	struct frep_tally v[FREP_TALLY_MAX];
	size_t n;
};

struct frep_pc {
	char pc[64];
	bool verified;
	char why[200]; /* first failure when not verified */
	uint64_t records, first_seq, last_seq;
	uint64_t in_period, blocked, exceptions, refusals;
	uint64_t out_n, out_bytes, in_n, in_bytes; /* transfers to / from removable media */
	uint64_t wipes_done, wipes_missed, wipes_requested;
	uint64_t replays;     /* trail restored after a power cut (audit-intent-replayed) */
	char last_replay[40]; /* the last one's @timestamp */
};

struct frep_council {
	const char *council, *from, *to;
	struct frep_pc *pcs;
	size_t npcs, nverified;
	struct frep_tallies approvers, reasons, durations, refusals;
};

void frep_tally(struct frep_tallies *t, const char *key, uint64_t bytes);
void frep_html(FILE *f, const struct frep_council *c);
void frep_csv(FILE *f, const struct frep_council *c);

#endif
