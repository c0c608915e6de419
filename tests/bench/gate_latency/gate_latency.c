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

int main(int argc, char **argv)
{
	struct opts o = {0};
	parse(argc, argv, &o);
	bool ours = strcmp(o.daemon, "portcullisd") == 0;
	UMockdevTestbed *tb = NULL;
	char root[4096] = "", sock[4096] = "";
	struct gl_msg add, rm;

	if (ours) {
		tb = umockdev_testbed_new();
		char *r = umockdev_testbed_get_root_dir(tb);
		snprintf(root, sizeof(root), "%s", r);
		g_free(r);
		chmod(root, 0777); /* the engine runs as nobody and binds its socket here */
		char *text = NULL;
		size_t text_len;
		int rr = pcl_read_file(o.devices, 1u << 24, PCL_READ_REGULAR, &text, &text_len);
		GError *err = NULL;
		if (rr != 0 || !umockdev_testbed_add_from_string(tb, text, &err)) {
			fprintf(stderr, "gate-latency-bench: %s: %s\n", o.devices,
				err ? err->message : pcl_read_strerror(rr));
			return 1;
		}
		free(text);
		/* Capture the datagrams umockdev sends for this device, to replay them with
		 * t0 taken just before sendmsg(). */
		char cap[4200];
		snprintf(cap, sizeof(cap), "%s/event99999", root);
		if (gl_capture(cap, tb_send, &(struct tb_send){tb, o.syspath, "add"}, &add) != 0 ||
		    gl_capture(cap, tb_send, &(struct tb_send){tb, o.syspath, "remove"}, &rm) !=
			0) {
			fprintf(stderr, "gate-latency-bench: no uevent from umockdev for %s\n",
				o.syspath);
			return 1;
		}
	}
	pid_t pid = gl_spawn(o.argv, o.log);
	if (pid < 0)
		return 1;

	/* Ready: some process of the tree listens for uevents, then all of it sleeps. */
	struct gl_tree tree;
	double start = gl_now_us();
	while (sock[0] == '\0' && gl_now_us() - start < 120e6) {
		gl_tree_scan(&tree, pid);
		for (size_t i = 0; i < tree.n && sock[0] == '\0'; i++)
			gl_event_socket(tree.pid[i], sock, sizeof(sock));
		usleep(2000);
	}
	if (sock[0] == '\0' || gl_wait_idle(&tree, 200000, 120000) != 0) {
		fprintf(stderr, "gate-latency-bench: %s did not come up; see %s\n", o.daemon,
			o.log);
		gl_stop(pid);
		return 1;
	}
	gl_tree_scan(&tree, pid);
	if (!ours)
		snprintf(root, sizeof(root), "%.*s", (int)(strrchr(sock, '/') - sock), sock);
	const char *devpath = o.syspath + strlen("/sys");
	/* portcullisd is root's: our own credentials. usbguard-daemon's umockdev backend
	 * takes uevents from the kernel (pid 0) or from itself only. */
	pid_t cred_pid = ours ? getpid() : pid;
	char to[4][4200];
	size_t nto = listeners(root, to, 4);
	int sfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if ((!ours && (gl_kernel_uevent(&add, "add", devpath, "usb_device", 1) != 0 ||
		       gl_kernel_uevent(&rm, "remove", devpath, "usb_device", 2) != 0)) ||
	    nto == 0 || sfd < 0) {
		fprintf(stderr, "gate-latency-bench: cannot send uevents to %s\n", root);
		gl_stop(pid);
		return 1;
	}
	char devdir[8192], authfile[8300];
	snprintf(devdir, sizeof(devdir), "%s%s", root, o.syspath);
	snprintf(authfile, sizeof(authfile), "%s/authorized", devdir);

	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	int devwd = inotify_add_watch(in, devdir, IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO);
	int auditwd = ours && !o.allow ? inotify_add_watch(in, o.audit, IN_MODIFY) : -2;
	if (in < 0 || devwd < 0 || auditwd == -1) {
		fprintf(stderr, "gate-latency-bench: inotify on %s: %s\n", devdir, strerror(errno));
		gl_stop(pid);
		return 1;
	}

	int total = o.warmup + o.n, k = 0, failures = 0;
	double *lat = calloc((size_t)o.n, sizeof(double));
	for (int i = 0; i < total && failures < 3; i++) {
		for (size_t j = 0; j < nto; j++)
			gl_send(sfd, to[j], cred_pid, &rm, NULL);
		usleep(300);
		if (gl_wait_idle(&tree, 1000, 20000) != 0 || write_text(authfile, "0\n") != 0) {
			fprintf(stderr, "gate-latency-bench: %s stuck or gone; see %s\n", o.daemon,
				o.log);
			failures = 3;
			break;
		}
		struct trail mark;
		if (auditwd >= 0)
			trail_mark(&mark, o.audit);
		drain(in);

		double t0 = 0, t1 = -1;
		for (size_t j = 0; j < nto; j++)
			gl_send(sfd, to[j], cred_pid, &add, j == 0 ? &t0 : NULL);
		while (t1 < 0) {
			struct pollfd p = {in, POLLIN, 0};
			if (poll(&p, 1, 10000) <= 0)
				break;
			double tp = gl_now_us();
			char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
			ssize_t n = read(in, buf, sizeof(buf));
			bool audit_moved = false;
			for (ssize_t off = 0; off < n;) {
				const struct inotify_event *ev = (const void *)(buf + off);
				if (ev->wd == devwd && ev->len &&
				    strcmp(ev->name, "authorized") == 0)
					t1 = tp;
				audit_moved |= ev->wd == auditwd;
				off += (ssize_t)(sizeof(*ev) + ev->len);
			}
			if (t1 < 0 && audit_moved && trail_has_block(&mark, o.audit))
				t1 = tp;
		}
		char state = read_char(authfile);
		if (t1 < 0 || state != (o.allow ? '1' : '0')) {
			fprintf(stderr, "gate-latency-bench: insertion %d: %s (authorized=%c)\n", i,
				t1 < 0 ? "no decision within 10 s" : "wrong decision", state);
			failures++;
			continue;
		}
		if (i >= o.warmup && k < o.n)
			lat[k++] = t1 - t0;
	}
	gl_stop(pid);
	if (failures > 0 || k < o.n) {
		fprintf(stderr, "gate-latency-bench: %d of %d insertions measured; see %s\n", k,
			o.n, o.log);
		return 1;
	}
	qsort(lat, (size_t)k, sizeof(double), cmp_d);
	double sum = 0;
	for (int i = 0; i < k; i++)
		sum += lat[i];
	printf("daemon=%s %s case=%s n=%d p50_us=%.1f p99_us=%.1f mean_us=%.1f min_us=%.1f "
	       "max_us=%.1f\n",
	       o.daemon, o.label, o.allow ? "allow" : "no-match", k, pct(lat, k, 0.50),
	       pct(lat, k, 0.99), sum / k, lat[0], lat[k - 1]);
	free(lat);
	if (tb != NULL)
		g_object_unref(tb);
	return 0;
}
