/*
 * notice.c - plain-English notices about devices (see notice.h).
 * Linked by the portcullis CLI (status, notify). Input records come from portcullisd over
 * its control socket; their device strings are the device's own words, so untrusted:
 * they are cut to printable ASCII before they reach a terminal or a notification.
 */
#include "notice.h"

#include <stdio.h>
#include <string.h>

#include "client.h"

void notice_clean(const char *s, char *buf, size_t len)
{
	size_t k = 0;

	if (len == 0)
		return;
	while (s != NULL && *s == ' ')
		s++;
	for (size_t i = 0; s != NULL && s[i] != '\0' && k + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	while (k > 0 && buf[k - 1] == ' ')
		k--;
	buf[k] = '\0';
}

/* Interface classes of the device ("08:06:50" strings): any storage? only hubs? */
static void classes(struct json_object *rec, bool *storage, bool *hub_only, bool *any)
{
	struct json_object *ifs;

	*storage = false;
	*hub_only = true;
	*any = false;
	if (!json_object_object_get_ex(rec, "usb.interfaces", &ifs) ||
	    !json_object_is_type(ifs, json_type_array)) {
		*hub_only = false;
		return;
	}
	for (size_t i = 0; i < json_object_array_length(ifs); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(ifs, i));
		if (s == NULL)
			continue;
		*any = true;
		if (strncmp(s, "08:", 3) == 0 || strncmp(s, "06:", 3) == 0)
			*storage = true;
		if (strncmp(s, "09:", 3) != 0)
			*hub_only = false;
	}
	if (!*any)
		*hub_only = false;
}

static void name_device(struct json_object *rec, bool medium, struct notice *n)
{
	const char *prod = client_field(rec, "volume.product_name");
	const char *vend = client_field(rec, "volume.vendor_name");
	char p[64], v[64], port[32];

	notice_clean(prod, p, sizeof(p));
	notice_clean(vend, v, sizeof(v));
	notice_clean(client_field(rec, "volume.device_name"), port, sizeof(port));
	if (*p && *v && strncmp(p, v, strlen(v)) != 0 && strlen(p) + strlen(v) < 60)
		snprintf(n->device, sizeof(n->device), "%s %s", v, p);
	else if (*p)
		snprintf(n->device, sizeof(n->device), "%s", p);
	else if (*v)
		snprintf(n->device, sizeof(n->device), "%s device", v);
	else
		snprintf(n->device, sizeof(n->device), "%s",
			 medium ? "a memory card or disc" : "a USB device");
	if (medium)
		snprintf(n->port, sizeof(n->port), "card reader or disc drive %s", port);
	else
		snprintf(n->port, sizeof(n->port), "USB socket %s", port);
}

/* Why a device is kept off, from the deciding rule and the event's reason. */
static const char *why_blocked(const char *rule, const char *reason)
{
	if (strstr(reason, "behind the daemon's back"))
		return "someone tried to switch it on without approval, so it was switched off "
		       "again.";
	if (strncmp(rule, "approved as council data", 24) == 0)
		return "it is approved as carrying council data and stays off until you accept "
		       "that it will be wiped after the import (portcullis media accept).";
	if (strncmp(rule, "removable-media", 15) == 0)
		return "memory cards and CDs or DVDs cannot be used on this computer without "
		       "approval.";
	if (strcmp(rule, "unreadable-identity") == 0)
		return "it could not be identified safely, so it was kept switched off.";
	if (strncmp(rule, "present-devices", 15) == 0)
		return "it was already plugged in when protection started, and stays off until "
		       "it is checked.";
	if (strcmp(rule, "no-match") == 0 || *rule == '\0')
		return "it is not on the council's list of approved devices.";
	return "the council's rules do not allow this device on this computer.";
}

static void ask(const struct notice *n, const char *what, char *buf, size_t len)
{
	if (*n->code)
		snprintf(buf, len, "%s, and quote this request code: %s", what, n->code);
	else
		snprintf(buf, len, "%s.", what);
}

/* What a record (event) or a device's state (not event) is to tell: NOTICE_NONE for
 * nothing. */
static enum notice_kind kind_of(struct json_object *rec, bool event)
{
	const char *action = client_field(rec, "event.action");
	const char *state = client_field(rec, "portcullis.state");

	if (event)
		return strcmp(action, "device-blocked") == 0		 ? NOTICE_BLOCKED
		       : strcmp(action, "device-rejected") == 0		 ? NOTICE_REJECTED
		       : strcmp(action, "interface-blocked") == 0	 ? NOTICE_PART_BLOCKED
		       : strcmp(action, "malware-blocked") == 0		 ? NOTICE_MALWARE
		       : strcmp(action, "xfer-fail-closed") == 0	 ? NOTICE_STOPPED
		       : strcmp(action, "xfer-watch-started") == 0	 ? NOTICE_LOGGED
		       : strcmp(action, "exception-awaiting-owner") == 0 ? NOTICE_ACCEPT
		       : strcmp(action, "wipe-owed-found") == 0		 ? NOTICE_OWED
		       : strcmp(action, "wipe-requested") == 0 && *client_field(rec, "event.reason")
			   ? NOTICE_WIPING
		       : strcmp(action, "device-read-only") == 0 &&
			       strcmp(client_field(rec, "event.outcome"), "success") == 0
			   ? NOTICE_PLAIN_STICK
			   : NOTICE_NONE;
	return strcmp(state, "allowed") == 0	? NOTICE_ALLOWED
	       : strcmp(state, "blocked") == 0	? NOTICE_BLOCKED
	       : strcmp(state, "rejected") == 0 ? NOTICE_REJECTED
						: NOTICE_NONE;
}

/* The fixed words of every notice, one row a kind: the summary around the device's name;
 * why (NULL: the record says, words_of_record); what to do around the approver's name
 * (todo[1] NULL: no name in it; todo[0] NULL: the record says), and whether that is a
 * request to someone, which quotes the request code. */
struct words {
	const char *summary[2];
	const char *why;
	const char *todo[2];
	bool ask;
};

static const struct words words[] = {
    [NOTICE_ALLOWED] = {{"", " can be used"}, NULL, {NULL, NULL}, false},
    [NOTICE_BLOCKED] = {{"", " was blocked"}, NULL, {"ask ", " to approve it"}, true},
    [NOTICE_REJECTED] = {{"", " was disconnected"},
			 "the council's rules never allow this kind of device on this computer.",
			 {"please unplug it. If you need it for council work, speak to ", ""},
			 true},
    [NOTICE_PART_BLOCKED] = {{"Part of ", " was switched off"},
			     "it also offers a function the council has not approved, so that "
			     "part is kept off. The rest of it works as approved.",
			     {"nothing, if it works as you need. Otherwise ask ", ""},
			     true},
    [NOTICE_MALWARE] = {{"A file on ", " was refused"},
			NULL,
			{"do not try to open it elsewhere. Tell ",
			 ", who will ask the IT provider to look at it."},
			false},
    [NOTICE_STOPPED] = {{"", " was made read-only"},
			"more files were copied at once than could be recorded, so the device "
			"was stopped to keep the record complete.",
			{"save your work elsewhere and tell ", "."},
			false},
    [NOTICE_LOGGED] = {{"Copies to and from ", " are recorded"},
		       NULL,
		       {"nothing. The council's privacy notice explains more, and how to ask "
			"for a copy of what is recorded about you.",
			NULL},
		       false},
    [NOTICE_WIPING] = {{"", " is being wiped"},
		       "the council's rules say what was copied to it is deleted once the "
		       "transfer is over: everything on it is erased.",
		       {"leave it plugged in until the wipe has finished.", NULL},
		       false},
    [NOTICE_PLAIN_STICK] = {{"", " is read-only"},
			    "the council's own memory sticks must be encrypted, and this one is "
			    "not, so nothing can be saved to it.",
			    {"copy what you need from it. To save to it again, ask the IT "
			     "provider to make it an encrypted council stick.",
			     NULL},
			    false},
    [NOTICE_ACCEPT] = {{"", " carries council data"}, NULL, {NULL, NULL}, false},
    [NOTICE_OWED] = {{"", " will be wiped"},
		     "it was written on a council computer and taken out: the council's rules "
		     "say it is wiped when it comes back.",
		     {"copy its files off it now if you need them (it is read-only): everything "
		      "on it will be erased when you eject it.",
		      NULL},
		     false},
};

/* The row of n->kind, in n: the summary, and why and what to do where they are fixed. */
static void words_fixed(const char *approver, struct notice *n)
{
	const struct words *w = &words[n->kind];
	char what[160];

	snprintf(n->summary, sizeof(n->summary), "%s%s%s", w->summary[0], n->device, w->summary[1]);
	if (w->why != NULL)
		snprintf(n->why, sizeof(n->why), "%s", w->why);
	if (w->todo[0] == NULL)
		return;
	if (w->ask) {
		snprintf(what, sizeof(what), "%s%s%s", w->todo[0], approver, w->todo[1]);
		ask(n, what, n->todo, sizeof(n->todo));
	} else {
		snprintf(n->todo, sizeof(n->todo), "%s%s%s", w->todo[0],
			 w->todo[1] != NULL ? approver : "", w->todo[1] != NULL ? w->todo[1] : "");
	}
}

/* What to do with a stick once its copies are recorded, from its wipe plan (wipe.plan,
 * set by the daemon); NULL: the table's words. */
static const char *todo_of_plan(const char *plan)
{
	if (strcmp(plan, "owed") == 0)
		return "bring it back to a council computer once its files have arrived: it "
		       "must be wiped there, and everything on it will be erased. It is not "
		       "wiped when you eject it here.";
	if (strcmp(plan, "at-eject") == 0)
		return "keep your own copies elsewhere: everything on it will be erased when you "
		       "eject it.";
	if (strcmp(plan, "none") == 0)
		return "nothing. It will not be wiped. The council's privacy notice explains "
		       "what is recorded about you.";
	return NULL;
}

/* The words the record decides: why a device is off, which file was refused, how long
 * copies are kept and what happens to the stick, the port to accept. */
static void words_of_record(struct json_object *rec, const struct notice_ctx *ctx,
			    const char *approver, struct notice *n)
{
	switch (n->kind) {
	case NOTICE_ALLOWED:
		snprintf(n->why, sizeof(n->why), "it is approved by the council.%s",
			 n->storage ? " Files copied to or from it are recorded." : "");
		break;
	case NOTICE_BLOCKED:
		snprintf(
		    n->why, sizeof(n->why), "%s",
		    why_blocked(client_field(rec, "rule.id"), client_field(rec, "event.reason")));
		if (ctx && ctx->no_exceptions && n->storage)
			snprintf(n->todo, sizeof(n->todo),
				 "please unplug it: the council does not allow personal storage "
				 "devices on its computers. To share a file, ask %s.",
				 approver);
		break;
	case NOTICE_MALWARE:
		notice_clean(client_field(rec, "file.path"), n->file, sizeof(n->file));
		snprintf(n->why, sizeof(n->why),
			 "the virus check found harmful software in \"%s\", so it cannot be "
			 "opened.",
			 *n->file ? n->file : "a file");
		break;
	case NOTICE_LOGGED: {
		if (ctx && ctx->retention_months > 0)
			snprintf(n->why, sizeof(n->why),
				 "this computer records who copies which file to or from it, and "
				 "when. The record is kept for %u month%s, then deleted.",
				 ctx->retention_months, ctx->retention_months == 1 ? "" : "s");
		else
			snprintf(n->why, sizeof(n->why),
				 "this computer records who copies which file to or from it, and "
				 "when, for the period the council has set.");
		const char *plan = todo_of_plan(client_field(rec, "wipe.plan"));
		if (plan != NULL)
			snprintf(n->todo, sizeof(n->todo), "%s", plan);
		break;
	}
	case NOTICE_ACCEPT: {
		char port[24];
		notice_clean(client_field(rec, "usb.port"), port, sizeof(port));
		snprintf(n->why, sizeof(n->why),
			 "%s approved it as carrying council data: once its files are copied "
			 "here, everything on it will be erased when you eject it.",
			 approver);
		snprintf(n->todo, sizeof(n->todo),
			 "if you agree, run \"portcullis media accept %s\": until then it stays "
			 "switched off. If not, unplug it.",
			 *port ? port : "DEVICE");
		break;
	}
	default:
		break;
	}
}

enum notice_kind notice_from_record(struct json_object *rec, bool event,
				    const struct notice_ctx *ctx, struct notice *n)
{
	const char *approver =
	    ctx && ctx->approver && *ctx->approver ? ctx->approver : NOTICE_DEFAULT_APPROVER;
	const char *bus = client_field(rec, "volume.bus_type");
	bool medium = *bus && strcmp(bus, "usb") != 0;
	bool hub_only, any;

	memset(n, 0, sizeof(*n));
	n->kind = kind_of(rec, event);
	classes(rec, &n->storage, &hub_only, &any);
	if (hub_only && n->kind == NOTICE_ALLOWED)
		n->kind = NOTICE_NONE; /* hubs only carry other devices */
	if (n->kind == NOTICE_NONE)
		return n->kind;
	if (medium)
		n->storage = true;
	name_device(rec, medium, n);
	if (*client_field(rec, "usb.port")) { /* file events name the block device */
		char port[32];
		notice_clean(client_field(rec, "usb.port"), port, sizeof(port));
		snprintf(n->port, sizeof(n->port), "USB socket %s", port);
	}
	if (pcl_request_code(client_field(rec, "usb.hash"), n->code) != 0)
		n->code[0] = '\0';
	if ((size_t)n->kind < sizeof(words) / sizeof(words[0]) && words[n->kind].summary[1]) {
		words_fixed(approver, n);
		words_of_record(rec, ctx, approver, n);
	}
	return n->kind;
}

static size_t put(char *buf, size_t len, size_t k, const char *s, bool markup)
{
	for (; *s != '\0'; s++) {
		const char *rep = NULL;
		char one[2] = {*s, '\0'};
		if (markup && *s == '&')
			rep = "&amp;";
		else if (markup && *s == '<')
			rep = "&lt;";
		else if (markup && *s == '>')
			rep = "&gt;";
		else
			rep = one;
		size_t m = strlen(rep);
		if (k + m >= len)
			break;
		memcpy(buf + k, rep, m);
		k += m;
	}
	if (len > 0)
		buf[k < len ? k : len - 1] = '\0';
	return k;
}

size_t notice_body(const struct notice *n, bool markup, char *buf, size_t len)
{
	size_t k = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	k = put(buf, len, k, "Why: ", markup);
	k = put(buf, len, k, n->why, markup);
	if (*n->todo) {
		k = put(buf, len, k, "\nWhat to do: ", markup);
		k = put(buf, len, k, n->todo, markup);
	}
	return k;
}

void notice_records_sentence(const struct notice_ctx *ctx, char *buf, size_t len)
{
	char kept[96];

	if (ctx && ctx->retention_months > 0)
		snprintf(kept, sizeof(kept), "kept for %u month%s, then deleted",
			 ctx->retention_months, ctx->retention_months == 1 ? "" : "s");
	else
		snprintf(kept, sizeof(kept),
			 "kept for the period the council has set, then "
			 "deleted");
	snprintf(buf, len,
		 "When you copy files to or from an approved memory stick or other storage "
		 "device, this computer records who copied which file and when. The record is "
		 "%s. The council's privacy notice explains more, and how to ask for a copy of "
		 "what is recorded about you.",
		 kept);
}
