/*
 * cert.c - the certificate of sanitisation (NIST SP 800-88 Rev. 1, appendix G fields):
 * canonical JSON for signing and the audit trail, and printable text and HTML forms for
 * the Clerk. Linked by the CLI and the daemon parent. Inputs are our own wipe result and
 * sysfs identity strings (device-supplied: escaped in JSON and HTML).
 */
#include "wipe.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static void iso8601(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "invalid");
}

static json_object *str(const char *s)
{
	return json_object_new_string(s);
}

/* Keys are added in sorted order: json-c keeps insertion order, so output is canonical. */
/* SP 800-88 method type and what was read back; a plain overwrite leaves both empty. */
static const char *method_type(const struct wipe_cert *c)
{
	return c->method_type[0] ? c->method_type : "Clear";
}

static const char *verification(const struct wipe_cert *c)
{
	return c->verification[0] ? c->verification : "full read-back of every byte";
}

static json_object *cert_object(const struct wipe_cert *c)
{
	json_object *o = json_object_new_object(), *m = json_object_new_object();
	char start[32], end[32];

	if (o == NULL || m == NULL) {
		json_object_put(o);
		json_object_put(m);
		return NULL;
	}
	iso8601(c->start, start, sizeof(start));
	iso8601(c->end, end, sizeof(end));
	json_object_object_add(m, "capacity_bytes", json_object_new_int64((int64_t)c->media.size));
	json_object_object_add(m, "manufacturer", str(c->media.vendor));
	json_object_object_add(m, "media_type", str(WIPE_MEDIA_TYPE));
	json_object_object_add(m, "model", str(c->media.model));
	json_object_object_add(m, "serial", str(c->media.serial));
	json_object_object_add(m, "usb_hash", str(c->usb_hash));
	json_object_object_add(m, "usb_path", str(c->media.usb_path));
	json_object_object_add(m, "usb_pid", str(c->media.usb_pid));
	json_object_object_add(m, "usb_serial", str(c->media.usb_serial));
	json_object_object_add(m, "usb_vid", str(c->media.usb_vid));

	json_object_object_add(o, "approval", str(c->approval));
	json_object_object_add(o, "block_size", json_object_new_int64(c->block));
	json_object_object_add(o, "completed", str(end));
	json_object_object_add(o, "device", str(c->device));
	json_object_object_add(o, "discarded", json_object_new_boolean(c->discarded));
	json_object_object_add(o, "filesystem", str(c->filesystem));
	json_object_object_add(
	    o, "first_bad_block",
	    c->status == WIPE_OK ? NULL : json_object_new_int64((int64_t)c->first_bad_block));
	json_object_object_add(o, "host", str(c->host));
	json_object_object_add(o, "media", m);
	json_object_object_add(o, "method", str(c->method));
	json_object_object_add(o, "method_type", str(method_type(c)));
	json_object_object_add(o, "operator", str(c->operator_name));
	json_object_object_add(o, "passes", json_object_new_int64(c->passes));
	json_object_object_add(o, "reason", str(c->reason));
	json_object_object_add(o, "result", str(c->status == WIPE_OK ? "verified" : "failed"));
	json_object_object_add(o, "started", str(start));
	json_object_object_add(o, "status", str(wipe_status_name(c->status)));
	json_object_object_add(o, "tool", str(c->tool));
	json_object_object_add(o, "type", str("portcullis-wipe-certificate"));
	json_object_object_add(o, "verification", str(verification(c)));
	json_object_object_add(o, "verified_bytes", json_object_new_int64((int64_t)c->verified));
	json_object_object_add(o, "version", json_object_new_int(1));
	return o;
}

int wipe_cert_canonical(const struct wipe_cert *c, char *buf, size_t len)
{
	json_object *o = cert_object(c);
	int n;

	if (o == NULL)
		return -ENOMEM;
	n = snprintf(buf, len, "%s", json_object_to_json_string_ext(o, JSON_FLAGS));
	json_object_put(o);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

int wipe_cert_signed_json(const struct wipe_cert *c, const struct wipe_signer *s, char *buf,
			  size_t len)
{
	char body[8192], sigjson[2048];
	uint8_t sig[1024]; /* an Ed25519 signature, or a whole signed checkpoint note */
	unsigned char b64[4 * (sizeof(sig) + 2) / 3 + 4];
	size_t siglen = sizeof(sig);
	int n = wipe_cert_canonical(c, body, sizeof(body)), r;

	if (n < 0)
		return n;
	if (s == NULL) {
		snprintf(sigjson, sizeof(sigjson), "null");
	} else {
		json_object *so;

		r = s->sign(s->ctx, (const uint8_t *)body, (size_t)n, sig, &siglen);
		if (r != 0)
			return r < 0 ? r : -EIO;
		EVP_EncodeBlock(b64, sig, (int)siglen);
		so = json_object_new_object();
		if (so == NULL)
			return -ENOMEM;
		json_object_object_add(so, "alg", str(s->alg));
		json_object_object_add(so, "key_id", str(s->key_id));
		json_object_object_add(so, "value", str((const char *)b64));
		snprintf(sigjson, sizeof(sigjson), "%s",
			 json_object_to_json_string_ext(so, JSON_FLAGS));
		json_object_put(so);
	}
	n = snprintf(buf, len, "{\"certificate\":%s,\"signature\":%s}\n", body, sigjson);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

struct out {
	char *buf;
	size_t len, pos;
	int html;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->pos >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	o->pos = n < 0 ? o->len : o->pos + (size_t)n;
}

/* One "label: value" row; value is escaped for HTML. */
static void row(struct out *o, const char *label, const char *value)
{
	if (!o->html) {
		put(o, "  %-28s %s\n", label, value);
		return;
	}
	put(o, "<tr><th>%s</th><td>", label);
	for (const char *p = value; *p; p++) {
		switch (*p) {
		case '<':
			put(o, "&lt;");
			break;
		case '>':
			put(o, "&gt;");
			break;
		case '&':
			put(o, "&amp;");
			break;
		case '"':
			put(o, "&quot;");
			break;
		case '\'':
			put(o, "&#39;");
			break;
		default:
			put(o, "%c", *p);
		}
	}
	put(o, "</td></tr>\n");
}

static void section(struct out *o, const char *title)
{
	if (o->html)
		put(o, "<tr><th colspan=\"2\" class=\"section\">%s</th></tr>\n", title);
	else
		put(o, "%s\n", title);
}

static int render(const struct wipe_cert *c, const char *sigline, struct out *o)
{
	char v[320], start[32], end[32];

	iso8601(c->start, start, sizeof(start));
	iso8601(c->end, end, sizeof(end));
	if (o->html)
		put(o, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Certificate of "
		       "sanitisation</title>\n<style>body{font-family:sans-serif}table{border-"
		       "collapse:collapse}th,td{border:1px solid #888;padding:4px 8px;text-align:"
		       "left}th.section{background:#ddd}</style></head><body>\n<h1>Certificate of "
		       "sanitisation</h1>\n<p>NIST SP 800-88 Rev. 1</p>\n<table>\n");
	else
		put(o, "CERTIFICATE OF SANITISATION (NIST SP 800-88 Rev. 1)\n\n");
	section(o, "Media");
	row(o, "Manufacturer", c->media.vendor);
	row(o, "Model", c->media.model);
	row(o, "Serial number", c->media.serial);
	snprintf(v, sizeof(v), "%" PRIu64 " bytes (%.2f GB)", c->media.size,
		 (double)c->media.size / 1e9);
	row(o, "Capacity", v);
	snprintf(v, sizeof(v), "%s:%s serial %s", c->media.usb_vid[0] ? c->media.usb_vid : "-",
		 c->media.usb_pid[0] ? c->media.usb_pid : "-",
		 c->media.usb_serial[0] ? c->media.usb_serial : "-");
	row(o, "USB identity", v);
	row(o, "USB device hash", c->usb_hash[0] ? c->usb_hash : "-");
	row(o, "Media type", WIPE_MEDIA_TYPE);
	section(o, "Sanitisation");
	row(o, "Method type", method_type(c));
	row(o, "Method", c->method);
	row(o, "Tool", c->tool);
	snprintf(v, sizeof(v), "%u", c->passes);
	row(o, "Passes", v);
	if (c->status == WIPE_OK && c->verification[0])
		snprintf(v, sizeof(v), "VERIFIED: %s; %" PRIu64 " bytes read back matched",
			 c->verification, c->verified);
	else if (c->status == WIPE_OK)
		snprintf(v, sizeof(v), "VERIFIED: full read-back of %" PRIu64 " bytes matched",
			 c->verified);
	else
		snprintf(v, sizeof(v), "FAILED (%s): %s", wipe_status_name(c->status), c->reason);
	row(o, "Verification", v);
	row(o, "Discard (TRIM)", c->discarded ? "done" : "not supported or not requested");
	row(o, "Filesystem afterwards", c->filesystem);
	row(o, "Started (UTC)", start);
	row(o, "Completed (UTC)", end);
	section(o, "Record");
	row(o, "Device node", c->device);
	row(o, "Host", c->host);
	row(o, "Operator", c->operator_name);
	row(o, "Approval", c->approval);
	row(o, "Signature", sigline ? sigline : "unsigned");
	if (o->html)
		put(o, "</table>\n</body></html>\n");
	return o->pos < o->len ? (int)o->pos : -ENOSPC;
}

int wipe_cert_text(const struct wipe_cert *c, const char *sigline, char *buf, size_t len)
{
	struct out o = {buf, len, 0, 0};

	return render(c, sigline, &o);
}

int wipe_cert_html(const struct wipe_cert *c, const char *sigline, char *buf, size_t len)
{
	struct out o = {buf, len, 0, 1};

	return render(c, sigline, &o);
}
