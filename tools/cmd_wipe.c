/*
 * cmd_wipe.c - `portcullis wipe`: securely wipe a removable medium and write a
 * certificate of sanitisation. `--local` is the IT provider's offline/bench mode: run as
 * root, it does what the daemon parent does (pre-checks, O_EXCL open, identity re-check,
 * spawn portcullis-wiper with the fd, certificate, fresh vfat). `--check` and
 * `--identify` only read. Linked by the portcullis CLI (runs as the invoking user) and
 * by portcullis-wipe (root, for the daemon's wipe jobs). Arguments are untrusted (parsed
 * in tools/wipe_opts.c), the wiper's output is parsed as untrusted (lib/wipe/report.c).
 */
#include "client.h"
#include "commands.h"
#include "wipe.h"
#include "wipe_crypto.h"
#include "wipe_opts.h"

#include <errno.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/fs.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

int wipe_find_wiper(char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = '\0';
		const char *dir = dirname(exe);
		/* Next to portcullis-wipe (libexec), or beside the CLI's bin/. */
		snprintf(out, len, "%s/portcullis-wiper", dir);
		if (access(out, X_OK) == 0)
			return 0;
		snprintf(out, len, "%s/../libexec/portcullis/portcullis-wiper", dir);
		if (access(out, X_OK) == 0)
			return 0;
	}
	snprintf(out, len, "%s/portcullis-wiper", WIPE_LIBEXECDIR);
	return access(out, X_OK) == 0 ? 0 : -ENOENT;
}

static int read_identity_file(const char *path, struct wipe_identity *id)
{
	char buf[65536], msg[600];
	struct pcl_diag d = {0};
	FILE *f = fopen(path, "re");
	size_t n;

	if (f == NULL)
		return pcl_fail("%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (wipe_identity_from_json(buf, n, id, &d) != 0) {
		snprintf(d.file, sizeof(d.file), "%s", path);
		pcl_diag_format(&d, msg, sizeof(msg));
		return pcl_fail("%s", msg);
	}
	return 0;
}

/* A new certificate file: never an existing file, never through a symbolic link. With
 * --cert-dir-fd (portcullisd's wipe job) the file is made in the directory that
 * descriptor holds open, by its last path component: whatever the path names now. */
static int write_file(int dirfd, const char *path, const char *text)
{
	const char *base = strrchr(path, '/');
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = dirfd >= 0 ? openat(dirfd, base ? base + 1 : path, flags, 0644)
			    : open(path, flags, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (f == NULL) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return pcl_fail("%s: %s", path, strerror(err));
	}
	if (fputs(text, f) < 0 || fclose(f) != 0)
		return pcl_fail("%s: %s", path, strerror(errno));
	return 0;
}

/* --json: progress and the outcome as JSON lines on stdout (for portcullisd, which
 * relays progress to the user and records the outcome in the audit trail). */
static int json_mode;

static void json_line(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(o);
}

static int json_outcome(const char *action, const char *device, const char *reason,
			const char *cert_path, struct json_object *cert)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "event.action", json_object_new_string(action));
	json_object_object_add(
	    o, "event.outcome",
	    json_object_new_string(strcmp(action, "wipe-done") == 0 ? "success" : "failure"));
	json_object_object_add(o, "wipe.device", json_object_new_string(device));
	if (reason != NULL && *reason)
		json_object_object_add(o, "event.reason", json_object_new_string(reason));
	if (cert_path != NULL)
		json_object_object_add(o, "wipe.certificate_file",
				       json_object_new_string(cert_path));
	if (cert != NULL)
		json_object_object_add(o, "wipe.certificate", cert);
	json_line(o);
	return strcmp(action, "wipe-done") == 0 ? 0 : 1;
}

/* A refusal: the outcome record first (--json, so the daemon records why), then the
 * message on stderr. Nothing has been written to the medium. */
static int refuse(const char *device, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(const char *device, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (json_mode)
		json_outcome("wipe-refused", device, why, NULL, NULL);
	return pcl_fail("%s: refused: %s", device, why);
}

/* What portcullisd verified against what the open medium is now (--expect-*, --usb-*). */
static int check_expected(const struct wipe_opts *o, dev_t rdev, uint64_t size,
			  const struct wipe_identity *now, struct pcl_diag *d)
{
	unsigned maj, min, vid, pid;
	char v[8], p[8], tail;

	if (o->expect_dev != NULL && (sscanf(o->expect_dev, "%u:%u%c", &maj, &min, &tail) != 2 ||
				      makedev(maj, min) != rdev)) {
		pcl_diag_set(d, "", 0, "the open device is %u:%u, not %s", major(rdev), minor(rdev),
			     o->expect_dev);
		return -EPERM;
	}
	if (o->expect_size != 0 && o->expect_size != size) {
		pcl_diag_set(d, "", 0, "the medium holds %llu bytes, not the %llu expected",
			     (unsigned long long)size, o->expect_size);
		return -EPERM;
	}
	if (o->usb_ids == NULL)
		return 0;
	if (strlen(o->usb_ids) != 9 || sscanf(o->usb_ids, "%4x:%4x%c", &vid, &pid, &tail) != 2) {
		pcl_diag_set(d, "", 0, "--usb-ids '%s': want VID:PID, four hex digits each",
			     o->usb_ids);
		return -EINVAL;
	}
	if (now->usb_vid[0] == '\0')
		return 0; /* the medium's USB device is not visible here: the daemon's word */
	snprintf(v, sizeof(v), "%04x", vid);
	snprintf(p, sizeof(p), "%04x", pid);
	if (strcasecmp(now->usb_vid, v) != 0 || strcasecmp(now->usb_pid, p) != 0 ||
	    (o->usb_serial != NULL && strcmp(now->usb_serial, o->usb_serial) != 0)) {
		pcl_diag_set(d, "", 0,
			     "the medium belongs to USB %s:%s serial %.64s, not %s serial %.64s",
			     now->usb_vid, now->usb_pid, now->usb_serial, o->usb_ids,
			     o->usb_serial ? o->usb_serial : "-");
		return -EPERM;
	}
	return 0;
}

static void show_progress(const struct wipe_progress *p)
{
	static const char *const names[] = {"write", "verify", "discard", "done"};
	double pct = p->total ? 100.0 * (double)p->done / (double)p->total : 0;
	unsigned eta = (unsigned)p->eta;

	if (json_mode) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "progress", json_object_new_string(names[p->phase & 3]));
		json_object_object_add(o, "percent", json_object_new_double(pct));
		json_object_object_add(o, "rate", json_object_new_double(p->rate));
		json_object_object_add(o, "eta", json_object_new_int((int)eta));
		json_line(o);
		return;
	}
	fprintf(stderr, "%s%-6s %5.1f%%  %8.1f MB/s  ETA %u:%02u%s", isatty(2) ? "\r" : "",
		names[p->phase & 3], pct, p->rate / 1e6, eta / 60, eta % 60,
		isatty(2) ? "  " : "\n");
}

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Run the wiper over fd; fills res; returns 0 when it ran to a result. */
static int run_wiper(const struct wipe_opts *o, int fd, const uint8_t key[WIPE_KEY_LEN],
		     uint64_t size, uint32_t block, struct wipe_result *res)
{
	char wiper[PATH_MAX], msg[600];
	/* The discard is ours, after our own spot check (see below). */
	struct wipe_job job = {.size = size, .chunk = (uint32_t)o->chunk, .block = block};
	struct sigaction sa = {.sa_handler = on_interrupt}; /* no SA_RESTART */
	struct wipe_child c;
	struct wipe_report r;
	struct pcl_diag d = {0};
	int got = 0, n, st;

	if (wipe_find_wiper(wiper, sizeof(wiper)) != 0)
		return pcl_fail("portcullis-wiper not found next to portcullis nor in %s",
				WIPE_LIBEXECDIR);
	memcpy(job.key, key, sizeof(job.key));
	n = wipe_spawn(wiper, fd, &job, o->user, &c);
	explicit_bzero(&job, sizeof(job));
	if (n != 0)
		return pcl_fail("cannot start %s: %s", wiper, strerror(-n));
	/* Ctrl-C or SIGTERM: the wiper stops between chunks and still reports, so the
	 * certificate records the cancelled wipe. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while ((n = wipe_child_next(&c, &r, &d)) == 1) {
		if (interrupted == 1) {
			kill(c.pid, SIGTERM);
			interrupted = 2;
		}
		if (r.kind == WIPE_REPORT_PROGRESS)
			show_progress(&r.progress);
		else if (r.kind == WIPE_REPORT_RESULT) {
			*res = r.result;
			got = 1;
		}
	}
	if (isatty(2))
		fputc('\n', stderr);
	st = wipe_child_finish(&c, n < 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (n < 0) {
		pcl_diag_format(&d, msg, sizeof(msg));
		memset(res, 0, sizeof(*res));
		res->status = WIPE_ERR_INTERNAL;
		snprintf(res->reason, sizeof(res->reason), "wiper killed: %.120s", msg);
		return 0;
	}
	if (!got) {
		memset(res, 0, sizeof(*res));
		res->status = WIPE_ERR_INTERNAL;
		snprintf(res->reason, sizeof(res->reason),
			 "wiper exited (status %d) without a result",
			 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		return 0;
	}
	/* Fail closed: "ok" counts only with a clean exit and every byte verified. */
	if (res->status == WIPE_OK && (!WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
				       res->verified != size || res->written != size)) {
		res->status = WIPE_ERR_INTERNAL;
		snprintf(res->reason, sizeof(res->reason),
			 "wiper reported ok but exited %d after verifying %llu of %llu bytes",
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1, (unsigned long long)res->verified,
			 (unsigned long long)size);
	}
	return 0;
}

int (*cmd_wipe_mkfs)(const char *device);

static int make_vfat(const char *device)
{
	if (cmd_wipe_mkfs != NULL)
		return cmd_wipe_mkfs(device);
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char a0[] = "mkfs.vfat", a1[] = "-I", a2[] = "-n", a3[] = "PORTCULLIS",
		     dev[PATH_MAX];
		char *av[] = {a0, a1, a2, a3, dev, NULL};

		snprintf(dev, sizeof(dev), "%s", device);
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execvp("mkfs.vfat", av);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/*
 * After the wiper's "ok": read random blocks back ourselves with the key we generated
 * (fail closed if the unprivileged wiper lied or the medium changed since), then discard.
 */
static void finish_ok(const struct wipe_opts *o, int fd, const uint8_t key[WIPE_KEY_LEN],
		      uint64_t size, uint32_t lbs, struct wipe_result *res)
{
	uint32_t block = size % 65536 == 0 ? 65536 : lbs;
	int r = wipe_spot_check(&wipe_fd_ops, &fd, key, size, block, 64, res);

	if (r == -EBADMSG)
		res->first_bad_block = res->first_bad / lbs;
	if (r != 0 && r != -EBADMSG) {
		res->status = WIPE_ERR_IO;
		res->verified = 0;
		snprintf(res->reason, sizeof(res->reason), "spot check after the wipe: %s",
			 strerror(-r));
	}
	if (r != 0 || !o->discard)
		return;
	res->discarded = wipe_fd_ops.discard(&fd, 0, size) == 0;
}

static void default_operator(char *out, size_t len)
{
	const char *s = getenv("SUDO_USER");
	struct passwd *pw;

	if (s == NULL || *s == '\0') {
		pw = getpwuid(getuid());
		s = pw ? pw->pw_name : "unknown";
	}
	snprintf(out, len, "%s", s);
}

/* The signed JSON certificate as written, for the outcome record. */
static char cert_json[16384];

static int write_certificate(const struct wipe_opts *o, const struct wipe_cert *c, char *prefix,
			     size_t plen)
{
	char *json = cert_json;
	static char text[16384];
	char path[PATH_MAX + 8], sigline[128], stamp[32];
	struct wipe_ed25519 *k = NULL;
	struct wipe_signer s;
	time_t t = (time_t)c->end;
	struct tm tm;
	int n;

	if (o->cert != NULL) {
		snprintf(prefix, plen, "%s", o->cert);
	} else {
		gmtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(prefix, plen, "wipe-certificate-%s", stamp);
	}
	snprintf(sigline, sizeof(sigline), "unsigned");
	if (o->sign_key != NULL) {
		n = wipe_ed25519_load(&k, o->sign_key);
		if (n != 0)
			return pcl_fail("%s: not a readable Ed25519 private key (%s)", o->sign_key,
					strerror(-n));
		wipe_ed25519_signer(k, &s);
		snprintf(sigline, sizeof(sigline), "Ed25519, key %s (signature in %.60s.json)",
			 s.key_id, prefix);
	}
	n = wipe_cert_signed_json(c, k ? &s : NULL, json, sizeof(cert_json));
	wipe_ed25519_free(&k);
	if (n < 0)
		return pcl_fail("cannot encode the certificate: %s", strerror(-n));
	snprintf(path, sizeof(path), "%s.json", prefix);
	if (write_file(o->cert_dir_fd, path, json) != 0)
		return 1;
	if (wipe_cert_text(c, sigline, text, sizeof(text)) < 0)
		return pcl_fail("certificate text too long");
	snprintf(path, sizeof(path), "%s.txt", prefix);
	if (write_file(o->cert_dir_fd, path, text) != 0)
		return 1;
	if (wipe_cert_html(c, sigline, text, sizeof(text)) < 0)
		return pcl_fail("certificate HTML too long");
	snprintf(path, sizeof(path), "%s.html", prefix);
	return write_file(o->cert_dir_fd, path, text);
}

/* `portcullis wipe DEVICE`: ask portcullisd to wipe an approved medium ("finish and
 * wipe"); the daemon checks the approval and runs the wipe as root; we show progress. */
static int wipe_via_daemon(const char *device)
{
	struct json_object *req = json_object_new_object(), *line;
	int rc = 1;
	bool on_progress_line = false; /* a terminal's progress line waits for its newline */

	json_object_object_add(req, "cmd", json_object_new_string("wipe"));
	json_object_object_add(req, "device", json_object_new_string(device));
	FILE *f = client_request(client_socket_path(), req);
	json_object_put(req);
	if (f == NULL)
		return 1;
	while ((line = client_read(f)) != NULL) {
		const char *err = client_field(line, "error"),
			   *phase = client_field(line, "progress");
		const char *action = client_field(line, "event.action");
		struct json_object *v;
		if (on_progress_line && !*phase) {
			fputc('\n', stderr);
			on_progress_line = false;
		}
		if (*err) {
			rc = pcl_fail("wipe %s: %s", device, err);
		} else if (*phase) {
			double pct = json_object_object_get_ex(line, "percent", &v)
					 ? json_object_get_double(v)
					 : 0;
			double rate = json_object_object_get_ex(line, "rate", &v)
					  ? json_object_get_double(v)
					  : 0;
			int eta =
			    json_object_object_get_ex(line, "eta", &v) ? json_object_get_int(v) : 0;
			fprintf(stderr, "%s%-6s %5.1f%%  %8.1f MB/s  ETA %d:%02d%s",
				isatty(2) ? "\r" : "", phase, pct, rate / 1e6, eta / 60, eta % 60,
				isatty(2) ? "  " : "\n");
			on_progress_line = isatty(2);
		} else if (strcmp(action, "wipe-done") == 0) {
			printf("%s: wiped and verified; certificate %s\n", device,
			       client_field(line, "wipe.certificate_file"));
			rc = 0;
		} else if (*action) {
			rc = pcl_fail("%s: %s: %s", device, action,
				      client_field(line, "event.reason"));
		}
		json_object_put(line);
	}
	if (on_progress_line)
		fputc('\n', stderr);
	fclose(f);
	return rc;
}

/* `portcullis wipe key-init --key-out PEM`: this PC's wipe key, made at installation (root).
 * Prints the public half, which the IT provider keeps to verify the PC's certificates. */
static int wipe_key_init(int argc, char **argv)
{
	struct wipe_ed25519 *k = NULL;
	uint8_t pub[32];
	char b64[64];
	int r;

	if (argc != 3 || strcmp(argv[1], "--key-out") != 0) {
		fprintf(stderr, "usage: portcullis wipe key-init --key-out PEM\n");
		return 2;
	}
	if ((r = wipe_ed25519_generate(&k)) != 0)
		return pcl_fail("cannot make a wipe key: %s", strerror(-r));
	r = wipe_ed25519_save(k, argv[2]);
	if (r == 0)
		r = wipe_ed25519_public(k, pub);
	if (r != 0) {
		wipe_ed25519_free(&k);
		return pcl_fail("%s: %s", argv[2],
				r == -EEXIST ? "exists already: a PC's wipe key is made once"
					     : strerror(-r));
	}
	EVP_EncodeBlock((unsigned char *)b64, pub, 32);
	printf("wipe-key-id %s\nwipe-public-key %s\n", wipe_ed25519_key_id(k), b64);
	wipe_ed25519_free(&k);
	return 0;
}

/* The medium: its node, the identity the checks were made on and, once held, the O_EXCL
 * descriptor, its size in bytes and its logical block size. */
struct medium {
	struct stat st;
	struct wipe_identity id;
	int fd, lbs;
	uint64_t size;
};

/* A refusal whose reason is a lib/wipe diagnostic. */
static int refuse_diag(const char *device, const struct pcl_diag *d)
{
	char why[600];

	pcl_diag_format(d, why, sizeof(why));
	return refuse(device, "%s", why);
}

/* Read only: the node is a block device whose identity sysfs gives. */
static int identify(const struct wipe_opts *o, struct medium *m)
{
	if (stat(o->device, &m->st) != 0)
		return refuse(o->device, "%s", strerror(errno));
	if (!S_ISBLK(m->st.st_mode))
		return refuse(o->device, "not a block device");
	if (wipe_identity_read(&wipe_sysroot_default, m->st.st_rdev, &m->id) != 0)
		return refuse(o->device, "cannot read its identity from sysfs");
	return 0;
}

/* Read only: lib/wipe's pre-checks, and the identity record of --identity. */
static int precheck(const struct wipe_opts *o, const struct medium *m)
{
	struct wipe_identity want;
	struct pcl_diag d = {0};

	if (wipe_precheck(&wipe_sysroot_default, m->st.st_rdev, &d) != 0)
		return refuse_diag(o->device, &d);
	if (o->identity == NULL)
		return 0;
	if (read_identity_file(o->identity, &want) != 0)
		return refuse(o->device, "the identity record %s cannot be read", o->identity);
	if (wipe_identity_compare(&want, &m->id, &d) != 0)
		return refuse_diag(o->device, &d);
	return 0;
}

/* The medium opened for writing, exclusively. A medium just unmounted or just probed can
 * still be claimed for a moment by the last program that used it (its last descriptor, a
 * filesystem's final release): EBUSY is tried again for up to two seconds; a medium that
 * stays mounted or held is refused after that. */
static int open_exclusive(const char *device)
{
	const struct timespec step = {.tv_nsec = 50 * 1000 * 1000};
	int fd;

	for (int tries = 0;; tries++) {
		fd = open(device, O_RDWR | O_EXCL | O_DIRECT | O_CLOEXEC);
		if (fd >= 0 || errno != EBUSY || tries == 40)
			return fd;
		nanosleep(&step, NULL);
	}
}

/* Root only, the signing key readable (no unsigned wipe), then the medium held O_EXCL and
 * checked again: the same node, still unmounted (nothing can mount it while we hold
 * O_EXCL), the same size and identity, and what portcullisd verified. 0 with m->fd open,
 * else the exit code; nothing has been written. */
static int hold(const struct wipe_opts *o, struct medium *m)
{
	struct wipe_identity held;
	struct pcl_diag d = {0};
	struct stat fst;

	if (geteuid() != 0)
		return refuse(o->device, "wipe --local must run as root");
	if (o->sign_key != NULL) {
		struct wipe_ed25519 *k = NULL;
		int kr = wipe_ed25519_load(&k, o->sign_key);
		wipe_ed25519_free(&k);
		if (kr != 0)
			return refuse(o->device, "%s: not a readable Ed25519 private key (%s)",
				      o->sign_key, strerror(-kr));
	}
	/* O_EXCL on a block device fails with EBUSY while it is mounted or claimed. */
	m->fd = open_exclusive(o->device);
	if (m->fd < 0)
		return refuse(o->device, "%s",
			      errno == EBUSY ? "busy (mounted, or opened exclusively elsewhere)"
					     : strerror(errno));
	if (fstat(m->fd, &fst) != 0 || fst.st_rdev != m->st.st_rdev ||
	    wipe_precheck(&wipe_sysroot_default, fst.st_rdev, &d) != 0 ||
	    ioctl(m->fd, BLKGETSIZE64, &m->size) != 0 || m->size != m->id.size ||
	    ioctl(m->fd, BLKSSZGET, &m->lbs) != 0 || m->lbs < 512 || m->lbs > 65536) {
		close(m->fd);
		return refuse(o->device, "changed while opening it");
	}
	/* The identity again, now that the medium is held: the one the checks were made on,
	 * and the one portcullisd verified belongs to the approved USB device. */
	d = (struct pcl_diag){0};
	if (wipe_identity_read(&wipe_sysroot_default, fst.st_rdev, &held) != 0 ||
	    wipe_identity_compare(&m->id, &held, &d) != 0 ||
	    check_expected(o, fst.st_rdev, m->size, &held, &d) != 0) {
		close(m->fd);
		return d.msg[0] ? refuse_diag(o->device, &d)
				: refuse(o->device, "its identity cannot be read again");
	}
	return 0;
}

/* The wipe itself over the held medium, which it closes: a fresh pattern key, the
 * crypto-erase step and/or the wiper, our own spot check. 0 with res filled (and
 * *erased, the bytes crypto-erased), else the exit code of a wipe that never started. */
static int erase(struct wipe_opts *o, struct medium *m, struct wipe_result *res, uint64_t *erased)
{
	uint8_t key[WIPE_KEY_LEN];
	uint32_t lbs = (uint32_t)m->lbs;
	int r = 0;

	if (RAND_bytes(key, sizeof(key)) != 1) {
		close(m->fd);
		return refuse(o->device, "no random key for the pattern");
	}
	if (o->crypto < 0) /* auto: a LUKS container is crypto-erased, then overwritten */
		wipe_method_auto(o->device, &o->crypto, &o->overwrite);
	if (o->crypto) {
		wipe_crypto_step(o->device, m->fd, m->size, lbs, res, erased);
		if (res->status == WIPE_ERR_REFUSED) {
			explicit_bzero(key, sizeof(key));
			close(m->fd);
			return refuse(o->device, "crypto-erase: %s", res->reason);
		}
		if (res->status == WIPE_OK && !o->overwrite && o->discard)
			res->discarded = wipe_fd_ops.discard(&m->fd, 0, m->size) == 0;
	}
	if (!o->crypto || (o->overwrite && res->status == WIPE_OK))
		r = run_wiper(o, m->fd, key, m->size, lbs, res);
	if (r == 0 && res->status == WIPE_OK && o->overwrite)
		finish_ok(o, m->fd, key, m->size, lbs, res);
	explicit_bzero(key, sizeof(key));
	close(m->fd);
	if (r != 0 && json_mode)
		json_outcome("wipe-refused", o->device, "the wiper could not start", NULL, NULL);
	return r;
}

/* The certificate's fields from the options, the medium and the result (not its end). */
static void fill_cert(const struct wipe_opts *o, const struct medium *m,
		      const struct wipe_result *res, uint64_t erased, struct wipe_cert *cert)
{
	cert->media = m->id;
	/* The USB device portcullisd verified, when the medium's own is not visible here. */
	if (o->usb_ids != NULL && m->id.usb_vid[0] == '\0') {
		snprintf(cert->media.usb_vid, sizeof(cert->media.usb_vid), "%.4s", o->usb_ids);
		snprintf(cert->media.usb_pid, sizeof(cert->media.usb_pid), "%.4s", o->usb_ids + 5);
		snprintf(cert->media.usb_serial, sizeof(cert->media.usb_serial), "%s",
			 o->usb_serial ? o->usb_serial : "");
	}
	snprintf(cert->usb_hash, sizeof(cert->usb_hash), "%s", o->usb_hash ? o->usb_hash : "");
	snprintf(cert->method, sizeof(cert->method), "%s", WIPE_METHOD);
	snprintf(cert->tool, sizeof(cert->tool), "portcullis-wiper %s", WIPE_TOOL_VERSION);
	cert->passes = 1;
	cert->status = res->status;
	snprintf(cert->reason, sizeof(cert->reason), "%s", res->reason);
	cert->first_bad_block = res->first_bad_block;
	cert->block = (uint32_t)m->lbs;
	cert->verified = res->verified;
	cert->discarded = res->discarded;
	snprintf(cert->filesystem, sizeof(cert->filesystem), "none");
	if (o->crypto)
		wipe_crypto_cert(cert, o->overwrite, erased);
	if (o->op)
		snprintf(cert->operator_name, sizeof(cert->operator_name), "%s", o->op);
	else
		default_operator(cert->operator_name, sizeof(cert->operator_name));
	snprintf(cert->approval, sizeof(cert->approval), "%s",
		 o->approval ? o->approval : "none (local wipe)");
	gethostname(cert->host, sizeof(cert->host) - 1);
	snprintf(cert->device, sizeof(cert->device), "%s", o->device);
}

/* The outcome once the certificate is written: a JSON record (--json) or one line.
 * mkfs_failed: wiped and verified, but the fresh filesystem could not be made. */
static int report(const struct wipe_opts *o, const struct medium *m, const struct wipe_result *res,
		  uint64_t erased, const char *prefix, int mkfs_failed)
{
	if (json_mode) {
		char path[PATH_MAX + 8];
		snprintf(path, sizeof(path), "%s.json", prefix);
		struct json_object *cj = json_tokener_parse(cert_json);
		return json_outcome(
		    res->status == WIPE_OK && !mkfs_failed ? "wipe-done" : "wipe-failed", o->device,
		    res->status != WIPE_OK ? res->reason
		    : mkfs_failed	   ? "wiped and verified, but mkfs.vfat failed"
					   : NULL,
		    path, cj);
	}
	if (res->status != WIPE_OK)
		return pcl_fail("%s: wipe FAILED (%s): %s; certificate %s.json", o->device,
				wipe_status_name(res->status), res->reason, prefix);
	if (o->crypto && !o->overwrite) {
		printf("%s: crypto-erased: the LUKS headers and keyslot areas (%llu bytes) "
		       "overwritten and verified%s; certificate %s.json\n",
		       o->device, (unsigned long long)erased, res->discarded ? ", discarded" : "",
		       prefix);
		return mkfs_failed;
	}
	printf("%s: wiped and verified, %llu bytes (write %.1f MB/s, verify %.1f MB/s)%s; "
	       "certificate %s.json\n",
	       o->device, (unsigned long long)m->size,
	       res->write_seconds > 0 ? (double)m->size / res->write_seconds / 1e6 : 0,
	       res->verify_seconds > 0 ? (double)m->size / res->verify_seconds / 1e6 : 0,
	       res->discarded ? ", discarded" : "", prefix);
	return mkfs_failed;
}

/* `portcullis wipe --local`: hold, erase, certify, report. */
static int wipe_local(struct wipe_opts *o, struct medium *m)
{
	struct wipe_cert cert;
	struct wipe_result res;
	char prefix[PATH_MAX];
	uint64_t erased = 0;
	int r = hold(o, m), mkfs_failed = 0;

	if (r != 0)
		return r;
	memset(&cert, 0, sizeof(cert));
	cert.start = (int64_t)time(NULL);
	r = erase(o, m, &res, &erased);
	if (r != 0)
		return r;
	cert.end = (int64_t)time(NULL);
	fill_cert(o, m, &res, erased, &cert);
	if (res.status == WIPE_OK && strcmp(o->mkfs, "vfat") == 0) {
		if (make_vfat(o->device) == 0)
			snprintf(cert.filesystem, sizeof(cert.filesystem), "vfat");
		else
			mkfs_failed =
			    pcl_fail("%s: wiped and verified, but mkfs.vfat failed", o->device);
	}
	cert.end = (int64_t)time(NULL);
	if (write_certificate(o, &cert, prefix, sizeof(prefix)) != 0) {
		if (json_mode)
			json_outcome("wipe-failed", o->device,
				     "the certificate could not be written", NULL, NULL);
		return 1;
	}
	return report(o, m, &res, erased, prefix, mkfs_failed);
}

int cmd_wipe(int argc, char **argv)
{
	struct wipe_opts o;
	struct medium m = {.fd = -1};
	char json[1024];
	int r;

	if (argc >= 2 && strcmp(argv[1], "key-init") == 0)
		return wipe_key_init(argc - 1, argv + 1);
	if (argc == 2 && argv[1][0] != '-') {
		char port[64];
		return client_device_name(argv[1], port, sizeof(port)) != 0 ? 1
									    : wipe_via_daemon(port);
	}
	r = wipe_opts_parse(argc, argv, &o);
	if (r != 0)
		return r < 0 ? 0 : r;
	json_mode = o.json;
	if ((r = identify(&o, &m)) != 0)
		return r;
	if (o.identify) {
		if (wipe_identity_to_json(&m.id, json, sizeof(json)) < 0)
			return pcl_fail("%s: identity too long", o.device);
		printf("%s\n", json);
		return 0;
	}
	if ((r = precheck(&o, &m)) != 0)
		return r;
	if (o.check) {
		printf("%s: ok to wipe (%llu bytes, %s %s, serial %s)\n", o.device,
		       (unsigned long long)m.id.size, m.id.vendor, m.id.model, m.id.serial);
		return 0;
	}
	return wipe_local(&o, &m);
}
