/*
 * fuzz_job.c - libFuzzer harness for wipe_job_parse: the job text the wiper reads from
 * its job pipe. A parsed job must format and parse back to the same job.
 */
#include "wipe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wipe_job a, b;
	struct pcl_diag d;
	char text[512];
	int n;

	if (wipe_job_parse((const char *)data, size, &a, &d) != 0)
		return 0;
	n = wipe_job_format(&a, text, sizeof(text));
	if (n < 0 || wipe_job_parse(text, (size_t)n, &b, &d) != 0 || memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	return 0;
}
