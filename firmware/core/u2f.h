/*
 * u2f.h: CTAP1/U2F helpers of the token core. Linked by the token core.
 */
#ifndef PCL_U2F_H
#define PCL_U2F_H

#include <stddef.h>
#include <stdint.h>

/* DER certificate for a U2F registration, self-signed by sk. Returns its length or 0. */
size_t u2f_build_cert(const uint8_t sk[32], const uint8_t pub[65], const uint8_t serial[8],
		      uint8_t *out, size_t cap);

#endif /* PCL_U2F_H */
