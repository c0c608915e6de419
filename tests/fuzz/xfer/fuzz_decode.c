/*
 * fuzz_decode.c - libFuzzer harness for the fanotify event buffer decoder.
 * Fuzzing only. Every decoded name must lie inside the input and be
 * NUL-terminated; every handle must lie inside the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#include "diag.h"
#include "xfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Copy so ASan sees reads past the end of exactly this buffer. */
	unsigned char *buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	struct xfer_decoder d;
	struct xfer_event ev;
	struct pcl_diag diag;
	xfer_decoder_init(&d, buf, size);
	while (xfer_decoder_next(&d, &ev, &diag) > 0) {
		if (ev.nfid > XFER_MAX_FIDS)
			abort();
		for (unsigned i = 0; i < ev.nfid; i++) {
			const struct xfer_fid *f = &ev.fid[i];
			if (f->handle < buf || f->handle + f->handle_bytes > buf + size)
				abort();
			if (f->name != NULL && strlen(f->name) != f->name_len)
				abort();
		}
	}
	free(buf);
	return 0;
}
