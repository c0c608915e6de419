/*
 * fuzz_bpfdecode.c - libFuzzer harness for the decoder of the eBPF program's
 * ring-buffer records. Fuzzing only. A decoded path (an open's only) must lie
 * inside the input, be absolute and NUL-terminated at its length; the executable and task name
 * must be terminated strings.
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
	/* Copy so ASan sees reads past the end of exactly this buffer. */
	unsigned char *buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	struct xfer_bpf_event ev;
	struct pcl_diag diag;
	if (xfer_bpf_decode(buf, size, &ev, &diag) == 0) {
		if (ev.kind != XFER_BPF_EV_OPEN && ev.kind != XFER_BPF_EV_CLOSE &&
		    ev.kind != XFER_BPF_EV_EXIT && ev.kind != XFER_BPF_EV_GONE)
			abort();
		if (ev.kind != XFER_BPF_EV_EXIT && ev.kind != XFER_BPF_EV_GONE &&
		    ev.start_time != 0)
			abort(); /* a start time is a process's, at its exit */
		if (ev.kind == XFER_BPF_EV_GONE && ev.exe[0] != '\0')
			abort(); /* a gone record carries no executable */
		if (ev.kind != XFER_BPF_EV_OPEN && ev.path != NULL)
			abort(); /* only an open carries a path */
		if (ev.path != NULL) {
			const unsigned char *p = (const unsigned char *)ev.path;
			if (p < buf || p + ev.path_len + 1 > buf + size || ev.path[0] != '/' ||
			    strlen(ev.path) != ev.path_len)
				abort();
		}
		if (memchr(ev.exe, '\0', sizeof(ev.exe)) == NULL ||
		    memchr(ev.comm, '\0', sizeof(ev.comm)) == NULL)
			abort();
	}
	free(buf);
	return 0;
}
