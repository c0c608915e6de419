/*
 * fuzz_audit_witness.c - libFuzzer harness for the witness file parser; a parsed file is
 * formatted and parsed again (the round trip must hold). Fuzz-only code.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_witness w, w2;
	struct pcl_diag d = {0};
	char *text = NULL;

	if (audit_witness_parse(&w, (const char *)data, size, "fuzz", &d) != 0)
		return 0;
	if (audit_witness_format(&w, &text) != 0 ||
	    audit_witness_parse(&w2, text, strlen(text), "again", &d) != 0 || w2.seq != w.seq ||
	    w2.nmarks != w.nmarks || strcmp(w2.note, w.note) != 0)
		abort();
	audit_witness_free(&w2);
	audit_witness_free(&w);
	free(text);
	return 0;
}
