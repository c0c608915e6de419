/*
 * fleet_chart.c - writes the council's report (fleet_report.h) as one self-contained HTML
 * page (inline CSS and SVG bar charts, no external asset, no script) or as CSV.
 * Linked by the portcullis CLI; every string that came from a trail is escaped.
 */
#include "fleet.h"
#include "fleet_report.h"

#include <inttypes.h>
#include <string.h>

#include "textesc.h"

static uint64_t owed(const struct frep_pc *p)
{
	uint64_t s = p->wipes_done + p->wipes_missed;

	return p->wipes_requested > s ? p->wipes_requested - s : 0;
}

/* Horizontal bars, one per label, scaled to the largest value. */
static void bars(FILE *f, const char *title, const char *const *labels, const uint64_t *vals,
		 size_t n, const char *unit)
{
	uint64_t max = 1;
	unsigned h = 24 + 22 * (unsigned)n;

	for (size_t i = 0; i < n; i++)
		if (vals[i] > max)
			max = vals[i];
	fputs("<figure><figcaption>", f);
	pcl_html_text(f, title);
	fprintf(f,
		"</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" "
		"height=\"%u\" role=\"img\">\n",
		h);
	for (size_t i = 0; i < n; i++) {
		unsigned y = 10 + 22 * (unsigned)i, w = (unsigned)(vals[i] * 380 / max);
		fprintf(f, "<text x=\"0\" y=\"%u\" font-size=\"12\">", y + 13);
		pcl_html_text(f, labels[i]);
		fprintf(f,
			"</text><rect x=\"200\" y=\"%u\" width=\"%u\" height=\"16\" "
			"fill=\"#2b6cb0\"/><text x=\"%u\" y=\"%u\" font-size=\"12\">%" PRIu64
			" %s</text>\n",
			y, w, 205 + w, y + 13, vals[i], unit);
	}
	fputs("</svg></figure>\n", f);
}

static void tally_chart(FILE *f, const char *title, const struct frep_tallies *t)
{
	const char *labels[FREP_TALLY_MAX] = {0};
	uint64_t vals[FREP_TALLY_MAX] = {0};

	for (size_t i = 0; i < t->n; i++) {
		labels[i] = t->v[i].key;
		vals[i] = t->v[i].n;
	}
	if (t->n)
		bars(f, title, labels, vals, t->n, "");
	else {
		fputs("<p>", f);
		pcl_html_text(f, title);
		fputs(": none in the period.</p>\n", f);
	}
}

/* A record's @timestamp as a reader writes it ("2026-12-06 10:30:25 UTC"). */
static void when(FILE *f, const char *ts)
{
	time_t t = (time_t)fleet_time(ts);
	struct tm tm;
	char out[40];

	if (t >= 0 && gmtime_r(&t, &tm) && strftime(out, sizeof(out), "%Y-%m-%d %H:%M:%S UTC", &tm))
		fputs(out, f);
	else
		pcl_html_text(f, ts[0] ? ts : "not recorded");
}

/* The PCs whose audit trail was restored after a power cut in the period, in words a
 * reader who does not know the trail's workings understands. */
static void power_cuts(FILE *f, const struct frep_council *c)
{
	size_t n = 0;

	fputs("<h2>Power cuts</h2>\n", f);
	for (size_t i = 0; i < c->npcs; i++)
		n += c->pcs[i].replays > 0;
	if (n == 0) {
		fputs("<p>No PC's audit trail needed restoring after a power cut in the "
		      "period.</p>\n",
		      f);
		return;
	}
	fprintf(f,
		"<p>A PC keeps a safety copy of its newest records until they are on its disk. "
		"When the power was cut before they got there, the PC put them back from that "
		"copy as it started again, checked them and recorded that it did so: the trail "
		"was restored after a power cut, and nothing the PC had confirmed as recorded "
		"was lost. Now and then this is normal (a power cut, a PC switched off at the "
		"wall). %d times or more in the period points to a failing disk, or to someone "
		"cutting the power on purpose: the IT provider should check that PC.</p>\n"
		"<table><tr><th>PC</th><th>times the trail was restored</th><th>the last time"
		"</th><th>what it means</th></tr>\n",
		FLEET_REPLAYS_MANY);
	for (size_t i = 0; i < c->npcs; i++) {
		const struct frep_pc *p = &c->pcs[i];
		if (p->replays == 0)
			continue;
		fputs("<tr><td>", f);
		pcl_html_text(f, p->pc);
		fprintf(f, "</td><td>%" PRIu64 "</td><td>", p->replays);
		when(f, p->last_replay);
		if (p->replays >= FLEET_REPLAYS_MANY)
			fputs("</td><td class=\"bad\">likely a failing disk: have this PC "
			      "checked</td></tr>\n",
			      f);
		else
			fputs("</td><td>a power cut: nothing to do unless it happens "
			      "again</td></tr>\n",
			      f);
	}
	fputs("</table>\n", f);
}

void frep_html(FILE *f, const struct frep_council *c)
{
	uint64_t tot[9] = {0}, replays = 0;
	bool all = c->nverified == c->npcs;

	for (size_t i = 0; i < c->npcs; i++) {
		const struct frep_pc *p = &c->pcs[i];
		uint64_t v[9] = {p->blocked,  p->exceptions, p->refusals,
				 p->out_n,    p->out_bytes,  p->in_n,
				 p->in_bytes, p->wipes_done, p->wipes_missed};
		for (int k = 0; k < 9; k++)
			tot[k] += v[k];
		replays += p->replays;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
	fputs("Removable media report: ", f);
	pcl_html_text(f, c->council);
	fputs("</title>\n<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
	      "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em;"
	      "text-align:right}td:first-child,th:first-child{text-align:left}"
	      ".ok{background:#e6f4ea;padding:.5em}.bad{background:#fde2e1;padding:.5em;"
	      "font-weight:bold}</style></head><body>\n",
	      f);
	fputs("<h1>Removable media report: council ", f);
	pcl_html_text(f, c->council);
	fprintf(f, "</h1>\n<p>Period %s to %s (UTC dates of the records), %zu PCs.</p>\n", c->from,
		c->to, c->npcs);
	if (all)
		fprintf(f,
			"<p class=\"ok\">Verified: the audit trails of all %zu PCs verified in "
			"full (keys, hash chain, signed checkpoints, the checkpoint held by the "
			"IT provider) before these figures were taken.</p>\n",
			c->npcs);
	else
		fprintf(f,
			"<p class=\"bad\">NOT VERIFIED: the audit trails of %zu of %zu PCs did not "
			"verify. Their figures are shown apart and marked; they cannot be relied "
			"on.</p>\n",
			c->npcs - c->nverified, c->npcs);
	fprintf(f,
		"<h2>Summary</h2>\n<table><tr><th>devices blocked</th><td>%" PRIu64
		"</td></tr><tr><th>exceptions approved</th><td>%" PRIu64
		"</td></tr><tr><th>refusals</th><td>%" PRIu64
		"</td></tr><tr><th>files written to media</th><td>%" PRIu64 " (%" PRIu64
		" bytes)</td></tr><tr><th>files read from media</th><td>%" PRIu64 " (%" PRIu64
		" bytes)</td></tr><tr><th>wipes done / missed</th><td>%" PRIu64 " / %" PRIu64
		"</td></tr><tr><th>audit trails restored after a power cut</th><td>%" PRIu64
		"</td></tr></table>\n<p>Totals include unverified PCs only when every PC "
		"verified%s.</p>\n",
		tot[0], tot[1], tot[2], tot[3], tot[4], tot[5], tot[6], tot[7], tot[8], replays,
		all ? "" : " (not the case: see the table)");
	fputs("<h2>Per PC</h2>\n<table><tr><th>PC</th><th>trail</th><th>blocked</th>"
	      "<th>exceptions</th><th>refusals</th><th>written (files/bytes)</th>"
	      "<th>read (files/bytes)</th><th>wipes done/missed/owed</th></tr>\n",
	      f);
	for (size_t i = 0; i < c->npcs; i++) {
		const struct frep_pc *p = &c->pcs[i];
		fputs("<tr><td>", f);
		pcl_html_text(f, p->pc);
		if (p->verified)
			fprintf(f, "</td><td>verified (seq %" PRIu64 "..%" PRIu64 ")", p->first_seq,
				p->last_seq);
		else {
			fputs("</td><td class=\"bad\">NOT VERIFIED: ", f);
			pcl_html_text(f, p->why);
		}
		fprintf(f,
			"</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
			"</td><td>%" PRIu64 "/%" PRIu64 "</td><td>%" PRIu64 "/%" PRIu64
			"</td><td>%" PRIu64 "/%" PRIu64 "/%" PRIu64 "</td></tr>\n",
			p->blocked, p->exceptions, p->refusals, p->out_n, p->out_bytes, p->in_n,
			p->in_bytes, p->wipes_done, p->wipes_missed, owed(p));
	}
	fputs("</table>\n", f);
	power_cuts(f, c);
	fputs("<h2>Charts</h2>\n", f);
	{
		const char *labels[256] = {0};
		uint64_t vals[256] = {0};
		size_t n = c->npcs < 256 ? c->npcs : 256;
		for (size_t i = 0; i < n; i++) {
			labels[i] = c->pcs[i].pc;
			vals[i] = c->pcs[i].out_bytes;
		}
		bars(f, "Bytes written to removable media, per PC", labels, vals, n, "B");
		for (size_t i = 0; i < n; i++)
			vals[i] = c->pcs[i].blocked;
		bars(f, "Devices blocked, per PC", labels, vals, n, "");
	}
	tally_chart(f, "Exceptions by approver", &c->approvers);
	tally_chart(f, "Exceptions by reason", &c->reasons);
	tally_chart(f, "Exceptions by duration", &c->durations);
	tally_chart(f, "Refusals by kind", &c->refusals);
	fputs("<p>Made by <code>portcullis fleet report</code>; its production is recorded by "
	      "the IT provider with this file's SHA-256. No file contents are recorded or "
	      "shown.</p>\n</body></html>\n",
	      f);
}

static void csv_tallies(FILE *f, const char *section, const struct frep_tallies *t)
{
	for (size_t i = 0; i < t->n; i++) {
		fprintf(f, "%s,,", section);
		pcl_csv_cell(f, t->v[i].key);
		fprintf(f, ",%" PRIu64 "\r\n", t->v[i].n);
	}
}

void frep_csv(FILE *f, const struct frep_council *c)
{
	fputs("section,pc,item,value\r\n", f);
	fputs("report,,council,", f);
	pcl_csv_cell(f, c->council);
	fprintf(f, "\r\nreport,,from,%s\r\nreport,,to,%s\r\nreport,,verified,%s\r\n", c->from,
		c->to, c->nverified == c->npcs ? "all" : "NOT VERIFIED");
	for (size_t i = 0; i < c->npcs; i++) {
		const struct frep_pc *p = &c->pcs[i];
		const char *k[] = {"blocked",	    "exceptions", "refusals",	"written_files",
				   "written_bytes", "read_files", "read_bytes", "wipes_done",
				   "wipes_missed",  "wipes_owed"};
		uint64_t v[] = {p->blocked,	 p->exceptions, p->refusals, p->out_n,
				p->out_bytes,	 p->in_n,	p->in_bytes, p->wipes_done,
				p->wipes_missed, owed(p)};
		fputs("pc,", f);
		pcl_csv_cell(f, p->pc);
		fputs(",trail,", f);
		pcl_csv_cell(f, p->verified ? "verified" : p->why);
		fputs("\r\n", f);
		for (size_t j = 0; j < sizeof(v) / sizeof(v[0]); j++) {
			fputs("pc,", f);
			pcl_csv_cell(f, p->pc);
			fprintf(f, ",%s,%" PRIu64 "\r\n", k[j], v[j]);
		}
		fputs("pc,", f);
		pcl_csv_cell(f, p->pc);
		fprintf(f, ",trail_replays,%" PRIu64 "\r\npc,", p->replays);
		pcl_csv_cell(f, p->pc);
		fputs(",last_trail_replay,", f);
		pcl_csv_cell(f, p->last_replay);
		fputs("\r\n", f);
	}
	csv_tallies(f, "exceptions_by_approver", &c->approvers);
	csv_tallies(f, "exceptions_by_reason", &c->reasons);
	csv_tallies(f, "exceptions_by_duration", &c->durations);
	csv_tallies(f, "refusals_by_kind", &c->refusals);
}
