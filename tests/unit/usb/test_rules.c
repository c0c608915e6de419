/*
 * test_rules.c - cmocka tests of the rule language: the corpus of good and
 * bad rule files (tests/data/rules), USBGuard's set-operator semantics, the
 * first-match order across index buckets, the authorize-interfaces
 * extension and the generate-policy line format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

static struct usbdev stick(void)
{
	struct usbdev d;

	memset(&d, 0, sizeof(d));
	strcpy(d.sysname, "1-2");
	strcpy(d.parent_sysname, "usb1");
	d.vid = 0x0781;
	d.pid = 0x5581;
	strcpy(d.serial, "4C530001140516116522");
	strcpy(d.product, " SanDisk 3.2Gen1");
	strcpy(d.connect_type, "hotplug");
	strcpy(d.hash, "4CfkBoyPSgKRCplCZbYMjtKTZRHlRlPvuc9k+sBM4Kc=");
	strcpy(d.parent_hash, "lceG1KIkEX7lSwXRAZqQ1rJVcnnTM3xaE1A+wbEtZ4k=");
	d.n_ifaces = 1;
	d.ifaces[0] = (struct usbdev_iface){1, 0, 0, 8, 6, 0x50};
	return d;
}

static struct usbdev badusb(void)
{
	struct usbdev d = stick();

	d.n_ifaces = 2;
	d.ifaces[1] = (struct usbdev_iface){1, 1, 0, 3, 1, 1};
	strcpy(d.hash, "f/W7DFytBb8T4zlxFaqjn0LdkjJhtYoMCYDOvZoM0Yg=");
	return d;
}

static struct rules *parse_ok(const char *text)
{
	struct rules *r = NULL;
	struct pcl_diag d[4];
	size_t nd = 0;
	int rc = rules_parse_buffer("t.rules", text, strlen(text), &r, d, 4, &nd);

	if (rc != 0)
		fail_msg("parse failed (%d): %s:%u: %s", rc, d[0].file, d[0].line, d[0].msg);
	assert_non_null(r);
	return r;
}

/* Decide dev against text; return the matching line (0 = none) and target. */
static unsigned decide(const char *text, const struct usbdev *dev, enum rules_target *t)
{
	struct rules *r = parse_ok(text);
	struct rules_decision dec;

	rules_decide(r, dev, &dec);
	if (t)
		*t = dec.target;
	if (!dec.matched) {
		assert_int_equal(dec.target, RULES_BLOCK);
		assert_null(dec.text);
	} else {
		assert_string_equal(dec.file, "t.rules");
		assert_non_null(dec.text);
	}
	rules_free(&r);
	assert_null(r);
	return dec.matched ? dec.line : 0;
}

static void test_no_rule_blocks(void **state)
{
	struct usbdev d = stick();
	enum rules_target t;

	(void)state;
	assert_int_equal(decide("", &d, &t), 0);
	assert_int_equal(t, RULES_BLOCK);
	assert_int_equal(decide("allow id 1234:5678\n", &d, &t), 0);
	assert_int_equal(t, RULES_BLOCK);
}

static void test_first_match_wins_across_buckets(void **state)
{
	struct usbdev d = stick();
	enum rules_target t;

	(void)state;
	/* fallback rule (no id/hash) before an indexed one */
	assert_int_equal(decide("reject with-interface 08:*:*\nallow id 0781:5581\n", &d, &t), 1);
	assert_int_equal(t, RULES_REJECT);
	/* indexed by id before fallback */
	assert_int_equal(decide("allow id 0781:5581\nreject\n", &d, &t), 1);
	assert_int_equal(t, RULES_ALLOW);
	/* hash bucket, vendor bucket, id bucket, fallback in file order */
	assert_int_equal(
	    decide("block id 0781:*\nallow hash \"4CfkBoyPSgKRCplCZbYMjtKTZRHlRlPvuc9k+"
		   "sBM4Kc=\"\n",
		   &d, &t),
	    1);
	assert_int_equal(t, RULES_BLOCK);
	assert_int_equal(decide("allow id 0781:5581 serial \"other\"\n"
				"allow hash \"4CfkBoyPSgKRCplCZbYMjtKTZRHlRlPvuc9k+sBM4Kc=\"\n"
				"block\n",
				&d, &t),
			 2);
	assert_int_equal(t, RULES_ALLOW);
}

static void test_large_set_keeps_file_order(void **state)
{
	struct usbdev d = stick();
	size_t cap = 10000 * 64, len = 0;
	char *buf = malloc(cap);
	struct rules *r;
	struct rules_decision dec;

	(void)state;
	for (int i = 0; i < 9998; i++)
		len += (size_t)snprintf(buf + len, cap - len, "allow id %04x:%04x serial \"s%d\"\n",
					i % 0x7000, i, i);
	len += (size_t)snprintf(buf + len, cap - len, "block via-port \"1-2\"\n");
	len += (size_t)snprintf(buf + len, cap - len, "allow id 0781:5581\n");
	r = parse_ok(buf);
	assert_int_equal(rules_count(r), 10000);
	rules_decide(r, &d, &dec);
	assert_true(dec.matched);
	assert_int_equal(dec.line, 9999);
	assert_int_equal(dec.target, RULES_BLOCK);
	strcpy(d.sysname, "1-3");
	rules_decide(r, &d, &dec);
	assert_int_equal(dec.line, 10000);
	assert_int_equal(dec.target, RULES_ALLOW);
	d.vid = 0x0001;
	d.pid = 1;
	strcpy(d.serial, "s1");
	rules_decide(r, &d, &dec);
	assert_int_equal(dec.line, 2);
	rules_free(&r);
	free(buf);
}

static void test_set_operators_follow_usbguard(void **state)
{
	struct usbdev s = stick(), b = badusb();

	(void)state;
	/* equals: same size, every rule value present */
	assert_int_equal(decide("allow with-interface equals { 08:*:* }\n", &s, NULL), 1);
	assert_int_equal(decide("allow with-interface equals { 08:*:* }\n", &b, NULL), 0);
	/* single value means equals */
	assert_int_equal(decide("allow with-interface 08:06:50\n", &b, NULL), 0);
	assert_int_equal(decide("allow with-interface 08:06:50\n", &s, NULL), 1);
	/* all-of: rule values all present, device may have more */
	assert_int_equal(decide("reject with-interface all-of { 08:*:* 03:01:* }\n", &b, NULL), 1);
	assert_int_equal(decide("reject with-interface all-of { 08:*:* 03:01:* }\n", &s, NULL), 0);
	/* one-of */
	assert_int_equal(decide("allow with-interface one-of { 03:00:00 03:01:01 }\n", &b, NULL),
			 1);
	assert_int_equal(decide("allow with-interface one-of { 03:00:00 03:01:01 }\n", &s, NULL),
			 0);
	/* none-of */
	assert_int_equal(decide("allow with-interface none-of { 03:*:* }\n", &s, NULL), 1);
	assert_int_equal(decide("allow with-interface none-of { 03:*:* }\n", &b, NULL), 0);
	/* equals-ordered */
	assert_int_equal(
	    decide("allow with-interface equals-ordered { 08:06:50 03:01:01 }\n", &b, NULL), 1);
	assert_int_equal(
	    decide("allow with-interface equals-ordered { 03:01:01 08:06:50 }\n", &b, NULL), 0);
	/* match-all: every device interface is listed */
	assert_int_equal(
	    decide("allow with-interface match-all { 08:*:* 03:*:* 02:*:* }\n", &b, NULL), 1);
	assert_int_equal(decide("allow with-interface match-all { 08:*:* }\n", &b, NULL), 0);
	/* string sets */
	assert_int_equal(
	    decide("allow serial one-of { \"x\" \"4C530001140516116522\" }\n", &s, NULL), 1);
	assert_int_equal(
	    decide("allow serial none-of { \"x\" \"4C530001140516116522\" }\n", &s, NULL), 0);
	assert_int_equal(
	    decide("allow name \" SanDisk 3.2Gen1\" with-connect-type \"hotplug\"\n", &s, NULL), 1);
	assert_int_equal(decide("allow with-connect-type \"hardwired\"\n", &s, NULL), 0);
	assert_int_equal(decide("allow via-port one-of { \"1-1\" \"1-2\" }\n", &s, NULL), 1);
	assert_int_equal(
	    decide("allow parent-hash \"lceG1KIkEX7lSwXRAZqQ1rJVcnnTM3xaE1A+wbEtZ4k=\"\n", &s,
		   NULL),
	    1);
	/* id forms */
	assert_int_equal(decide("allow id *:*\n", &s, NULL), 1);
	assert_int_equal(decide("allow id 0781:*\n", &s, NULL), 1);
	assert_int_equal(decide("allow id 0782:*\n", &s, NULL), 0);
	assert_int_equal(decide("allow id one-of { 1234:5678 0781:5581 }\n", &s, NULL), 1);
	assert_int_equal(decide("allow id none-of { 0781:5581 }\n", &s, NULL), 0);
	assert_int_equal(decide("allow 0781:5581 serial \"4C530001140516116522\"\n", &s, NULL), 1);
	/* label never affects matching */
	assert_int_equal(decide("allow label \"anything\"\n", &s, NULL), 1);
}

static void test_escaped_strings_match_device_bytes(void **state)
{
	struct usbdev d = stick();

	(void)state;
	strcpy(d.product, "Q\"B\\s Caf\xc3\xa9 \ttab");
	assert_int_equal(decide("allow name \"Q\\\"B\\\\s Caf\\xc3\\xa9 \\x09tab\"\n", &d, NULL),
			 1);
	assert_int_equal(decide("allow name \"Q\\\"B\\\\s Caf\\xc3\\xa9 \\ttab\"\n", &d, NULL), 1);
	assert_int_equal(decide("allow name \"Q\\\"B\\\\s Cafe \\x09tab\"\n", &d, NULL), 0);
}

static void test_authorize_interfaces_mask(void **state)
{
	struct usbdev b = badusb();
	struct rules *r;
	struct rules_decision dec;

	(void)state;
	r = parse_ok("allow id 0781:5581 with-interface all-of { 03:*:* 08:*:* } "
		     "authorize-interfaces { 03:*:* }\n");
	rules_decide(r, &b, &dec);
	assert_int_equal(dec.target, RULES_ALLOW);
	assert_int_equal(dec.iface_allow, 0x2); /* ifaces[1] is the keyboard */
	rules_free(&r);
	r = parse_ok("allow authorize-interfaces 08:06:50\n");
	rules_decide(r, &b, &dec);
	assert_int_equal(dec.iface_allow, 0x1);
	rules_free(&r);
	/* a plain allow authorises every interface */
	r = parse_ok("allow\n");
	rules_decide(r, &b, &dec);
	assert_int_equal(dec.iface_allow, 0x3);
	rules_free(&r);
	/* block and reject authorise none */
	r = parse_ok("reject\n");
	rules_decide(r, &b, &dec);
	assert_int_equal(dec.iface_allow, 0);
	rules_free(&r);
}

static void test_format_device_like_generate_policy(void **state)
{
	struct usbdev b = badusb(), k = stick();
	char line[1024];
	struct rules *r;
	struct rules_decision dec;

	(void)state;
	assert_true(rules_format_device(&b, RULES_ALLOW, line, sizeof(line)) > 0);
	assert_string_equal(line,
			    "allow id 0781:5581 serial \"4C530001140516116522\" name \" SanDisk "
			    "3.2Gen1\" hash \"f/W7DFytBb8T4zlxFaqjn0LdkjJhtYoMCYDOvZoM0Yg=\" "
			    "parent-hash \"lceG1KIkEX7lSwXRAZqQ1rJVcnnTM3xaE1A+wbEtZ4k=\" "
			    "with-interface { 08:06:50 03:01:01 } with-connect-type \"hotplug\"");
	k.serial[0] = '\0';
	strcpy(k.product, "a\"b\\c\x01\xff");
	assert_true(rules_format_device(&k, RULES_BLOCK, line, sizeof(line)) > 0);
	assert_non_null(
	    strstr(line, "block id 0781:5581 serial \"\" name \"a\\\"b\\\\c\\x01\\xff\""));
	assert_non_null(strstr(line, " via-port \"1-2\" with-interface 08:06:50 "));
	/* the line parses and selects the device */
	r = parse_ok(line);
	rules_decide(r, &k, &dec);
	assert_true(dec.matched);
	assert_int_equal(dec.target, RULES_BLOCK);
	assert_string_equal(dec.text, line);
	rules_free(&r);
	assert_int_equal(rules_format_device(&b, RULES_ALLOW, line, 40), -ENOSPC);
	assert_int_equal(strlen(line), 39);
}

/* Corpus: good/ files parse; each bad/ file fails with its "# expect: LINE: TEXT". */
static void test_rule_corpus(void **state)
{
	const char *kinds[] = {"good", "bad"};
	int files = 0;

	(void)state;
	for (int k = 0; k < 2; k++) {
		char dir[1024];
		DIR *d;
		struct dirent *e;

		snprintf(dir, sizeof(dir), "%s/%s", PCL_RULES_DIR, kinds[k]);
		d = opendir(dir);
		assert_non_null(d);
		while ((e = readdir(d)) != NULL) {
			char path[2048], first[512] = "", want[2700];
			struct rules *r = NULL;
			struct pcl_diag diags[8];
			size_t nd = 0;
			int rc;
			FILE *f;

			if (strstr(e->d_name, ".rules") == NULL)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			rc = rules_load_file(path, &r, diags, 8, &nd);
			files++;
			if (k == 0) {
				if (rc != 0)
					fail_msg("%s:%u: %s", diags[0].file, diags[0].line,
						 diags[0].msg);
				rules_free(&r);
				continue;
			}
			assert_int_equal(rc, -EINVAL);
			assert_null(r);
			assert_int_equal(nd, 1);
			f = fopen(path, "r");
			assert_non_null(f);
			assert_non_null(fgets(first, sizeof(first), f));
			fclose(f);
			first[strcspn(first, "\n")] = '\0';
			assert_int_equal(strncmp(first, "# expect: ", 10), 0);
			pcl_diag_format(&diags[0], want, sizeof(want));
			{
				char expect[2700];

				snprintf(expect, sizeof(expect), "%s:%s", path, first + 10);
				if (strncmp(want, expect, strlen(expect)) != 0)
					fail_msg("%s\n  got:  %s\n  want: %s...", e->d_name, want,
						 expect);
			}
		}
		closedir(d);
	}
	assert_true(files >= 20);
}

static void test_counts_every_error_and_caps_diags(void **state)
{
	const char *text = "allow foo\nallow bar\nallow baz\nallow id 1234:5678\n";
	struct rules *r = (struct rules *)1;
	struct pcl_diag d[2];
	size_t nd = 0;

	(void)state;
	assert_int_equal(rules_parse_buffer("x.rules", text, strlen(text), &r, d, 2, &nd), -EINVAL);
	assert_null(r);
	assert_int_equal(nd, 3);
	assert_int_equal(d[0].line, 1);
	assert_int_equal(d[1].line, 2);
	assert_string_equal(d[1].msg, "unknown attribute 'bar'");
	assert_int_equal(rules_load_file("/nonexistent/rules", &r, d, 2, &nd), -ENOENT);
	assert_int_equal(nd, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_rule_blocks),
	    cmocka_unit_test(test_first_match_wins_across_buckets),
	    cmocka_unit_test(test_large_set_keeps_file_order),
	    cmocka_unit_test(test_set_operators_follow_usbguard),
	    cmocka_unit_test(test_escaped_strings_match_device_bytes),
	    cmocka_unit_test(test_authorize_interfaces_mask),
	    cmocka_unit_test(test_format_device_like_generate_policy),
	    cmocka_unit_test(test_rule_corpus),
	    cmocka_unit_test(test_counts_every_error_and_caps_diags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
