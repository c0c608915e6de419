/*
 * audit_files.h - helpers shared by the `portcullis audit` subcommands: expand PATH
 * arguments into trail files ordered by first seq, QR rendering, export.
 * Linked by the portcullis CLI; paths and file contents are untrusted.
 */
#ifndef PCL_TOOLS_AUDIT_FILES_H
#define PCL_TOOLS_AUDIT_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Expand files and directories (their trail-*.jsonl and *.log files) into a malloc'd
 * list ordered by first record seq. Returns the count or a negative errno. */
int audit_cli_files(char **paths, int n, char ***out);
void audit_cli_files_free(char **files, int n);

/* Render text as a QR code with half-block characters; 0 or -1. */
int audit_cli_qr(FILE *f, const char *text);

int audit_cli_export(int argc, char **argv);
/* `portcullis audit witness`: 0 clean, 1 findings, 3 a PC silent, 2 usage. */
int audit_cli_witness(int argc, char **argv);

struct audit_verifier;
/* A collector's copy: records may be repeated and out of file order (RELP resends).
 * Reads every file, orders the lines by seq and feeds them; *moved counts the records
 * that were out of file order. */
int audit_cli_feed_collected(struct audit_verifier *v, char **files, int n, uint64_t *moved);

#endif
