/*
 * test_audit_parse.c - parsers of untrusted audit input: record lines, key files,
 * checkpoint bodies, signed notes, base64. Each bad input gets a clear error naming the
 * field or line. Test-only code (cmocka).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "audit.h"
#include "audit_int.h"

#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"
#define REC(mid, mac)                                                                              \
	"{\"seq\":1,\"epoch\":0,\"prev\":\"" Z64 "\",\"audit.type\":\"record\"" mid                \
	",\"mac\":\"" mac "\"}"

static int parse(const char *s, struct pcl_diag *d)
{
	struct json_object *o = NULL;
	int rc = audit_record_parse(s, strlen(s), &o, d);

	json_object_put(o);
	return rc;
}

static void test_record_framing(void **state)
{
	struct pcl_diag d = {0};

	(void)state;
	assert_int_equal(parse(REC(",\"x\":1", Z64), &d), 0);
	assert_int_equal(parse(REC("", Z64), &d), 0);
	assert_int_equal(parse("not json at all, but long enough to pass the length check......"
			       "............................................",
			       &d),
			 -EBADMSG);
	assert_non_null(strstr(d.msg, "not an audit record"));
	assert_int_equal(parse(REC(",\"x\":1", "g" Z64), &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "field mac"));
	assert_int_equal(parse(REC(",\"x\":1", Z64) " ", &d), -EBADMSG);
	assert_int_equal(parse("{\"seq\":01,\"epoch\":0,\"prev\":\"" Z64
			       "\",\"audit.type\":\"record\",\"mac\":\"" Z64 "\"}",
			       &d),
			 -EBADMSG);
	assert_int_equal(parse("{\"seq\":1,\"epoch\":0,\"prev\":\"" Z64
			       "\",\"audit.type\":\"other\",\"mac\":\"" Z64 "\"}",
			       &d),
			 -EBADMSG);
	assert_non_null(strstr(d.msg, "audit.type"));
	assert_int_equal(parse("{\"seq\":99999999999999999999,\"epoch\":0,\"prev\":\"" Z64
			       "\",\"audit.type\":\"record\",\"mac\":\"" Z64 "\"}",
			       &d),
			 -EBADMSG);
	/* framing right, JSON inside broken */
	assert_int_equal(parse(REC(",\"x\":[1,", Z64), &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "invalid JSON"));
	/* upper-case hex is not canonical */
	assert_int_equal(parse("{\"seq\":1,\"epoch\":0,\"prev\":\"" Z64
			       "\",\"audit.type\":\"record\",\"mac\":\"" Z64 "\"}",
			       &d),
			 0);
	char s[] = REC("", "ABCDEF0000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(parse(s, &d), -EBADMSG);
	char nul[] = REC(",\"x\":\"a\"", Z64);
	nul[strlen(nul) - 76] = '\0';
	struct json_object *o;
	assert_int_equal(audit_record_parse(nul, sizeof(nul) - 1, &o, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "NUL"));
}

static void test_key_file_errors_name_the_line(void **state)
{
	struct audit_key k;
	struct pcl_diag d = {0};
	uint8_t priv[32], pub[32];
	char vkey[512], good[1024], bad[1024];

	(void)state;
	assert_int_equal(audit_ed25519_keygen(priv, pub), 0);
	assert_int_equal(audit_vkey_format(vkey, sizeof(vkey), "portcullis/h", pub), 0);
	snprintf(good, sizeof(good),
		 "portcullis-audit-key 1\norigin portcullis/h\nmac-key " Z64
		 "\ncheckpoint-key %s\n",
		 vkey);
	assert_int_equal(audit_key_parse(&k, good, strlen(good), "k.txt", &d), 0);
	assert_string_equal(k.origin, "portcullis/h");
	assert_memory_equal(k.pub, pub, 32);

	snprintf(bad, sizeof(bad), "portcullis-audit-key 1\norigin portcullis/h\nmac-key 12\n");
	assert_int_equal(audit_key_parse(&k, bad, strlen(bad), "k.txt", &d), -EBADMSG);
	assert_string_equal(d.file, "k.txt");
	assert_int_equal(d.line, 3);
	assert_non_null(strstr(d.msg, "mac-key"));

	snprintf(bad, sizeof(bad),
		 "portcullis-audit-key 1\norigin portcullis/other\nmac-key " Z64
		 "\ncheckpoint-key %s\n",
		 vkey);
	assert_int_equal(audit_key_parse(&k, bad, strlen(bad), "k.txt", &d), -EBADMSG);
	assert_int_equal(d.line, 4);

	vkey[strlen(vkey) - 3] ^= 1; /* key id no longer matches */
	snprintf(bad, sizeof(bad),
		 "portcullis-audit-key 1\norigin portcullis/h\nmac-key " Z64
		 "\ncheckpoint-key %s\n",
		 vkey);
	assert_int_equal(audit_key_parse(&k, bad, strlen(bad), "k.txt", &d), -EBADMSG);
	assert_int_equal(audit_key_parse(&k, "", 0, "k.txt", &d), -EBADMSG);
	assert_int_equal(d.line, 1);
}

static void test_checkpoint_body(void **state)
{
	struct audit_ckpt c = {0}, p;
	char text[1024];

	(void)state;
	snprintf(c.origin, sizeof(c.origin), "portcullis/h");
	c.size = 42;
	c.time = 1768435200;
	c.epoch = 7;
	c.has_next = true;
	memset(c.head, 0xab, 32);
	memset(c.next, 0xcd, 32);
	assert_int_equal(audit_ckpt_format(text, sizeof(text), &c), 0);
	assert_int_equal(audit_ckpt_parse(&p, text, strlen(text)), 0);
	assert_int_equal(p.size, 42);
	assert_int_equal(p.epoch, 7);
	assert_memory_equal(p.next, c.next, 32);
	c.purge = true;
	c.has_next = false;
	memcpy(c.before, "2026-05", 8);
	assert_int_equal(audit_ckpt_format(text, sizeof(text), &c), 0);
	assert_non_null(strstr(text, "\npurge before 2026-05\n"));
	assert_int_equal(audit_ckpt_parse(&p, text, strlen(text)), 0);
	assert_true(p.purge);
	assert_string_equal(p.before, "2026-05");
	static const char *const bad[] = {
	    "o\n1\nAAAA\ntime 1\nepoch 0\n",
	    "o\n01\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\ntime 1\nepoch 0\n",
	    "o\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\npurge before 2026-13\ntime "
	    "1\nepoch 0\n",
	    "o\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\ntime 1\nepoch 0\nextra\n",
	    "o\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\ntime 1\nepoch 0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(audit_ckpt_parse(&p, bad[i], strlen(bad[i])), -EBADMSG);
}

static void test_signed_note(void **state)
{
	uint8_t priv[32], pub[32], priv2[32], pub2[32];
	char *note;
	size_t tl;

	(void)state;
	assert_int_equal(audit_ed25519_keygen(priv, pub), 0);
	assert_int_equal(audit_ed25519_keygen(priv2, pub2), 0);
	assert_int_equal(audit_note_sign(&note, "hello\nworld\n", "n", priv, pub), 0);
	assert_int_equal(audit_note_verify(note, strlen(note), "n", pub, &tl), 0);
	assert_int_equal(tl, 12);
	assert_int_equal(audit_note_verify(note, strlen(note), "n", pub2, &tl), -ENOKEY);
	assert_int_equal(audit_note_verify(note, strlen(note), "m", pub, &tl), -ENOKEY);
	note[0] = 'j';
	assert_int_equal(audit_note_verify(note, strlen(note), "n", pub, &tl), -EBADMSG);
	free(note);
	assert_int_equal(audit_note_sign(&note, "no newline", "n", priv, pub), -EINVAL);
	assert_int_equal(audit_note_verify("x\n\n-- n abc\n", 12, "n", pub, &tl), -EBADMSG);
}

static void test_base64(void **state)
{
	uint8_t out[8];

	(void)state;
	assert_int_equal(pcl_b64_decode("aGk=", 4, out, sizeof(out)), 2);
	assert_memory_equal(out, "hi", 2);
	assert_int_equal(pcl_b64_decode("aGk", 3, out, sizeof(out)), -EINVAL);
	assert_int_equal(pcl_b64_decode("a=k=", 4, out, sizeof(out)), -EINVAL);
	assert_int_equal(pcl_b64_decode("aG*=", 4, out, sizeof(out)), -EINVAL);
	assert_int_equal(pcl_b64_decode("aGk=", 4, out, 1), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_framing),
	    cmocka_unit_test(test_key_file_errors_name_the_line),
	    cmocka_unit_test(test_checkpoint_body),
	    cmocka_unit_test(test_signed_note),
	    cmocka_unit_test(test_base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
