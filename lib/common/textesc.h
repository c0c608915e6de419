/*
 * textesc.h - escaping text for the reports people open: HTML text and attribute values,
 * and CSV cells a spreadsheet will not run as formulas. Used by every report writer of
 * the CLI (audit export, the council's fleet report). The text comes from trails, that
 * is from devices and users: nothing in it is trusted.
 */
#ifndef PCL_TEXTESC_H
#define PCL_TEXTESC_H

#include <stdio.h>

/* The entity for c in HTML text or a quoted attribute, or NULL when c stands as it is. */
const char *pcl_html_entity(char c);

/* s as HTML text (safe in element content and in double- or single-quoted attributes). */
void pcl_html_text(FILE *f, const char *s);

/* s as one CSV cell (RFC 4180): always quoted, quotes doubled, line breaks kept inside
 * the quotes; a cell starting with = + - @ TAB or CR gets a leading ' so that a
 * spreadsheet shows it as text, never evaluates it. */
void pcl_csv_cell(FILE *f, const char *s);

#endif
