/*
 * fuzz_ipc.c - libFuzzer harness for the parent/engine message decoder.
 * A decoded message must re-encode to exactly the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_msg m;
	uint8_t buf[IPC_MSG_MAX];

	if (ipc_decode(data, size, &m) != 0)
		return 0;
	int n = ipc_encode(&m, buf, sizeof(buf));
	if (n < 0 || (size_t)n != size || memcmp(buf, data, size) != 0)
		abort();
	return 0;
}
