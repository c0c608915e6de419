/*
 * test_approval.c - approval request/response encoding: canonical round trips, every
 * non-canonical or malformed spelling refused with the line and field named, and the
 * client data hash committing to every byte.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "approval.h"
#include "edit_cases.h"

/* A version 2 request (still read): no direction line, a read-only one with a wipe. */
static void sample(struct appr_request *r)
{
	memset(r, 0, sizeof(*r));
	r->version = 2;
	strcpy(r->council, "watton");
	strcpy(r->machine_id, "0123456789abcdef0123456789abcdef");
	strcpy(r->host, "clerk-pc");
	strcpy(r->port, "1-2");
	strcpy(r->hash, "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMTI=");
	r->vid = 0x0951;
	r->pid = 0x1666;
	strcpy(r->serial, "ABC 123%");
	strcpy(r->manufacturer, "Kingston\x01");
	strcpy(r->product, "DataTraveler ");
	r->n_ifaces = 2;
	r->ifaces[0] = (struct appr_iface){8, 6, 0x50};
	r->ifaces[1] = (struct appr_iface){3, 0, 0};
	r->capacity = 16000000000ull;
	r->scope = APPR_READ_ONLY;
	r->direction = APPR_BRING_IN;
	r->wipe = true;
	r->uid = 1000;
	strcpy(r->user, "alice");
	r->issued = 1763900000;
	r->answer_by = 1763900600;
	r->until = 0;
	strcpy(r->reason, "agenda for Tuesday's meeting");
	for (int i = 0; i < APPR_NONCE_LEN; i++)
		r->nonce[i] = (uint8_t)(i * 17);
	r->n_creds = 2;
	memset(r->creds[0], 0xab, 64); /* "q6ur..." */
	r->cred_lens[0] = 64;
	memset(r->creds[1], 0x01, 3); /* "AQEB" */
	r->cred_lens[1] = 3;
}

static int encode(const struct appr_request *r, char *buf)
{
	int n = appr_request_encode(r, buf, APPR_TEXT_MAX);
	assert_true(n > 0);
	return n;
}

static void request_round_trip_is_byte_exact(void **state)
{
	(void)state;
	struct appr_request r, back;
	char a[APPR_TEXT_MAX], b[APPR_TEXT_MAX];
	struct pcl_diag d = {0};

	sample(&r);
	int n = encode(&r, a);
	assert_non_null(strstr(a, "device.serial: ABC 123%25\n"));
	assert_non_null(strstr(a, "device.manufacturer: Kingston%01\n"));
	assert_non_null(strstr(a, "device.product: DataTraveler%20\n"));
	assert_non_null(strstr(a, "device.interfaces: 08:06:50 03:00:00\n"));
	assert_non_null(strstr(a, "until: unplug\n"));
	assert_int_equal(appr_request_parse(a, (size_t)n, "req", &back, &d), 0);
	assert_string_equal(back.serial, r.serial);
	assert_string_equal(back.manufacturer, r.manufacturer);
	assert_string_equal(back.product, r.product);
	assert_int_equal(back.n_ifaces, 2);
	assert_int_equal(back.ifaces[1].cls, 3);
	assert_int_equal(back.capacity, r.capacity);
	assert_memory_equal(back.nonce, r.nonce, APPR_NONCE_LEN);
	assert_non_null(strstr(a, "\ncredentials: q6ur"));
	assert_non_null(strstr(a, " AQEB\n"));
	assert_int_equal(back.n_creds, 2);
	assert_true(appr_request_names_cred(&back, r.creds[0], 64));
	assert_true(appr_request_names_cred(&back, r.creds[1], 3));
	assert_false(appr_request_names_cred(&back, r.creds[0], 63));
	assert_int_equal(encode(&back, b), n);
	assert_string_equal(a, b);

	r.until = 1763990000;
	r.scope = APPR_READ_WRITE;
	r.direction = APPR_TAKE_OUT;
	r.n_ifaces = 0;
	r.reason[0] = '\0';
	n = encode(&r, a);
	assert_non_null(strstr(a, "reason:\n"));
	assert_non_null(strstr(a, "device.interfaces:\n"));
	assert_int_equal(appr_request_parse(a, (size_t)n, "req", &back, &d), 0);
	assert_int_equal(back.until, 1763990000);
	assert_int_equal(back.scope, APPR_READ_WRITE);
}

static void encode_refuses_invalid_fields(void **state)
{
	(void)state;
	struct appr_request r;
	char buf[APPR_TEXT_MAX];

	sample(&r);
	strcpy(r.council, "Watton");
	assert_int_equal(appr_request_encode(&r, buf, sizeof(buf)), -EINVAL);
	sample(&r);
	r.machine_id[0] = 'X';
	assert_int_equal(appr_request_encode(&r, buf, sizeof(buf)), -EINVAL);
	sample(&r);
	r.until = r.issued; /* ends before it starts */
	assert_int_equal(appr_request_encode(&r, buf, sizeof(buf)), -EINVAL);
	sample(&r);
	r.scope = 7;
	assert_int_equal(appr_request_encode(&r, buf, sizeof(buf)), -EINVAL);
	sample(&r);
	r.direction = APPR_TAKE_OUT; /* a read-only take-out */
	assert_int_equal(appr_request_encode(&r, buf, sizeof(buf)), -EINVAL);
	sample(&r);
	r.council_data = true; /* version 2 cannot say it */
	assert_int_equal(appr_request_encode(&r, buf, sizeof(buf)), -EINVAL);
	sample(&r);
	r.version = 3; /* a bring-in owes no take-out wipe */
	assert_int_equal(appr_request_encode(&r, buf, sizeof(buf)), -EINVAL);
	sample(&r);
	r.version = 3;
	r.wipe = false;
	r.scope = r.direction = APPR_READ_WRITE; /* council data is a bring-in's */
	r.council_data = true;
	assert_int_equal(appr_request_encode(&r, buf, sizeof(buf)), -EINVAL);
	sample(&r);
	r.version = 4;
	assert_int_equal(appr_request_encode(&r, buf, sizeof(buf)), -EINVAL);
	sample(&r);
	r.n_creds = 0; /* a request names the credentials the PC accepts */
	assert_int_equal(appr_request_encode(&r, buf, sizeof(buf)), -EINVAL);
	sample(&r);
	r.n_creds = APPR_MAX_CREDS + 1;
	assert_int_equal(appr_request_encode(&r, buf, sizeof(buf)), -EINVAL);
	sample(&r);
	assert_int_equal(appr_request_encode(&r, buf, 100), -ENOSPC);
}

/* The request parser as the refusal checks call it. */
static int parse_request(const char *text, size_t len, const char *file, struct pcl_diag *d)
{
	static struct appr_request r;

	return appr_request_parse(text, len, file, &r, d);
}

static void parser_refuses_non_canonical_and_names_the_line(void **state)
{
	(void)state;
	struct appr_request r;
	char a[APPR_TEXT_MAX];

	static const struct edit_case cases[] = {
	    {"portcullis-approval-request 2", "portcullis-approval-request 1", 1, "version"},
	    {"portcullis-approval-request 2", "portcullis-approval-response 1", 1, "not a"},
	    {"council: watton", "council:  watton", 2, "council"},
	    {"council: watton", "council: Watton", 2, "council"},
	    {"pc.host", "pc.hostname", 4, "pc.host"},
	    {"device.id: 0951:1666", "device.id: 0951:1666 ", 7, "device.id"},
	    {"device.id: 0951:1666", "device.id: 0951:166A", 7, "device.id"},
	    /* Regression: a colon standing in for a hex digit parsed as 0009:0001. */
	    {"device.id: 0951:1666", "device.id: 09:1:1666", 7, "device.id"},
	    {"ABC 123%25", "ABC 123%", 8, "two upper-case hex"},
	    {"ABC 123%25", "ABC%20123%25", 8, "canonical"},
	    {"ABC 123%25", "ABC 123%2f", 8, "hex"},
	    {"DataTraveler%20", "DataTraveler ", 10, "trailing space"},
	    {"08:06:50 03:00:00", "08:06:50  03:00:00", 11, "device.interfaces"},
	    {"08:06:50 03:00:00", "08::6:50 03:00:00", 11, "device.interfaces"},
	    {"08:06:50 03:00:00", "08:06:50 03:00:0G", 11, "device.interfaces"},
	    {"device.capacity: 16000000000", "device.capacity: 016000000000", 12, "leading zeros"},
	    {"device.capacity: 16000000000", "device.capacity: 99999999999999999999999", 12,
	     "decimal"},
	    {"scope: read-only", "scope: rw", 13, "scope"},
	    {"wipe: yes", "wipe: true", 14, "wipe"},
	    {"requested-by.uid: 1000", "requested-by.uid: 4294967296", 15, "requested-by.uid"},
	    {"until: unplug", "until: never", 19, "until"},
	    {"answer-by: 1763900600", "answer-by: 1763800600", 18, "order"},
	    {"nonce: 00", "nonce: 0X", 21, "nonce"},
	    {"nonce: 00", "nonce: 00\n", 0, "nonce"},
	    {"reason: agenda", "reason: agenda\xc3\xa9", 20, "printable"},
	    {"credentials: q6ur", "credentials:  q6ur", 22, "credentials"},
	    {" AQEB\n", " AQEB \n", 22, "credentials"},
	    {" AQEB\n", "  AQEB\n", 22, "credentials"},
	    {" AQEB\n", " AQE\n", 22, "credentials"},
	    {"credentials: q6ur", "credentials:q6ur", 22, "credentials"},
	    {" AQEB\n", " AQEB\nx\n", 23, "after the credentials"},
	};
	sample(&r);
	encode(&r, a);
	assert_int_equal(edit_cases_refused(a, "req.txt", cases, sizeof(cases) / sizeof(cases[0]),
					    parse_request),
			 0);
}

/* Version 3: the direction and the approver's council-data mark, both signed. */
static void sample3(struct appr_request *r)
{
	sample(r);
	r->version = 0; /* the newest */
	r->wipe = false;
	r->council_data = true;
}

static void request_v3_round_trip_and_direction(void **state)
{
	(void)state;
	struct appr_request r, back;
	char a[APPR_TEXT_MAX], b[APPR_TEXT_MAX];
	struct pcl_diag d = {0};

	sample3(&r);
	int n = encode(&r, a);
	assert_true(strncmp(a, "portcullis-approval-request 3\n", 30) == 0);
	assert_non_null(strstr(a, "\nscope: read-only\ndirection: bring-in\nwipe: no\n"
				  "council-data: yes\nrequested-by.uid: 1000\n"));
	assert_int_equal(appr_request_parse(a, (size_t)n, "req", &back, &d), 0);
	assert_int_equal(back.version, 3);
	assert_int_equal(back.direction, APPR_BRING_IN);
	assert_true(back.council_data);
	assert_false(back.wipe);
	assert_int_equal(encode(&back, b), n);
	assert_string_equal(a, b);
	/* A take-out owes its wipe and carries no council-data mark. */
	r.scope = r.direction = APPR_TAKE_OUT;
	r.council_data = false;
	r.wipe = true;
	n = encode(&r, a);
	assert_non_null(strstr(a, "\ndirection: take-out\nwipe: yes\ncouncil-data: no\n"));
	assert_int_equal(appr_request_parse(a, (size_t)n, "req", &back, &d), 0);
	assert_int_equal(back.direction, APPR_TAKE_OUT);
	assert_true(back.wipe);
	/* A version 2 request still reads: its direction follows its scope. */
	sample(&r);
	n = encode(&r, a);
	assert_true(strncmp(a, "portcullis-approval-request 2\n", 30) == 0);
	assert_null(strstr(a, "direction"));
	assert_int_equal(appr_request_parse(a, (size_t)n, "req", &back, &d), 0);
	assert_int_equal(back.version, 2);
	assert_int_equal(back.direction, APPR_BRING_IN);
	assert_false(back.council_data);
	/* The mark changes the bytes the approver's key signs. */
	uint8_t h0[32], h1[32];
	sample3(&r);
	n = encode(&r, a);
	r.council_data = false;
	int m = encode(&r, b);
	assert_int_equal(appr_request_cdh(a, (size_t)n, h0), 0);
	assert_int_equal(appr_request_cdh(b, (size_t)m, h1), 0);
	assert_memory_not_equal(h0, h1, 32);
}

static void parser_v3_refuses_contradictions_and_names_the_line(void **state)
{
	(void)state;
	struct appr_request r;
	char a[APPR_TEXT_MAX];

	static const struct edit_case cases[] = {
	    {"portcullis-approval-request 3", "portcullis-approval-request 4", 1, "version"},
	    {"direction: bring-in", "direction: take-out", 14, "bring-in is read-only"},
	    {"direction: bring-in", "direction: in", 14, "direction"},
	    {"direction: bring-in\n", "", 14, "direction"},
	    {"wipe: no", "wipe: yes", 15, "only a take-out owes a wipe"},
	    {"council-data: yes", "council-data: 1", 16, "council-data"},
	    {"council-data: yes\n", "", 16, "council-data"},
	    {"scope: read-only\ndirection: bring-in\nwipe: no\ncouncil-data: yes",
	     "scope: read-write\ndirection: take-out\nwipe: no\ncouncil-data: yes", 16,
	     "only a bring-in"},
	};
	sample3(&r);
	encode(&r, a);
	assert_int_equal(edit_cases_refused(a, "req.txt", cases, sizeof(cases) / sizeof(cases[0]),
					    parse_request),
			 0);
}

static void parser_refuses_truncation_at_every_byte(void **state)
{
	(void)state;
	struct appr_request r, back;
	char a[APPR_TEXT_MAX];
	struct pcl_diag d;

	sample(&r);
	int n = encode(&r, a);
	for (int cut = 0; cut < n; cut++) {
		memset(&d, 0, sizeof(d));
		assert_int_equal(appr_request_parse(a, (size_t)cut, "req", &back, &d), -EINVAL);
		assert_true(d.msg[0] != '\0');
	}
}

static void client_data_hash_commits_to_every_byte_and_domain(void **state)
{
	(void)state;
	struct appr_request r;
	char a[APPR_TEXT_MAX];
	uint8_t h0[32], h1[32], h2[32];
	const void *f[1];
	size_t l[1];

	sample(&r);
	int n = encode(&r, a);
	assert_int_equal(appr_request_cdh(a, (size_t)n, h0), 0);
	a[n - 2] ^= 1;
	assert_int_equal(appr_request_cdh(a, (size_t)n, h1), 0);
	assert_memory_not_equal(h0, h1, 32);
	a[n - 2] ^= 1;
	/* The same bytes under another domain hash differently. */
	f[0] = a;
	l[0] = (size_t)n;
	assert_int_equal(appr_hash_fields(APPR_DOMAIN_POLICY, f, l, 1, h2), 0);
	assert_memory_not_equal(h0, h2, 32);
}

static void response_round_trip_and_errors(void **state)
{
	(void)state;
	struct appr_request q;
	struct appr_response r, back;
	char text[APPR_TEXT_MAX], again[APPR_TEXT_MAX];
	struct pcl_diag d = {0};

	sample(&q);
	memset(&r, 0, sizeof(r));
	r.req_len = (size_t)encode(&q, r.req_text);
	r.cred_len = 64;
	memset(r.cred, 0xab, 64);
	r.authdata_len = 37;
	memset(r.authdata, 0x05, 37);
	r.sig_len = 71;
	memset(r.sig, 0x30, 71);
	int n = appr_response_encode(&r, text, sizeof(text));
	assert_true(n > 0);
	assert_int_equal(appr_response_parse(text, (size_t)n, "resp", &back, &d), 0);
	assert_int_equal(back.cred_len, 64);
	assert_int_equal(back.sig_len, 71);
	assert_int_equal(back.req_len, r.req_len);
	assert_string_equal(back.req_text, r.req_text);
	assert_string_equal(back.req.council, "watton");
	assert_int_equal(appr_response_encode(&back, again, sizeof(again)), n);
	assert_string_equal(again, text);

	/* Base64 with stray padding bits, short authenticator data, trailing text. */
	char bad[APPR_TEXT_MAX];
	snprintf(bad, sizeof(bad), "%s", text);
	char *sig = strstr(bad, "signature: ");
	sig[11] = '*';
	assert_int_equal(appr_response_parse(bad, strlen(bad), "resp", &back, &d), -EINVAL);
	assert_int_equal(d.line, 4);
	assert_non_null(strstr(d.msg, "signature"));
	r.authdata_len = 36;
	n = appr_response_encode(&r, text, sizeof(text));
	assert_true(n > 0);
	assert_int_equal(appr_response_parse(text, (size_t)n, "resp", &back, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "authenticator-data"));
	r.authdata_len = 37;
	n = appr_response_encode(&r, text, sizeof(text));
	strcat(text, "x\n");
	assert_int_equal(appr_response_parse(text, strlen(text), "resp", &back, &d), -EINVAL);
	assert_int_equal(d.line, 27);
}

static void base64_is_canonical_only(void **state)
{
	(void)state;
	uint8_t out[8];

	assert_int_equal(pcl_b64_decode("QQ==", 4, out, sizeof(out)), 1);
	assert_int_equal(out[0], 'A');
	assert_int_equal(pcl_b64_decode("QR==", 4, out, sizeof(out)), -EINVAL);
	assert_int_equal(pcl_b64_decode("Q===", 4, out, sizeof(out)), -EINVAL);
	assert_int_equal(pcl_b64_decode("QUJD", 4, out, sizeof(out)), 3);
	assert_int_equal(pcl_b64_decode("QUJ", 3, out, sizeof(out)), -EINVAL);
	assert_int_equal(pcl_b64_decode("QU=D", 4, out, sizeof(out)), -EINVAL);
	assert_int_equal(pcl_b64_decode("QUJDRA==", 8, out, 3), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(request_round_trip_is_byte_exact),
	    cmocka_unit_test(encode_refuses_invalid_fields),
	    cmocka_unit_test(parser_refuses_non_canonical_and_names_the_line),
	    cmocka_unit_test(request_v3_round_trip_and_direction),
	    cmocka_unit_test(parser_v3_refuses_contradictions_and_names_the_line),
	    cmocka_unit_test(parser_refuses_truncation_at_every_byte),
	    cmocka_unit_test(client_data_hash_commits_to_every_byte_and_domain),
	    cmocka_unit_test(response_round_trip_and_errors),
	    cmocka_unit_test(base64_is_canonical_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
