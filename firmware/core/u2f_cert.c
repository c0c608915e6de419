/*
 * u2f_cert.c: builds the DER X.509 certificate of a CTAP1/U2F registration: self-signed
 * by the new credential key (U2F self attestation), subject and issuer "Portcullis Token".
 * Linked by the token core. Inputs are the core's own key material; no untrusted bytes.
 * DER is only a format: the signature comes from tcrypto (BearSSL).
 */
#include <string.h>

#include "tcrypto.h"
#include "u2f.h"

static const uint8_t alg_ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
					   0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t name[] = {0x30, 0x1b, 0x31, 0x19, 0x30, 0x17, 0x06, 0x03, 0x55, 0x04,
			       0x03, 0x0c, 0x10, 'P',  'o',  'r',  't',	 'c',  'u',  'l',
			       'l',  'i',  's',	 ' ',  'T',  'o',  'k',	 'e',  'n'};
static const uint8_t validity[] = {0x30, 0x1e, 0x17, 0x0d, '2', '4', '0',  '1',	 '0', '1', '0',
				   '0',	 '0',  '0',  '0',  '0', 'Z', 0x17, 0x0d, '4', '9', '1',
				   '2',	 '3',  '1',  '2',  '3', '5', '9',  '5',	 '9', 'Z'};
static const uint8_t spki_prefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
				      0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
				      0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

/* Write a DER header for tag and length; returns its size. */
static size_t der_hdr(uint8_t *p, uint8_t tag, size_t len)
{
	p[0] = tag;
	if (len < 0x80) {
		p[1] = (uint8_t)len;
		return 2;
	}
	if (len < 0x100) {
		p[1] = 0x81;
		p[2] = (uint8_t)len;
		return 3;
	}
	p[1] = 0x82;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	return 4;
}

size_t u2f_build_cert(const uint8_t sk[32], const uint8_t pub[65], const uint8_t serial[8],
		      uint8_t *out, size_t cap)
{
	uint8_t tbs[256], sig[TCRYPTO_SIG_MAX], hash[32];
	size_t body, n = 0, siglen, h, total;

	/* tbsCertificate (version 1: no extensions) */
	body = 2 + 8 + sizeof(alg_ecdsa_sha256) + sizeof(name) + sizeof(validity) + sizeof(name) +
	       sizeof(spki_prefix) + 65;
	n = der_hdr(tbs, 0x30, body);
	tbs[n++] = 0x02; /* serialNumber: 8 bytes, positive, minimal (DER) */
	tbs[n++] = 8;
	memcpy(tbs + n, serial, 8);
	tbs[n] = (uint8_t)((tbs[n] & 0x7f) | 0x40);
	n += 8;
	memcpy(tbs + n, alg_ecdsa_sha256, sizeof(alg_ecdsa_sha256));
	n += sizeof(alg_ecdsa_sha256);
	memcpy(tbs + n, name, sizeof(name));
	n += sizeof(name);
	memcpy(tbs + n, validity, sizeof(validity));
	n += sizeof(validity);
	memcpy(tbs + n, name, sizeof(name));
	n += sizeof(name);
	memcpy(tbs + n, spki_prefix, sizeof(spki_prefix));
	n += sizeof(spki_prefix);
	memcpy(tbs + n, pub, 65);
	n += 65;

	tcrypto_sha256(tbs, n, hash);
	siglen = tcrypto_p256_sign(sk, hash, sig);
	if (siglen == 0)
		return 0;
	total = n + sizeof(alg_ecdsa_sha256) + 2 + 1 + siglen;
	if (cap < total + 4)
		return 0;
	h = der_hdr(out, 0x30, total);
	memcpy(out + h, tbs, n);
	memcpy(out + h + n, alg_ecdsa_sha256, sizeof(alg_ecdsa_sha256));
	n += h + sizeof(alg_ecdsa_sha256);
	out[n++] = 0x03; /* signatureValue BIT STRING, no unused bits */
	out[n++] = (uint8_t)(siglen + 1);
	out[n++] = 0x00;
	memcpy(out + n, sig, siglen);
	return n + siglen;
}
