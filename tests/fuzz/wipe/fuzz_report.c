/*
 * fuzz_report.c - libFuzzer harness for wipe_report_parse: the report lines the
 * unprivileged wiper sends the root parent. A parsed line must re-format and re-parse.
 */
#include "wipe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wipe_report r, again;
	struct pcl_diag d;
	char line[4096];
	int n;

	if (wipe_report_parse((const char *)data, size, &r, &d) != 0)
		return 0;
	n = wipe_report_format(&r, line, sizeof(line));
	if (n > 0 && wipe_report_parse(line, (size_t)n, &again, &d) != 0)
		abort();
	return 0;
}
