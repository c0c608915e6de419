/*
 * xferwatch.c - portcullis-xferwatch MOUNTPOINT: watches one approved medium
 * with its eBPF program (lib/xfer/bpf) or, where that cannot load, fanotify,
 * and prints one JSON record per line on stdout (file-written, file-read,
 * malware-blocked, xfer-overflow, ...): file records in batches (at most 64
 * records or 5 ms, or at once when the watcher has nothing left in hand), any
 * other record at once. Runs as root (it loads the eBPF program, opens and
 * marks fanotify and reads /proc/PID/exe of other users).
 * Its arguments come from portcullisd or the administrator; its events from
 * the kernel, decoded by lib/xfer with bounds checks. Under on-overflow =
 * fail-closed a lost event makes the mount read-only and every later open is
 * refused. Once its program is attached, its fanotify groups are marked and its
 * threads started, before the first event is read, it installs its own seccomp
 * allow-list (lib/sandbox, SANDBOX_XFERWATCH).
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <time.h>
#include <json-c/json.h>

#include "diag.h"
#include "fileio.h"
#include "sandbox.h"
#include "xfer.h"

static volatile sig_atomic_t stop;
static volatile sig_atomic_t output_lost; /* the reader of our records went away */
static const char *mountpoint;
/* The watch, for the sink failing closed under the eBPF backend: its permission group is
 * marked (later opens refused) before the mount turns read-only. */
static struct xfer_watch watch;
static bool bpf_backend;

static int make_read_only(void)
{
	/* Per-mount read-only: works for kernel and FUSE filesystems alike. */
	int rc = -1;
	for (int i = 0; i < 100 && rc < 0; i++) {
		rc = mount(NULL, mountpoint, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
		if (rc < 0 && errno != EBUSY)
			break;
		if (rc < 0) /* a write in progress: later opens are refused meanwhile */
			usleep(20000);
	}
	return rc;
}

/* The medium going away (unmounted) ends the watch: check the mount point's
 * device twice a second. */
static dev_t watched_dev;
static atomic_bool watch_done;

static void *unmount_watch(void *arg)
{
	while (!atomic_load(&watch_done)) {
		struct stat st;
		if (stat(mountpoint, &st) != 0 || st.st_dev != watched_dev) {
			kill(getpid(), SIGTERM); /* the handler stops the loop */
			break;
		}
		usleep(500000);
	}
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Records go out in batches: a file's record waits in stdout's buffer until BATCH_RECORDS
 * are there, the watcher has nothing left in hand (sink_idle: the events read so far all
 * have their records) or BATCH_MS have passed since the first of them (the output thread,
 * asleep while nothing waits), so the engine takes many per read; any other record (start,
 * stop, failures, refusals) is sent at once with what waits before it. */
#define BATCH_RECORDS 64
#define BATCH_MS      5
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t out_cond;
static unsigned out_pending;
static long out_first_ms; /* CLOCK_MONOTONIC: the first record waiting */
static bool out_threaded, out_done, out_asleep;
static pthread_t out_thread;

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void flush_locked(void)
{
	int rc;

	if (out_pending == 0)
		return;
	out_pending = 0;
	rc = fflush(stdout);
	if ((rc != 0 || ferror(stdout)) && !output_lost) {
		/* Transfers can no longer be logged: fail closed and stop. */
		output_lost = 1;
		make_read_only();
		fprintf(stderr,
			"portcullis-xferwatch: cannot write records: %s; %s made read-only\n",
			strerror(errno), mountpoint);
		stop = 1;
	}
}

static bool routine(struct json_object *rec)
{
	static const char *const file_actions[] = {"file-written", "file-read", "file-created",
						   "file-deleted", "file-renamed"};
	struct json_object *a;
	const char *s;

	if (!json_object_object_get_ex(rec, "event.action", &a) ||
	    (s = json_object_get_string(a)) == NULL)
		return false;
	for (size_t i = 0; i < sizeof(file_actions) / sizeof(file_actions[0]); i++)
		if (strcmp(s, file_actions[i]) == 0)
			return true;
	return false;
}

static void print_json(struct json_object *rec)
{
	const char *s = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
								JSON_C_TO_STRING_NOSLASHESCAPE);
	pthread_mutex_lock(&out_lock);
	fputs(s, stdout);
	fputc('\n', stdout);
	if (out_pending++ == 0)
		out_first_ms = mono_ms();
	if (!out_threaded || !routine(rec) || out_pending >= BATCH_RECORDS)
		flush_locked();
	if (out_asleep && out_pending > 0) {
		out_asleep = false;
		pthread_cond_signal(&out_cond);
	}
	pthread_mutex_unlock(&out_lock);
}

/* The output thread: what waits goes out BATCH_MS after the first of it, unless it went
 * before; asleep while nothing waits (print_json wakes it). */
static void *output_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&out_lock);
	while (!out_done) {
		if (out_pending == 0) {
			out_asleep = true;
			while (out_asleep && !out_done)
				pthread_cond_wait(&out_cond, &out_lock);
			continue;
		}
		long due_ms = out_first_ms + BATCH_MS;
		if (mono_ms() >= due_ms) {
			flush_locked();
			continue;
		}
		struct timespec due = {.tv_sec = due_ms / 1000,
				       .tv_nsec = (due_ms % 1000) * 1000000L};
		pthread_cond_timedwait(&out_cond, &out_lock, &due);
	}
	flush_locked();
	pthread_mutex_unlock(&out_lock);
	return NULL;
}

static void start_output(void)
{
	static char buf[256 * 1024]; /* more than BATCH_RECORDS records of 4 KiB */
	pthread_condattr_t ca;

	setvbuf(stdout, buf, _IOFBF, sizeof(buf));
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&out_cond, &ca);
	pthread_condattr_destroy(&ca);
	out_threaded = pthread_create(&out_thread, NULL, output_main, NULL) == 0;
}

static void stop_output(void)
{
	pthread_mutex_lock(&out_lock);
	out_done = true;
	out_asleep = false;
	pthread_cond_signal(&out_cond);
	pthread_mutex_unlock(&out_lock);
	if (out_threaded)
		pthread_join(out_thread, NULL);
	out_threaded = false;
	pthread_mutex_lock(&out_lock);
	flush_locked();
	pthread_mutex_unlock(&out_lock);
}

static void sink_record(void *arg, struct json_object *rec)
{
	print_json(rec);
}

/* The watcher has nothing left in hand: what waits goes out now, not at the next tick
 * (under load there is always more in hand, and the records go out in batches). */
static void sink_idle(void *arg)
{
	pthread_mutex_lock(&out_lock);
	flush_locked();
	pthread_mutex_unlock(&out_lock);
}

static void sink_fail_closed(void *arg, const char *reason)
{
	int drc = bpf_backend ? xfer_watch_mark_opens(&watch, mountpoint) : 0;
	if (drc < 0)
		fprintf(stderr, "portcullis-xferwatch: cannot refuse later opens: %s\n",
			strerror(-drc));
	int rc = make_read_only();
	struct json_object *rec = json_object_new_object();
	json_object_object_add(rec, "event.action",
			       json_object_new_string("xfer-medium-read-only"));
	json_object_object_add(rec, "message",
			       json_object_new_string(rc == 0 ? reason : strerror(errno)));
	json_object_object_add(rec, "portcullis.remount_ok", json_object_new_boolean(rc == 0));
	json_object_object_add(rec, "portcullis.mountpoint", json_object_new_string(mountpoint));
	print_json(rec);
	json_object_put(rec);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: portcullis-xferwatch [-c CONFIG] [-o KEY=VALUE]... [--device-id ID]\n"
		"       [--serial SERIAL] [--approval ID] [--fstype TYPE] MOUNTPOINT\n"
		"       portcullis-xferwatch --notice [-o retention-days=N]\n");
}

/* A diagnostic of lib/xfer on standard error (the daemon's log); returns rc. */
static int say_diag(const struct pcl_diag *d, int rc)
{
	char msg[600];

	pcl_diag_format(d, msg, sizeof(msg));
	fprintf(stderr, "portcullis-xferwatch: %s\n", msg);
	return rc;
}

/* The options file, read whole (at most 64 KiB: a larger one is refused, never cut). */
static int load_config(struct xfer_config *c, const char *path)
{
	char *text;
	size_t n;
	int rc = pcl_read_file(path, 65536, PCL_READ_REGULAR, &text, &n);
	if (rc < 0) {
		fprintf(stderr, "portcullis-xferwatch: %s: %s\n", path, pcl_read_strerror(rc));
		return rc;
	}
	struct pcl_diag d = {0};
	rc = xfer_config_parse(c, text, n, path, &d);
	explicit_bzero(text, n);
	free(text);
	return rc < 0 ? say_diag(&d, rc) : 0;
}

/* One -o KEY=VALUE on top of the configuration. */
static int option_line(struct xfer_config *cfg, const char *arg)
{
	struct pcl_diag d = {0};
	char kv[512];
	int rc;

	snprintf(kv, sizeof(kv), "%s\n", arg);
	rc = xfer_config_parse(cfg, kv, strlen(kv), "<-o>", &d);
	explicit_bzero(kv, sizeof(kv));
	return rc < 0 ? say_diag(&d, 2) : 0;
}

/* The command line into cfg and dev: 0 with *notice set or mountpoint resolved, else the
 * exit code. */
static int parse_args(int argc, char **argv, struct xfer_config *cfg, struct xfer_device *dev,
		      bool *notice)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},	 {"option", required_argument, NULL, 'o'},
	    {"device-id", required_argument, NULL, 'd'}, {"serial", required_argument, NULL, 's'},
	    {"approval", required_argument, NULL, 'a'},	 {"fstype", required_argument, NULL, 't'},
	    {"notice", no_argument, NULL, 'n'},		 {NULL, 0, NULL, 0}};
	static char mpbuf[PATH_MAX];
	struct pcl_diag d = {0};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:o:", opts, NULL)) != -1) {
		if (ch == 'c' && load_config(cfg, optarg) < 0)
			return 1;
		else if (ch == 'o' && option_line(cfg, optarg) != 0)
			return 2;
		else if (ch == 'd')
			dev->id = optarg;
		else if (ch == 's')
			dev->serial = optarg;
		else if (ch == 'a')
			dev->approval_id = optarg;
		else if (ch == 't')
			dev->fstype = optarg;
		else if (ch == 'n')
			*notice = true;
		else if (ch != 'c' && ch != 'o') {
			usage();
			return 2;
		}
	}
	if (*notice)
		return 0;
	if (optind != argc - 1) {
		usage();
		return 2;
	}
	if (xfer_config_check(cfg, "<options>", &d) < 0)
		return say_diag(&d, 2);
	if (realpath(argv[optind], mpbuf) == NULL) {
		fprintf(stderr, "portcullis-xferwatch: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	mountpoint = mpbuf;
	return 0;
}

/* Descriptors, signals, and never outliving the process that started us (portcullisd's
 * parent). */
static void prepare_process(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct rlimit rl;

	/* Each queued event holds an open file: allow many. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* The backend: eBPF when it loads (attribution in the kernel, no process waits for us),
 * fanotify otherwise; the choice and its reason (why, len) go into xfer-watch-started.
 * 0 (*bpf NULL for fanotify), or 1 when xfer-backend = bpf (or bpf-tracepoint) cannot be
 * had. */
static int choose_backend(const struct xfer_config *cfg, struct xfer_bpf **bpf, char *why,
			  size_t len)
{
	struct pcl_diag d = {0};
	struct stat st;
	int rc;

	if (cfg->backend == XFER_BACKEND_FANOTIFY) {
		snprintf(why, len, "xfer-backend = fanotify");
		return 0;
	}
	if (cfg->clamd_socket[0]) {
		snprintf(why, len,
			 "malware scanning (clamd-socket) needs fanotify's permission "
			 "events");
		return 0;
	}
	bool tp_only = cfg->backend == XFER_BACKEND_BPF_TRACEPOINT;
	rc = stat(mountpoint, &st) == 0
		 ? xfer_bpf_open(bpf, st.st_dev, cfg->bpf_ring_kib, tp_only, &d)
		 : -errno;
	if (rc == 0) {
		snprintf(why, len, "%s", d.msg);
	} else if (cfg->backend != XFER_BACKEND_AUTO) {
		fprintf(stderr, "portcullis-xferwatch: xfer-backend = %s: %s\n",
			tp_only ? "bpf-tracepoint" : "bpf", d.msg[0] ? d.msg : strerror(-rc));
		return 1;
	} else {
		snprintf(why, len, "eBPF unavailable: %s", d.msg[0] ? d.msg : strerror(-rc));
	}
	return 0;
}

/* The fanotify groups (the names group alone under eBPF) and the tracker over them: 0 with
 * *t made, else 1 with nothing left open but bpf. cfg's secrets are wiped either way. */
static int open_watch(struct xfer_config *cfg, const struct xfer_device *dev,
		      const struct xfer_bpf *bpf, const char *breason, struct xfer_tracker **t)
{
	static const struct xfer_sink_ops sink = {
	    .record = sink_record, .fail_closed = sink_fail_closed, .idle = sink_idle};
	struct xfer_tracker_params p = {
	    .config = cfg, .device = dev, .mountpoint = mountpoint, .sink = &sink, .mount_fd = -1};
	struct pcl_diag d = {0};
	int rc;

	const char *backend = bpf ? xfer_bpf_backend(bpf) : "fanotify";
	if (bpf != NULL && strcmp(backend, "bpf") != 0)
		rc = xfer_watch_open_closes(&watch, mountpoint, cfg->unlimited_queue, &d);
	else if (bpf != NULL)
		rc = xfer_watch_open_names(&watch, mountpoint, cfg->unlimited_queue, &d);
	else
		rc = xfer_watch_open(&watch, mountpoint, cfg->unlimited_queue, &d);
	if (rc < 0) {
		xfer_config_wipe(cfg);
		return say_diag(&d, 1);
	}
	rc = xfer_tracker_new(t, &p);
	xfer_config_wipe(cfg);
	if (rc < 0) {
		fprintf(stderr, "portcullis-xferwatch: tracker: %s\n", strerror(-rc));
		xfer_watch_close(&watch);
		return 1;
	}
	xfer_tracker_set_observability(*t, watch.fid_fd >= 0, watch.fid_reason);
	xfer_tracker_set_backend(*t, backend, breason);
	bpf_backend = bpf != NULL;
	return 0;
}

static pthread_t unmount_thread;
static bool unmount_started;

static void start_unmount_watch(void)
{
	struct stat st;

	if (stat(mountpoint, &st) == 0) {
		watched_dev = st.st_dev;
		unmount_started = pthread_create(&unmount_thread, NULL, unmount_watch, NULL) == 0;
	}
}

static void stop_unmount_watch(void)
{
	atomic_store(&watch_done, true);
	if (unmount_started)
		pthread_join(unmount_thread, NULL);
}

/* Everything is open and marked: from here on only the watcher's own calls. The name
 * service's modules are loaded (mapped executable) when a look-up first reaches them:
 * look up a uid no module knows, so that every one is loaded now; the records name users
 * later. */
static int confine(void)
{
	struct passwd pwd, *found = NULL;
	char pwbuf[1024];
	int rc;

	getpwuid_r((uid_t)2147483646, &pwd, pwbuf, sizeof(pwbuf), &found);
	rc = sandbox_apply(SANDBOX_XFERWATCH);
	if (rc != 0)
		fprintf(stderr, "portcullis-xferwatch: cannot install the seccomp filter: %s\n",
			strerror(-rc));
	return rc;
}

/* Watch until stopped or unmounted, between the started and the stopped (or failed)
 * records; 0, or negative errno when the watch failed. */
static int watch_medium(struct xfer_tracker *t, struct xfer_bpf *bpf)
{
	int rc;

	xfer_tracker_note(t, "xfer-watch-started",
			  bpf			  ? "eBPF on the filesystem"
			  : watch.filesystem_mark ? "filesystem mark"
						  : "mount mark");
	rc = bpf ? xfer_bpf_run(bpf, &watch, mountpoint, t, &stop)
		 : xfer_watch_run(&watch, t, &stop);
	stop_unmount_watch();
	xfer_tracker_drain(t);
	xfer_tracker_note(t, rc < 0 ? "xfer-watch-failed" : "xfer-watch-stopped",
			  rc < 0 ? strerror(-rc) : NULL);
	return rc;
}

int main(int argc, char **argv)
{
	struct xfer_config cfg;
	struct xfer_device dev = {0};
	struct xfer_tracker *t = NULL;
	struct xfer_bpf *bpf = NULL;
	char breason[300] = "", text[1024];
	bool notice = false;
	int rc;

	xfer_config_defaults(&cfg);
	if ((rc = parse_args(argc, argv, &cfg, &dev, &notice)) != 0)
		return rc;
	if (notice) {
		xfer_notice_text(cfg.retention_days, text, sizeof(text));
		puts(text);
		return 0;
	}
	prepare_process();
	if (choose_backend(&cfg, &bpf, breason, sizeof(breason)) != 0)
		return 1;
	if (open_watch(&cfg, &dev, bpf, breason, &t) != 0) {
		xfer_bpf_close(&bpf);
		return 1;
	}
	start_unmount_watch();
	start_output();
	rc = confine();
	if (rc == 0)
		rc = watch_medium(t, bpf);
	else
		stop_unmount_watch();
	xfer_tracker_free(&t);
	stop_output();
	xfer_bpf_close(&bpf);
	xfer_watch_close(&watch);
	return rc < 0 || output_lost ? 1 : 0;
}
