/*
 * decode.c - decoder of fanotify event buffers read from a fanotify group.
 * Linked by the process that reads fanotify (portcullis-xferwatch). The bytes
 * come from the kernel but are treated as untrusted: every length is checked
 * against the buffer before use, fields are copied out with memcpy (no
 * alignment assumptions), and a malformed event stops decoding with a
 * diagnostic naming the event number and field.
 */
#include <errno.h>
#include <string.h>
#include <linux/fanotify.h>

#include "diag.h"
#include "xfer.h"

#define META_LEN 24u /* struct fanotify_event_metadata */
#define INFO_HDR 4u  /* struct fanotify_event_info_header */
#define FID_MIN	 20u /* header + fsid + handle_bytes + handle_type */

void xfer_decoder_init(struct xfer_decoder *d, const void *buf, size_t len)
{
	d->buf = buf;
	d->len = len;
	d->off = 0;
	d->index = 0;
}

static uint32_t rd32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t rd16(const unsigned char *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static int bad(struct xfer_decoder *d, struct pcl_diag *diag, const char *field, const char *what)
{
	pcl_diag_set(diag, "<fanotify>", 0, "event %u at offset %zu: %s: %s", d->index, d->off,
		     field, what);
	d->off = d->len; /* stop */
	return -EBADMSG;
}

static int decode_fid(struct xfer_decoder *d, struct xfer_event *ev, const unsigned char *p,
		      size_t len, uint8_t type, struct pcl_diag *diag)
{
	if (len < FID_MIN)
		return bad(d, diag, "info_fid.len", "shorter than a file id record");
	if (ev->nfid >= XFER_MAX_FIDS)
		return bad(d, diag, "info_fid", "too many file id records");
	struct xfer_fid *f = &ev->fid[ev->nfid];
	memset(f, 0, sizeof(*f));
	f->info_type = type;
	memcpy(&f->fsid[0], p + 4, 4);
	memcpy(&f->fsid[1], p + 8, 4);
	f->handle_bytes = rd32(p + 12);
	memcpy(&f->handle_type, p + 16, 4);
	size_t room = len - FID_MIN;
	if (f->handle_bytes > room)
		return bad(d, diag, "file_handle.handle_bytes", "exceeds the info record");
	f->handle = p + FID_MIN;
	bool named = type == FAN_EVENT_INFO_TYPE_DFID_NAME ||
		     type == FAN_EVENT_INFO_TYPE_OLD_DFID_NAME ||
		     type == FAN_EVENT_INFO_TYPE_NEW_DFID_NAME;
	if (named) {
		const char *name = (const char *)(p + FID_MIN + f->handle_bytes);
		size_t nroom = room - f->handle_bytes;
		const char *nul = memchr(name, '\0', nroom);
		if (nul == NULL)
			return bad(d, diag, "info_fid.name", "not NUL-terminated in the record");
		f->name = name;
		f->name_len = (size_t)(nul - name);
	}
	ev->nfid++;
	return 0;
}

static int decode_info(struct xfer_decoder *d, struct xfer_event *ev, const unsigned char *p,
		       size_t len, struct pcl_diag *diag)
{
	while (len > 0) {
		if (len < INFO_HDR)
			return bad(d, diag, "info_header", "truncated");
		uint8_t type = p[0];
		uint16_t ilen = rd16(p + 2);
		if (ilen < INFO_HDR)
			return bad(d, diag, "info_header.len", "smaller than its header");
		if (ilen > len)
			return bad(d, diag, "info_header.len", "exceeds event_len");
		int rc = 0;
		switch (type) {
		case FAN_EVENT_INFO_TYPE_FID:
		case FAN_EVENT_INFO_TYPE_DFID:
		case FAN_EVENT_INFO_TYPE_DFID_NAME:
		case FAN_EVENT_INFO_TYPE_OLD_DFID_NAME:
		case FAN_EVENT_INFO_TYPE_NEW_DFID_NAME:
			rc = decode_fid(d, ev, p, ilen, type, diag);
			break;
		case FAN_EVENT_INFO_TYPE_PIDFD:
			if (ilen < 8)
				return bad(d, diag, "info_pidfd.len", "too short");
			ev->has_pidfd = true;
			memcpy(&ev->pidfd, p + 4, 4);
			break;
		case FAN_EVENT_INFO_TYPE_ERROR:
			if (ilen < 12)
				return bad(d, diag, "info_error.len", "too short");
			ev->has_error = true;
			memcpy(&ev->error, p + 4, 4);
			ev->error_count = rd32(p + 8);
			break;
		default: /* newer record types are skipped by their length */
			break;
		}
		if (rc < 0)
			return rc;
		p += ilen;
		len -= ilen;
	}
	return 0;
}

int xfer_decoder_next(struct xfer_decoder *d, struct xfer_event *ev, struct pcl_diag *diag)
{
	memset(ev, 0, sizeof(*ev));
	ev->fd = -1;
	ev->pidfd = -1;
	if (d->off >= d->len)
		return 0;
	d->index++;
	size_t left = d->len - d->off;
	const unsigned char *p = d->buf + d->off;
	if (left < META_LEN)
		return bad(d, diag, "metadata", "truncated event header");
	uint32_t event_len = rd32(p);
	uint8_t vers = p[4];
	uint16_t meta_len = rd16(p + 6);
	if (vers != FANOTIFY_METADATA_VERSION)
		return bad(d, diag, "metadata.vers", "unsupported fanotify metadata version");
	if (meta_len < META_LEN)
		return bad(d, diag, "metadata.metadata_len", "smaller than the event header");
	if (event_len < meta_len)
		return bad(d, diag, "metadata.event_len", "smaller than metadata_len");
	if (event_len > left)
		return bad(d, diag, "metadata.event_len", "exceeds the buffer");
	memcpy(&ev->mask, p + 8, 8);
	memcpy(&ev->fd, p + 16, 4);
	memcpy(&ev->pid, p + 20, 4);
	int rc = decode_info(d, ev, p + meta_len, event_len - meta_len, diag);
	if (rc < 0)
		return rc;
	d->off += event_len;
	return 1;
}
