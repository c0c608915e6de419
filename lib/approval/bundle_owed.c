/*
 * bundle_owed.c - the owed section of a council bundle (format 2; see bundle.h): the
 * council's open owed wipes, each a take-out stick's identity and the reference of the
 * approval that let it out, so that any PC of the council recognises the stick and wipes
 * it. Linked by the engine, the CLI and tests; parsed text is untrusted.
 */
#include "bundle.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "approval_int.h"

static bool ref_ok(const char *s)
{
	return strlen(s) == 18 && s[0] == 'A' && s[1] == '-' &&
	       strspn(s + 2, "0123456789abcdef") == 16;
}

static bool hash_ok(const char *s)
{
	size_t n = strlen(s);

	return n == 44 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == n;
}

int appr_bundle_owed_encode(struct abuf *o, const struct appr_bundle *b)
{
	char v[160];
	int rc;

	if (b->n_owed > APPR_BUNDLE_OWED)
		return -EINVAL;
	snprintf(v, sizeof(v), "%zu", b->n_owed);
	rc = ab_line(o, "owed", v);
	for (size_t i = 0; rc == 0 && i < b->n_owed; i++) {
		const struct appr_bundle_owed *w = &b->owed[i];
		if (!ref_ok(w->ref) || !hash_ok(w->hash))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(b->owed[j].ref, w->ref) == 0)
				return -EINVAL;
		snprintf(v, sizeof(v), "%s %s %04x:%04x %" PRIu64, w->ref, w->hash, w->vid, w->pid,
			 w->capacity);
		rc = ab_line(o, "owed.wipe", v);
		rc = rc ?: ab_escaped(o, "owed.serial", w->serial);
	}
	return rc;
}

int appr_bundle_owed_parse(struct atext *t, struct appr_bundle *b)
{
	uint64_t n;
	int rc = at_uint(t, "owed", APPR_BUNDLE_OWED, &n);

	if (rc != 0)
		return rc;
	b->n_owed = (size_t)n;
	for (size_t i = 0; i < b->n_owed; i++) {
		struct appr_bundle_owed *w = &b->owed[i];
		const char *v;
		size_t vlen;
		char line[160], ref[APPR_OWED_REF_MAX], hash[48], id[10], cap[24], again[160];
		unsigned vid, pid;
		uint64_t c;
		if ((rc = at_next(t, "owed.wipe", &v, &vlen)) != 0)
			return rc;
		bool ok = vlen < sizeof(line);
		if (ok) {
			memcpy(line, v, vlen);
			line[vlen] = '\0';
			ok = sscanf(line, "%23s %47s %9s %23s", ref, hash, id, cap) == 4 &&
			     ref_ok(ref) && hash_ok(hash) && strlen(id) == 9 && id[4] == ':' &&
			     strspn(id, "0123456789abcdef:") == 9 &&
			     sscanf(id, "%4x:%4x", &vid, &pid) == 2 &&
			     appr_u64(cap, strlen(cap), UINT64_MAX, &c) == 0;
		}
		if (ok) { /* one spelling only: what would be written back */
			snprintf(again, sizeof(again), "%s %s %04x:%04x %" PRIu64, ref, hash, vid,
				 pid, c);
			ok = strcmp(again, line) == 0;
		}
		if (!ok) {
			pcl_diag_set(
			    t->diag, t->name, t->line,
			    "owed.wipe: expected an approval reference (A- and 16 lower-case "
			    "hex digits), a device hash, \"vvvv:pppp\" and a capacity, "
			    "separated by one space");
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(b->owed[j].ref, ref) == 0) {
				pcl_diag_set(t->diag, t->name, t->line,
					     "owed.wipe: the same reference twice");
				return -EINVAL;
			}
		memcpy(w->ref, ref, sizeof(w->ref));
		memcpy(w->hash, hash, sizeof(w->hash));
		w->vid = (uint16_t)vid;
		w->pid = (uint16_t)pid;
		w->capacity = c;
		if ((rc = at_escaped(t, "owed.serial", w->serial, sizeof(w->serial))) != 0)
			return rc;
	}
	return 0;
}

const struct appr_bundle_owed *appr_bundle_owed_find(const struct appr_bundle *b, const char *hash,
						     uint16_t vid, uint16_t pid, const char *serial)
{
	for (size_t i = 0; b != NULL && i < b->n_owed; i++) {
		const struct appr_bundle_owed *w = &b->owed[i];
		if (strcmp(w->hash, hash) == 0 && w->vid == vid && w->pid == pid &&
		    strcmp(w->serial, serial) == 0)
			return w;
	}
	return NULL;
}
