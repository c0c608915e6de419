/*
 * engine_approval_issued.c - the approval requests this PC issued and not yet answered
 * (state-dir/approval-requests: nonce, SHA-256 of the exact request text, its answer-by
 * time and the requesting uid, one request a line), so that an answer is checked against
 * what was asked, not against whatever text came back signed. One user has at most
 * EAPPR_MAX_ISSUED_PER_UID requests waiting.
 * Linked by the engine. The file is the engine's own (written atomically) but is still
 * read with bounds; the texts compared with it come from clients: untrusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_approval_int.h"
#include "fileio.h"
#include "hex.h"
#include "log.h"

#define ISSUED_FILE "approval-requests"

static int save(const struct eappr_state *s)
{
	char path[300], *text = NULL;
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/%s", s->dir, ISSUED_FILE);
	FILE *f = open_memstream(&text, &len);

	for (size_t i = 0; f && i < s->n_issued; i++) {
		char n[2 * APPR_NONCE_LEN + 1], h[65];
		pcl_hex_encode(n, s->issued[i].nonce, APPR_NONCE_LEN);
		pcl_hex_encode(h, s->issued[i].sha256, 32);
		fprintf(f, "%s %s %" PRId64 " %" PRIu32 "\n", n, h, s->issued[i].answer_by,
			s->issued[i].uid);
	}
	int rc = f == NULL || fclose(f) != 0 ? -ENOMEM : 0;
	if (rc == 0)
		rc = pcl_write_file_atomic(path, text, len, 0600);
	free(text);
	if (rc != 0)
		log_err("%s: cannot keep the issued requests: %s", path, strerror(-rc));
	return rc;
}

int eappr_issued_load(struct eappr_state *s)
{
	char path[300], line[160];
	snprintf(path, sizeof(path), "%s/%s", s->dir, ISSUED_FILE);
	FILE *f = fopen(path, "re");
	unsigned lineno = 0;

	s->n_issued = 0;
	if (f == NULL) {
		int rc = -errno;
		if (rc == -ENOENT)
			return 0;
		log_err("%s: %s: refusing to start approvals", path, strerror(-rc));
		return rc;
	}
	while (fgets(line, sizeof(line), f) != NULL && s->n_issued < EAPPR_MAX_ISSUED) {
		struct eappr_issued *q = &s->issued[s->n_issued];
		char *end;
		unsigned long uid = 0;
		lineno++;
		if (strlen(line) < 2 * APPR_NONCE_LEN + 67 || line[2 * APPR_NONCE_LEN] != ' ' ||
		    line[2 * APPR_NONCE_LEN + 65] != ' ' ||
		    pcl_hex_decode(q->nonce, APPR_NONCE_LEN, line, 2 * APPR_NONCE_LEN) ||
		    pcl_hex_decode(q->sha256, 32, line + 2 * APPR_NONCE_LEN + 1, 64) ||
		    (q->answer_by = strtoll(line + 2 * APPR_NONCE_LEN + 66, &end, 10)) <= 0 ||
		    *end != ' ' || (uid = strtoul(end + 1, &end, 10)) > UINT32_MAX ||
		    *end != '\n') {
			log_err("%s:%u: not an issued request: refusing to start approvals", path,
				lineno);
			fclose(f);
			return -EINVAL;
		}
		q->uid = (uint32_t)uid;
		s->n_issued++;
	}
	fclose(f);
	return 0;
}

int eappr_issued_add(struct eappr_state *s, const uint8_t nonce[APPR_NONCE_LEN], const char *text,
		     size_t len, int64_t answer_by, int64_t now, uint32_t uid)
{
	size_t keep = 0, mine = 0;

	/* Requests past their answer-by time can no longer be answered: forget them. */
	for (size_t i = 0; i < s->n_issued; i++)
		if (s->issued[i].answer_by >= now) {
			mine += s->issued[i].uid == uid;
			s->issued[keep++] = s->issued[i];
		}
	s->n_issued = keep;
	/* One user cannot crowd out everybody else's requests waiting for an answer. */
	if (mine >= EAPPR_MAX_ISSUED_PER_UID)
		return -EBUSY;
	if (s->n_issued == EAPPR_MAX_ISSUED) {
		log_warn("%d requests are waiting for an answer: the oldest is dropped",
			 EAPPR_MAX_ISSUED);
		memmove(s->issued, s->issued + 1, (EAPPR_MAX_ISSUED - 1) * sizeof(s->issued[0]));
		s->n_issued--;
	}
	struct eappr_issued *q = &s->issued[s->n_issued];
	memcpy(q->nonce, nonce, APPR_NONCE_LEN);
	q->answer_by = answer_by;
	q->uid = uid;
	int rc = appr_sha256(text, len, q->sha256);
	if (rc != 0) {
		log_err("the request's digest: %s", strerror(-rc));
		return rc;
	}
	s->n_issued++;
	if ((rc = save(s)) != 0)
		s->n_issued--;
	return rc;
}

const struct eappr_issued *eappr_issued_find(const struct eappr_state *s,
					     const uint8_t nonce[APPR_NONCE_LEN])
{
	for (size_t i = 0; i < s->n_issued; i++)
		if (memcmp(s->issued[i].nonce, nonce, APPR_NONCE_LEN) == 0)
			return &s->issued[i];
	return NULL;
}

int eappr_issued_forget(struct eappr_state *s, const uint8_t nonce[APPR_NONCE_LEN])
{
	const struct eappr_issued *q = eappr_issued_find(s, nonce);

	if (q == NULL)
		return 0;
	size_t i = (size_t)(q - s->issued);
	memmove(&s->issued[i], &s->issued[i + 1], (s->n_issued - i - 1) * sizeof(s->issued[0]));
	s->n_issued--;
	return save(s);
}
