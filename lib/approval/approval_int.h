/*
 * approval_int.h - internals of lib/approval shared by its files: an output buffer
 * and a line reader over untrusted text.
 */
#ifndef PCL_APPROVAL_INT_H
#define PCL_APPROVAL_INT_H

#include "approval.h"

struct abuf {
	char *buf;
	size_t len, cap;
};

struct atext {
	const char *buf;
	size_t len, pos;
	unsigned line;
	const char *name;
	struct pcl_diag *diag;
};

int ab_put(struct abuf *b, const char *s, size_t n);
/* "key: value\n" ("key:\n" for an empty value). */
int ab_line(struct abuf *b, const char *key, const char *value);
/* The same with value percent-escaped; -EINVAL when value is APPR_STR_MAX or longer. */
int ab_escaped(struct abuf *b, const char *key, const char *value);

/* The next line must be "key: value" (or "key:"): value points into the text. */
int at_next(struct atext *t, const char *key, const char **value, size_t *vlen);
int at_escaped(struct atext *t, const char *key, char *out, size_t cap);
int at_uint(struct atext *t, const char *key, uint64_t max, uint64_t *out);
int at_b64(struct atext *t, const char *key, uint8_t *out, size_t cap, size_t *outlen);

/* A canonical decimal number (no sign, no leading zeros) up to max. */
int appr_u64(const char *v, size_t vlen, uint64_t max, uint64_t *out);
/* "<magic> <version>\n" */
int appr_parse_header(struct atext *t, const char *magic, unsigned version);
/* Start reading a text document: set up t over buf, refuse one larger than max bytes
 * ("larger than N bytes", naming it), then read its "<magic> <version>" header. */
int appr_text_open(struct atext *t, const char *buf, size_t len, const char *name,
		   struct pcl_diag *diag, size_t max, const char *magic, unsigned version);
/* The same for any version from oldest to version; *got (when not NULL) says which. */
int appr_parse_header_of(struct atext *t, const char *magic, unsigned oldest, unsigned version,
			 unsigned *got);
int appr_text_open_of(struct atext *t, const char *buf, size_t len, const char *name,
		      struct pcl_diag *diag, size_t max, const char *magic, unsigned oldest,
		      unsigned version, unsigned *got);
/* A request at the reader's position (the caller checks what follows). */
int appr_request_read(struct atext *t, struct appr_request *r);

/* bundle_owed.c: the owed section of a council bundle (format 2). */
struct appr_bundle;
int appr_bundle_owed_encode(struct abuf *b, const struct appr_bundle *bundle);
int appr_bundle_owed_parse(struct atext *t, struct appr_bundle *bundle);

#endif
