/*
 * verify_state.c - save and resume an audit verifier (lib/audit/verify.c) between runs:
 * a collector verifies each PC's trail incrementally, from where the last run stopped.
 * Linked by the CLI (`portcullis fleet verify`, `audit verify`). The saved text is the
 * collector's own file, kept 0600, yet parsed strictly as untrusted: every line, number
 * and hash is checked, and a text that does not parse leaves the verifier as it was.
 */
#include "audit.h"
#include "audit_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- incremental verification (collector): save and resume the verifier ----
 * The saved text holds the chain position, the current epoch's MAC key (as secret as
 * the key file it derives from: the caller keeps it 0600 and wipes it) and the last
 * SAVE_RING record hashes, so that resends of recent records are still told from
 * replacements after a resume. */
#define SAVE_RING 256

int audit_verifier_save(const struct audit_verifier *v, char **out)
{
	size_t cap = 2048 + SAVE_RING * 90, n = 0;
	char *b = malloc(cap), h1[AUDIT_HEX_LEN + 1], h2[AUDIT_HEX_LEN + 1];
	const struct audit_verify_result *r = &v->res;

	*out = NULL;
	if (b == NULL)
		return -ENOMEM;
	if (!v->started || !v->keyed || v->reports > 0 || v->res.failures > 0) {
		free(b);
		return -EINVAL; /* only a clean, keyed, started verifier is worth resuming */
	}
	audit_hex(h1, v->last_hash);
	n += (size_t)snprintf(b + n, cap - n,
			      "portcullis-verify-state 1\norigin %s\nlast %" PRIu64 " %s\n"
			      "epoch %" PRIu64 "\n",
			      v->origin, v->last_seq, h1, v->epoch);
	audit_hex(h1, v->key.pub);
	n += (size_t)snprintf(b + n, cap - n, "key0 %s\n", h1); /* binds the state to the key */
	audit_hex(h1, v->pub);
	audit_hex(h2, v->mac_key);
	n += (size_t)snprintf(b + n, cap - n, "pub %s %s\nkey %" PRIu64 " %s\n",
			      v->pub_known ? "1" : "0", h1, v->key_epoch, h2);
	audit_hex(h1, v->start_prev);
	n += (size_t)snprintf(
	    b + n, cap - n,
	    "start %" PRIu64 " %s %s %d\nckpt %" PRIu64 "\n"
	    "counts %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n"
	    "time %" PRId64 " %d %" PRId64 "\n"
	    "checkpoint %" PRIu64 " %" PRId64 "\npurged %" PRIu64 " %" PRIu64 "\n",
	    r->first_seq, h1, v->start_month[0] ? v->start_month : "-", v->purge_ok ? 1 : 0,
	    v->last_ckpt_seq, r->records, r->checkpoints, r->purges, r->duplicates, v->start_ts_ms,
	    v->have_ts ? 1 : 0, v->max_ts_ms, r->last_ckpt_seq, r->last_ckpt_time, r->purged_upto,
	    r->purge_seq);
	for (uint64_t s = v->last_seq >= SAVE_RING ? v->last_seq - SAVE_RING + 1 : 1;
	     s <= v->last_seq; s++) {
		const struct ring_slot *slot = &v->ring[s % AUDIT_VERIFY_RING];
		if (slot->seq != s)
			continue;
		audit_hex(h1, slot->hash);
		n += (size_t)snprintf(b + n, cap - n, "r %" PRIu64 " %s\n", slot->seq, h1);
	}
	n += (size_t)snprintf(b + n, cap - n, "end\n");
	explicit_bzero(h2, sizeof(h2));
	if (n >= cap) {
		explicit_bzero(b, cap);
		free(b);
		return -EOVERFLOW;
	}
	*out = b;
	return 0;
}

/* Next line of the saved text into a NUL-terminated copy; false at the end. */
static bool state_line(const char **p, const char *end, char *line, size_t cap)
{
	const char *eol = memchr(*p, '\n', (size_t)(end - *p));
	size_t l;

	if (eol == NULL || (l = (size_t)(eol - *p)) >= cap || memchr(*p, '\0', l))
		return false;
	memcpy(line, *p, l);
	line[l] = '\0';
	*p = eol + 1;
	return true;
}

static bool hex32(uint8_t out[32], const char *s)
{
	return strlen(s) == AUDIT_HEX_LEN && audit_unhex(out, s, AUDIT_HEX_LEN) == 0;
}

int audit_verifier_resume(struct audit_verifier *v, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	char line[400], a[300], b[300], c[300];
	uint64_t n1 = 0, n2 = 0, n3 = 0, n4 = 0;
	int k = 0, rc = -EBADMSG;
	uint8_t mac[32];
	bool ok;

	if (!v->keyed || v->started)
		return -EINVAL;
	ok = state_line(&p, end, line, sizeof(line)) &&
	     strcmp(line, "portcullis-verify-state 1") == 0 &&
	     state_line(&p, end, line, sizeof(line)) && strncmp(line, "origin ", 7) == 0 &&
	     strcmp(line + 7, v->origin) == 0 && state_line(&p, end, line, sizeof(line)) &&
	     sscanf(line, "last %" SCNu64 " %299s", &n1, a) == 2 && hex32(v->last_hash, a) &&
	     n1 > 0 && state_line(&p, end, line, sizeof(line)) &&
	     sscanf(line, "epoch %" SCNu64, &v->epoch) == 1 && v->epoch <= AUDIT_MAX_EPOCH &&
	     state_line(&p, end, line, sizeof(line)) && sscanf(line, "key0 %299s", a) == 1 &&
	     hex32(mac, a) && memcmp(mac, v->key.pub, 32) == 0;
	v->last_seq = n1;
	ok = ok && state_line(&p, end, line, sizeof(line)) &&
	     sscanf(line, "pub %d %299s", &k, a) == 2 && hex32(v->pub, a);
	v->pub_known = k == 1;
	ok = ok && state_line(&p, end, line, sizeof(line)) &&
	     sscanf(line, "key %" SCNu64 " %299s", &n2, b) == 2 && hex32(mac, b) &&
	     n2 <= AUDIT_MAX_EPOCH;
	explicit_bzero(b, sizeof(b));
	if (ok) {
		memcpy(v->mac_key, mac, 32);
		v->key_epoch = n2;
		ok = audit_hasher_set_key(v->hasher, v->mac_key) == 0;
	}
	explicit_bzero(mac, sizeof(mac));
	ok = ok && state_line(&p, end, line, sizeof(line)) &&
	     sscanf(line, "start %" SCNu64 " %299s %299s %d", &v->res.first_seq, a, c, &k) == 4 &&
	     hex32(v->start_prev, a) && strlen(c) < sizeof(v->start_month);
	if (ok) {
		snprintf(v->start_month, sizeof(v->start_month), "%s", strcmp(c, "-") ? c : "");
		v->purge_ok = k == 1;
	}
	ok = ok && state_line(&p, end, line, sizeof(line)) &&
	     sscanf(line, "ckpt %" SCNu64, &v->last_ckpt_seq) == 1 &&
	     state_line(&p, end, line, sizeof(line)) &&
	     sscanf(line, "counts %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64, &n1, &n2, &n3,
		    &n4) == 4;
	if (ok) {
		v->res.records = n1;
		v->res.checkpoints = n2;
		v->res.purges = n3;
		v->res.duplicates = n4;
	}
	ok = ok && state_line(&p, end, line, sizeof(line)) &&
	     sscanf(line, "time %" SCNd64 " %d %" SCNd64, &v->start_ts_ms, &k, &v->max_ts_ms) == 3;
	v->have_ts = k == 1;
	ok = ok && state_line(&p, end, line, sizeof(line)) &&
	     sscanf(line, "checkpoint %" SCNu64 " %" SCNd64, &v->res.last_ckpt_seq,
		    &v->res.last_ckpt_time) == 2 &&
	     state_line(&p, end, line, sizeof(line)) &&
	     sscanf(line, "purged %" SCNu64 " %" SCNu64, &v->res.purged_upto, &v->res.purge_seq) ==
		 2;
	while (ok && state_line(&p, end, line, sizeof(line)) && strcmp(line, "end") != 0) {
		struct ring_slot *slot;
		ok = sscanf(line, "r %" SCNu64 " %299s", &n1, a) == 2 && n1 <= v->last_seq;
		if (ok) {
			slot = &v->ring[n1 % AUDIT_VERIFY_RING];
			slot->seq = n1;
			ok = hex32(slot->hash, a);
		}
	}
	if (ok && strcmp(line, "end") == 0 && p == end) {
		if (v->pub_known)
			audit_verifier_set_pub(v, v->epoch, v->pub);
		v->started = true;
		rc = 0;
	}
	explicit_bzero(line, sizeof(line));
	if (rc != 0) {
		/* leave nothing half-resumed */
		v->started = false;
		v->last_seq = 0;
		memset(&v->res, 0, sizeof(v->res));
		memcpy(v->mac_key, v->key.mac_key, 32);
		v->key_epoch = 0;
		audit_hasher_set_key(v->hasher, v->mac_key);
		memset(v->ring, 0, AUDIT_VERIFY_RING * sizeof(*v->ring));
	}
	return rc;
}
