/*
 * xfer.bpf.c - the transfer log's eBPF program (CO-RE, loaded by
 * portcullis-xferwatch through its generated skeleton). Two fentry programs
 * observe, never block: security_file_open records who opened which regular
 * file on the watched filesystem (task ids, uids, executable, path, flags) and
 * security_file_free records the file's last close with its mode, so a process
 * that exits right after writing is still attributed from what the kernel saw.
 * tp_btf/sched_process_exec keeps each process's executable path (the name exec
 * resolved, the interpreter for a script) for its open records, and
 * tp_btf/sched_process_fork hands it to the children.
 * Where the kernel refuses fentry, tp_btf/sys_exit takes the open record instead, at the
 * return of open, openat, openat2, creat and open_by_handle_at, 64- or 32-bit (the struct
 * file from the task's descriptor table), and tp_btf/sched_process_exit the identity of a
 * process with an io_uring (whose opens need no system call) as it exits, and of any other
 * process only that it exited; the closes then come from a fanotify notification group
 * (bpfwatch.c).
 * Records go to a ring buffer; one that does not fit is counted in `dropped`.
 * Its input is the kernel's own state; the filter is the superblock's s_dev.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "xfer_bpf_rec.h"

#define S_IFMT	0170000
#define S_IFREG 0100000
#define O_PATH	010000000

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 watched_dev = 0; /* s_dev of the medium, set before loading */
const volatile __u32 self_tgid = 0;   /* the watcher's own opens (hashing) are not logged */
/* System call numbers of the opens (tp_btf/sys_exit), set before loading; -1: none. */
const volatile __s64 nr_open = -1, nr_openat = -1, nr_openat2 = -1, nr_creat = -1,
		     nr_open_by_handle_at = -1;
/* The same in x86's 32-bit table (arch/x86/entry/syscalls/syscall_32.tbl), for a 32-bit
 * process's system calls (TS_COMPAT in its thread_info's status while one runs). */
#define TS_COMPAT	       0x0002
#define IA32_OPEN	       5
#define IA32_CREAT	       8
#define IA32_OPENAT	       295
#define IA32_OPEN_BY_HANDLE_AT 342
#define IA32_OPENAT2	       437
__u64 dropped = 0; /* records the ring buffer had no room for */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

struct exe_path {
	char path[XFER_BPF_EXE_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tgid */
	__type(value, struct exe_path);
} exes SEC(".maps");

struct scratch {
	struct xfer_bpf_rec rec;
	struct exe_path exe;
	char path[XFER_BPF_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* The file's inode when it is a regular file on the watched filesystem. */
static __always_inline struct inode *watched(struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	if (inode == NULL || BPF_CORE_READ(inode, i_sb, s_dev) != watched_dev)
		return NULL;
	if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG)
		return NULL;
	return inode;
}

/* Who: the current task's ids, uids, executable and name. */
static __always_inline void fill_task(struct xfer_bpf_rec *r, __u32 kind, __u64 pid_tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	r->kind = kind;
	r->tgid = (__u32)(pid_tgid >> 32);
	r->tid = (__u32)pid_tgid;
	r->uid = (__u32)bpf_get_current_uid_gid();
	r->euid = BPF_CORE_READ(task, cred, euid.val);
	r->path_len = 0;
	r->exe_ino = BPF_CORE_READ(task, mm, exe_file, f_inode, i_ino);
	r->exe_dev = BPF_CORE_READ(task, mm, exe_file, f_inode, i_sb, s_dev);
	r->dev = watched_dev;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
}

static __always_inline void fill(struct xfer_bpf_rec *r, __u32 kind, struct file *file,
				 struct inode *inode, __u64 pid_tgid)
{
	fill_task(r, kind, pid_tgid);
	r->f_flags = BPF_CORE_READ(file, f_flags);
	r->f_mode = BPF_CORE_READ(file, f_mode);
	r->cookie = (__u64)(unsigned long)file;
	r->ino = BPF_CORE_READ(inode, i_ino);
	r->size = (__u64)BPF_CORE_READ(inode, i_size);
}

/* This CPU's area where a record is put together (too big for the stack). */
static __always_inline struct scratch *scratch_area(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch, &zero);
}

/* The executable's path recorded at the process's exec, or "". */
static __always_inline void copy_exe(struct scratch *s, __u64 pid_tgid)
{
	__u32 tgid = (__u32)(pid_tgid >> 32);
	struct exe_path *exe = bpf_map_lookup_elem(&exes, &tgid);
	if (exe != NULL)
		__builtin_memcpy(&s->exe, exe, sizeof(s->exe));
	else
		s->exe.path[0] = '\0';
}

/* The open record (who, which file, the executable recorded at exec, then path_len bytes
 * of path) from the scratch area, into the ring. */
static __always_inline void send_open(struct scratch *s, struct file *file, struct inode *inode,
				      __u64 pid_tgid, __u64 path_len, __u64 flags)
{
	fill(&s->rec, XFER_BPF_OPEN, file, inode, pid_tgid);
	copy_exe(s, pid_tgid);
	s->rec.path_len = (__u32)path_len;
	if (bpf_ringbuf_output(&events, s, sizeof(s->rec) + sizeof(s->exe) + path_len, flags) != 0)
		__sync_fetch_and_add(&dropped, 1);
}

SEC("fentry/security_file_open")
int BPF_PROG(xfer_open, struct file *file)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if ((__u32)(pid_tgid >> 32) == self_tgid)
		return 0;
	struct inode *inode = watched(file);
	if (inode == NULL)
		return 0;
	struct scratch *s = scratch_area();
	if (s == NULL)
		return 0;
	long n = bpf_d_path((struct path *)&file->f_path, s->path, sizeof(s->path));
	if (n < 0 || n > (long)XFER_BPF_PATH_MAX)
		n = 0;
	send_open(s, file, inode, pid_tgid, (__u64)n, 0);
	return 0;
}

/* System call numbers of the opens, in the 64-bit and in the 32-bit table. */
static __always_inline bool native_open(__s64 nr)
{
	return nr == nr_openat || nr == nr_open || nr == nr_openat2 || nr == nr_creat ||
	       nr == nr_open_by_handle_at;
}

static __always_inline bool compat_open(__s64 nr)
{
	return nr == IA32_OPENAT || nr == IA32_OPEN || nr == IA32_OPENAT2 || nr == IA32_CREAT ||
	       nr == IA32_OPEN_BY_HANDLE_AT;
}

/* Where fentry is refused: an open that returned a descriptor, read from the task's own
 * table at the system call's return (the task is still running; nothing can close it under
 * us). No path (bpf_d_path is not allowed here): the watcher names the file from the
 * fanotify close event's descriptor. No wake-up either: the watcher reads these records
 * when a close needs them, and on a timer. */
SEC("tp_btf/sys_exit")
int BPF_PROG(xfer_sys_exit, struct pt_regs *regs, long ret)
{
	if (ret < 0)
		return 0;
	/* Every system call of every process comes here: the common case (none of the
	 * opens in either table) returns after direct loads and comparisons, no helper. */
	__s64 nr = (__s64)regs->orig_ax;
	bool native = native_open(nr), compat = compat_open(nr);
	if (!native && !compat)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (task->thread_info.status & TS_COMPAT ? !compat : !native)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if ((__u32)(pid_tgid >> 32) == self_tgid)
		return 0;
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (fdt == NULL || (__u64)ret >= (__u64)BPF_CORE_READ(fdt, max_fds))
		return 0;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[ret]) != 0 || file == NULL)
		return 0;
	if (BPF_CORE_READ(file, f_flags) & O_PATH)
		return 0; /* no close event will follow, and nothing is read or written */
	struct inode *inode = watched(file);
	if (inode == NULL)
		return 0;
	struct scratch *s = scratch_area();
	if (s == NULL)
		return 0;
	send_open(s, file, inode, pid_tgid, 0, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("fentry/security_file_free")
int BPF_PROG(xfer_free, struct file *file)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if ((__u32)(pid_tgid >> 32) == self_tgid)
		return 0;
	struct inode *inode = watched(file);
	if (inode == NULL)
		return 0;
	struct xfer_bpf_rec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (r == NULL) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	fill(r, XFER_BPF_CLOSE, file, inode, pid_tgid);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/* Tracepoint mode: a process with an io_uring may have opened files without a system call
 * of ours (io_uring's own openat). Its identity at its exit, which comes before its files
 * are closed: the watcher attributes a close whose open it never saw to it. Any other
 * process whose last thread exits (its thread group dead) sends the header alone, before
 * its files are closed too: the watcher then forgets an identity it kept for that process
 * id from an earlier process, whose id this one reused. Both carry the process's start time
 * (in ino), which tells one process from another with the same id. No wake-up: the watcher
 * reads the ring before it attributes a close whose open it never saw. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(xfer_exit, struct task_struct *p)
{
	/* A kernel without io_uring has no such field: the check is then left out at load. */
	bool uring = bpf_core_field_exists(p->io_uring) && BPF_CORE_READ(p, io_uring) != NULL;
	/* do_exit counts the live threads down before this tracepoint: 0 for the last. */
	if (!uring && BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if ((__u32)(pid_tgid >> 32) == self_tgid)
		return 0;
	struct scratch *s = scratch_area();
	if (s == NULL)
		return 0;
	fill_task(&s->rec, uring ? XFER_BPF_EXIT : XFER_BPF_GONE, pid_tgid);
	s->rec.f_flags = s->rec.f_mode = 0;
	s->rec.cookie = (__u64)(unsigned long)p;
	s->rec.ino = BPF_CORE_READ(p, group_leader, start_time);
	s->rec.size = 0;
	__u64 len = sizeof(s->rec);
	if (uring) {
		copy_exe(s, pid_tgid);
		len += sizeof(s->exe);
	}
	if (bpf_ringbuf_output(&events, s, len, BPF_RB_NO_WAKEUP) != 0)
		__sync_fetch_and_add(&dropped, 1);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(xfer_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = (__u32)BPF_CORE_READ(p, tgid);
	struct exe_path e;
	/* interp: the file finally executed (a script's interpreter, as /proc/PID/exe). */
	if (bpf_probe_read_kernel_str(e.path, sizeof(e.path), BPF_CORE_READ(bprm, interp)) > 1 &&
	    e.path[0] == '/')
		bpf_map_update_elem(&exes, &tgid, &e, BPF_ANY);
	else
		bpf_map_delete_elem(&exes, &tgid);
	return 0;
}

/* A new process (or thread) runs its parent's executable until it execs: copy the entry,
 * so that a process id reused after an exit never names the old process's program. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(xfer_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = (__u32)BPF_CORE_READ(parent, tgid);
	__u32 ctgid = (__u32)BPF_CORE_READ(child, tgid);
	if (ptgid == ctgid)
		return 0; /* a thread */
	struct exe_path *e = bpf_map_lookup_elem(&exes, &ptgid);
	if (e != NULL)
		bpf_map_update_elem(&exes, &ctgid, e, BPF_ANY);
	else
		bpf_map_delete_elem(&exes, &ctgid);
	return 0;
}
