/*
 * fuzz_conf.c - libFuzzer harness for the portcullisd.conf parser.
 */
#include <stdint.h>
#include <stdlib.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;
	struct pcl_diag d[4];
	size_t n;

	conf_defaults(&c);
	if (conf_parse_buffer(&c, "fuzz", (const char *)data, size, d, 4, &n) != 0 && n == 0)
		abort(); /* failure must always come with a diagnostic */
	return 0;
}
