/*
 * fuzz_config.c - libFuzzer harness for the transfer-logging options parser.
 * Fuzzing only. Errors must come with a diagnostic.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "xfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	struct xfer_config c;
	struct pcl_diag d = {0};
	xfer_config_defaults(&c);
	if (xfer_config_parse(&c, buf, size, "fuzz.conf", &d) < 0 && d.msg[0] == '\0')
		abort();
	if (c.pseudo_key_len > XFER_KEY_MAX)
		abort();
	xfer_config_wipe(&c);
	free(buf);
	return 0;
}
