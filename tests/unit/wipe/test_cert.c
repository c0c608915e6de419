/*
 * test_cert.c - the certificate of sanitisation: canonical JSON with the SP 800-88
 * fields, signing through the seam, Ed25519 verification that catches any change, and
 * printable forms that escape device-supplied strings.
 */
#include "wipe.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static struct wipe_cert sample(enum wipe_status st)
{
	struct wipe_cert c;

	memset(&c, 0, sizeof(c));
	strcpy(c.media.vendor, "SanDisk");
	strcpy(c.media.model, "Cruzer <b>Blade</b>");
	strcpy(c.media.serial, "4C530001");
	strcpy(c.media.usb_vid, "0781");
	strcpy(c.media.usb_pid, "5567");
	c.media.size = 64ull << 20;
	strcpy(c.method, WIPE_METHOD);
	strcpy(c.tool, "portcullis-wiper 0.1.0");
	c.passes = 1;
	c.status = st;
	if (st != WIPE_OK) {
		strcpy(c.reason, "read-back differs at byte 512 (block 1)");
		c.first_bad_block = 1;
	}
	c.block = 512;
	c.verified = st == WIPE_OK ? c.media.size : 0;
	strcpy(c.filesystem, "vfat");
	c.start = 1795450000;
	c.end = 1795450060;
	strcpy(c.operator_name, "clerk");
	strcpy(c.approval, "appr-42");
	strcpy(c.host, "parish-pc1");
	strcpy(c.device, "/dev/sdb");
	return c;
}

static void test_canonical_json_has_the_fields_in_order(void **state)
{
	struct wipe_cert c = sample(WIPE_OK);
	char a[8192], b[8192];
	int n = wipe_cert_canonical(&c, a, sizeof(a));

	assert_true(n > 0);
	assert_int_equal(wipe_cert_canonical(&c, b, sizeof(b)), n);
	assert_string_equal(a, b);
	assert_true(strncmp(a, "{\"approval\":\"appr-42\",\"block_size\":512,", 39) == 0);
	assert_non_null(strstr(a, "\"completed\":\"2026-11-23T16:07:40Z\""));
	assert_non_null(strstr(a, "\"started\":\"2026-11-23T16:06:40Z\""));
	assert_non_null(strstr(a, "\"first_bad_block\":null"));
	assert_non_null(strstr(a, "\"method\":\"Clear (keyed pattern overwrite + full verify)\""));
	assert_non_null(strstr(a, "\"media\":{\"capacity_bytes\":67108864,\"manufacturer\":"
				  "\"SanDisk\",\"media_type\":\"Flash memory (removable)\","
				  "\"model\":\"Cruzer <b>Blade</b>\",\"serial\":"
				  "\"4C530001\",\"usb_hash\":\"\""));
	assert_non_null(strstr(a, "\"result\":\"verified\""));
	assert_non_null(strstr(a, "\"device\":\"/dev/sdb\"")); /* no escaped slashes */
	assert_null(strchr(a, 0x0a));
	assert_int_equal(wipe_cert_canonical(&c, a, 100), -ENOSPC);
}

/* A crypto-erase names its SP 800-88 method type and what was read back, in every form. */
static void test_purge_names_its_method_type_and_verification(void **state)
{
	struct wipe_cert c = sample(WIPE_OK);
	char a[8192];

	(void)state;
	assert_true(wipe_cert_canonical(&c, a, sizeof(a)) > 0);
	assert_non_null(strstr(a, "\"method_type\":\"Clear\""));
	assert_non_null(strstr(a, "\"verification\":\"full read-back of every byte\""));
	snprintf(c.method_type, sizeof(c.method_type), "Purge");
	snprintf(c.verification, sizeof(c.verification), "LUKS headers read back");
	assert_true(wipe_cert_canonical(&c, a, sizeof(a)) > 0);
	assert_non_null(strstr(a, "\"method_type\":\"Purge\""));
	assert_non_null(strstr(a, "\"verification\":\"LUKS headers read back\""));
	assert_true(wipe_cert_text(&c, NULL, a, sizeof(a)) > 0);
	assert_non_null(strstr(a, "Purge"));
	assert_non_null(strstr(a, "VERIFIED: LUKS headers read back; 67108864 bytes read back"));
}

static void test_failed_certificate_says_why(void **state)
{
	struct wipe_cert c = sample(WIPE_ERR_MISMATCH);
	char a[8192];

	assert_true(wipe_cert_canonical(&c, a, sizeof(a)) > 0);
	assert_non_null(strstr(a, "\"result\":\"failed\""));
	assert_non_null(strstr(a, "\"status\":\"mismatch\""));
	assert_non_null(strstr(a, "\"first_bad_block\":1,"));
	assert_true(wipe_cert_text(&c, NULL, a, sizeof(a)) > 0);
	assert_non_null(strstr(a, "FAILED (mismatch): read-back differs at byte 512 (block 1)"));
	assert_non_null(strstr(a, "unsigned"));
}

struct recorder {
	char msg[8192];
	size_t len;
};

static int record_sign(void *ctx, const uint8_t *msg, size_t len, uint8_t *sig, size_t *siglen)
{
	struct recorder *r = ctx;

	memcpy(r->msg, msg, len);
	r->len = len;
	memset(sig, 0xAB, 3);
	*siglen = 3;
	return 0;
}

/* Like the audit trail's checkpoint: a whole signed note (text) as the signature. */
static int note_sign(void *ctx, const uint8_t *msg, size_t len, uint8_t *sig, size_t *siglen)
{
	if (*siglen < 600)
		return -ENOSPC;
	memset(sig, 'n', 600);
	*siglen = 600;
	return 0;
}

static int failing_sign(void *ctx, const uint8_t *msg, size_t len, uint8_t *sig, size_t *siglen)
{
	return -EIO;
}

static void test_signer_seam_signs_the_canonical_body(void **state)
{
	struct wipe_cert c = sample(WIPE_OK);
	struct recorder rec;
	struct wipe_signer s = {"test", "k1", record_sign, &rec};
	char body[8192], out[16384];
	int n = wipe_cert_canonical(&c, body, sizeof(body));

	assert_true(wipe_cert_signed_json(&c, &s, out, sizeof(out)) > 0);
	assert_int_equal(rec.len, (size_t)n);
	assert_memory_equal(rec.msg, body, (size_t)n);
	assert_non_null(strstr(out, "\"signature\":{\"alg\":\"test\",\"key_id\":\"k1\","
				    "\"value\":\"q6ur\"}"));
	s.sign = note_sign;
	s.alg = "audit-checkpoint";
	assert_true(wipe_cert_signed_json(&c, &s, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"alg\":\"audit-checkpoint\""));
	assert_non_null(strstr(out, "bm5ubm5u")); /* base64 of "nnnnnn" */
	s.sign = failing_sign;
	assert_int_equal(wipe_cert_signed_json(&c, &s, out, sizeof(out)), -EIO);
	assert_true(wipe_cert_signed_json(&c, NULL, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"signature\":null}"));
}

/* A PC's wipe key: written once (0600, never over a file), loaded back as the same key. */
static void test_wipe_key_is_saved_once_and_loads_back(void **state)
{
	char dir[] = "/tmp/pcl-wipekey-XXXXXX", path[64];
	struct wipe_ed25519 *k, *back;
	uint8_t a[32], b[32];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/wipe.key", dir);
	assert_int_equal(wipe_ed25519_generate(&k), 0);
	assert_int_equal(wipe_ed25519_save(k, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(wipe_ed25519_save(k, path), -EEXIST);
	assert_int_equal(wipe_ed25519_load(&back, path), 0);
	assert_int_equal(wipe_ed25519_public(k, a), 0);
	assert_int_equal(wipe_ed25519_public(back, b), 0);
	assert_memory_equal(a, b, 32);
	assert_string_equal(wipe_ed25519_key_id(k), wipe_ed25519_key_id(back));
	wipe_ed25519_free(&k);
	wipe_ed25519_free(&back);
	unlink(path);
	rmdir(dir);
}

static void test_ed25519_signature_verifies_and_catches_changes(void **state)
{
	struct wipe_cert c = sample(WIPE_OK);
	struct wipe_ed25519 *k, *other;
	struct wipe_signer s;
	uint8_t pub[32], opub[32];
	char out[16384], *p;
	struct pcl_diag d = {0};
	size_t n;

	assert_int_equal(wipe_ed25519_generate(&k), 0);
	assert_int_equal(wipe_ed25519_generate(&other), 0);
	assert_int_equal(wipe_ed25519_public(k, pub), 0);
	assert_int_equal(wipe_ed25519_public(other, opub), 0);
	wipe_ed25519_signer(k, &s);
	assert_int_equal(strlen(s.key_id), 32);
	assert_true(wipe_cert_signed_json(&c, &s, out, sizeof(out)) > 0);
	n = strlen(out);
	assert_int_equal(wipe_cert_verify_ed25519(out, n, pub, &d), 0);
	/* Another key does not verify it. */
	assert_int_equal(wipe_cert_verify_ed25519(out, n, opub, &d), -EBADMSG);
	/* Turning "verified" into "verifies" (or any other change) breaks the signature. */
	p = strstr(out, "\"verified\"");
	assert_non_null(p);
	p[8] = 's';
	assert_int_equal(wipe_cert_verify_ed25519(out, n, pub, &d), -EBADMSG);
	assert_string_equal(d.msg, "signature does not match the certificate");
	/* Unsigned or malformed input is refused, not crashed on. */
	assert_int_equal(
	    wipe_cert_verify_ed25519("{\"certificate\":{},\"signature\":null}", 35, pub, &d),
	    -EINVAL);
	assert_int_equal(wipe_cert_verify_ed25519("{{{", 3, pub, &d), -EINVAL);
	wipe_ed25519_free(&k);
	wipe_ed25519_free(&other);
	assert_null(k);
}

static void test_html_escapes_device_strings(void **state)
{
	struct wipe_cert c = sample(WIPE_OK);
	char html[16384];

	assert_true(wipe_cert_html(&c, "Ed25519, key abc", html, sizeof(html)) > 0);
	assert_null(strstr(html, "<b>Blade"));
	assert_non_null(strstr(html, "Cruzer &lt;b&gt;Blade&lt;/b&gt;"));
	assert_non_null(strstr(html, "<th>Method type</th><td>Clear</td>"));
	assert_non_null(strstr(html, "VERIFIED: full read-back of 67108864 bytes matched"));
	assert_non_null(strstr(html, "</html>"));
	assert_int_equal(wipe_cert_html(&c, NULL, html, 200), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canonical_json_has_the_fields_in_order),
	    cmocka_unit_test(test_failed_certificate_says_why),
	    cmocka_unit_test(test_purge_names_its_method_type_and_verification),
	    cmocka_unit_test(test_signer_seam_signs_the_canonical_body),
	    cmocka_unit_test(test_ed25519_signature_verifies_and_catches_changes),
	    cmocka_unit_test(test_wipe_key_is_saved_once_and_loads_back),
	    cmocka_unit_test(test_html_escapes_device_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
