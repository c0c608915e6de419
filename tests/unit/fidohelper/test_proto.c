/*
 * test_proto.c - the fido helper's wire format: every kind round-trips; malformed
 * messages (truncated, over-long fields, unknown or misplaced or repeated fields,
 * missing required ones, a failed answer with a payload) are refused with a message
 * naming the field and its byte offset; the PIN does not survive a wipe.
 */
#include <errno.h>
#include <fido.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fidoh.h"

static struct fidoh_msg in, out;
static uint8_t buf[FIDOH_MSG_MAX];

static void make_cred(struct fidoh_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->kind = FIDOH_MAKE_CRED;
	strcpy(m->rp, "portcullis:watton");
	strcpy(m->user, "Jane Clerk");
	memset(m->cdh, 7, sizeof(m->cdh));
	memset(m->user_id, 9, sizeof(m->user_id));
	m->prot = 3;
	strcpy(m->pin, "1234");
	m->has_pin = true;
}

static void assertion(struct fidoh_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->kind = FIDOH_ASSERTION;
	m->cred_len = 64;
	memset(m->cred, 0xc1, m->cred_len);
	m->authdata_len = 39;
	memset(m->authdata, 0xad, m->authdata_len);
	m->sig_len = 71;
	memset(m->sig, 0x51, m->sig_len);
}

static int roundtrip(const struct fidoh_msg *m, struct fidoh_msg *back)
{
	int n = fidoh_msg_encode(m, buf, sizeof(buf));
	struct pcl_diag d = {0};

	assert_true(n > 0);
	return fidoh_msg_decode(buf, (size_t)n, back, &d);
}

static void every_kind_round_trips(void **state)
{
	(void)state;
	make_cred(&in);
	assert_int_equal(roundtrip(&in, &out), 0);
	assert_int_equal(out.kind, FIDOH_MAKE_CRED);
	assert_string_equal(out.rp, "portcullis:watton");
	assert_string_equal(out.user, "Jane Clerk");
	assert_string_equal(out.pin, "1234");
	assert_true(out.has_pin);
	assert_int_equal(out.prot, 3);
	assert_memory_equal(out.cdh, in.cdh, sizeof(in.cdh));
	assert_memory_equal(out.user_id, in.user_id, sizeof(in.user_id));

	memset(&in, 0, sizeof(in));
	in.kind = FIDOH_ASSERT;
	strcpy(in.rp, "portcullis:watton");
	in.n_allow = FIDOH_ALLOW_MAX;
	for (size_t i = 0; i < in.n_allow; i++) {
		in.allow_len[i] = 16 + i;
		memset(in.allow[i], (int)i, in.allow_len[i]);
	}
	assert_int_equal(roundtrip(&in, &out), 0);
	assert_false(out.has_pin);
	assert_int_equal(out.n_allow, FIDOH_ALLOW_MAX);
	assert_int_equal(out.allow_len[5], 21);
	assert_memory_equal(out.allow[15], in.allow[15], 31);

	assertion(&in);
	assert_int_equal(roundtrip(&in, &out), 0);
	assert_int_equal(out.cred_len, 64);
	assert_int_equal(out.sig_len, 71);
	assert_memory_equal(out.authdata, in.authdata, 39);

	memset(&in, 0, sizeof(in));
	in.kind = FIDOH_CRED;
	strcpy(in.fmt, "packed");
	in.authdata_len = 200;
	in.sig_len = 70;
	in.x5c_len = FIDOH_X5C_MAX;
	assert_int_equal(roundtrip(&in, &out), 0);
	assert_string_equal(out.fmt, "packed");
	assert_int_equal(out.x5c_len, FIDOH_X5C_MAX);

	memset(&in, 0, sizeof(in));
	in.kind = FIDOH_OPENED;
	in.status = FIDOH_ST_ERRNO(EACCES);
	assert_int_equal(roundtrip(&in, &out), 0);
	assert_int_equal(out.status, FIDOH_ST_ERRNO(EACCES));
	assert_string_equal(fidoh_status_str(out.status), strerror(EACCES));
	assert_string_equal(fidoh_status_str(FIDO_ERR_PIN_INVALID), "FIDO_ERR_PIN_INVALID");

	/* A failed answer carries the status alone. */
	assertion(&in);
	in.status = FIDO_ERR_NO_CREDENTIALS;
	assert_int_equal(roundtrip(&in, &out), 0);
	assert_int_equal(out.status, FIDO_ERR_NO_CREDENTIALS);
	assert_int_equal(out.cred_len, 0);
}

static void encoder_refuses_what_the_kind_does_not_carry(void **state)
{
	(void)state;
	memset(&in, 0, sizeof(in));
	in.kind = FIDOH_CRED;
	in.n_allow = 1; /* an allow list in an answer */
	assert_int_equal(fidoh_msg_encode(&in, buf, sizeof(buf)), -EINVAL);
	in.kind = 9;
	assert_int_equal(fidoh_msg_encode(&in, buf, sizeof(buf)), -EINVAL);
	make_cred(&in);
	assert_int_equal(fidoh_msg_encode(&in, buf, 20), -ENOSPC);
}

/* Decode bytes; expect a refusal whose message contains want. */
static void refused(const uint8_t *p, size_t n, const char *want)
{
	struct pcl_diag d = {0};
	char msg[512];

	assert_int_equal(fidoh_msg_decode(p, n, &out, &d), -EINVAL);
	pcl_diag_format(&d, msg, sizeof(msg));
	if (strstr(msg, want) == NULL)
		fail_msg("'%s' does not say '%s'", msg, want);
	assert_non_null(strstr(msg, "<fido helper>"));
}

static void malformed_messages_name_the_field_and_offset(void **state)
{
	(void)state;
	const uint8_t empty[] = {0};
	refused(empty, 0, "field kind at byte 0: missing");
	const uint8_t nokind[] = {2, 0, 4, 0, 0, 0, 0};
	refused(nokind, sizeof(nokind), "field kind at byte 0");
	const uint8_t badkind[] = {1, 0, 1, 77};
	refused(badkind, sizeof(badkind), "unknown kind 77");
	const uint8_t opened_nostatus[] = {1, 0, 1, FIDOH_OPENED};
	refused(opened_nostatus, sizeof(opened_nostatus), "field status: missing");
	const uint8_t short_status[] = {1, 0, 1, FIDOH_OPENED, 2, 0, 3, 0, 0, 0};
	refused(short_status, sizeof(short_status),
		"field status at byte 4: invalid value of 3 bytes");
	const uint8_t past_end[] = {1, 0, 1, FIDOH_OPENED, 2, 0, 9, 0, 0, 0, 0};
	refused(past_end, sizeof(past_end), "field status at byte 4: length 9 runs past the end");
	const uint8_t trunc_hdr[] = {1, 0, 1, FIDOH_OPENED, 2, 0};
	refused(trunc_hdr, sizeof(trunc_hdr), "byte 4: truncated field header");
	const uint8_t unknown[] = {1, 0, 1, FIDOH_OPENED, 99, 0, 0};
	refused(unknown, sizeof(unknown), "byte 4: unknown or repeated field tag 99");
	const uint8_t twice[] = {1, 0, 1, FIDOH_OPENED, 2, 0, 4, 0, 0, 0, 0, 2, 0, 4, 0, 0, 0, 0};
	refused(twice, sizeof(twice), "field status at byte 11: repeated");
	/* A PIN in the helper's answer. */
	const uint8_t pin_in_answer[] = {1, 0, 1, FIDOH_OPENED, 5, 0, 2, '1', '2'};
	refused(pin_in_answer, sizeof(pin_in_answer),
		"field pin at byte 4: not allowed in this kind of message");

	/* A successful assertion without its signature; a failed one with a payload. */
	assertion(&in);
	int n = fidoh_msg_encode(&in, buf, sizeof(buf));
	refused(buf, (size_t)n - 3 - 71, "field sig: missing");
	assertion(&in);
	in.status = FIDO_ERR_RX;
	int m = fidoh_msg_encode(&in, buf, sizeof(buf));
	memcpy(buf + m, "\x0d\x00\x01\x00", 4); /* a signature after a failure status */
	refused(buf, (size_t)m + 4, "a failed answer carries nothing else");

	/* Lengths: a signature one byte over, a credential id of 0 bytes, a control
	 * character in the format name, a NUL inside the relying party. */
	uint8_t big[4 + 3 + FIDOH_SIG_MAX + 1] = {
	    1, 0, 1, FIDOH_ASSERTION, 13, 0, FIDOH_SIG_MAX + 1};
	refused(big, sizeof(big), "field sig at byte 4: invalid value of 129 bytes");
	const uint8_t zero_cred[] = {1, 0, 1, FIDOH_ASSERTION, 11, 0, 0};
	refused(zero_cred, sizeof(zero_cred), "field cred at byte 4: invalid value of 0 bytes");
	const uint8_t ctl_fmt[] = {1, 0, 1, FIDOH_CRED, 6, 0, 3, 'a', '\n', 'b'};
	refused(ctl_fmt, sizeof(ctl_fmt), "field fmt at byte 4: invalid value");
	const uint8_t nul_rp[] = {1, 0, 1, FIDOH_ASSERT, 3, 0, 3, 'a', 0, 'b'};
	refused(nul_rp, sizeof(nul_rp), "field rp at byte 4: invalid value");
	const uint8_t prot4[] = {1, 0, 1, FIDOH_MAKE_CRED, 9, 0, 1, 4};
	refused(prot4, sizeof(prot4), "field prot at byte 4: invalid value");

	/* More allow entries than an allow list holds. */
	static uint8_t many[4 + (FIDOH_ALLOW_MAX + 1) * 4];
	size_t k = 0;
	many[k++] = 1, many[k++] = 0, many[k++] = 1, many[k++] = FIDOH_ASSERT;
	for (int i = 0; i <= FIDOH_ALLOW_MAX; i++)
		many[k++] = 10, many[k++] = 0, many[k++] = 1, many[k++] = (uint8_t)i;
	refused(many, k, "field allow at byte 68: invalid value");

	/* Longer than any message. */
	static uint8_t huge[FIDOH_MSG_MAX + 1];
	refused(huge, sizeof(huge), "is longer than");
}

static void a_refused_request_leaves_no_pin_behind(void **state)
{
	(void)state;
	make_cred(&in);
	int n = fidoh_msg_encode(&in, buf, sizeof(buf));
	buf[n - 1] = 4; /* prot 4: invalid, after the PIN was decoded */
	struct pcl_diag d = {0};
	assert_int_equal(fidoh_msg_decode(buf, (size_t)n, &out, &d), -EINVAL);
	for (size_t i = 0; i < sizeof(out.pin); i++)
		assert_int_equal(out.pin[i], 0);
	make_cred(&out);
	fidoh_msg_wipe(&out);
	for (size_t i = 0; i < sizeof(out.pin); i++)
		assert_int_equal(out.pin[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_kind_round_trips),
	    cmocka_unit_test(encoder_refuses_what_the_kind_does_not_carry),
	    cmocka_unit_test(malformed_messages_name_the_field_and_offset),
	    cmocka_unit_test(a_refused_request_leaves_no_pin_behind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
