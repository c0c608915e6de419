/*
 * hidfido.c - HID report descriptor walk for the FIDO-token gate (see hidfido.h).
 * Called only by its unit test and fuzzer today (see hidfido.h); the bytes come from the
 * device: untrusted. Only the
 * items that matter are interpreted (Usage Page, Usage, Collection, End Collection,
 * Push/Pop); every item's length is checked before it is read.
 */
#include "hidfido.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define FIDO_PAGE    0xF1D0u
#define FIDO_CTAPHID 0x01u
#define MAX_DEPTH    32
#define MAX_STACK    8

int appr_hid_parse(const uint8_t *d, size_t len, struct appr_hid_summary *out,
		   struct pcl_diag *diag)
{
	uint32_t page = 0, usage = 0, stack[MAX_STACK];
	unsigned depth = 0, sp = 0, fido = 0, other = 0;
	bool have_usage = false;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > APPR_HID_DESC_MAX) {
		pcl_diag_set(diag, "<report descriptor>", 0, "length %zu is not 1 to %d bytes", len,
			     APPR_HID_DESC_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < len;) {
		uint8_t prefix = d[i];
		if (prefix == 0xFE) { /* long item: bDataSize, bLongItemTag, data */
			if (i + 3 > len || i + 3 + d[i + 1] > len) {
				pcl_diag_set(diag, "<report descriptor>", 0,
					     "byte %zu: truncated long item", i);
				return -EINVAL;
			}
			i += 3u + d[i + 1];
			continue;
		}
		size_t size = (prefix & 3) == 3 ? 4 : (prefix & 3);
		if (i + 1 + size > len) {
			pcl_diag_set(diag, "<report descriptor>", 0,
				     "byte %zu: item of %zu bytes "
				     "runs past the end",
				     i, size);
			return -EINVAL;
		}
		uint32_t v = 0;
		for (size_t k = 0; k < size; k++)
			v |= (uint32_t)d[i + 1 + k] << (8 * k);
		uint8_t type = (prefix >> 2) & 3, tag = prefix >> 4;
		if (type == 1 && tag == 0) { /* Usage Page */
			page = v & 0xFFFF;
		} else if (type == 1 && tag == 10) { /* Push */
			if (sp == MAX_STACK)
				goto deep;
			stack[sp++] = page;
		} else if (type == 1 && tag == 11) { /* Pop */
			if (sp == 0) {
				pcl_diag_set(diag, "<report descriptor>", 0,
					     "byte %zu: Pop without "
					     "Push",
					     i);
				return -EINVAL;
			}
			page = stack[--sp];
		} else if (type == 2 && tag == 0) { /* Usage (an extended one names its page) */
			if (!have_usage)
				usage = size == 4 ? v : (page << 16 | (v & 0xFFFF));
			have_usage = true;
		} else if (type == 0 && tag == 10) { /* Collection */
			if (depth == MAX_DEPTH)
				goto deep;
			if (depth == 0 && (v & 0xFF) == 0x01) { /* top-level Application */
				out->n_apps++;
				if (usage == (FIDO_PAGE << 16 | FIDO_CTAPHID))
					fido++;
				else if (other++ == 0)
					out->first_other = usage;
			}
			depth++;
		} else if (type == 0 && tag == 12) { /* End Collection */
			if (depth == 0) {
				pcl_diag_set(diag, "<report descriptor>", 0,
					     "byte %zu: End Collection without a Collection", i);
				return -EINVAL;
			}
			depth--;
		}
		if (type == 0) { /* every main item clears the local items */
			usage = 0;
			have_usage = false;
		}
		i += 1 + size;
	}
	if (depth != 0) {
		pcl_diag_set(diag, "<report descriptor>", 0, "%u collection(s) left open", depth);
		return -EINVAL;
	}
	out->kind = fido && !other ? APPR_HID_FIDO_ONLY : fido ? APPR_HID_MIXED : APPR_HID_NOT_FIDO;
	return 0;
deep:
	pcl_diag_set(diag, "<report descriptor>", 0, "nesting deeper than %d", MAX_DEPTH);
	return -EINVAL;
}

int appr_hid_is_fido(const struct appr_hid_source *src, const char *port, uint8_t iface,
		     struct pcl_diag *diag)
{
	uint8_t buf[APPR_HID_DESC_MAX];
	struct appr_hid_summary s;
	int n = src->read(src->ctx, port, iface, buf, sizeof(buf));

	if (n < 0) {
		pcl_diag_set(diag, port, 0, "interface %u: report descriptor unreadable", iface);
		return n;
	}
	int rc = appr_hid_parse(buf, (size_t)n, &s, diag);
	return rc != 0 ? rc : s.kind == APPR_HID_FIDO_ONLY;
}
