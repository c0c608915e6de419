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
    R(recvmsg, "udev monitor, control clients"),
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

/* The parent does everything its children do before they install their own, tighter,
 * filters (a filter is inherited across fork and exec and can only be narrowed). */
static const struct rule parent[] = {
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
    R(bind, "engine start-up: udev monitor, control socket"),
    R(listen, "engine start-up: control socket"),
    R(getsockname, "engine start-up: libudev monitor address"),
    R(accept4, "engine control socket"),
    R(getsockopt, "engine control clients"),
    R(setsockopt, "engine udev monitor buffer"),
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
};

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
		if ((rc = add_list(ctx, engine, sizeof(engine) / sizeof(engine[0]))) != 0 ||
		    (rc = add_memory(ctx, true)) != 0)
			return rc;
		/* isatty() on stderr from stdio: the one ioctl request. */
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					SCMP_A1(SCMP_CMP_EQ, TCGETS, 0));
	case SANDBOX_WIPER:
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
				rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3),
						      0);
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
	case SANDBOX_FIDO:
		if ((rc = add_list(ctx, fido, sizeof(fido) / sizeof(fido[0]))) != 0)
			return rc;
		/* malloc and OpenSSL: anonymous memory, never executable. */
		return add_memory(ctx, true);
	case SANDBOX_PARENT:
		if ((rc = add_list(ctx, parent, sizeof(parent) / sizeof(parent[0]))) != 0)
			return rc;
		/* mmap without PROT_EXEC; exec start-up maps code through the kernel's ELF
		 * loader, not mmap, but the dynamic loader maps libraries executable. */
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 0)) != 0)
			return rc;
		/* Sockets: AF_UNIX (engine channel, control socket) and AF_NETLINK (udev). */
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
					   SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0))) != 0 ||
		    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
					   SCMP_A0(SCMP_CMP_EQ, AF_NETLINK, 0))) != 0)
			return rc;
		/* ioctl: terminal check, BLKROSET for read-only grants, BLKGETSIZE64, wipes. */
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 0);
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
	static const char *const names[] = {"parent", "engine", "wiper", "fido"};

	return (unsigned)role < sizeof(names) / sizeof(names[0]) ? names[role] : "unknown";
}
