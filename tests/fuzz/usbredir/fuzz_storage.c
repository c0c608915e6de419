/*
 * fuzz_storage.c: libFuzzer harness for pcl-usbredir-dev's bulk-only mass storage
 * (tests/kernel/usbredir/dev_storage.c). The input is a sequence of operations: a tag byte
 * (0: bulk OUT, 1: bulk IN, 2: bulk-only reset), a length byte (OUT: bytes that follow;
 * IN: eighths of the request, up to 2040 bytes). Every length the storage returns must fit the
 * request (the sanitizers catch any access outside the disk or buffers). Linked by the fuzz build
 * only.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "urdev_storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[2048];
	size_t off = 0;

	if (storage_init(64, "v", "p") != 0)
		abort();
	while (off + 2 <= size) {
		uint8_t op = data[off] % 3;
		size_t len = data[off + 1];
		int n;

		off += 2;
		if (op == 0) {
			if (len > size - off)
				len = size - off;
			(void)storage_out(data + off, len);
			off += len;
		} else if (op == 1) {
			len *= 8;
			n = storage_in(buf, len);
			if (n > (int)len)
				abort();
		} else {
			storage_reset();
		}
	}
	return 0;
}
