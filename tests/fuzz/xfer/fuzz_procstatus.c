/*
 * fuzz_procstatus.c - libFuzzer harness for the /proc/PID/status uid parser.
 * Fuzzing only.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	uid_t u, e;
	int rc = xfer_parse_proc_status(buf, size, &u, &e);
	if (rc != 0 && rc != -EPROTO)
		abort();
	free(buf);
	return 0;
}
