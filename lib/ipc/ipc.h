/*
 * ipc.h - typed, versioned, bounds-checked messages between the portcullisd parent
 * (root) and its unprivileged engine. Linked by both. Every byte received is
 * untrusted: ipc_decode() validates the header, the length for the type and every
 * string field (NUL-terminated, restricted alphabet) before anything reads it.
 * A message that fails to decode is fatal for the sender: the receiver drops the
 * connection (and the parent restarts the engine).
 */
#ifndef PCL_IPC_H
#define PCL_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IPC_MAGIC   0x5043u /* "PC" */
#define IPC_VERSION 3u

/* Sysfs kernel names: "1-2.3", "1-2.3:1.0", "usb1", "sr0", "mmc0:0001". */
#define IPC_NAME_MAX 64
#define IPC_MSG_MAX  256 /* upper bound of any encoded message */

enum ipc_type {
	IPC_HELLO = 1,	     /* engine -> parent: ready to decide */
	IPC_DEV_AUTHORIZE,   /* engine -> parent: write a USB device's authorized */
	IPC_IFACE_AUTHORIZE, /* engine -> parent: write a USB interface's authorized */
	IPC_DEV_REMOVE,	     /* engine -> parent: write a USB device's remove (reject) */
	IPC_MEDIUM_DETACH,   /* engine -> parent: make a non-USB medium unreachable */
	IPC_RESULT,	     /* parent -> engine: outcome of one request */
	IPC_JOB_START,	     /* engine -> parent: start a helper on an approved medium */
	IPC_JOB_STOP,	     /* engine -> parent: stop that helper */
	IPC_BLOCK_READONLY,  /* engine -> parent: set a block device read-only (BLKROSET) */
	IPC_JOB_EXIT,	     /* parent -> engine, unsolicited: a helper has exited */
	IPC_DEV_PREPARE,     /* engine -> parent: check a device, hold its authorized open
				(the answer carries a copy of it, SCM_RIGHTS) */
	IPC_DEV_COMMIT,	     /* engine -> parent: write 1 to the authorized held by the last */
	IPC_TYPE_END,
};

/* How the parent makes a non-USB removable medium unreachable. */
enum ipc_detach {
	IPC_DETACH_SCSI_DELETE = 1, /* write 1 to .../device/delete (SATA/SCSI optical, card) */
	IPC_DETACH_MMC_UNBIND = 2,  /* unbind the mmc card from the mmcblk driver */
};

/* Helpers the parent runs for the engine. Each one's output reaches the engine over a
 * private channel: a socketpair the parent makes, whose engine end travels with the
 * IPC_RESULT of the IPC_JOB_START (SCM_RIGHTS). Nothing of it passes the control socket. */
enum ipc_job {
	IPC_JOB_XFER = 1, /* portcullis-xferwatch on a mounted medium */
	IPC_JOB_WIPE = 2, /* portcullis wipe --local on an unmounted medium */
};

#define IPC_JOB_AUTOMATIC 0xffffffffu /* a wipe no user asked for */

struct ipc_device_ref {
	char name[IPC_NAME_MAX]; /* sysfs kernel name */
	uint16_t busnum;	 /* re-checked by the parent: the device the engine saw */
	uint16_t devnum;
};

struct ipc_msg {
	uint8_t type;
	uint32_t id; /* request id, echoed by IPC_RESULT */
	union {
		struct {
			uint32_t pid;
		} hello;
		struct {
			struct ipc_device_ref dev;
			uint8_t value; /* 0 or 1 */
		} authorize;	       /* IPC_DEV_AUTHORIZE */
		struct {
			struct ipc_device_ref dev; /* the interface's device */
			char iface[IPC_NAME_MAX];  /* "1-2:1.0" */
			uint8_t value;
		} iface;
		struct {
			struct ipc_device_ref dev;
		} remove;
		/* IPC_DEV_PREPARE, IPC_DEV_COMMIT: a grant in two steps, so that the parent's
		 * checks run while the engine reads and decides the device and makes its
		 * record durable (the prepare is sent on the device's uevent and grants
		 * nothing; its answer carries a copy of the device's authorized file, open
		 * write only, through which the engine writes 1 once an allow record is
		 * durable); the commit, sent after that, must be the request right after its
		 * prepare. */
		struct {
			struct ipc_device_ref dev;
		} grant;
		struct {
			char name[IPC_NAME_MAX]; /* block device kernel name: "sr0", "mmcblk0" */
			uint8_t how;		 /* enum ipc_detach */
		} detach;
		struct {
			int32_t err; /* 0 or a negative errno */
		} result;
		struct {
			uint8_t kind;		   /* enum ipc_job */
			struct ipc_device_ref dev; /* the USB device the medium belongs to */
			char block[IPC_NAME_MAX];  /* block device: "sdb", "sdb1" */
			uint32_t mount_id;	   /* IPC_JOB_XFER: /proc/self/mountinfo id */
			uint32_t job;		   /* the engine's job number, never 0 */
			/* IPC_JOB_WIPE only: who asked (a uid, or IPC_JOB_AUTOMATIC) and the
			 * reference of the approval that covers the medium (name alphabet). */
			uint32_t uid;
			char ref[IPC_NAME_MAX];
		} job;
		struct {
			uint32_t job;
		} stop;
		struct {
			uint32_t job;
			uint8_t signaled; /* 1: killed by signal `code`; 0: exit status `code` */
			uint8_t code;
		} exit; /* IPC_JOB_EXIT */
		struct {
			struct ipc_device_ref dev; /* the USB device the disk belongs to */
			char name[IPC_NAME_MAX];   /* block device kernel name: "sdb", "sdb1" */
		} readonly;
	} u;
};

/* Encode msg into buf; returns the length, or -EINVAL for an invalid message. */
int ipc_encode(const struct ipc_msg *msg, uint8_t *buf, size_t len);

/* Decode and validate; returns 0 or -EBADMSG / -EPROTO (version) / -EINVAL. */
int ipc_decode(const uint8_t *buf, size_t len, struct ipc_msg *msg);

/* Send/receive one message on a SOCK_SEQPACKET socket; 0 or negative errno
 * (-ECONNRESET when the peer closed). */
int ipc_send(int fd, const struct ipc_msg *msg);
int ipc_recv(int fd, struct ipc_msg *msg);

/* The same, carrying one file descriptor (SCM_RIGHTS). ipc_send_fd with passfd < 0 sends
 * none. ipc_recv_fd sets *passfd to the descriptor received, or -1; ipc_recv closes any
 * descriptor that arrives, so a peer can never plant one where none is expected. */
int ipc_send_fd(int fd, const struct ipc_msg *msg, int passfd);
int ipc_recv_fd(int fd, struct ipc_msg *msg, int *passfd);

/* Raw datagrams with up to IPC_RIGHTS_MAX descriptors (SCM_RIGHTS), for the channels
 * whose messages are not ipc_msg (the launcher's, the wipe starter's); EINTR is retried.
 * ipc_send_rights: 0, -EIO for a short send, or negative errno. ipc_recv_rights: one
 * datagram of up to len bytes into buf, its descriptors (close-on-exec) in fds and their
 * number in *nfds; returns the byte count (0: the peer closed), -EMSGSIZE when the
 * datagram was longer than len or brought more than max descriptors (every descriptor
 * that came is closed then, *nfds is 0), or negative errno. */
#define IPC_RIGHTS_MAX 4
int ipc_send_rights(int fd, const void *buf, size_t len, const int *fds, size_t nfds);
ssize_t ipc_recv_rights(int fd, void *buf, size_t len, int *fds, size_t max, size_t *nfds);

/* Is s a valid sysfs kernel name for the given field (NUL within max, alphabet)? */
int ipc_name_valid(const char *s, size_t max);

const char *ipc_type_name(uint8_t type);

#endif
