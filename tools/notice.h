/*
 * notice.h - what a councillor is told about a device, in plain English: the words of
 * `portcullis status` and of the desktop notifications of `portcullis notify`.
 * Linked by the portcullis CLI. Records come from portcullisd; their device fields
 * (names, serials) were written by the device itself and are untrusted: every string
 * shown is cut to printable ASCII.
 */
#ifndef PCL_TOOLS_NOTICE_H
#define PCL_TOOLS_NOTICE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "reqcode.h"

#define NOTICE_DEFAULT_APPROVER "the Clerk"

struct notice_ctx {
	const char *approver;	   /* who approves, e.g. "the Clerk", "the DSFM" */
	unsigned retention_months; /* how long transfer records are kept; 0: not known */
	bool no_exceptions;	   /* the council allows no exceptions (e.g. Hednesford 1.1.8) */
};

enum notice_kind {
	NOTICE_NONE,	     /* nothing to say (a hub, or an event of no interest) */
	NOTICE_ALLOWED,	     /* works */
	NOTICE_BLOCKED,	     /* kept switched off */
	NOTICE_REJECTED,     /* disconnected */
	NOTICE_PART_BLOCKED, /* works, but one of its functions is held back */
	NOTICE_MALWARE,	     /* a file on an approved medium was refused by the virus check */
	NOTICE_STOPPED,	     /* an approved medium was made read-only: copies not recordable */
	NOTICE_LOGGED,	     /* an approved medium is in use: copies to and from it are recorded */
	NOTICE_WIPING,	     /* an approved medium is being wiped without its owner asking */
	NOTICE_PLAIN_STICK,  /* a council stick that is not encrypted was let in read-only */
	NOTICE_ACCEPT, /* approved as council data: kept out until its owner accepts the wipe */
	NOTICE_OWED,   /* back from a take-out owing its wipe: read-only, wiped at eject */
};

struct notice {
	enum notice_kind kind;
	bool storage;			 /* a storage device: transfers to it are recorded */
	char device[128];		 /* "Kingston DataTraveler 3.0" */
	char port[64];			 /* "USB socket 1-2", "memory card slot mmcblk0" */
	char summary[160];		 /* one line: what happened */
	char why[240];			 /* "Why: ..." without the label */
	char todo[240];			 /* "What to do: ..." without the label; "" when nothing */
	char code[PCL_REQUEST_CODE_LEN]; /* request code, "" when the device has none */
	char file[80];			 /* NOTICE_MALWARE: the file refused */
};

/* What to say about a device, from a `devices` entry (event false: its state counts) or a
 * `watch` record (event true: only device-blocked, device-rejected, interface-blocked,
 * malware-blocked, xfer-fail-closed, exception-awaiting-owner, wipe-owed-found,
 * wipe-requested and
 * xfer-watch-started, the medium's first use, say
 * something). Returns n->kind. */
enum notice_kind notice_from_record(struct json_object *rec, bool event,
				    const struct notice_ctx *ctx, struct notice *n);

/* The notification body: "Why: ...\nWhat to do: ..."; with markup, & < > are escaped for
 * notification servers that read body markup. Returns the length written. */
size_t notice_body(const struct notice *n, bool markup, char *buf, size_t len);

/* The sentence about records of transfers and how long they are kept. */
void notice_records_sentence(const struct notice_ctx *ctx, char *buf, size_t len);

/* Copy at most len-1 bytes of s, replacing anything but printable ASCII with '?'. */
void notice_clean(const char *s, char *buf, size_t len);

#endif
