/*
 * record.c - the framing of one audit record line and its full JSON parse.
 * Linked by the engine (crash recovery of its own trail) and the CLI (verify, export).
 * Input is untrusted: trails are copied from PCs an attacker may have controlled.
 */
#include "audit.h"
#include "audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

static const char *eat(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0)
		return NULL;
	return p + n;
}

static const char *eat_u64(const char *p, const char *end, uint64_t *v)
{
	uint64_t x = 0;
	const char *s = p;

	while (p < end && *p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');
		if (x > (UINT64_MAX - d) / 10)
			return NULL;
		x = x * 10 + d;
		p++;
	}
	if (p == s || (p - s > 1 && *s == '0'))
		return NULL;
	*v = x;
	return p;
}

static bool digits(const char *s, size_t n, int *v)
{
	int x = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

int audit_ts_parse(const char *s, size_t len, int64_t *ms)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, se, milli;
	struct tm tm = {0};

	if (len != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != '.' || s[23] != 'Z' || !digits(s, 4, &y) ||
	    !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
	    !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se) || !digits(s + 20, 3, &milli))
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || (unsigned)d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || se > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*ms = (int64_t)timegm(&tm) * 1000 + milli;
	return 0;
}

int64_t audit_month_start(const char *month)
{
	struct tm tm = {0};

	tm.tm_year = atoi(month) - 1900;
	tm.tm_mon = atoi(month + 5) - 1;
	tm.tm_mday = 1;
	return (int64_t)timegm(&tm);
}

/* The line does not even have a record's fixed framing. */
static int not_a_record(struct pcl_diag *d)
{
	pcl_diag_set(
	    d, NULL, 0,
	    "not an audit record (expected {\"seq\":N,\"epoch\":N,\"prev\":..., \"mac\" last)");
	return -EBADMSG;
}

int audit_frame_parse(const char *line, size_t len, struct audit_frame *f, struct pcl_diag *d)
{
	const char *p = line, *end = line + len, *m;

	if (len < AUDIT_MAC_SUFFIX_LEN + 40 || len >= AUDIT_RECORD_MAX)
		return not_a_record(d);
	if (!(p = eat(p, end, "{\"seq\":")) || !(p = eat_u64(p, end, &f->seq)) ||
	    !(p = eat(p, end, ",\"epoch\":")) || !(p = eat_u64(p, end, &f->epoch)) ||
	    !(p = eat(p, end, ",\"prev\":\"")))
		return not_a_record(d);
	if (end - p < AUDIT_HEX_LEN || audit_unhex(f->prev, p, AUDIT_HEX_LEN) != 0) {
		pcl_diag_set(d, NULL, 0, "field prev: not 64 lower-case hex digits");
		return -EBADMSG;
	}
	p += AUDIT_HEX_LEN;
	if (!(p = eat(p, end, "\",\"audit.type\":\"")))
		return not_a_record(d);
	if ((m = eat(p, end, "record\"")))
		f->type = AUDIT_T_RECORD;
	else if ((m = eat(p, end, "checkpoint\"")))
		f->type = AUDIT_T_CHECKPOINT;
	else if ((m = eat(p, end, "purge\""))) {
		f->type = AUDIT_T_PURGE;
	} else {
		pcl_diag_set(d, NULL, 0, "field audit.type: not record, checkpoint or purge");
		return -EBADMSG;
	}
	if (m > end - AUDIT_MAC_SUFFIX_LEN) {
		pcl_diag_set(d, NULL, 0, "record too short");
		return -EBADMSG;
	}
	f->has_ts = false;
	f->ts_ms = 0;
	if ((p = eat(m, end - AUDIT_MAC_SUFFIX_LEN, ",\"@timestamp\":\"")) != NULL &&
	    end - AUDIT_MAC_SUFFIX_LEN - p > 24 && p[24] == '"' &&
	    audit_ts_parse(p, 24, &f->ts_ms) == 0)
		f->has_ts = true;
	p = end - AUDIT_MAC_SUFFIX_LEN;
	if (!eat(p, end, ",\"mac\":\"") || end[-2] != '"' || end[-1] != '}' ||
	    audit_unhex(f->mac, p + 8, AUDIT_HEX_LEN) != 0) {
		pcl_diag_set(d, NULL, 0,
			     "field mac: missing, not last, or not 64 lower-case hex digits");
		return -EBADMSG;
	}
	if (f->seq == 0) {
		pcl_diag_set(d, NULL, 0, "field seq: 0 (sequence numbers start at 1)");
		return -EBADMSG;
	}
	return 0;
}

int audit_record_parse(const char *line, size_t len, struct json_object **out,
		       struct pcl_diag *diag)
{
	struct audit_frame f;
	struct json_tokener *tok;
	struct json_object *obj;

	*out = NULL;
	if (memchr(line, '\0', len) != NULL) {
		pcl_diag_set(diag, NULL, 0, "record contains a NUL byte");
		return -EBADMSG;
	}
	if (audit_frame_parse(line, len, &f, diag) != 0)
		return -EBADMSG;
	tok = json_tokener_new_ex(8);
	if (tok == NULL)
		return -ENOMEM;
	obj = json_tokener_parse_ex(tok, line, (int)len);
	if (obj == NULL || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(obj, json_type_object)) {
		enum json_tokener_error e = json_tokener_get_error(tok);
		pcl_diag_set(diag, NULL, 0, "invalid JSON at byte %zu: %s",
			     json_tokener_get_parse_end(tok),
			     e == json_tokener_success ? "trailing data or not an object"
						       : json_tokener_error_desc(e));
		json_object_put(obj);
		json_tokener_free(tok);
		return -EBADMSG;
	}
	json_tokener_free(tok);
	*out = obj;
	return 0;
}

int audit_line_seq(const char *line, size_t len, uint64_t *seq)
{
	struct audit_frame f;

	if (audit_frame_parse(line, len, &f, NULL) != 0)
		return -EBADMSG;
	*seq = f.seq;
	return 0;
}

int audit_file_first_seq(const char *path, uint64_t *seq)
{
	char buf[AUDIT_RECORD_MAX];
	struct audit_frame f;
	const char *nl;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return -EIO;
	nl = memchr(buf, '\n', (size_t)n);
	if (nl == NULL || audit_frame_parse(buf, (size_t)(nl - buf), &f, NULL) != 0)
		return -ENOENT;
	*seq = f.seq;
	return 0;
}
