/*
 * bpfdecode.c - decoder of the records the transfer log's eBPF program
 * (bpf/xfer.bpf.c) writes into its ring buffer. Linked by portcullis-xferwatch.
 * The bytes come from the kernel but are treated as untrusted: the length of
 * every part is checked against the buffer, fields are copied out with memcpy,
 * the path must be NUL-terminated where its length says, and a malformed record
 * is refused with a diagnostic naming the field.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <linux/types.h>

#include "bpf/xfer_bpf_rec.h"
#include "diag.h"
#include "xfer.h"

_Static_assert(sizeof(struct xfer_bpf_rec) == 88, "record layout");
_Static_assert(XFER_BPF_OPEN == XFER_BPF_EV_OPEN && XFER_BPF_CLOSE == XFER_BPF_EV_CLOSE &&
		   XFER_BPF_EXIT == XFER_BPF_EV_EXIT && XFER_BPF_GONE == XFER_BPF_EV_GONE,
	       "record kinds");

uint32_t xfer_bpf_kdev(dev_t dev)
{
	return (uint32_t)((major(dev) << 20) | (minor(dev) & 0xfffffu));
}

static int bad(struct pcl_diag *diag, const char *field, const char *what)
{
	pcl_diag_set(diag, "<bpf ring buffer>", 0, "%s: %s", field, what);
	return -EBADMSG;
}

int xfer_bpf_decode(const void *buf, size_t len, struct xfer_bpf_event *ev, struct pcl_diag *diag)
{
	memset(ev, 0, sizeof(*ev));
	struct xfer_bpf_rec r;
	if (buf == NULL || len < sizeof(r))
		return bad(diag, "record", "shorter than a record header");
	memcpy(&r, buf, sizeof(r));
	if (r.kind != XFER_BPF_OPEN && r.kind != XFER_BPF_CLOSE && r.kind != XFER_BPF_EXIT &&
	    r.kind != XFER_BPF_GONE)
		return bad(diag, "kind", "neither open, close, exit nor gone");
	if (r.tgid == 0 || r.tgid > 0x3fffffffu || r.tid == 0 || r.tid > 0x3fffffffu)
		return bad(diag, "tgid", "not a process id");
	if (r.cookie == 0)
		return bad(diag, "cookie", "zero");
	size_t rest = len - sizeof(r);
	const char *tail = (const char *)buf + sizeof(r);
	if (r.kind != XFER_BPF_OPEN && r.path_len != 0)
		return bad(diag, "path_len", "only an open record carries a path");
	bool ended = r.kind == XFER_BPF_EXIT || r.kind == XFER_BPF_GONE;
	if (r.kind == XFER_BPF_OPEN || r.kind == XFER_BPF_EXIT) {
		if (rest < XFER_BPF_EXE_MAX)
			return bad(diag, "exe", "shorter than the executable's field");
		size_t n = strnlen(tail, XFER_BPF_EXE_MAX);
		if (n == XFER_BPF_EXE_MAX)
			return bad(diag, "exe", "not NUL-terminated");
		if (n > 0 && tail[0] != '/')
			return bad(diag, "exe", "not absolute");
		memcpy(ev->exe, tail, n + 1);
		tail += XFER_BPF_EXE_MAX;
		rest -= XFER_BPF_EXE_MAX;
	}
	if (r.path_len > XFER_BPF_PATH_MAX || r.path_len > rest)
		return bad(diag, "path_len", "exceeds the record");
	if (r.path_len > 0) {
		const char *path = tail;
		if (path[r.path_len - 1] != '\0' || memchr(path, '\0', r.path_len - 1) != NULL)
			return bad(diag, "path", "not one NUL-terminated string of path_len bytes");
		if (path[0] != '/')
			return bad(diag, "path", "not absolute");
		ev->path = path;
		ev->path_len = r.path_len - 1;
	}
	ev->kind = r.kind;
	ev->pid = (pid_t)r.tgid;
	ev->tid = (pid_t)r.tid;
	ev->uid = (uid_t)r.uid;
	ev->euid = (uid_t)r.euid;
	ev->f_flags = r.f_flags;
	ev->f_mode = r.f_mode;
	ev->cookie = r.cookie;
	ev->ino = ended ? 0 : r.ino;
	ev->start_time = ended ? r.ino : 0;
	ev->size = r.size;
	ev->exe_ino = r.exe_ino;
	ev->exe_dev = r.exe_dev;
	ev->dev = r.dev;
	/* The kernel's task name: at most 15 bytes and a NUL; cut there whatever came. */
	size_t n = strnlen(r.comm, sizeof(r.comm));
	if (n >= sizeof(ev->comm))
		n = sizeof(ev->comm) - 1;
	memcpy(ev->comm, r.comm, n);
	ev->comm[n] = '\0';
	ev->written = (r.f_mode & XFER_BPF_FMODE_WRITE) != 0;
	ev->opened = (r.f_mode & XFER_BPF_FMODE_OPENED) != 0;
	return 0;
}
