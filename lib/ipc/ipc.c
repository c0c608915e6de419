/*
 * ipc.c - encoding and validation of parent/engine messages (see ipc.h), sent and
 * received through rights.c. Linked by the portcullisd parent and engine. Input bytes are
 * untrusted: every length and string is checked before use, and the wire layout is
 * explicit little-endian, never a struct copied from memory.
 */
#include "ipc.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define HDR_LEN 12 /* magic u16, version u8, type u8, id u32, payload length u32 */

struct wbuf {
	uint8_t *p;
	size_t len, off;
	int err;
};

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	int err;
};

static void put_u8(struct wbuf *w, uint8_t v)
{
	if (w->off + 1 > w->len) {
		w->err = -EINVAL;
		return;
	}
	w->p[w->off++] = v;
}

static void put_u16(struct wbuf *w, uint16_t v)
{
	put_u8(w, (uint8_t)v);
	put_u8(w, (uint8_t)(v >> 8));
}

static void put_u32(struct wbuf *w, uint32_t v)
{
	put_u16(w, (uint16_t)v);
	put_u16(w, (uint16_t)(v >> 16));
}

static void put_name(struct wbuf *w, const char *s)
{
	size_t n = strnlen(s, IPC_NAME_MAX);

	if (n == IPC_NAME_MAX || ipc_name_valid(s, IPC_NAME_MAX) != 0) {
		w->err = -EINVAL;
		return;
	}
	put_u8(w, (uint8_t)n);
	for (size_t i = 0; i < n; i++)
		put_u8(w, (uint8_t)s[i]);
}

static uint8_t get_u8(struct rbuf *r)
{
	if (r->off + 1 > r->len) {
		r->err = -EBADMSG;
		return 0;
	}
	return r->p[r->off++];
}

static uint16_t get_u16(struct rbuf *r)
{
	uint16_t lo = get_u8(r);

	return (uint16_t)(lo | (uint16_t)get_u8(r) << 8);
}

static uint32_t get_u32(struct rbuf *r)
{
	uint32_t lo = get_u16(r);

	return lo | (uint32_t)get_u16(r) << 16;
}

static void get_name(struct rbuf *r, char out[IPC_NAME_MAX])
{
	uint8_t n = get_u8(r);

	if (r->err == 0 && (n == 0 || n >= IPC_NAME_MAX || r->off + n > r->len))
		r->err = -EBADMSG;
	if (r->err != 0) {
		out[0] = '\0';
		return;
	}
	memcpy(out, r->p + r->off, n);
	out[n] = '\0';
	r->off += n;
	if (strlen(out) != n || ipc_name_valid(out, IPC_NAME_MAX) != 0)
		r->err = -EBADMSG; /* embedded NUL or a character outside the alphabet */
}

int ipc_name_valid(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n == 0 || n == max)
		return -EINVAL;
	if (s[0] == '.' || strstr(s, "..") != NULL)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':' || c == '_';
		if (!ok)
			return -EINVAL;
	}
	return 0;
}

static void put_dev(struct wbuf *w, const struct ipc_device_ref *d)
{
	put_name(w, d->name);
	put_u16(w, d->busnum);
	put_u16(w, d->devnum);
}

static void get_dev(struct rbuf *r, struct ipc_device_ref *d)
{
	get_name(r, d->name);
	d->busnum = get_u16(r);
	d->devnum = get_u16(r);
}

static int job_valid(const struct ipc_msg *m)
{
	return (m->u.job.kind == IPC_JOB_XFER || m->u.job.kind == IPC_JOB_WIPE) &&
	       m->u.job.job != 0;
}

static int value_valid(uint8_t v)
{
	return v <= 1;
}

int ipc_encode(const struct ipc_msg *m, uint8_t *buf, size_t len)
{
	struct wbuf w = {buf, len, HDR_LEN, 0};

	if (len < HDR_LEN)
		return -EINVAL;
	switch (m->type) {
	case IPC_HELLO:
		put_u32(&w, m->u.hello.pid);
		break;
	case IPC_DEV_AUTHORIZE:
		if (!value_valid(m->u.authorize.value))
			return -EINVAL;
		put_dev(&w, &m->u.authorize.dev);
		put_u8(&w, m->u.authorize.value);
		break;
	case IPC_IFACE_AUTHORIZE:
		if (!value_valid(m->u.iface.value))
			return -EINVAL;
		put_dev(&w, &m->u.iface.dev);
		put_name(&w, m->u.iface.iface);
		put_u8(&w, m->u.iface.value);
		break;
	case IPC_DEV_REMOVE:
		put_dev(&w, &m->u.remove.dev);
		break;
	case IPC_DEV_PREPARE:
	case IPC_DEV_COMMIT:
		put_dev(&w, &m->u.grant.dev);
		break;
	case IPC_MEDIUM_DETACH:
		if (m->u.detach.how != IPC_DETACH_SCSI_DELETE &&
		    m->u.detach.how != IPC_DETACH_MMC_UNBIND)
			return -EINVAL;
		put_name(&w, m->u.detach.name);
		put_u8(&w, m->u.detach.how);
		break;
	case IPC_RESULT:
		put_u32(&w, (uint32_t)m->u.result.err);
		break;
	case IPC_JOB_START:
		if (!job_valid(m))
			return -EINVAL;
		put_u8(&w, m->u.job.kind);
		put_dev(&w, &m->u.job.dev);
		put_name(&w, m->u.job.block);
		put_u32(&w, m->u.job.mount_id);
		put_u32(&w, m->u.job.job);
		if (m->u.job.kind == IPC_JOB_WIPE) {
			put_u32(&w, m->u.job.uid);
			put_name(&w, m->u.job.ref);
		}
		break;
	case IPC_JOB_STOP:
		if (m->u.stop.job == 0)
			return -EINVAL;
		put_u32(&w, m->u.stop.job);
		break;
	case IPC_JOB_EXIT:
		if (m->u.exit.job == 0 || m->u.exit.signaled > 1)
			return -EINVAL;
		put_u32(&w, m->u.exit.job);
		put_u8(&w, m->u.exit.signaled);
		put_u8(&w, m->u.exit.code);
		break;
	case IPC_BLOCK_READONLY:
		put_dev(&w, &m->u.readonly.dev);
		put_name(&w, m->u.readonly.name);
		break;
	default:
		return -EINVAL;
	}
	if (w.err != 0)
		return w.err;
	size_t payload = w.off - HDR_LEN;
	w.off = 0;
	put_u16(&w, IPC_MAGIC);
	put_u8(&w, IPC_VERSION);
	put_u8(&w, m->type);
	put_u32(&w, m->id);
	put_u32(&w, (uint32_t)payload);
	return (int)(HDR_LEN + payload);
}

int ipc_decode(const uint8_t *buf, size_t len, struct ipc_msg *m)
{
	struct rbuf r = {buf, len, 0, 0};

	memset(m, 0, sizeof(*m));
	if (len < HDR_LEN || len > IPC_MSG_MAX)
		return -EBADMSG;
	if (get_u16(&r) != IPC_MAGIC)
		return -EBADMSG;
	if (get_u8(&r) != IPC_VERSION)
		return -EPROTO;
	m->type = get_u8(&r);
	m->id = get_u32(&r);
	if (get_u32(&r) != len - HDR_LEN)
		return -EBADMSG;
	switch (m->type) {
	case IPC_HELLO:
		m->u.hello.pid = get_u32(&r);
		break;
	case IPC_DEV_AUTHORIZE:
		get_dev(&r, &m->u.authorize.dev);
		m->u.authorize.value = get_u8(&r);
		if (!value_valid(m->u.authorize.value))
			r.err = -EBADMSG;
		break;
	case IPC_IFACE_AUTHORIZE:
		get_dev(&r, &m->u.iface.dev);
		get_name(&r, m->u.iface.iface);
		m->u.iface.value = get_u8(&r);
		if (!value_valid(m->u.iface.value))
			r.err = -EBADMSG;
		break;
	case IPC_DEV_REMOVE:
		get_dev(&r, &m->u.remove.dev);
		break;
	case IPC_DEV_PREPARE:
	case IPC_DEV_COMMIT:
		get_dev(&r, &m->u.grant.dev);
		break;
	case IPC_MEDIUM_DETACH:
		get_name(&r, m->u.detach.name);
		m->u.detach.how = get_u8(&r);
		if (m->u.detach.how != IPC_DETACH_SCSI_DELETE &&
		    m->u.detach.how != IPC_DETACH_MMC_UNBIND)
			r.err = -EBADMSG;
		break;
	case IPC_BLOCK_READONLY:
		get_dev(&r, &m->u.readonly.dev);
		get_name(&r, m->u.readonly.name);
		break;
	case IPC_RESULT: {
		int32_t e = (int32_t)get_u32(&r);
		if (e > 0 || e < -4095)
			r.err = -EBADMSG;
		m->u.result.err = e;
		break;
	}
	case IPC_JOB_START:
		m->u.job.kind = get_u8(&r);
		get_dev(&r, &m->u.job.dev);
		get_name(&r, m->u.job.block);
		m->u.job.mount_id = get_u32(&r);
		m->u.job.job = get_u32(&r);
		if (m->u.job.kind == IPC_JOB_WIPE) {
			m->u.job.uid = get_u32(&r);
			get_name(&r, m->u.job.ref);
		}
		if (r.err == 0 && !job_valid(m))
			r.err = -EBADMSG;
		break;
	case IPC_JOB_STOP:
		m->u.stop.job = get_u32(&r);
		if (r.err == 0 && m->u.stop.job == 0)
			r.err = -EBADMSG;
		break;
	case IPC_JOB_EXIT:
		m->u.exit.job = get_u32(&r);
		m->u.exit.signaled = get_u8(&r);
		m->u.exit.code = get_u8(&r);
		if (r.err == 0 && (m->u.exit.job == 0 || m->u.exit.signaled > 1))
			r.err = -EBADMSG;
		break;
	default:
		return -EBADMSG;
	}
	if (r.err != 0)
		return r.err;
	if (r.off != len) /* trailing bytes */
		return -EBADMSG;
	return 0;
}

int ipc_send_fd(int fd, const struct ipc_msg *msg, int passfd)
{
	uint8_t buf[IPC_MSG_MAX];
	int n = ipc_encode(msg, buf, sizeof(buf));

	if (n < 0)
		return n;
	return ipc_send_rights(fd, buf, (size_t)n, &passfd, passfd >= 0 ? 1 : 0);
}

int ipc_send(int fd, const struct ipc_msg *msg)
{
	return ipc_send_fd(fd, msg, -1);
}

int ipc_recv_fd(int fd, struct ipc_msg *msg, int *passfd)
{
	uint8_t buf[IPC_MSG_MAX + 1];
	int got = -1, rc;
	size_t nfds;
	/* At most one descriptor: more, or a datagram over the limit, is a bad message. */
	ssize_t n = ipc_recv_rights(fd, buf, sizeof(buf), &got, 1, &nfds);

	if (passfd != NULL)
		*passfd = -1;
	if (n == -EMSGSIZE)
		return -EBADMSG;
	if (n < 0)
		return (int)n;
	if (n == 0)
		rc = -ECONNRESET;
	else if ((size_t)n > IPC_MSG_MAX)
		rc = -EBADMSG;
	else
		rc = ipc_decode(buf, (size_t)n, msg);
	if (nfds == 1 && (rc != 0 || passfd == NULL))
		close(got);
	else if (nfds == 1)
		*passfd = got;
	return rc;
}

int ipc_recv(int fd, struct ipc_msg *msg)
{
	return ipc_recv_fd(fd, msg, NULL);
}

const char *ipc_type_name(uint8_t type)
{
	static const char *const names[] = {
	    [IPC_HELLO] = "hello",
	    [IPC_DEV_AUTHORIZE] = "dev-authorize",
	    [IPC_IFACE_AUTHORIZE] = "iface-authorize",
	    [IPC_DEV_REMOVE] = "dev-remove",
	    [IPC_MEDIUM_DETACH] = "medium-detach",
	    [IPC_RESULT] = "result",
	    [IPC_JOB_START] = "job-start",
	    [IPC_JOB_STOP] = "job-stop",
	    [IPC_BLOCK_READONLY] = "block-readonly",
	    [IPC_JOB_EXIT] = "job-exit",
	    [IPC_DEV_PREPARE] = "dev-prepare",
	    [IPC_DEV_COMMIT] = "dev-commit",
	};

	/* Never NULL: a type added to the enum without a name here still prints. */
	if (type == 0 || type >= sizeof(names) / sizeof(names[0]) || names[type] == NULL)
		return "unknown";
	return names[type];
}
