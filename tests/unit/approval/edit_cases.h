/*
 * edit_cases.h - the approval tests' shared check of a parser's refusals: a valid text
 * with one spelling changed must be refused, and the diagnostic must name the file, the
 * line and the field. Linked by the approval unit tests only.
 */
#ifndef PCL_TEST_APPROVAL_EDIT_CASES_H
#define PCL_TEST_APPROVAL_EDIT_CASES_H

#include <stddef.h>

#include "diag.h"

struct edit_case {
	const char *from, *to; /* the first `from` in the valid text becomes `to` */
	unsigned line;	       /* the line the diagnostic names; 0: not checked */
	const char *words;     /* words the diagnostic holds */
};

/* A parser of the text (len bytes) read from `file`: 0, or negative errno with d set. */
typedef int (*edit_parse_fn)(const char *text, size_t len, const char *file, struct pcl_diag *d);

/* Each case applied to `valid` and parsed: it must fail with -EINVAL, its diagnostic
 * starting "file:" and holding the case's words, on its line. Returns how many cases did
 * not (each printed with cmocka's print_error); a `from` not in `valid` fails the test. */
int edit_cases_refused(const char *valid, const char *file, const struct edit_case *cases, size_t n,
		       edit_parse_fn parse);

#endif
