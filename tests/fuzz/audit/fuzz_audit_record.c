/*
 * fuzz_audit_record.c - libFuzzer harness for the audit parsers of untrusted bytes:
 * record framing and JSON parse, checkpoint bodies, signed notes, key files.
 * Fuzz-only code.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "audit.h"
#include "audit_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pub[32] = {1, 2, 3};
	struct json_object *o = NULL;
	struct pcl_diag d;
	struct audit_frame f;
	struct audit_ckpt c;
	struct audit_key k;
	char name[256];
	uint8_t key[32];
	size_t tl;
	uint64_t seq;
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (audit_record_parse(s, size, &o, &d) == 0)
		json_object_put(o);
	(void)audit_frame_parse(s, size, &f, &d);
	(void)audit_line_seq(s, size, &seq);
	(void)audit_ckpt_parse(&c, s, size);
	(void)audit_note_verify(s, size, "portcullis/fuzz", pub, &tl);
	(void)audit_key_parse(&k, s, size, "fuzz", &d);
	(void)audit_vkey_parse(s, name, sizeof(name), key);
	free(s);
	return 0;
}
