/*
 * witness.c - the IT provider's witness of each PC's trail: a small file per PC holding
 * the latest verified checkpoint, checked against the PC's newest collected checkpoint
 * (same prefix, seq never backwards, no purge of what the witness saw recently, PC not
 * silent). Linked by the CLI (`portcullis audit witness`) and the fleet tooling; witness
 * files are the provider's own but parsed strictly, trails are untrusted.
 */
#include "audit.h"
#include "audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WITNESS_MAX	  (256 * 1024)
#define NOTE_MAX	  65536
#define DEFAULT_MARGIN	  3600
#define DEFAULT_INTERVAL  300
#define DEFAULT_RETENTION 6

void audit_witness_free(struct audit_witness *w)
{
	free(w->note);
	memset(w, 0, sizeof(*w));
}

static bool parse_i64(const char *s, size_t l, int64_t *v)
{
	int64_t x = 0;

	if (l == 0 || l > 18 || (l > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < l; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

/* Take the held note: parse its checkpoint body into the summary fields. */
static int take_note(struct audit_witness *w, const char *note, size_t len)
{
	struct audit_ckpt c;
	const char *sep = NULL;

	for (const char *p = note; p + 1 < note + len; p++)
		if (p[0] == '\n' && p[1] == '\n') {
			sep = p;
			break;
		}
	if (sep == NULL || memchr(note, '\0', len) != NULL ||
	    audit_ckpt_parse(&c, note, (size_t)(sep - note) + 1) != 0 || c.purge || c.size == 0)
		return -EBADMSG;
	free(w->note);
	w->note = strndup(note, len);
	if (w->note == NULL)
		return -ENOMEM;
	snprintf(w->origin, sizeof(w->origin), "%s", c.origin);
	w->seq = c.size;
	memcpy(w->head, c.head, sizeof(w->head));
	w->time = c.time;
	w->epoch = c.epoch;
	return 0;
}

int audit_witness_parse(struct audit_witness *w, const char *text, size_t len, const char *name,
			struct pcl_diag *diag)
{
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	int rc = -EBADMSG;

	memset(w, 0, sizeof(*w));
	if (len > WITNESS_MAX || memchr(text, '\0', len) != NULL) {
		pcl_diag_set(diag, name, 0, "not a witness file (too large or binary)");
		return -EBADMSG;
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *sp;
		size_t l;
		int64_t a, b;

		lineno++;
		if (eol == NULL) {
			pcl_diag_set(diag, name, lineno, "last line has no newline");
			goto bad;
		}
		l = (size_t)(eol - p);
		sp = memchr(p, ' ', l);
		if (lineno == 1) {
			if (l != 20 || memcmp(p, "portcullis-witness 1", 20) != 0) {
				pcl_diag_set(diag, name, 1, "expected \"portcullis-witness 1\"");
				goto bad;
			}
		} else if (l > 5 && memcmp(p, "seen ", 5) == 0 && lineno == 2) {
			if (!parse_i64(p + 5, l - 5, &w->seen)) {
				pcl_diag_set(diag, name, lineno, "field seen: not unix seconds");
				goto bad;
			}
		} else if (l > 8 && memcmp(p, "checked ", 8) == 0 && lineno == 3) {
			if (!parse_i64(p + 8, l - 8, &w->checked) || w->checked < w->seen) {
				pcl_diag_set(diag, name, lineno,
					     "field checked: not unix seconds at or after seen");
				goto bad;
			}
		} else if (l > 5 && memcmp(p, "mark ", 5) == 0 && lineno > 3 && w->note == NULL) {
			const char *sp2 = memchr(p + 5, ' ', l - 5);
			struct audit_witness_mark *prev =
			    w->nmarks ? &w->marks[w->nmarks - 1] : NULL;
			if (sp2 == NULL || !parse_i64(p + 5, (size_t)(sp2 - p - 5), &a) || a < 1 ||
			    !parse_i64(sp2 + 1, (size_t)(eol - sp2 - 1), &b) ||
			    w->nmarks == AUDIT_WITNESS_MARKS ||
			    (prev && ((uint64_t)a <= prev->seq || b < prev->seen)) || b > w->seen) {
				pcl_diag_set(diag, name, lineno,
					     "field mark: expected \"mark SEQ SEEN\", seq and time "
					     "increasing, at most %d, none after seen",
					     AUDIT_WITNESS_MARKS);
				goto bad;
			}
			w->marks[w->nmarks].seq = (uint64_t)a;
			w->marks[w->nmarks++].seen = b;
		} else if (l > 5 && memcmp(p, "note ", 5) == 0 && lineno > 3 && w->note == NULL) {
			char *raw = malloc(NOTE_MAX);
			int n =
			    raw ? pcl_b64_decode(p + 5, l - 5, (uint8_t *)raw, NOTE_MAX) : -ENOMEM;
			rc = n > 0 ? take_note(w, raw, (size_t)n) : -EBADMSG;
			free(raw);
			if (rc != 0) {
				pcl_diag_set(diag, name, lineno,
					     "field note: not base64 of a portcullis checkpoint "
					     "(C2SP signed note)");
				rc = -EBADMSG;
				goto bad;
			}
			rc = -EBADMSG;
		} else {
			pcl_diag_set(diag, name, lineno, "unexpected line \"%.*s\"",
				     (int)(sp ? (size_t)(sp - p) : (l > 20 ? 20 : l)), p);
			goto bad;
		}
		p = eol + 1;
	}
	if (w->note == NULL || lineno < 4) {
		pcl_diag_set(diag, name, lineno, "incomplete: needs seen, checked and note lines");
		goto bad;
	}
	if (w->nmarks && w->marks[w->nmarks - 1].seq > w->seq) {
		pcl_diag_set(diag, name, lineno, "a mark lies beyond the held checkpoint");
		goto bad;
	}
	return 0;
bad:
	audit_witness_free(w);
	return rc;
}

int audit_witness_format(const struct audit_witness *w, char **text)
{
	size_t nl = w->note ? strlen(w->note) : 0, cap = 256 + AUDIT_WITNESS_MARKS * 48 + nl * 2;
	char *out = malloc(cap);
	size_t off;

	*text = NULL;
	if (w->note == NULL)
		return -EINVAL;
	if (out == NULL)
		return -ENOMEM;
	off = (size_t)snprintf(out, cap,
			       "portcullis-witness 1\nseen %" PRId64 "\nchecked %" PRId64 "\n",
			       w->seen, w->checked);
	for (size_t i = 0; i < w->nmarks; i++)
		off += (size_t)snprintf(out + off, cap - off, "mark %" PRIu64 " %" PRId64 "\n",
					w->marks[i].seq, w->marks[i].seen);
	memcpy(out + off, "note ", 5);
	off += 5;
	if (pcl_b64_encode((const uint8_t *)w->note, nl, out + off, cap - off - 2) < 0) {
		free(out);
		return -ENOBUFS;
	}
	off += strlen(out + off);
	memcpy(out + off, "\n", 2);
	*text = out;
	return 0;
}

int audit_witness_load(struct audit_witness *w, const char *path, struct pcl_diag *diag)
{
	char *buf = malloc(WITNESS_MAX + 1);
	ssize_t n = -1;
	int fd, rc;

	memset(w, 0, sizeof(*w));
	if (buf == NULL)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = -errno;
		free(buf);
		if (rc != -ENOENT)
			pcl_diag_set(diag, path, 0, "cannot read: %s", strerror(-rc));
		return rc;
	}
	size_t have = 0;
	while (have <= WITNESS_MAX && (n = read(fd, buf + have, WITNESS_MAX + 1 - have)) > 0)
		have += (size_t)n;
	close(fd);
	if (n < 0) {
		rc = -errno;
		pcl_diag_set(diag, path, 0, "cannot read: %s", strerror(-rc));
	} else {
		rc = audit_witness_parse(w, buf, have, path, diag);
	}
	free(buf);
	return rc;
}

int audit_witness_save(const struct audit_witness *w, const char *path)
{
	char tmp[4096], *text = NULL, *slash;
	int fd, rc = audit_witness_format(w, &text);
	size_t len;

	if (rc != 0)
		return rc;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		free(text);
		return -ENAMETOOLONG;
	}
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		rc = -errno;
	else if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
		rc = errno ? -errno : -EIO;
	if (fd >= 0)
		close(fd);
	free(text);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	/* the directory entry too */
	slash = strrchr(tmp, '/');
	if (slash == tmp)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(tmp, sizeof(tmp), ".");
	fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	return rc;
}

int audit_witness_attach(const struct audit_witness *w, struct audit_verifier *v, const char *name)
{
	if (w->note == NULL)
		return 0; /* nothing held yet: the first check is trusted on first use */
	return audit_verifier_add_checkpoint(v, w->note, strlen(w->note), name);
}

static void report(const struct audit_witness_opts *o, struct audit_witness_result *res,
		   uint64_t seq, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void report(const struct audit_witness_opts *o, struct audit_witness_result *res,
		   uint64_t seq, const char *name, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	res->failures++;
	if (o->report == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->report(o->report_ctx, seq, name, 0, msg);
}

static void month_of(char out[8], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(out, 8, "%04u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u);
}

/* Start of the month `months` before the month of t. */
static int64_t months_before(int64_t t, unsigned months)
{
	char m[8];
	int y, mo;

	month_of(m, t);
	y = atoi(m);
	mo = atoi(m + 5) - 1 - (int)months;
	while (mo < 0) {
		mo += 12;
		y--;
	}
	snprintf(m, sizeof(m), "%04u-%02u", (unsigned)y % 10000u, (unsigned)(mo + 1) % 100u);
	return audit_month_start(m);
}

static void fmt_time(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int advance(struct audit_witness *w, const char *note, int64_t now)
{
	struct audit_witness next = *w;
	char m1[8], m2[8];
	int rc;

	next.note = NULL;
	if ((rc = take_note(&next, note, strlen(note))) != 0)
		return rc;
	next.seen = now;
	next.checked = now;
	if (next.nmarks)
		month_of(m1, next.marks[next.nmarks - 1].seen);
	month_of(m2, now);
	if (next.nmarks == 0 || strcmp(m1, m2) != 0) {
		if (next.nmarks == AUDIT_WITNESS_MARKS) {
			memmove(next.marks, next.marks + 1,
				(AUDIT_WITNESS_MARKS - 1) * sizeof(next.marks[0]));
			next.nmarks--;
		}
		next.marks[next.nmarks].seq = next.seq;
		next.marks[next.nmarks++].seen = now;
	}
	free(w->note);
	*w = next;
	return 0;
}

int audit_witness_check(struct audit_witness *w, struct audit_verifier *v, const char *name,
			const struct audit_witness_opts *o, struct audit_witness_result *res)
{
	unsigned retention = o->retention_months ? o->retention_months : DEFAULT_RETENTION;
	int64_t quiet = (int64_t)(o->interval_s ? o->interval_s : DEFAULT_INTERVAL) +
			(int64_t)(o->margin_s ? o->margin_s : DEFAULT_MARGIN);
	int64_t recent = months_before(o->now, retention);
	const char *note;
	char when[32];

	memset(res, 0, sizeof(*res));
	res->held_seq = w->seq;
	(void)audit_verifier_finish(v, &res->verify);
	res->failures = res->verify.failures;
	res->newest_seq = res->verify.last_ckpt_seq;
	note = audit_verifier_last_note(v);

	if (w->seq && res->verify.last_seq < w->seq)
		report(o, res, w->seq, name,
		       "truncated or rolled back: the trail ends at seq %" PRIu64
		       ", before the checkpoint at seq %" PRIu64 " the witness holds",
		       res->verify.last_seq, w->seq);
	else if (w->seq && res->newest_seq < w->seq)
		report(o, res, w->seq, name,
		       "seq goes backwards: the newest checkpoint covers seq %" PRIu64
		       ", the witness holds one at seq %" PRIu64 " (rolled back?)",
		       res->newest_seq, w->seq);
	if (res->verify.purged_upto) {
		/* The held checkpoint and the first one of each month: what the witness saw. */
		for (size_t i = 0; i <= w->nmarks; i++) {
			uint64_t seq = i < w->nmarks ? w->marks[i].seq : w->seq;
			int64_t seen = i < w->nmarks ? w->marks[i].seen : w->seen;
			if (seq == 0 || seq > res->verify.purged_upto || seen < recent)
				continue;
			fmt_time(when, seen);
			report(o, res, res->verify.purge_seq, name,
			       "purge erases records up to seq %" PRIu64 ", but the witness saw "
			       "the checkpoint at seq %" PRIu64 " on %s, less than %u months ago",
			       res->verify.purged_upto, seq, when, retention);
			break;
		}
	}
	if (res->newest_seq == 0 || note == NULL)
		res->stale = !w->seq || o->now - w->seen > quiet;
	else if (res->newest_seq <= w->seq)
		res->stale = o->now - w->seen > quiet;
	if (res->failures)
		return -EBADMSG;
	/* The witness's own clock never goes back in its file (a file must stay valid). */
	int64_t now = o->now > w->checked ? o->now : w->checked;
	if (note && res->newest_seq > w->seq) {
		int rc = advance(w, note, now);
		if (rc != 0)
			return rc;
		res->updated = true;
	} else {
		w->checked = now;
	}
	return 0;
}
