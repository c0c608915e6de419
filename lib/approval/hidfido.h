/*
 * hidfido.h - tell a FIDO token's HID interface from a keyboard (or anything else) by
 * its HID report descriptor: a FIDO interface has exactly one top-level Application
 * collection, on usage page 0xF1D0 (FIDO Alliance), usage 0x01 (CTAPHID).
 * Part of pcl_approval, but called today only by its unit test and fuzzer: no process
 * reads report descriptors yet (nothing in daemon/ or tools/ calls appr_hid_*). The
 * descriptor is written by the device: untrusted.
 * Reading it needs a control transfer on the device's default pipe (GET_DESCRIPTOR,
 * report, before any driver binds); that is behind struct appr_hid_source so that the
 * decision is tested here and the transfer (libusb, on real hardware) plugs in.
 */
#ifndef PCL_APPROVAL_HIDFIDO_H
#define PCL_APPROVAL_HIDFIDO_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define APPR_HID_DESC_MAX 4096

enum appr_hid_kind {
	APPR_HID_FIDO_ONLY = 1, /* the one application collection is CTAPHID */
	APPR_HID_NOT_FIDO = 2,	/* no CTAPHID collection */
	APPR_HID_MIXED = 3,	/* CTAPHID and something else (a keyboard, a mouse...) */
};

struct appr_hid_summary {
	int kind;	      /* enum appr_hid_kind */
	unsigned n_apps;      /* top-level application collections */
	uint32_t first_other; /* usage page << 16 | usage of the first non-FIDO one */
};

/* Parse a report descriptor; 0 with *out filled, or -EINVAL with diag naming the byte
 * offset (unbalanced collections, truncated items, more than 32 nested collections...). */
int appr_hid_parse(const uint8_t *desc, size_t len, struct appr_hid_summary *out,
		   struct pcl_diag *diag);

/* Where report descriptors come from: a USB control transfer on hardware, a fixture in
 * tests. read() returns the descriptor's length or a negative errno. */
struct appr_hid_source {
	int (*read)(void *ctx, const char *port, uint8_t iface, uint8_t *buf, size_t cap);
	void *ctx;
};

/* Is interface iface of the device at port a FIDO token's and nothing else? 1 yes, 0 no,
 * negative errno when the descriptor cannot be read or parsed (callers fail closed). */
int appr_hid_is_fido(const struct appr_hid_source *src, const char *port, uint8_t iface,
		     struct pcl_diag *diag);

#endif
