/*
 * test_decode.c - unit tests of the fanotify event buffer decoder: well-formed
 * events and every bounds check (truncation, lengths, versions, names).
 * Test program only; buffers are built by the test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <linux/fanotify.h>

#include "diag.h"
#include "xfer.h"

struct buf {
	unsigned char b[1024];
	size_t len;
	size_t ev_start;
};

static void put(struct buf *b, const void *p, size_t n)
{
	assert_true(b->len + n <= sizeof(b->b));
	memcpy(b->b + b->len, p, n);
	b->len += n;
}

static void begin_event(struct buf *b, uint64_t mask, int32_t fd, int32_t pid)
{
	b->ev_start = b->len;
	uint32_t event_len = 24;
	uint8_t vers = FANOTIFY_METADATA_VERSION, res = 0;
	uint16_t meta = 24;
	put(b, &event_len, 4);
	put(b, &vers, 1);
	put(b, &res, 1);
	put(b, &meta, 2);
	put(b, &mask, 8);
	put(b, &fd, 4);
	put(b, &pid, 4);
}

static void end_event(struct buf *b)
{
	uint32_t event_len = (uint32_t)(b->len - b->ev_start);
	memcpy(b->b + b->ev_start, &event_len, 4);
}

static void put_fid(struct buf *b, uint8_t type, const void *handle, uint32_t hlen,
		    const char *name)
{
	size_t start = b->len;
	uint8_t pad = 0;
	uint16_t len = 0;
	int32_t fsid[2] = {0x11, 0x22}, htype = 1;
	put(b, &type, 1);
	put(b, &pad, 1);
	put(b, &len, 2);
	put(b, fsid, 8);
	put(b, &hlen, 4);
	put(b, &htype, 4);
	put(b, handle, hlen);
	if (name)
		put(b, name, strlen(name) + 1);
	len = (uint16_t)(b->len - start);
	memcpy(b->b + start + 2, &len, 2);
}

static int decode_all(struct buf *b, struct xfer_event *evs, int max, int *count,
		      struct pcl_diag *d)
{
	struct xfer_decoder dec;
	xfer_decoder_init(&dec, b->b, b->len);
	int rc;
	*count = 0;
	while (*count < max && (rc = xfer_decoder_next(&dec, &evs[*count], d)) > 0)
		(*count)++;
	return rc;
}

static void two_fd_events_decode_in_order(void **state)
{
	struct buf b = {0};
	begin_event(&b, FAN_OPEN_PERM, 7, 100);
	end_event(&b);
	begin_event(&b, FAN_CLOSE_WRITE, 8, 101);
	end_event(&b);
	struct xfer_event ev[4];
	int n;
	struct pcl_diag d = {0};
	assert_int_equal(decode_all(&b, ev, 4, &n, &d), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ev[0].mask, FAN_OPEN_PERM);
	assert_int_equal(ev[0].fd, 7);
	assert_int_equal(ev[0].pid, 100);
	assert_int_equal(ev[1].mask, FAN_CLOSE_WRITE);
	assert_int_equal(ev[1].fd, 8);
	assert_int_equal(ev[1].nfid, 0);
}

static void dfid_name_record_gives_handle_and_name(void **state)
{
	struct buf b = {0};
	unsigned char h[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	begin_event(&b, FAN_CREATE, FAN_NOFD, 55);
	put_fid(&b, FAN_EVENT_INFO_TYPE_DFID_NAME, h, sizeof(h), "report.docx");
	end_event(&b);
	struct xfer_event ev[2];
	int n;
	assert_int_equal(decode_all(&b, ev, 2, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].nfid, 1);
	assert_int_equal(ev[0].fid[0].handle_bytes, 8);
	assert_memory_equal(ev[0].fid[0].handle, h, 8);
	assert_string_equal(ev[0].fid[0].name, "report.docx");
	assert_int_equal(ev[0].fid[0].name_len, 11);
	assert_int_equal(ev[0].fid[0].fsid[1], 0x22);
}

static void rename_has_old_and_new_names(void **state)
{
	struct buf b = {0};
	unsigned char h[4] = {9, 9, 9, 9};
	begin_event(&b, FAN_RENAME, FAN_NOFD, 55);
	put_fid(&b, FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, h, 4, "a");
	put_fid(&b, FAN_EVENT_INFO_TYPE_NEW_DFID_NAME, h, 4, "b");
	end_event(&b);
	struct xfer_event ev[1];
	int n;
	assert_int_equal(decode_all(&b, ev, 1, &n, NULL), 1);
	assert_int_equal(ev[0].nfid, 2);
	assert_string_equal(ev[0].fid[0].name, "a");
	assert_string_equal(ev[0].fid[1].name, "b");
}

static void unknown_info_type_is_skipped(void **state)
{
	struct buf b = {0};
	begin_event(&b, FAN_CLOSE_NOWRITE, 3, 1);
	unsigned char rec[8] = {99, 0, 8, 0, 0xde, 0xad, 0xbe, 0xef};
	put(&b, rec, sizeof(rec));
	end_event(&b);
	struct xfer_event ev[1];
	int n;
	assert_int_equal(decode_all(&b, ev, 1, &n, NULL), 1);
	assert_int_equal(ev[0].fd, 3);
}

static void expect_error(struct buf *b, const char *field)
{
	struct xfer_event ev[4];
	int n;
	struct pcl_diag d = {0};
	assert_int_equal(decode_all(b, ev, 4, &n, &d), -EBADMSG);
	char msg[600];
	pcl_diag_format(&d, msg, sizeof(msg));
	if (strstr(msg, field) == NULL)
		fail_msg("diagnostic '%s' does not name '%s'", msg, field);
	assert_non_null(strstr(msg, "<fanotify>"));
}

static void truncated_header_is_rejected(void **state)
{
	struct buf b = {0};
	begin_event(&b, FAN_OPEN, 1, 1);
	end_event(&b);
	b.len = 20;
	expect_error(&b, "metadata");
}

static void event_len_past_buffer_is_rejected(void **state)
{
	struct buf b = {0};
	begin_event(&b, FAN_OPEN, 1, 1);
	end_event(&b);
	uint32_t big = 4096;
	memcpy(b.b, &big, 4);
	expect_error(&b, "metadata.event_len");
}

static void event_len_below_metadata_len_is_rejected(void **state)
{
	struct buf b = {0};
	begin_event(&b, FAN_OPEN, 1, 1);
	end_event(&b);
	uint32_t small = 8;
	memcpy(b.b, &small, 4);
	expect_error(&b, "metadata.event_len");
}

static void wrong_version_is_rejected(void **state)
{
	struct buf b = {0};
	begin_event(&b, FAN_OPEN, 1, 1);
	end_event(&b);
	b.b[4] = 2;
	expect_error(&b, "metadata.vers");
}

static void short_metadata_len_is_rejected(void **state)
{
	struct buf b = {0};
	begin_event(&b, FAN_OPEN, 1, 1);
	end_event(&b);
	uint16_t m = 16;
	memcpy(b.b + 6, &m, 2);
	expect_error(&b, "metadata.metadata_len");
}

static void info_len_smaller_than_header_is_rejected(void **state)
{
	struct buf b = {0};
	begin_event(&b, FAN_CREATE, -1, 1);
	unsigned char rec[4] = {FAN_EVENT_INFO_TYPE_FID, 0, 2, 0};
	put(&b, rec, 4);
	end_event(&b);
	expect_error(&b, "info_header.len");
}

static void info_len_past_event_is_rejected(void **state)
{
	struct buf b = {0};
	begin_event(&b, FAN_CREATE, -1, 1);
	unsigned char rec[4] = {FAN_EVENT_INFO_TYPE_PIDFD, 0, 200, 0};
	put(&b, rec, 4);
	end_event(&b);
	expect_error(&b, "info_header.len");
}

static void handle_bytes_past_record_is_rejected(void **state)
{
	struct buf b = {0};
	unsigned char h[8] = {0};
	begin_event(&b, FAN_CREATE, -1, 1);
	put_fid(&b, FAN_EVENT_INFO_TYPE_DFID, h, 8, NULL);
	end_event(&b);
	uint32_t hb = 4000;
	memcpy(b.b + 24 + 12, &hb, 4);
	expect_error(&b, "handle_bytes");
}

static void name_without_nul_is_rejected(void **state)
{
	struct buf b = {0};
	unsigned char h[4] = {0};
	begin_event(&b, FAN_CREATE, -1, 1);
	put_fid(&b, FAN_EVENT_INFO_TYPE_DFID_NAME, h, 4, "abc");
	end_event(&b);
	b.b[b.len - 1] = 'x'; /* overwrite the NUL */
	expect_error(&b, "info_fid.name");
}

static void too_many_fids_are_rejected(void **state)
{
	struct buf b = {0};
	unsigned char h[4] = {0};
	begin_event(&b, FAN_CREATE, -1, 1);
	for (int i = 0; i < XFER_MAX_FIDS + 1; i++)
		put_fid(&b, FAN_EVENT_INFO_TYPE_FID, h, 4, NULL);
	end_event(&b);
	expect_error(&b, "too many");
}

static void error_stops_decoding_after_good_events(void **state)
{
	struct buf b = {0};
	begin_event(&b, FAN_OPEN_PERM, 4, 9);
	end_event(&b);
	begin_event(&b, FAN_OPEN_PERM, 5, 9);
	end_event(&b);
	b.b[24 + 4] = 7; /* second event's version */
	struct xfer_event ev[4];
	int n;
	struct pcl_diag d = {0};
	assert_int_equal(decode_all(&b, ev, 4, &n, &d), -EBADMSG);
	assert_int_equal(n, 1);
	assert_non_null(strstr(d.msg, "event 2"));
	struct xfer_decoder dec;
	xfer_decoder_init(&dec, b.b, 0);
	assert_int_equal(xfer_decoder_next(&dec, &ev[0], NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(two_fd_events_decode_in_order),
	    cmocka_unit_test(dfid_name_record_gives_handle_and_name),
	    cmocka_unit_test(rename_has_old_and_new_names),
	    cmocka_unit_test(unknown_info_type_is_skipped),
	    cmocka_unit_test(truncated_header_is_rejected),
	    cmocka_unit_test(event_len_past_buffer_is_rejected),
	    cmocka_unit_test(event_len_below_metadata_len_is_rejected),
	    cmocka_unit_test(wrong_version_is_rejected),
	    cmocka_unit_test(short_metadata_len_is_rejected),
	    cmocka_unit_test(info_len_smaller_than_header_is_rejected),
	    cmocka_unit_test(info_len_past_event_is_rejected),
	    cmocka_unit_test(handle_bytes_past_record_is_rejected),
	    cmocka_unit_test(name_without_nul_is_rejected),
	    cmocka_unit_test(too_many_fids_are_rejected),
	    cmocka_unit_test(error_stops_decoding_after_good_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
