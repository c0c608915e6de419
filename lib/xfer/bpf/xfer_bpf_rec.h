/*
 * xfer_bpf_rec.h - layout of the records the transfer-log eBPF program
 * (xfer.bpf.c) writes into its ring buffer and portcullis-xferwatch reads
 * (bpfdecode.c). Shared by the BPF object and the host code; the host treats
 * every byte as untrusted and checks it against this layout. Expects __u32 and
 * __u64 to be defined (vmlinux.h or <linux/types.h>).
 */
#ifndef XFER_BPF_REC_H
#define XFER_BPF_REC_H

#define XFER_BPF_OPEN  1u /* security_file_open: who opened which file */
#define XFER_BPF_CLOSE 2u /* security_file_free: the last reference went away */
#define XFER_BPF_EXIT  3u /* sched_process_exit of a process with an io_uring */
#define XFER_BPF_GONE  4u /* sched_process_exit of any other process's last thread */

#define XFER_BPF_PATH_MAX 4096u /* bytes of path after the record, NUL included */
#define XFER_BPF_EXE_MAX  256u	/* the executable's path as exec was given it */
#define XFER_BPF_COMM_LEN 16u

/* The kernel's own file mode bits (include/linux/fs.h), stable since 4.x. */
#define XFER_BPF_FMODE_WRITE  0x2u
#define XFER_BPF_FMODE_OPENED 0x80000u

/* 88 bytes, every field at its natural alignment. An open record is followed by
 * XFER_BPF_EXE_MAX bytes: the executable's absolute path recorded at the process's exec
 * (NUL-terminated; "" when unknown: exec'd before the program was loaded, or by a
 * relative name), then path_len bytes of path (d_path in the opener's root,
 * NUL-terminated). An exit record is followed by the executable's field alone, a gone
 * record by nothing; in both the file fields (f_flags, f_mode, size) are 0, ino is the
 * process's start time (its group leader's start_time, nanoseconds since boot: with the
 * tgid it names one process) and the cookie is the task's address. */
struct xfer_bpf_rec {
	__u32 kind;	/* XFER_BPF_OPEN, _CLOSE, _EXIT or _GONE */
	__u32 tgid;	/* process of the task (process.pid) */
	__u32 tid;	/* the task itself */
	__u32 uid;	/* real uid of the task */
	__u32 euid;	/* effective uid */
	__u32 f_flags;	/* open(2) flags of the file */
	__u32 f_mode;	/* FMODE_* of the file */
	__u32 path_len; /* open: bytes that follow (0: path unknown); close: 0 */
	__u64 cookie;	/* the struct file's address: pairs an open with its close */
	__u64 ino;	/* inode number on the watched filesystem; exit, gone: start time */
	__u64 size;	/* i_size at the event */
	__u64 exe_ino;	/* inode of the task's executable (0: none, a kernel thread) */
	__u32 exe_dev;	/* its superblock's s_dev (kernel encoding) */
	__u32 dev;	/* s_dev of the file's superblock (kernel encoding) */
	char comm[XFER_BPF_COMM_LEN];
};

#endif
