/*
 * sign.c - Ed25519 signing and verification of wipe certificates with OpenSSL. The
 * signer plugs into the struct wipe_signer seam; the daemon will plug in the audit
 * trail's checkpoint key instead. Linked by the CLI, tests and the daemon parent. The
 * private key file is trusted configuration; certificates given to verify are untrusted.
 */
#include "wipe.h"
#include "hex.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

struct wipe_ed25519 {
	EVP_PKEY *pkey;
	char key_id[33]; /* hex of the first 16 bytes of SHA-256(public key) */
};

static int finish(struct wipe_ed25519 *k, struct wipe_ed25519 **out)
{
	uint8_t pub[32], h[32];
	unsigned hl = 0;

	if (wipe_ed25519_public(k, pub) != 0 ||
	    EVP_Digest(pub, 32, h, &hl, EVP_sha256(), NULL) != 1) {
		wipe_ed25519_free(&k);
		return -EINVAL;
	}
	pcl_hex_encode(k->key_id, h, 16);
	*out = k;
	return 0;
}

int wipe_ed25519_load(struct wipe_ed25519 **out, const char *pem_path)
{
	struct wipe_ed25519 *k = calloc(1, sizeof(*k));
	FILE *f;

	*out = NULL;
	if (k == NULL)
		return -ENOMEM;
	f = fopen(pem_path, "re");
	if (f == NULL) {
		free(k);
		return -errno;
	}
	k->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k->pkey == NULL || EVP_PKEY_id(k->pkey) != EVP_PKEY_ED25519) {
		wipe_ed25519_free(&k);
		return -EINVAL;
	}
	return finish(k, out);
}

int wipe_ed25519_generate(struct wipe_ed25519 **out)
{
	struct wipe_ed25519 *k = calloc(1, sizeof(*k));
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);

	*out = NULL;
	if (k == NULL || pc == NULL || EVP_PKEY_keygen_init(pc) != 1 ||
	    EVP_PKEY_keygen(pc, &k->pkey) != 1) {
		EVP_PKEY_CTX_free(pc);
		wipe_ed25519_free(&k);
		return -EIO;
	}
	EVP_PKEY_CTX_free(pc);
	return finish(k, out);
}

void wipe_ed25519_free(struct wipe_ed25519 **k)
{
	if (k == NULL || *k == NULL)
		return;
	EVP_PKEY_free((*k)->pkey); /* OpenSSL cleanses the private key */
	free(*k);
	*k = NULL;
}

int wipe_ed25519_public(struct wipe_ed25519 *k, uint8_t pub[32])
{
	size_t len = 32;

	return EVP_PKEY_get_raw_public_key(k->pkey, pub, &len) == 1 && len == 32 ? 0 : -EINVAL;
}

int wipe_ed25519_save(struct wipe_ed25519 *k, const char *pem_path)
{
	int fd = open(pem_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok;

	if (f == NULL) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return -err;
	}
	ok = PEM_write_PrivateKey(f, k->pkey, NULL, NULL, 0, NULL, NULL) == 1;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok)
		unlink(pem_path); /* never leave half a key behind */
	return ok ? 0 : -EIO;
}

const char *wipe_ed25519_key_id(const struct wipe_ed25519 *k)
{
	return k->key_id;
}

static int ed_sign(void *ctx, const uint8_t *msg, size_t len, uint8_t *sig, size_t *siglen)
{
	struct wipe_ed25519 *k = ctx;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	if (md == NULL || *siglen < 64)
		return -EINVAL;
	ok = EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestSign(md, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -EIO;
}

void wipe_ed25519_signer(struct wipe_ed25519 *k, struct wipe_signer *s)
{
	s->alg = "ed25519";
	s->key_id = k->key_id;
	s->sign = ed_sign;
	s->ctx = k;
}

int wipe_cert_verify_ed25519(const char *json, size_t len, const uint8_t pub[32],
			     struct pcl_diag *d)
{
	json_tokener *tok = json_tokener_new_ex(8);
	json_object *o = NULL, *c, *s, *alg, *val;
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *md = NULL;
	uint8_t sig[128];
	const char *body, *b64;
	int rc = -EINVAL, n;

	while (len > 0 && (json[len - 1] == '\n' || json[len - 1] == ' '))
		len--;
	if (tok == NULL)
		return -ENOMEM;
	if (len > 0 && len < 65536)
		o = json_tokener_parse_ex(tok, json, (int)len);
	if (o == NULL || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "certificate", &c) ||
	    !json_object_is_type(c, json_type_object) ||
	    !json_object_object_get_ex(o, "signature", &s) ||
	    !json_object_is_type(s, json_type_object)) {
		pcl_diag_set(d, "<certificate>", 0, "not a signed certificate object");
		goto out;
	}
	if (!json_object_object_get_ex(s, "alg", &alg) ||
	    strcmp(json_object_get_string(alg), "ed25519") != 0 ||
	    !json_object_object_get_ex(s, "value", &val) ||
	    !json_object_is_type(val, json_type_string)) {
		pcl_diag_set(d, "<certificate>", 0, "signature: alg not ed25519 or no value");
		goto out;
	}
	b64 = json_object_get_string(val);
	if (json_object_get_string_len(val) != 88) {
		pcl_diag_set(d, "<certificate>", 0, "signature: value is not 64 bytes of base64");
		goto out;
	}
	n = EVP_DecodeBlock(sig, (const unsigned char *)b64, 88);
	if (n != 66) { /* 64 bytes plus the two padding bytes DecodeBlock counts */
		pcl_diag_set(d, "<certificate>", 0, "signature: bad base64");
		goto out;
	}
	body = json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	md = EVP_MD_CTX_new();
	if (pk == NULL || md == NULL || EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) != 1) {
		rc = -EIO;
		goto out;
	}
	if (EVP_DigestVerify(md, sig, 64, (const uint8_t *)body, strlen(body)) != 1) {
		pcl_diag_set(d, "<certificate>", 0, "signature does not match the certificate");
		rc = -EBADMSG;
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}
