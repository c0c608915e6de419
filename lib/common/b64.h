/*
 * b64.h - base64 (RFC 4648 section 4, the standard alphabet, padded), for every process
 * and tool that carries binary values in text: audit notes and checkpoints, approval
 * requests, responses, bundles and signatures, approver records. Linked by the engine, the
 * CLI and tests.
 *
 * One strictness, for all decoded text (which is untrusted): only the canonical spelling
 * the encoder writes is accepted, so that one value has one text and a signed text cannot
 * be re-spelled. That is: a length that is a non-zero multiple of 4; only A-Z a-z 0-9 + /;
 * '=' only as the last one or two characters; the unused low bits of the last character
 * before the padding zero; no white space, no line breaks, no missing padding.
 */
#ifndef PCL_B64_H
#define PCL_B64_H

#include <stddef.h>
#include <stdint.h>

/* The text length for n bytes, without the NUL. */
#define PCL_B64_LEN(n) (4 * (((n) + 2) / 3))

/* Encode in[0..len) into out (cap bytes, NUL-terminated). Returns the text's length, or
 * -ENOSPC when cap is under PCL_B64_LEN(len) + 1. */
int pcl_b64_encode(const void *in, size_t len, char *out, size_t cap);

/* Decode in[0..len) into out (cap bytes). Returns how many bytes (at least 1), -EINVAL for
 * text that is not canonical base64 (see above) or empty, -ENOSPC when the bytes do not fit
 * in cap (out is then left as it was). */
int pcl_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap);

#endif
