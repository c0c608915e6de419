/*
 * test_notice.c - unit tests of the councillor's notices (tools/notice.c): the words for
 * each kind of decision, the request code, and hostile device strings made harmless.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "commands.h"
#include "notice.h"

/* client.c reports through the CLI's pcl_fail(); the tests only need it to exist. */
int pcl_fail(const char *fmt, ...)
{
	(void)fmt;
	return 1;
}

static const struct notice_ctx clerk = {"the Clerk", 6, false};

#define STICK_HASH "kV9XZ/9gqRgm1kUJy6e2OBNwRDfyWcqmmeaUwG7uOeQ="

static struct json_object *rec(const char *json)
{
	struct json_object *o = json_tokener_parse(json);
	assert_non_null(o);
	return o;
}

static void blocked_stick_says_why_and_gives_the_request_code(void **state)
{
	struct json_object *o =
	    rec("{\"event.action\":\"device-blocked\",\"volume.bus_type\":\"usb\","
		"\"volume.device_name\":\"1-2\",\"volume.vendor_name\":\"Kingston\","
		"\"volume.product_name\":\"DataTraveler 3.0\",\"usb.interfaces\":[\"08:06:50\"],"
		"\"usb.hash\":\"" STICK_HASH "\",\"rule.id\":\"no-match\"}");
	struct notice n;
	char body[512];

	(void)state;
	assert_int_equal(notice_from_record(o, true, &clerk, &n), NOTICE_BLOCKED);
	assert_string_equal(n.summary, "Kingston DataTraveler 3.0 was blocked");
	assert_string_equal(n.code, "GV59-CHKQ");
	assert_string_equal(n.port, "USB socket 1-2");
	notice_body(&n, false, body, sizeof(body));
	assert_string_equal(body, "Why: it is not on the council's list of approved devices.\n"
				  "What to do: ask the Clerk to approve it, and quote this "
				  "request code: GV59-CHKQ");
	json_object_put(o);
}

static void the_approver_title_comes_from_the_context(void **state)
{
	struct json_object *o = rec("{\"portcullis.state\":\"blocked\",\"volume.bus_type\":\"usb\","
				    "\"volume.device_name\":\"1-2\",\"usb.hash\":\"A\","
				    "\"rule.id\":\"x.conf:3: block id 0951:*\"}");
	const struct notice_ctx dsfm = {"the DSFM", 0, false};
	struct notice n;

	(void)state;
	assert_int_equal(notice_from_record(o, false, &dsfm, &n), NOTICE_BLOCKED);
	assert_string_equal(n.device, "a USB device");
	assert_string_equal(n.why,
			    "the council's rules do not allow this device on this computer.");
	assert_string_equal(n.todo, "ask the DSFM to approve it, and quote this request code: "
				    "N33W-7HXC");
	json_object_put(o);
}

static void without_an_exception_route_storage_is_not_offered_approval(void **state)
{
	struct json_object *o =
	    rec("{\"event.action\":\"device-blocked\",\"volume.bus_type\":\"usb\","
		"\"volume.device_name\":\"1-2\",\"usb.interfaces\":[\"08:06:50\"],"
		"\"usb.hash\":\"A\",\"rule.id\":\"no-match\"}");
	struct json_object *kbd =
	    rec("{\"event.action\":\"device-blocked\",\"volume.bus_type\":\"usb\","
		"\"volume.device_name\":\"1-3\",\"usb.interfaces\":[\"03:01:01\"],"
		"\"usb.hash\":\"A\",\"rule.id\":\"no-match\"}");
	const struct notice_ctx hednesford = {"the Clerk", 6, true};
	struct notice n;

	(void)state;
	assert_int_equal(notice_from_record(o, true, &hednesford, &n), NOTICE_BLOCKED);
	assert_string_equal(n.todo, "please unplug it: the council does not allow personal "
				    "storage devices on its computers. To share a file, ask the "
				    "Clerk.");
	/* Other devices (a keyboard) can still be approved. */
	assert_int_equal(notice_from_record(kbd, true, &hednesford, &n), NOTICE_BLOCKED);
	assert_non_null(strstr(n.todo, "ask the Clerk to approve it"));
	json_object_put(o);
	json_object_put(kbd);
}

static void rejected_and_partly_blocked_devices(void **state)
{
	struct json_object *phone =
	    rec("{\"event.action\":\"device-rejected\",\"volume.bus_type\":\"usb\","
		"\"volume.device_name\":\"1-7\",\"volume.product_name\":\"Pixel 7\","
		"\"usb.hash\":\"A\"}");
	struct json_object *part =
	    rec("{\"event.action\":\"interface-blocked\",\"volume.bus_type\":\"usb\","
		"\"volume.device_name\":\"1-5\",\"volume.product_name\":\"Flash Disk\","
		"\"usb.hash\":\"A\",\"event.reason\":\"interface 1-5:1.1 is not allowed\"}");
	struct notice n;

	(void)state;
	assert_int_equal(notice_from_record(phone, true, &clerk, &n), NOTICE_REJECTED);
	assert_string_equal(n.summary, "Pixel 7 was disconnected");
	assert_non_null(strstr(n.todo, "please unplug it"));
	assert_non_null(strstr(n.todo, "N33W-7HXC"));
	assert_int_equal(notice_from_record(part, true, &clerk, &n), NOTICE_PART_BLOCKED);
	assert_string_equal(n.summary, "Part of Flash Disk was switched off");
	json_object_put(phone);
	json_object_put(part);
}

static void a_file_refused_by_the_virus_check_is_named(void **state)
{
	struct json_object *o =
	    rec("{\"event.action\":\"malware-blocked\",\"volume.bus_type\":\"usb\","
		"\"volume.device_name\":\"sdb1\",\"usb.port\":\"1-1.1\","
		"\"volume.product_name\":\"Cruzer\",\"file.path\":\"minutes/agenda.pdf.exe\","
		"\"portcullis.malware.signature\":\"Eicar-Signature\"}");
	struct json_object *stop =
	    rec("{\"event.action\":\"xfer-fail-closed\",\"volume.bus_type\":\"usb\","
		"\"volume.device_name\":\"sdb1\",\"usb.port\":\"1-1.1\","
		"\"volume.product_name\":\"Cruzer\"}");
	struct notice n;

	(void)state;
	assert_int_equal(notice_from_record(o, true, &clerk, &n), NOTICE_MALWARE);
	assert_string_equal(n.summary, "A file on Cruzer was refused");
	assert_string_equal(n.port, "USB socket 1-1.1");
	assert_string_equal(n.file, "minutes/agenda.pdf.exe");
	assert_string_equal(n.why, "the virus check found harmful software in "
				   "\"minutes/agenda.pdf.exe\", so it cannot be opened.");
	assert_non_null(strstr(n.todo, "Tell the Clerk"));
	assert_int_equal(notice_from_record(stop, true, &clerk, &n), NOTICE_STOPPED);
	assert_string_equal(n.summary, "Cruzer was made read-only");
	assert_string_equal(n.todo, "save your work elsewhere and tell the Clerk.");
	json_object_put(o);
	json_object_put(stop);
}

static void the_first_use_of_an_approved_medium_says_copies_are_recorded(void **state)
{
	struct json_object *o =
	    rec("{\"event.action\":\"xfer-watch-started\",\"volume.bus_type\":\"usb\","
		"\"volume.device_name\":\"sdb1\",\"usb.port\":\"1-1.1\","
		"\"volume.product_name\":\"Cruzer\"}");
	struct notice_ctx kept = clerk;
	struct notice n;

	(void)state;
	kept.retention_months = 6;
	assert_int_equal(notice_from_record(o, true, &kept, &n), NOTICE_LOGGED);
	assert_string_equal(n.summary, "Copies to and from Cruzer are recorded");
	assert_string_equal(n.why, "this computer records who copies which file to or from it, "
				   "and when. The record is kept for 6 months, then deleted.");
	assert_non_null(strstr(n.todo, "privacy notice"));
	kept.retention_months = 0;
	assert_int_equal(notice_from_record(o, true, &kept, &n), NOTICE_LOGGED);
	assert_non_null(strstr(n.why, "for the period the council has set"));
	json_object_put(o);
}

/* The owner always knows what will happen to the stick, and before any automatic wipe. */
static void the_owner_is_told_what_happens_to_the_stick(void **state)
{
	static const char *const base =
	    "{\"event.action\":\"xfer-watch-started\",\"volume.bus_type\":\"usb\","
	    "\"volume.product_name\":\"Cruzer\",\"wipe.plan\":\"%s\"}";
	char text[512];
	struct notice n;

	(void)state;
	snprintf(text, sizeof(text), base, "owed");
	struct json_object *o = rec(text);
	assert_int_equal(notice_from_record(o, true, &clerk, &n), NOTICE_LOGGED);
	assert_string_equal(n.todo, "bring it back to a council computer once its files have "
				    "arrived: it must be wiped there, and everything on it will "
				    "be erased. It is not wiped when you eject it here.");
	json_object_put(o);
	snprintf(text, sizeof(text), base, "at-eject");
	o = rec(text);
	assert_int_equal(notice_from_record(o, true, &clerk, &n), NOTICE_LOGGED);
	assert_string_equal(n.todo, "keep your own copies elsewhere: everything on it will be "
				    "erased when you eject it.");
	json_object_put(o);
	snprintf(text, sizeof(text), base, "none");
	o = rec(text);
	assert_int_equal(notice_from_record(o, true, &clerk, &n), NOTICE_LOGGED);
	assert_non_null(strstr(n.todo, "It will not be wiped."));
	json_object_put(o);

	o = rec("{\"event.action\":\"wipe-requested\",\"volume.bus_type\":\"usb\","
		"\"volume.product_name\":\"Cruzer\",\"event.reason\":\"the exception requires "
		"a wipe once the transfer is over\"}");
	assert_int_equal(notice_from_record(o, true, &clerk, &n), NOTICE_WIPING);
	assert_string_equal(n.summary, "Cruzer is being wiped");
	assert_non_null(strstr(n.why, "everything on it is erased"));
	assert_string_equal(n.todo, "leave it plugged in until the wipe has finished.");
	json_object_put(o);
	/* A wipe its owner asked for ("finish and wipe") needs no warning. */
	o = rec("{\"event.action\":\"wipe-requested\",\"volume.bus_type\":\"usb\"}");
	assert_int_equal(notice_from_record(o, true, &clerk, &n), NOTICE_NONE);
	json_object_put(o);
}

/* A plain council stick let in read-only where the profile asks for encrypted ones; a
 * failure (the stick was blocked instead) is told as the block it became. */
static void a_plain_council_stick_is_told_why_it_is_read_only(void **state)
{
	struct notice n;
	struct json_object *o =
	    rec("{\"event.action\":\"device-read-only\",\"event.outcome\":\"success\","
		"\"volume.bus_type\":\"usb\",\"volume.product_name\":\"Cruzer\"}");

	(void)state;
	assert_int_equal(notice_from_record(o, true, NULL, &n), NOTICE_PLAIN_STICK);
	assert_string_equal(n.summary, "Cruzer is read-only");
	assert_non_null(strstr(n.why, "must be encrypted, and this one is not"));
	assert_non_null(strstr(n.todo, "encrypted council stick"));
	json_object_put(o);
	o = rec("{\"event.action\":\"device-read-only\",\"event.outcome\":\"failure\"}");
	assert_int_equal(notice_from_record(o, true, NULL, &n), NOTICE_NONE);
	json_object_put(o);
}

static void other_events_and_hubs_say_nothing(void **state)
{
	struct json_object *ins = rec("{\"event.action\":\"device-inserted\",\"usb.hash\":\"A\"}");
	struct json_object *hub =
	    rec("{\"portcullis.state\":\"allowed\",\"volume.bus_type\":\"usb\","
		"\"usb.interfaces\":[\"09:00:00\",\"09:00:01\"]}");
	struct json_object *junk = rec("{\"event.action\":[1,2],\"usb.interfaces\":7}");
	struct notice n;

	(void)state;
	assert_int_equal(notice_from_record(ins, true, &clerk, &n), NOTICE_NONE);
	assert_int_equal(notice_from_record(hub, false, &clerk, &n), NOTICE_NONE);
	assert_int_equal(notice_from_record(junk, true, &clerk, &n), NOTICE_NONE);
	json_object_put(ins);
	json_object_put(hub);
	json_object_put(junk);
}

static void allowed_storage_mentions_the_records(void **state)
{
	struct json_object *o = rec("{\"portcullis.state\":\"allowed\",\"volume.bus_type\":\"usb\","
				    "\"volume.device_name\":\"1-1.1\",\"volume.vendor_name\":"
				    "\"SanDisk\",\"volume.product_name\":\"SanDisk Cruzer\","
				    "\"usb.interfaces\":[\"08:06:50\"]}");
	struct notice n;

	(void)state;
	assert_int_equal(notice_from_record(o, false, &clerk, &n), NOTICE_ALLOWED);
	assert_string_equal(n.device, "SanDisk Cruzer"); /* the vendor is not said twice */
	assert_true(n.storage);
	assert_string_equal(n.why, "it is approved by the council. Files copied to or from it "
				   "are recorded.");
	json_object_put(o);
}

static void a_memory_card_has_no_request_code(void **state)
{
	struct json_object *o = rec("{\"event.action\":\"device-blocked\",\"volume.bus_type\":"
				    "\"mmc\",\"volume.device_name\":\"mmcblk0\",\"rule.id\":"
				    "\"removable-media: needs an approval\"}");
	struct notice n;

	(void)state;
	assert_int_equal(notice_from_record(o, true, &clerk, &n), NOTICE_BLOCKED);
	assert_string_equal(n.code, "");
	assert_string_equal(n.todo, "ask the Clerk to approve it.");
	assert_non_null(strstr(n.why, "memory cards"));
	json_object_put(o);
}

static void hostile_device_strings_are_made_harmless(void **state)
{
	struct json_object *o =
	    rec("{\"event.action\":\"device-blocked\",\"volume.bus_type\":\"usb\","
		"\"volume.device_name\":\"1-2\\u001b]0;x\",\"volume.product_name\":"
		"\"<b>Disk</b> & \\u001b[2J\\u00e9\",\"usb.hash\":\"bad hash\\n\"}");
	struct notice n;
	char body[512], summary[512];

	(void)state;
	assert_int_equal(notice_from_record(o, true, &clerk, &n), NOTICE_BLOCKED);
	for (const char *p = n.summary; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	assert_null(strchr(n.port, 0x1b));
	assert_string_equal(n.code, ""); /* a malformed hash gives no code */
	/* Body markup: the device's words cannot add markup to a notification. */
	struct notice m = n;
	snprintf(m.why, sizeof(m.why), "%s", n.summary);
	notice_body(&m, true, body, sizeof(body));
	assert_null(strstr(body, "<b>"));
	assert_non_null(strstr(body, "&lt;b&gt;Disk&lt;/b&gt; &amp; ?[2J??"));
	snprintf(summary, sizeof(summary), "%s", n.summary);
	assert_string_equal(summary, "<b>Disk</b> & ?[2J?? was blocked");
	json_object_put(o);
}

static void the_records_sentence_gives_the_retention(void **state)
{
	const struct notice_ctx unknown = {"the Clerk", 0, false}, one = {"the Clerk", 1, false};
	char buf[512];

	(void)state;
	notice_records_sentence(&clerk, buf, sizeof(buf));
	assert_non_null(strstr(buf, "kept for 6 months, then deleted"));
	notice_records_sentence(&one, buf, sizeof(buf));
	assert_non_null(strstr(buf, "kept for 1 month, then deleted"));
	notice_records_sentence(&unknown, buf, sizeof(buf));
	assert_non_null(strstr(buf, "kept for the period the council has set"));
}

static void a_short_buffer_is_never_overrun(void **state)
{
	struct notice n = {.why = "abc <&> def", .todo = "ask"};
	char buf[8];

	(void)state;
	memset(buf, 'X', sizeof(buf));
	notice_body(&n, true, buf, 6);
	assert_int_equal(buf[6], 'X');
	assert_true(strlen(buf) < 6);
	notice_clean("abcdef", buf, 3);
	assert_string_equal(buf, "ab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(blocked_stick_says_why_and_gives_the_request_code),
	    cmocka_unit_test(the_approver_title_comes_from_the_context),
	    cmocka_unit_test(without_an_exception_route_storage_is_not_offered_approval),
	    cmocka_unit_test(rejected_and_partly_blocked_devices),
	    cmocka_unit_test(a_file_refused_by_the_virus_check_is_named),
	    cmocka_unit_test(the_first_use_of_an_approved_medium_says_copies_are_recorded),
	    cmocka_unit_test(other_events_and_hubs_say_nothing),
	    cmocka_unit_test(a_plain_council_stick_is_told_why_it_is_read_only),
	    cmocka_unit_test(allowed_storage_mentions_the_records),
	    cmocka_unit_test(a_memory_card_has_no_request_code),
	    cmocka_unit_test(hostile_device_strings_are_made_harmless),
	    cmocka_unit_test(the_records_sentence_gives_the_retention),
	    cmocka_unit_test(a_short_buffer_is_never_overrun),
	    cmocka_unit_test(the_owner_is_told_what_happens_to_the_stick),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
