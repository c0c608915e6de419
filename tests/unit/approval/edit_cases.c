/*
 * edit_cases.c - the approval tests' shared check of a parser's refusals (see
 * edit_cases.h). Linked by the approval unit tests only.
 */
#include "edit_cases.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

int edit_cases_refused(const char *valid, const char *file, const struct edit_case *cases, size_t n,
		       edit_parse_fn parse)
{
	char msg[400];
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		const char *at = strstr(valid, cases[i].from);
		assert_non_null(at);
		size_t len = strlen(valid) + strlen(cases[i].to) + 1;
		char *text = malloc(len);
		assert_non_null(text);
		snprintf(text, len, "%.*s%s%s", (int)(at - valid), valid, cases[i].to,
			 at + strlen(cases[i].from));
		struct pcl_diag d;
		memset(&d, 0, sizeof(d));
		int rc = parse(text, strlen(text), file, &d);
		free(text);
		pcl_diag_format(&d, msg, sizeof(msg));
		if (rc != -EINVAL || strstr(msg, cases[i].words) == NULL ||
		    (cases[i].line != 0 && d.line != cases[i].line) ||
		    strncmp(msg, file, strlen(file)) != 0 || msg[strlen(file)] != ':') {
			print_error("case %zu (%s -> %s): rc %d, line %u, diag \"%s\"\n", i,
				    cases[i].from, cases[i].to, rc, d.line, msg);
			bad++;
		}
	}
	return bad;
}
