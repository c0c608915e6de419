/*
 * audit_files.c - PATH expansion and ordering for `portcullis audit verify/export`,
 * and the terminal QR code of `portcullis audit enrol`.
 * Linked by the portcullis CLI; directory contents are untrusted (names are only sorted).
 */
#include "audit_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <qrencode.h>

#include "audit.h"

struct ent {
	char *path;
	uint64_t seq;
};

static int by_seq(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int push(struct ent **v, int *n, int *cap, const char *path)
{
	if (*n == *cap) {
		int nc = *cap ? *cap * 2 : 16;
		struct ent *nv = realloc(*v, (size_t)nc * sizeof(**v));
		if (nv == NULL)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[*n].path = strdup(path);
	if ((*v)[*n].path == NULL)
		return -ENOMEM;
	if (audit_file_first_seq(path, &(*v)[*n].seq) != 0)
		(*v)[*n].seq = UINT64_MAX; /* no record: the verifier reports it */
	(*n)++;
	return 0;
}

static int wanted(const char *name)
{
	size_t l = strlen(name);

	return name[0] != '.' && ((l > 6 && strcmp(name + l - 6, ".jsonl") == 0) ||
				  (l > 4 && strcmp(name + l - 4, ".log") == 0));
}

int audit_cli_files(char **paths, int np, char ***out)
{
	struct ent *v = NULL;
	int n = 0, cap = 0, rc = 0;
	char **list;
	struct stat st;

	for (int i = 0; i < np && rc == 0; i++) {
		if (stat(paths[i], &st) != 0) {
			rc = -errno;
			fprintf(stderr, "portcullis: %s: %s\n", paths[i], strerror(errno));
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			rc = push(&v, &n, &cap, paths[i]);
			continue;
		}
		DIR *d = opendir(paths[i]);
		struct dirent *e;
		if (d == NULL) {
			rc = -errno;
			fprintf(stderr, "portcullis: %s: %s\n", paths[i], strerror(errno));
			break;
		}
		while (rc == 0 && (e = readdir(d)) != NULL) {
			char p[4096];
			if (!wanted(e->d_name))
				continue;
			snprintf(p, sizeof(p), "%s/%s", paths[i], e->d_name);
			rc = push(&v, &n, &cap, p);
		}
		closedir(d);
	}
	if (rc == 0 && n > 0)
		qsort(v, (size_t)n, sizeof(*v), by_seq);
	list = calloc((size_t)n + 1, sizeof(*list));
	for (int i = 0; i < n; i++) {
		if (list)
			list[i] = v[i].path;
		else
			free(v[i].path);
	}
	free(v);
	if (list == NULL)
		return -ENOMEM;
	if (rc != 0) {
		audit_cli_files_free(list, n);
		return rc;
	}
	*out = list;
	return n;
}

void audit_cli_files_free(char **files, int n)
{
	for (int i = 0; i < n; i++)
		free(files[i]);
	free(files);
}

int audit_cli_qr(FILE *f, const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	const int q = 2; /* quiet zone */

	if (qr == NULL)
		return -1;
	int w = qr->width;
	/* Light modules print as full blocks so dark terminals show dark-on-light. */
	for (int y = -q; y < w + q; y += 2) {
		for (int x = -q; x < w + q; x++) {
			int top = y >= 0 && y < w && x >= 0 && x < w && (qr->data[y * w + x] & 1);
			int bot = y + 1 >= 0 && y + 1 < w && x >= 0 && x < w &&
				  (qr->data[(y + 1) * w + x] & 1);
			fputs(top ? (bot ? " " : "\u2584") : (bot ? "\u2580" : "\u2588"), f);
		}
		fputc('\n', f);
	}
	QRcode_free(qr);
	return 0;
}

struct rec {
	uint64_t seq;
	const char *p;
	size_t len;
	unsigned file, line;
};

static int by_seq_pos(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->line < y->line ? -1 : (x->line > y->line);
}

int audit_cli_feed_collected(struct audit_verifier *v, char **files, int n, uint64_t *moved)
{
	char **bufs = calloc((size_t)n + 1, sizeof(char *));
	struct rec *recs = NULL;
	size_t nrec = 0, cap = 0;
	int rc = 0;

	*moved = 0;
	for (int i = 0; i < n && bufs && rc == 0; i++) {
		FILE *f = fopen(files[i], "re");
		size_t len = 0, cap2 = 0;
		uint64_t maxseq = 0;
		unsigned line = 0;
		char *end, *p, *nl;

		if (f == NULL) {
			rc = -errno;
			fprintf(stderr, "portcullis: %s: %s\n", files[i], strerror(errno));
			break;
		}
		for (;;) { /* whole file in memory: collected copies are ordered here */
			if (len == cap2) {
				char *nb = realloc(bufs[i], cap2 = cap2 ? cap2 * 2 : 1 << 20);
				if (nb == NULL) {
					rc = -ENOMEM;
					break;
				}
				bufs[i] = nb;
			}
			size_t r = fread(bufs[i] + len, 1, cap2 - len, f);
			if (r == 0)
				break;
			len += r;
		}
		fclose(f);
		for (p = bufs[i], end = p + len; rc == 0 && p < end; p = nl + 1) {
			uint64_t seq = 0;
			nl = memchr(p, '\n', (size_t)(end - p));
			line++;
			if (nl == NULL) {
				/* half a line at the end: fed last so it is reported, never
				 * accepted */
				audit_verifier_feed_line(v, p, (size_t)(end - p), files[i], line);
				break;
			}
			if (nrec == cap) {
				struct rec *nr =
				    realloc(recs, (cap = cap ? cap * 2 : 4096) * sizeof(*nr));
				if (nr == NULL) {
					rc = -ENOMEM;
					break;
				}
				recs = nr;
			}
			if (audit_line_seq(p, (size_t)(nl - p), &seq) != 0)
				seq = 0; /* unparseable: reported first */
			if (seq && seq < maxseq)
				(*moved)++;
			if (seq > maxseq)
				maxseq = seq;
			recs[nrec++] = (struct rec){seq, p, (size_t)(nl - p), (unsigned)i, line};
		}
	}
	if (bufs == NULL)
		rc = -ENOMEM;
	if (rc == 0) {
		qsort(recs, nrec, sizeof(*recs), by_seq_pos);
		for (size_t i = 0; i < nrec; i++)
			audit_verifier_feed_line(v, recs[i].p, recs[i].len, files[recs[i].file],
						 recs[i].line);
	}
	free(recs);
	for (int i = 0; bufs && i < n; i++)
		free(bufs[i]);
	free(bufs);
	return rc;
}
