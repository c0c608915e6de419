/*
 * hex.h - hexadecimal encoding of bytes, for every process and tool that writes or reads
 * hashes, MACs, nonces and keys as text (audit records, approval state, wipe jobs,
 * transfer records, fleet reports). The decoder takes untrusted text: it accepts only the
 * canonical form the encoder writes (lower-case, exactly two digits a byte), so that one
 * value has one spelling.
 */
#ifndef PCL_HEX_H
#define PCL_HEX_H

#include <stddef.h>

/* Write in[0..n) as 2n lower-case hex digits and a NUL: out holds 2n + 1 bytes. */
void pcl_hex_encode(char *out, const void *in, size_t n);

/* Decode text in[0..len) into out[0..n): len must be exactly 2n and every digit lower-case
 * hex. Returns 0, or -EINVAL with out wiped (it may be a key). */
int pcl_hex_decode(void *out, size_t n, const char *in, size_t len);

/* The value of one hex digit of either case (for escapes like \xHH in rule text), or -1. */
int pcl_hex_digit(char c);

#endif
