/*
 * gate_latency.c - gate-latency-bench: time from a device's "add" uevent to the
 * daemon's write of its `authorized` file (or, for a device portcullisd leaves
 * blocked and so never writes, to its device-blocked audit record), over many
 * insertions, for portcullisd or Debian's usbguard-daemon under umockdev.
 *
 * The device stays in sysfs, as the kernel creates it before announcing it; each
 * insertion is: "remove" uevent, wait until the daemon is idle, authorized=0,
 * "add" uevent (t0: just before sendmsg()), first inotify event on `authorized`
 * or the trail (t1). For portcullisd the datagrams are the ones
 * umockdev_testbed_uevent() sends on our testbed, captured once before the daemon
 * starts and replayed to every listener of the testbed; usbguard-daemon (umockdev
 * backend) keeps its own testbed, found through its uevent socket, and gets
 * kernel-format uevents whose credentials name its own pid, the only non-kernel
 * sender it accepts. Prints one line of figures.
 * Not a test: it asserts nothing and is never run by CTest. Inputs are the
 * project's own fixtures and the daemon's own writes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <umockdev.h>

#include "fileio.h"
#include "gl_daemon.h"

struct opts {
	const char *daemon, *devices, *syspath, *audit, *log, *label;
	bool allow;
	int n, warmup;
	char **argv;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: gate-latency-bench --daemon portcullisd|usbguard --devices FILE\n"
		"         --syspath /sys/devices/... --expect allow|block [--n N] [--warmup W]\n"
		"         [--audit DIR] [--label TEXT] --log FILE -- DAEMON ARGS...\n");
	exit(2);
}

static int parse(int argc, char **argv, struct opts *o)
{
	o->n = 1000;
	o->warmup = 20;
	o->label = "";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--") == 0) {
			o->argv = argv + i + 1;
			break;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--daemon") == 0)
			o->daemon = v;
		else if (strcmp(a, "--devices") == 0)
			o->devices = v;
		else if (strcmp(a, "--syspath") == 0)
			o->syspath = v;
		else if (strcmp(a, "--expect") == 0)
			o->allow = strcmp(v, "allow") == 0;
		else if (strcmp(a, "--n") == 0)
			o->n = atoi(v);
		else if (strcmp(a, "--warmup") == 0)
			o->warmup = atoi(v);
		else if (strcmp(a, "--audit") == 0)
			o->audit = v;
		else if (strcmp(a, "--log") == 0)
			o->log = v;
		else if (strcmp(a, "--label") == 0)
			o->label = v;
		else
			usage();
	}
	if (o->daemon == NULL || o->syspath == NULL || o->log == NULL || o->argv == NULL ||
	    o->argv[0] == NULL || o->n < 1 || o->warmup < 0 ||
	    (strcmp(o->daemon, "portcullisd") == 0 && o->devices == NULL) ||
	    (strcmp(o->daemon, "portcullisd") == 0 && !o->allow && o->audit == NULL))
		usage();
	return 0;
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static char read_char(const char *path)
{
	char c = '?';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '?';
		close(fd);
	}
	return c;
}

/* The end of the newest trail segment: new records are looked for after it. */
struct trail {
	char path[4096];
	off_t off;
};

static void trail_mark(struct trail *t, const char *dir)
{
	char pat[4096];
	glob_t g;
	snprintf(pat, sizeof(pat), "%s/trail-*.jsonl", dir);
	t->path[0] = '\0';
	t->off = 0;
	if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > 0) {
		struct stat st;
		snprintf(t->path, sizeof(t->path), "%s", g.gl_pathv[g.gl_pathc - 1]);
		if (stat(t->path, &st) == 0)
			t->off = st.st_size;
	}
	globfree(&g);
}

/* True once a device-blocked record follows the mark (in the marked or a new segment). */
static bool trail_has_block(struct trail *t, const char *dir)
{
	struct trail now;
	trail_mark(&now, dir);
	const char *path = now.path;
	off_t from = strcmp(now.path, t->path) == 0 ? t->off : 0;
	if (path[0] == '\0' || now.off <= from)
		return false;
	size_t len = (size_t)(now.off - from);
	char *buf = malloc(len + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 && buf ? pread(fd, buf, len, from) : -1;
	if (fd >= 0)
		close(fd);
	bool found = false;
	if (n > 0) {
		buf[n] = '\0';
		found = strstr(buf, "\"device-blocked\"") != NULL;
	}
	free(buf);
	return found;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static double pct(const double *v, int n, double p)
{
	int k = (int)ceil(p * n) - 1;
	return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

struct tb_send {
	UMockdevTestbed *tb;
	const char *syspath, *action;
};

static void tb_send(void *p)
{
	const struct tb_send *a = p;
	umockdev_testbed_uevent(a->tb, a->syspath, a->action);
}

/* Every uevent listener of the testbed, as umockdev finds them. */
static size_t listeners(const char *root, char paths[][4200], size_t max)
{
	char pat[4200];
	glob_t g;
	size_t n = 0;
	snprintf(pat, sizeof(pat), "%s/event[0-9]*", root);
	if (glob(pat, 0, NULL, &g) == 0)
		for (; n < g.gl_pathc && n < max; n++)
			snprintf(paths[n], sizeof(paths[n]), "%s", g.gl_pathv[n]);
	globfree(&g);
	return n;
}

static void drain(int in)
{
	char buf[4096];
	while (read(in, buf, sizeof(buf)) > 0)
		;
}

/* One benchmark run: the testbed, the daemon under test and how its events are seen. */
struct run {
	const struct opts *o;
	bool ours; /* portcullisd (our testbed) rather than usbguard-daemon (its own) */
	UMockdevTestbed *tb;
	char root[4096];
	struct gl_msg add, rm;
	pid_t pid, cred_pid;
	struct gl_tree tree;
	char to[4][4200]; /* the testbed's uevent listeners */
	size_t nto;
	int sfd, in, devwd, auditwd;
	char devdir[8192], authfile[8300];
};

/* portcullisd: our testbed with the devices, and the add and remove datagrams umockdev
 * sends for the device under test, captured to be replayed with t0 taken just before
 * sendmsg(). */
static int testbed_up(struct run *r)
{
	const struct opts *o = r->o;
	char *text = NULL, cap[4200];
	size_t text_len;
	GError *err = NULL;

	r->tb = umockdev_testbed_new();
	char *root = umockdev_testbed_get_root_dir(r->tb);
	snprintf(r->root, sizeof(r->root), "%s", root);
	g_free(root);
	chmod(r->root, 0777); /* the engine runs as nobody and binds its socket here */
	int rr = pcl_read_file(o->devices, 1u << 24, PCL_READ_REGULAR, &text, &text_len);
	if (rr != 0 || !umockdev_testbed_add_from_string(r->tb, text, &err)) {
		fprintf(stderr, "gate-latency-bench: %s: %s\n", o->devices,
			err ? err->message : pcl_read_strerror(rr));
		free(text);
		return -1;
	}
	free(text);
	snprintf(cap, sizeof(cap), "%s/event99999", r->root);
	if (gl_capture(cap, tb_send, &(struct tb_send){r->tb, o->syspath, "add"}, &r->add) != 0 ||
	    gl_capture(cap, tb_send, &(struct tb_send){r->tb, o->syspath, "remove"}, &r->rm) != 0) {
		fprintf(stderr, "gate-latency-bench: no uevent from umockdev for %s\n", o->syspath);
		return -1;
	}
	return 0;
}

/* Start the daemon and wait until some process of its tree listens for uevents and all
 * of it sleeps; usbguard-daemon's testbed is where its uevent socket is. */
static int daemon_up(struct run *r)
{
	char sock[4096] = "";

	r->pid = gl_spawn(r->o->argv, r->o->log);
	if (r->pid < 0)
		return -1;
	double start = gl_now_us();
	while (sock[0] == '\0' && gl_now_us() - start < 120e6) {
		gl_tree_scan(&r->tree, r->pid);
		for (size_t i = 0; i < r->tree.n && sock[0] == '\0'; i++)
			gl_event_socket(r->tree.pid[i], sock, sizeof(sock));
		usleep(2000);
	}
	if (sock[0] == '\0' || gl_wait_idle(&r->tree, 200000, 120000) != 0) {
		fprintf(stderr, "gate-latency-bench: %s did not come up; see %s\n", r->o->daemon,
			r->o->log);
		return -1;
	}
	gl_tree_scan(&r->tree, r->pid);
	if (!r->ours)
		snprintf(r->root, sizeof(r->root), "%.*s", (int)(strrchr(sock, '/') - sock), sock);
	return 0;
}

/* Where the uevents go and with whose credentials: portcullisd is root's, our own;
 * usbguard-daemon's umockdev backend takes uevents from the kernel (pid 0) or from itself
 * only. Then the inotify watches on the device's directory (and, for a device portcullisd
 * leaves blocked, on the trail). */
static int senders_and_watches_up(struct run *r)
{
	const struct opts *o = r->o;
	const char *devpath = o->syspath + strlen("/sys");

	r->cred_pid = r->ours ? getpid() : r->pid;
	r->nto = listeners(r->root, r->to, 4);
	r->sfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if ((!r->ours && (gl_kernel_uevent(&r->add, "add", devpath, "usb_device", 1) != 0 ||
			  gl_kernel_uevent(&r->rm, "remove", devpath, "usb_device", 2) != 0)) ||
	    r->nto == 0 || r->sfd < 0) {
		fprintf(stderr, "gate-latency-bench: cannot send uevents to %s\n", r->root);
		return -1;
	}
	snprintf(r->devdir, sizeof(r->devdir), "%s%s", r->root, o->syspath);
	snprintf(r->authfile, sizeof(r->authfile), "%s/authorized", r->devdir);
	r->in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	r->devwd = inotify_add_watch(r->in, r->devdir, IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO);
	r->auditwd = r->ours && !o->allow ? inotify_add_watch(r->in, o->audit, IN_MODIFY) : -2;
	if (r->in < 0 || r->devwd < 0 || r->auditwd == -1) {
		fprintf(stderr, "gate-latency-bench: inotify on %s: %s\n", r->devdir,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Wait for the decision: the first event on `authorized`, or for portcullisd's no-match
 * case (which never writes `authorized`: the device is already 0) a device-blocked record
 * after mark; there an event on `authorized` is no decision (the parent closing the file
 * it opened for a grant's prepare, which no commit followed). Its time, or -1 after 10 s
 * without. */
static double await_decision(struct run *r, struct trail *mark)
{
	for (;;) {
		struct pollfd p = {r->in, POLLIN, 0};
		if (poll(&p, 1, 10000) <= 0)
			return -1;
		double tp = gl_now_us(), t1 = -1;
		char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
		ssize_t n = read(r->in, buf, sizeof(buf));
		bool audit_moved = false;
		for (ssize_t off = 0; off < n;) {
			const struct inotify_event *ev = (const void *)(buf + off);
			if (ev->wd == r->devwd && r->auditwd < 0 && ev->len &&
			    strcmp(ev->name, "authorized") == 0)
				t1 = tp;
			audit_moved |= ev->wd == r->auditwd;
			off += (ssize_t)(sizeof(*ev) + ev->len);
		}
		if (t1 < 0 && audit_moved && trail_has_block(mark, r->o->audit))
			t1 = tp;
		if (t1 >= 0)
			return t1;
	}
}

/* One insertion: "remove", wait until the daemon is idle, authorized=0, "add" (t0 just
 * before sendmsg()), the decision (t1). 0 and *lat, 1 for a wrong or missing decision,
 * -1 when the daemon is stuck or gone. */
static int insert_once(struct run *r, int i, double *lat)
{
	const struct opts *o = r->o;
	struct trail mark;

	for (size_t j = 0; j < r->nto; j++)
		gl_send(r->sfd, r->to[j], r->cred_pid, &r->rm, NULL);
	usleep(300);
	if (gl_wait_idle(&r->tree, 1000, 20000) != 0 || write_text(r->authfile, "0\n") != 0) {
		fprintf(stderr, "gate-latency-bench: %s stuck or gone; see %s\n", o->daemon,
			o->log);
		return -1;
	}
	if (r->auditwd >= 0)
		trail_mark(&mark, o->audit);
	drain(r->in);
	double t0 = 0;
	for (size_t j = 0; j < r->nto; j++)
		gl_send(r->sfd, r->to[j], r->cred_pid, &r->add, j == 0 ? &t0 : NULL);
	double t1 = await_decision(r, &mark);
	char state = read_char(r->authfile);
	if (t1 < 0 || state != (o->allow ? '1' : '0')) {
		fprintf(stderr, "gate-latency-bench: insertion %d: %s (authorized=%c)\n", i,
			t1 < 0 ? "no decision within 10 s" : "wrong decision", state);
		return 1;
	}
	*lat = t1 - t0;
	return 0;
}

static void report(const struct opts *o, double *lat, int k)
{
	double sum = 0;

	qsort(lat, (size_t)k, sizeof(double), cmp_d);
	for (int i = 0; i < k; i++)
		sum += lat[i];
	printf("daemon=%s %s case=%s n=%d p50_us=%.1f p99_us=%.1f mean_us=%.1f min_us=%.1f "
	       "max_us=%.1f\n",
	       o->daemon, o->label, o->allow ? "allow" : "no-match", k, pct(lat, k, 0.50),
	       pct(lat, k, 0.99), sum / k, lat[0], lat[k - 1]);
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	parse(argc, argv, &o);
	struct run r = {.o = &o, .ours = strcmp(o.daemon, "portcullisd") == 0, .pid = -1};

	if (r.ours && testbed_up(&r) != 0)
		return 1;
	if (daemon_up(&r) != 0 || senders_and_watches_up(&r) != 0) {
		if (r.pid > 0)
			gl_stop(r.pid);
		return 1;
	}
	int total = o.warmup + o.n, k = 0, failures = 0;
	double *lat = calloc((size_t)o.n, sizeof(double)), one;
	for (int i = 0; lat != NULL && i < total && failures < 3; i++) {
		int rc = insert_once(&r, i, &one);
		if (rc < 0)
			failures = 3;
		else if (rc > 0)
			failures++;
		else if (i >= o.warmup && k < o.n)
			lat[k++] = one;
	}
	gl_stop(r.pid);
	if (failures > 0 || k < o.n) {
		fprintf(stderr, "gate-latency-bench: %d of %d insertions measured; see %s\n", k,
			o.n, o.log);
		free(lat);
		return 1;
	}
	report(&o, lat, k);
	free(lat);
	if (r.tb != NULL)
		g_object_unref(r.tb);
	return 0;
}
