/*
 * fuzz_cert.c - libFuzzer harness for wipe_cert_verify_ed25519: signed certificates
 * handed in for checking are untrusted. Nothing random may verify.
 */
#include "wipe.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The public key of a fixed test key; fuzz inputs cannot carry its signatures. */
	static const uint8_t pub[32] = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
					0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
					0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
					0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
	struct pcl_diag d;

	if (wipe_cert_verify_ed25519((const char *)data, size, pub, &d) == 0)
		abort();
	return 0;
}
