/*
 * sandbox.c - seccomp allow-lists per role (see sandbox.h), with libseccomp.
 * Linked by portcullisd (parent, engine) and portcullis-wiper. Every allowed system
 * call says which code needs it; arguments are constrained where the kernel lets a
 * filter see them (socket families, mmap/mprotect never executable, ioctl requests).
 * The portcullis CLI links it too, for its fido helper (SANDBOX_FIDO).
 */
#include "sandbox.h"

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>

/* The sanitizer extras exist for ASan builds only (CMake sets PCL_SANDBOX_SANITIZER with
 * PCL_SANITIZE, which a Release build refuses); anything else does not compile. */
#ifdef PCL_SANDBOX_SANITIZER
#if defined(__SANITIZE_ADDRESS__)
#elif defined(__clang__) && defined(__has_feature)
#if !__has_feature(address_sanitizer)
#error "PCL_SANDBOX_SANITIZER without AddressSanitizer"
#endif
#else
#error "PCL_SANDBOX_SANITIZER without AddressSanitizer"
#endif
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef PCL_SANDBOX_DEBUG
#define DEFAULT_ACTION SCMP_ACT_TRAP
#else
#define DEFAULT_ACTION SCMP_ACT_KILL_PROCESS
#endif

struct rule {
	int nr;
	const char *why;
};

#define R(name, why)                                                                               \
	{                                                                                          \
		SCMP_SYS(name), why                                                                \
	}

/* What every role needs to run C at all. */
static const struct rule base[] = {
    R(read, "sockets, pipes, sysfs attributes, files"),
    R(readv, "stdio"),
    R(write, "sockets, pipes, audit records, sysfs writes (parent)"),
    R(writev, "stdio, syslog"),
    R(close, "every descriptor"),
    R(lseek, "stdio and the audit trail"),
    R(fstat, "stdio buffering"),
    R(newfstatat, "stat() of sysfs and state files"),
    R(statx, "stat() of sysfs and state files (newer glibc)"),
    R(getcwd, "path resolution of relative names (libudev)"),
    R(brk, "malloc"),
    R(munmap, "malloc, free"),
    R(mremap, "realloc of large blocks"),
    R(madvise, "malloc trimming"),
    R(futex, "pthread mutexes (audit group commit, OpenSSL)"),
    R(clock_gettime, "timestamps when the vDSO is not used"),
    R(clock_nanosleep, "short back-off sleeps"),
    R(nanosleep, "short back-off sleeps"),
    R(gettimeofday, "time(), when the vDSO is not used"),
    R(getpid, "OpenSSL fork detection, logging"),
    R(gettid, "glibc, pthread"),
    R(getrandom, "OpenSSL RAND_bytes: salts, nonces, keys"),
    R(rt_sigprocmask, "signal masks of signalfd users"),
    R(rt_sigreturn, "return from a signal handler"),
    R(restart_syscall, "restarted sleeps"),
    R(exit, "thread exit"),
    R(exit_group, "process exit"),
    R(sched_yield, "pthread spin-then-wait"),
    R(rseq, "glibc thread start-up"),
};

#ifdef PCL_SANDBOX_SANITIZER
/* What the ASan/UBSan runtime itself calls once a filter is in place, added to every role
 * in PCL_SANITIZE builds only (a compile-time define; such builds are refused in Release,
 * and there is no runtime switch). Nothing here is needed by the code of any role. */
static const struct rule sanitizer[] = {
    R(sigaltstack, "each thread's alternate signal stack: set up at start, torn down at exit"),
    R(sched_getaffinity, "CPU count, asked when the allocator grows"),
};

/* ASan reports read /proc/self/maps and the binaries' symbols on first use: make that
 * first use happen before the filter goes on (the runtime's sandbox notice caches the
 * mappings, one symbolised address loads the module list and the symbol tables), so a
 * report from inside a role is complete and opens nothing. */
static void prepare_sanitizer(void)
{
	char buf[256];

	__sanitizer_sandbox_on_notify(NULL);
	__sanitizer_symbolize_pc(__builtin_return_address(0), "%p %F %L", buf, sizeof(buf));
}

/* prctl(PR_GET_SECCOMP) only: sanitizer_hooks.c asks whether a filter is in place before
 * LeakSanitizer's at-exit check. ioctl(TCGETS) only: whether stderr is a terminal, to
 * colour a report. */
static int add_sanitizer_args(scmp_filter_ctx ctx)
{
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				  SCMP_A0(SCMP_CMP_EQ, PR_GET_SECCOMP, 0));

	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_EQ, TCGETS, 0));
	return rc;
}
#endif

static const struct rule engine[] = {
    R(openat, "sysfs attributes, audit segments and state"),
    R(getdents64, "udev enumeration of sysfs, audit segment listing"),
    R(readlink, "libudev resolving sysfs links"),
    R(readlinkat, "libudev resolving sysfs links"),
    R(access, "libudev access() checks"),
    R(faccessat, "libudev access() checks"),
    R(faccessat2, "libudev access() checks"),
    R(fcntl, "O_NONBLOCK and FD_CLOEXEC on sockets"),
    R(poll, "the event loop"),
    R(ppoll, "the event loop"),
    R(recvmsg, "kernel uevents, udev monitor, control clients"),
    R(sendmsg, "control clients, parent requests"),
    R(recvfrom, "parent answers, control clients"),
    R(sendto, "parent requests, control answers"),
    R(accept4, "control socket clients"),
    R(getsockopt, "SO_PEERCRED of control clients"),
    R(setsockopt, "libudev receive buffer"),
    R(fsync, "audit durability"),
    R(fdatasync, "audit durability"),
    R(ftruncate, "audit crash recovery drops a half-written line"),
    /* The retention purge reads the last line of the oldest kept segment at an offset
     * (lib/audit/epoch.c last_line): without it the first tick past the retention
     * period kills the engine (SIGSYS) and it restarts in a loop. */
    R(pread64, "audit: last line of a segment (open and retention purge)"),
    R(pwrite64, "audit records at the segment's end; the grant's 1 to the authorized "
		"file the parent opened and passed"),
    R(pwritev2, "audit: a decision record and the unsynced tail in one RWF_DSYNC write, into "
		"a slot of the intent file (or the segment)"),
    R(rename, "audit state replaced atomically"),
    R(renameat, "audit state replaced atomically"),
    R(renameat2, "audit state replaced atomically"),
    R(unlinkat, "audit retention purge, state temporaries"),
    R(unlink, "audit state temporaries"),
    R(fstatfs, "libudev"),
    R(uname, "host name for records"),
    R(getuid, "libudev"),
    R(geteuid, "libudev"),
    R(getgid, "libudev"),
    R(getegid, "libudev"),
};

static const struct rule wiper[] = {
    R(pread64, "read-back of the medium"),
    R(pwrite64, "overwrite of the medium"),
    R(fdatasync, "flush before the read-back"),
    R(fsync, "flush before the read-back"),
    R(clone, "the pattern/compare worker thread (threads only: checked below)"),
    R(clone3, "the pattern/compare worker thread"),
    R(set_robust_list, "new thread start-up"),
    R(mprotect, "guard page of the worker's stack (never executable: checked below)"),
};

/* The fido helper (lib/fidohelper): the key and the CLI's socket were opened before
 * the filter; it reads and writes them (base list), waits on them, and computes. No
 * open, no socket, no exec, no fork, no ioctl. */
static const struct rule fido[] = {
    R(poll, "libfido2 I/O functions wait for a report; the CLI's answer channel"),
    R(ppoll, "poll() on newer glibc"),
};

/* portcullis-xferwatch (daemon/xfer/xferwatch.c), installed once its eBPF program is
 * attached (the launcher's list has bpf), its fanotify groups made and marked and its hash
 * threads started, before the first event is read. Root with CAP_SYS_ADMIN (fanotify, its
 * eBPF program), CAP_DAC_READ_SEARCH (open_by_handle_at) and CAP_SYS_PTRACE (/proc/PID/exe
 * of other users), so what it may call matters: no exec, no process, no network, no new
 * fanotify group, no bpf (no new program, no map access beyond the ring buffer's shared
 * memory), a mark only on its own permission group when failing closed, no write-open of
 * any file (checked below). */
static const struct rule xferwatch[] = {
    R(open_by_handle_at, "names of created/deleted files from the fid group's handles"),
    R(readlink, "/proc/PID/exe and /proc/self/fd/N of an event"),
    R(readlinkat, "/proc/PID/exe and /proc/self/fd/N of an event"),
    R(poll, "waiting on the fanotify groups; the clamd answer"),
    R(ppoll, "poll() on newer glibc"),
    R(pread64, "hash workers read each written file at an offset"),
    R(fadvise64, "hash workers: sequential read-ahead, then drop the pages"),
    R(kill, "whether an event's process still lives (signal 0); SIGTERM to itself on unmount"),
    R(setpriority, "the permission-event reader's own priority (its thread id)"),
    R(fstatfs, "the filesystem of an event's file"),
    R(set_robust_list, "thread start-up (unmount watch, hash workers)"),
    R(rt_sigaction, "glibc's first thread start-up: its internal cancellation signal"),
    R(sched_getaffinity, "glibc malloc sizing a thread's arena"),
    R(connect, "clamd's socket; the name service (getpwuid_r) socket (AF_UNIX only)"),
    R(sendto, "the clamd request"),
    R(sendmsg, "the clamd request with the file's descriptor"),
    R(recvfrom, "the clamd answer; name service answers"),
    R(recvmsg, "name service answers"),
    R(getsockopt, "SO_ERROR of clamd's non-blocking connect"),
    R(fanotify_mark, "the eBPF backend failing closed: its permission group is marked then"),
    R(getdents64, "the eBPF backend: a file renamed right after its close, found by inode"),
    R(pidfd_open, "a process seen at an open, remembered by its pidfd (lib/xfer/pidcache.c)"),
};

/* The launcher (daemon/parent_launch.c) starts the engine and the root helpers, so it
 * allows what they call before they install their own, tighter, filters (a filter is
 * inherited across fork and exec and can only be narrowed). Its only input is the
 * parent's requests. */
static const struct rule launcher[] = {
    R(openat, "sysfs writes, directories, helpers' set-up"),
    R(getdents64, "root hub listing, hand-over of files"),
    R(readlink, "realpath of a disk's device"),
    R(readlinkat, "realpath of a disk's device"),
    R(access, "libudev"),
    R(faccessat, "libudev"),
    R(faccessat2, "libudev"),
    R(fcntl, "descriptor flags"),
    R(poll, "the event loop"),
    R(ppoll, "the event loop"),
    R(recvmsg, "engine requests"),
    R(sendmsg, "answers, engine start-up (libudev)"),
    R(recvfrom, "engine requests"),
    R(sendto, "answers"),
    R(bind, "engine start-up: kernel uevents, udev monitor, control socket"),
    R(listen, "engine start-up: control socket"),
    R(getsockname, "engine start-up: libudev monitor address"),
    R(accept4, "engine control socket"),
    R(getsockopt, "engine control clients"),
    R(setsockopt, "engine uevent and udev monitor buffers, SO_PASSCRED"),
    R(socketpair, "parent/engine channel"),
    R(connect, "syslog socket; libudev under test"),
    R(wait4, "reaping the engine and helpers"),
    R(kill, "stopping the engine and helpers"),
    R(clone, "starting the engine and helpers"),
    R(clone3, "starting the engine and helpers"),
    R(execve, "starting portcullis-wiper and portcullis-xferwatch"),
    R(set_robust_list, "child start-up"),
    R(setgroups, "engine privilege drop"),
    R(setresgid, "engine privilege drop"),
    R(setresuid, "engine privilege drop"),
    R(setuid, "engine check that privileges cannot be regained"),
    R(prctl, "engine no_new_privs"),
    R(seccomp, "engine filter"),
    R(signalfd4, "engine signals"),
    R(timerfd_create, "engine audit tick"),
    R(timerfd_settime, "engine audit tick"),
    R(fchmodat, "control socket permissions"),
    R(chmod, "control socket permissions"),
    R(fchownat, "hand-over of state to the engine user"),
    R(chown, "hand-over of state to the engine user"),
    R(mkdir, "state and socket directories"),
    R(mkdirat, "state and socket directories"),
    R(unlink, "stale control socket"),
    R(unlinkat, "stale control socket, audit"),
    R(fsync, "audit"),
    R(fdatasync, "audit"),
    R(pwritev2, "audit: a record written with RWF_DSYNC"),
    R(ftruncate, "audit"),
    R(rename, "audit state"),
    R(renameat, "audit state"),
    R(renameat2, "audit state"),
    R(fstatfs, "libudev"),
    R(uname, "host name"),
    R(getuid, "libudev"),
    R(geteuid, "libudev"),
    R(getgid, "libudev"),
    R(getegid, "libudev"),
    R(getppid, "helpers"),
    R(sysinfo, "helpers"),
    R(pread64, "helpers"),
    R(pwrite64, "helpers"),
    R(dup, "helpers: mkfs.vfat"),
    R(stat, "helpers: mkfs.vfat"),
    R(lstat, "helpers: mkfs.vfat"),
    R(open, "helpers: mkfs.vfat"),
    R(getdents, "helpers: mkfs.vfat"),
    R(time, "helpers: mkfs.vfat"),
    R(dup2, "helpers' descriptor set-up"),
    R(dup3, "helpers' descriptor set-up"),
    R(pipe2, "helper job and progress pipes"),
    R(close_range, "helpers close inherited descriptors"),
    R(set_tid_address, "exec start-up"),
    R(arch_prctl, "exec start-up"),
    R(prlimit64, "exec start-up"),
    R(mprotect, "exec start-up relocation (never executable: checked below)"),
    R(rt_sigaction, "helpers' signal handlers"),
    R(fanotify_init, "transfer logging"),
    R(fanotify_mark, "transfer logging"),
    R(bpf, "portcullis-xferwatch: loading and attaching its eBPF program"),
    R(epoll_create1, "portcullis-xferwatch: the eBPF ring buffer's notification (libbpf)"),
    R(epoll_ctl, "portcullis-xferwatch: the eBPF ring buffer's notification"),
    R(umask, "directory creation"),
    R(mount, "portcullis-xferwatch: read-only remount when it fails closed"),
    R(fchmod, "helpers"),
    R(getrusage, "helpers"),
    R(setpriority, "portcullis-xferwatch: reader and worker priorities"),
    R(sched_getaffinity, "helpers: thread pool size"),
    R(tgkill, "helpers: thread signals"),
    R(sigaltstack, "helpers"),
    R(fadvise64, "helpers: hashing reads"),
    R(inotify_init1, "helpers"),
    R(open_by_handle_at, "portcullis-xferwatch: names of created/deleted files"),
    R(name_to_handle_at, "portcullis-xferwatch: directory handles"),
    R(pidfd_open, "portcullis-xferwatch: a process seen at an open, remembered by its pidfd"),
    R(statfs, "portcullis-wipe: libselinux's constructor (via libcryptsetup) looks for "
	      "selinuxfs before main"),
};

/* The parent itself, once the launcher and the first engine are started: it answers the
 * engine's requests (sysfs reads and writes, BLKROSET on a disk it authorised, the
 * mount table, helper channels), reaps and signals children, asks the launcher to start
 * programs. No exec, no fork, no fanotify, no mount, no privilege change, no executable
 * memory. */
static const struct rule parent[] = {
    R(openat, "sysfs attributes, /dev nodes of disks it authorised, /proc/self/mountinfo"),
    R(getdents64, "root hub and interface listings"),
    R(readlink, "realpath of a disk's device"),
    R(readlinkat, "realpath of a disk's device"),
    R(access, "the test bed's preload library"),
    R(faccessat, "the test bed's preload library"),
    R(faccessat2, "the test bed's preload library"),
    R(fcntl, "descriptor flags"),
    R(poll, "the event loop"),
    R(ppoll, "the event loop"),
    R(recvmsg, "engine requests, launcher answers"),
    R(sendmsg, "answers with a helper's channel (SCM_RIGHTS), launcher requests"),
    R(recvfrom, "engine requests, launcher answers"),
    R(sendto, "answers, syslog"),
    R(connect, "syslog socket; the test bed's preload library"),
    R(socketpair, "a helper's channel; a restarted engine's channel"),
    R(wait4, "reaping the engine, the launcher and helpers"),
    R(kill, "stopping the engine and helpers, SIGHUP to the engine"),
    R(fstatfs, "the test bed's preload library"),
    R(uname, "host name in log lines"),
    R(getuid, "the test bed's preload library"),
    R(geteuid, "the test bed's preload library"),
    R(getppid, "log lines"),
};

/* The starter of portcullis-wipe (tools/wipe_starter.c) installs the launcher's list less
 * these, at once: it execs portcullis-wiper (which drops to nobody and installs
 * SANDBOX_WIPER) and mkfs.vfat, so what their start-up needs stays (execve among it);
 * what only the engine's start-up or the transfer-log watcher need goes. */
static const struct rule not_for_wipe[] = {
    R(fanotify_init, "transfer logging only"),
    R(fanotify_mark, "transfer logging only"),
    R(bpf, "transfer logging only"),
    R(epoll_create1, "transfer logging only"),
    R(epoll_ctl, "transfer logging only"),
    R(open_by_handle_at, "transfer logging only"),
    R(name_to_handle_at, "transfer logging only"),
    R(pidfd_open, "transfer logging only"),
    R(mount, "transfer logging only"),
    R(setpriority, "transfer logging only"),
    R(inotify_init1, "nothing of the wipe watches files"),
    R(bind, "the engine's sockets only"),
    R(listen, "the engine's sockets only"),
    R(accept4, "the engine's sockets only"),
    R(getsockname, "the engine's sockets only"),
    R(signalfd4, "the engine's signals only"),
    R(timerfd_create, "the engine's tick only"),
    R(timerfd_settime, "the engine's tick only"),
};

/* portcullis-wipe itself (tools/wipe_job_main.c), once its starter is forked: the
 * starter's list less these. Its starter starts the wiper and mkfs.vfat; it execs nothing,
 * forks nothing (threads only, checked below), changes no identity, maps nothing
 * executable (checked below). */
static const struct rule not_for_wipe_job[] = {
    R(execve, "the starter runs the wiper and mkfs.vfat"),
    R(clone, "threads only: added with its flags checked"),
    R(clone3, "fails with ENOSYS: clone's flags are checked"),
    R(setgroups, "the wiper drops to nobody itself"),
    R(setresgid, "the wiper drops to nobody itself"),
    R(setresuid, "the wiper drops to nobody itself"),
    R(setuid, "the wiper drops to nobody itself"),
    R(seccomp, "its filter is in place"),
    R(mprotect, "never executable: added with its flags checked"),
    R(set_tid_address, "exec start-up only"),
    R(arch_prctl, "exec start-up only"),
};

static int add_memory(scmp_filter_ctx ctx, bool mprotect_too);
static int add_threads(scmp_filter_ctx ctx);

static bool listed(const struct rule *r, size_t n, int nr)
{
	for (size_t k = 0; k < n; k++)
		if (r[k].nr == nr)
			return true;
	return false;
}

/* The launcher's list less not_for_wipe (and, for the orchestrator itself, less
 * not_for_wipe_job), AF_UNIX sockets only. */
static int add_wipe(scmp_filter_ctx ctx, bool job)
{
	int rc;

	for (size_t i = 0; i < sizeof(launcher) / sizeof(launcher[0]); i++) {
		if (launcher[i].nr < 0 ||
		    listed(not_for_wipe, sizeof(not_for_wipe) / sizeof(not_for_wipe[0]),
			   launcher[i].nr) ||
		    (job && listed(not_for_wipe_job,
				   sizeof(not_for_wipe_job) / sizeof(not_for_wipe_job[0]),
				   launcher[i].nr)))
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, launcher[i].nr, 0)) != 0)
			return rc;
	}
	/* Sockets: AF_UNIX only (syslog, the name service for the wiper's user, the
	 * starter's channel). */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				   SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0))) != 0)
		return rc;
	/* ioctl: the disk's size, discard and flush, and mkfs.vfat's geometry. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 0)) != 0)
		return rc;
	if (job)
		return (rc = add_memory(ctx, true)) != 0 ? rc : add_threads(ctx);
	/* Executable mappings: the dynamic loader of the programs it execs. */
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 0);
}

static int add_list(scmp_filter_ctx ctx, const struct rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (r[i].nr < 0)
			continue; /* a pseudo number: not a system call on this architecture */
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r[i].nr, 0);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* mmap and mprotect, never with PROT_EXEC: no new executable memory after start-up. */
static int add_memory(scmp_filter_ctx ctx, bool mprotect_too)
{
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				  SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));

	if (rc == 0 && mprotect_too)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	return rc;
}

/* clone for threads only (CLONE_THREAD), never a new process; clone3, whose flags are
 * behind a pointer the filter cannot read, fails with ENOSYS so that glibc falls back. */
static int add_threads(scmp_filter_ctx ctx)
{
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				  SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));

	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	return rc;
}

/* The watcher's own system calls with arguments the filter checks. */
static int add_xferwatch(scmp_filter_ctx ctx)
{
	int rc;

	if ((rc = add_list(ctx, xferwatch, sizeof(xferwatch) / sizeof(xferwatch[0]))) != 0 ||
	    (rc = add_memory(ctx, true)) != 0 || (rc = add_threads(ctx)) != 0)
		return rc;
	/* openat read-only: /proc/PID/{exe,status}, the mount point, the name service's
	 * files. Never for writing, creating or truncating. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
				   SCMP_A2(SCMP_CMP_MASKED_EQ,
					   O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0))) !=
	    0)
		return rc;
	/* socket: AF_UNIX only (clamd, the name service). */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				   SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0))) != 0)
		return rc;
	/* fcntl: F_DUPFD_CLOEXEC (an event's fd kept for the hash worker), F_GETFL/F_SETFL
	 * (clamd's non-blocking socket), F_GETFD/F_SETFD. */
	static const int fcntl_ops[] = {F_DUPFD_CLOEXEC, F_GETFL, F_SETFL, F_GETFD, F_SETFD};
	for (size_t i = 0; i < sizeof(fcntl_ops) / sizeof(fcntl_ops[0]); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
					   SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)fcntl_ops[i], 0))) !=
		    0)
			return rc;
	/* ioctl: PIDFD_GET_INFO only (Linux 6.13; its first version, 64 bytes), the uids of
	 * a remembered process from its pidfd (lib/xfer/pidcache.c). */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				   SCMP_A1(SCMP_CMP_EQ,
					   (scmp_datum_t)_IOC(_IOC_READ | _IOC_WRITE, 0xFF, 11, 64),
					   0))) != 0)
		return rc;
	/* mount: only the read-only bind remount of its own mount point when it fails
	 * closed (xferwatch.c make_read_only); no new mount, no other flags. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mount), 1,
				   SCMP_A3(SCMP_CMP_EQ, MS_REMOUNT | MS_BIND | MS_RDONLY, 0))) != 0)
		return rc;
	/* isatty() of stdio: the one ioctl request. */
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				SCMP_A1(SCMP_CMP_EQ, TCGETS, 0));
}

/* The engine: its list, anonymous memory, and isatty() on stderr from stdio (the one
 * ioctl request). */
static int add_engine(scmp_filter_ctx ctx)
{
	int rc;

	if ((rc = add_list(ctx, engine, sizeof(engine) / sizeof(engine[0]))) != 0 ||
	    (rc = add_memory(ctx, true)) != 0)
		return rc;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				SCMP_A1(SCMP_CMP_EQ, TCGETS, 0));
}

/* The wiper: its list with threads only, memory, the block ioctls and O_DIRECT. */
static int add_wiper(scmp_filter_ctx ctx)
{
	int rc = 0;

	/* mprotect is in the list for the thread stack; filter it like mmap. */
	for (size_t i = 0; i < sizeof(wiper) / sizeof(wiper[0]); i++) {
		if (wiper[i].nr == SCMP_SYS(mprotect) || wiper[i].nr < 0)
			continue;
		if (wiper[i].nr == SCMP_SYS(clone)) {
			/* Threads only (CLONE_THREAD), never a new process. */
			rc = seccomp_rule_add(
			    ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
		} else if (wiper[i].nr == SCMP_SYS(clone3)) {
			/* clone3's flags are behind a pointer: make glibc fall back to
			 * clone, whose flags the filter can see. */
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
		} else {
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, wiper[i].nr, 0);
		}
		if (rc != 0)
			return rc;
	}
	if ((rc = add_memory(ctx, true)) != 0)
		return rc;
	/* The device size and discard: the two block ioctl requests. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				   SCMP_A1(SCMP_CMP_EQ, BLKGETSIZE64, 0))) != 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				   SCMP_A1(SCMP_CMP_EQ, BLKDISCARD, 0))) != 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				   SCMP_A1(SCMP_CMP_EQ, BLKSSZGET, 0))) != 0)
		return rc;
	/* fcntl: F_GETFL/F_SETFL to force O_DIRECT on the inherited fd. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				   SCMP_A1(SCMP_CMP_EQ, F_GETFL, 0))) != 0)
		return rc;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				SCMP_A1(SCMP_CMP_EQ, F_SETFL, 0));
}

/* The parent: its list, memory, AF_UNIX sockets and four ioctl requests. */
static int add_parent(scmp_filter_ctx ctx)
{
	/* ioctl: terminal check, BLKROSET for read-only grants and the size of a disk; the
	 * test bed's preload library passes them on. */
	static const unsigned long parent_ioctls[] = {TCGETS, BLKROSET, BLKROGET, BLKGETSIZE64};
	int rc;

	if ((rc = add_list(ctx, parent, sizeof(parent) / sizeof(parent[0]))) != 0 ||
	    (rc = add_memory(ctx, true)) != 0)
		return rc;
	/* Sockets: AF_UNIX only (channels, syslog). */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				   SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0))) != 0)
		return rc;
	for (size_t i = 0; i < sizeof(parent_ioctls) / sizeof(parent_ioctls[0]); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					   SCMP_A1(SCMP_CMP_EQ, parent_ioctls[i], 0))) != 0)
			return rc;
	return 0;
}

/* The launcher: what starting the engine and the root helpers needs. */
static int add_launcher(scmp_filter_ctx ctx)
{
	int rc;

	if ((rc = add_list(ctx, launcher, sizeof(launcher) / sizeof(launcher[0]))) != 0)
		return rc;
	/* mmap without PROT_EXEC; exec start-up maps code through the kernel's ELF
	 * loader, not mmap, but the dynamic loader maps libraries executable. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 0)) != 0)
		return rc;
	/* Sockets: AF_UNIX (engine channel, control socket), AF_NETLINK (uevents, udev). */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				   SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0))) != 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				   SCMP_A0(SCMP_CMP_EQ, AF_NETLINK, 0))) != 0)
		return rc;
	/* ioctl: terminal check, BLKROSET for read-only grants, BLKGETSIZE64, wipes. */
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 0);
}

static int add_role(scmp_filter_ctx ctx, enum sandbox_role role)
{
	int rc = add_list(ctx, base, sizeof(base) / sizeof(base[0]));

	if (rc != 0)
		return rc;
#ifdef PCL_SANDBOX_SANITIZER
	if ((rc = add_list(ctx, sanitizer, sizeof(sanitizer) / sizeof(sanitizer[0]))) != 0 ||
	    (rc = add_sanitizer_args(ctx)) != 0)
		return rc;
#endif
	switch (role) {
	case SANDBOX_ENGINE:
		return add_engine(ctx);
	case SANDBOX_WIPER:
		return add_wiper(ctx);
	case SANDBOX_FIDO:
		if ((rc = add_list(ctx, fido, sizeof(fido) / sizeof(fido[0]))) != 0)
			return rc;
		/* malloc and OpenSSL: anonymous memory, never executable. */
		return add_memory(ctx, true);
	case SANDBOX_XFERWATCH:
		return add_xferwatch(ctx);
	case SANDBOX_PARENT:
		return add_parent(ctx);
	case SANDBOX_WIPE:
		return add_wipe(ctx, true);
	case SANDBOX_WIPE_STARTER:
		return add_wipe(ctx, false);
	case SANDBOX_LAUNCHER:
		return add_launcher(ctx);
	}
	return -EINVAL;
}

int sandbox_apply(enum sandbox_role role)
{
	scmp_filter_ctx ctx = seccomp_init(DEFAULT_ACTION);
	int rc;

	if (ctx == NULL)
		return -ENOMEM;
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0 ||
	    /* Every thread of the process, also those started before (the audit flusher). */
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0 ||
	    (rc = add_role(ctx, role)) != 0) {
		seccomp_release(ctx);
		return rc < 0 ? rc : -EINVAL;
	}
#ifdef PCL_SANDBOX_SANITIZER
	prepare_sanitizer();
#endif
	if ((rc = seccomp_load(ctx)) != 0) {
		seccomp_release(ctx);
		return rc < 0 ? rc : -EINVAL;
	}
	seccomp_release(ctx);
	return 0;
}

const char *sandbox_role_name(enum sandbox_role role)
{
	static const char *const names[] = {"parent",	 "engine",   "wiper", "fido",
					    "xferwatch", "launcher", "wipe",  "wipe-starter"};

	return (unsigned)role < sizeof(names) / sizeof(names[0]) ? names[role] : "unknown";
}
