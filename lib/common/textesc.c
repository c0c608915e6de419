/*
 * textesc.c - HTML and CSV escaping for reports (see textesc.h). Linked by the CLI.
 * Inputs are untrusted text from trails; output is always well formed.
 */
#include "textesc.h"

#include <string.h>

const char *pcl_html_entity(char c)
{
	switch (c) {
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '&':
		return "&amp;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

void pcl_html_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		const char *e = pcl_html_entity(*s);
		if (e != NULL)
			fputs(e, f);
		else
			fputc(*s, f);
	}
}

void pcl_csv_cell(FILE *f, const char *s)
{
	fputc('"', f);
	if (s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL)
		fputc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}
