/*
 * control.c - the control socket's transport (see control.h): accept, the peer's
 * credentials (SO_PEERCRED, SO_PEERGROUPS), line framing, CONTROL_MAX_PER_UID
 * connections per ordinary user with fair slots, the idle timeout; each request goes
 * through the command table, checked against the caller's row and rate.
 * Linked by the engine. Clients are any local user: requests are untrusted, bounded to
 * one line of CONTROL_LINE_MAX bytes; the peer's identity comes from the kernel, never
 * from the request.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "jsonx.h"
#include "record.h"
#include "log.h"

struct client {
	int fd;
	int id; /* (serial << 8) | slot: a job's handle on this client */
	enum ctl_next next;
	bool answered; /* its one request was answered */
	int64_t since; /* monotonic seconds: accepted */
	struct ctl_caller who;
	size_t used;
	char buf[CONTROL_LINE_MAX];
};

struct control {
	int fd;
	int serial;
	struct engine *eng;
	struct ctl_table table;
	struct ctl_rate rate;
	int64_t last_summary;
	struct client clients[ENGINE_MAX_CLIENTS];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line to a client, never waited for: 0, or negative errno (-EAGAIN: it did not
 * take the whole line). Not logged: the caller drops the client. */
static int send_json(struct client *cl, struct json_object *o)
{
	size_t len;
	const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	ssize_t n = send(cl->fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n == (ssize_t)len)
		n = send(cl->fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	else if (n >= 0)
		return -EAGAIN;
	if (n < 0)
		return -errno;
	return n == 1 ? 0 : -EAGAIN;
}

static void answer_error(struct client *cl, const char *msg)
{
	struct json_object *res = json_object_new_object();

	jsonx_set_str(res, "error", msg);
	send_json(cl, res);
	json_object_put(res);
}

/* The commands of the transport itself: the device list and the record stream. */
static int cmd_devices(struct ctl_call *call)
{
	struct json_object *res = json_object_new_object(), *arr = json_object_new_array();

	size_t i = 0;
	for (const struct dev_entry *d; (d = engine_device_next(call->eng, &i)) != NULL;)
		json_object_array_add(arr, engine_device_json(d));
	json_object_object_add(res, "devices", arr);
	call->answer = res;
	return 0;
}

static int cmd_watch(struct ctl_call *call)
{
	call->next = CTL_WATCH;
	return 0;
}

static const struct ctl_command own_commands[] = {
    {"devices", CTL_ANYONE, false, cmd_devices},
    {"watch", CTL_ANYONE, false, cmd_watch},
};

int control_open(struct control **out, const char *path, struct engine *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct control *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		log_err("control socket %s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	for (size_t i = 0; i < ENGINE_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	c->eng = e;
	ctl_table_add(&c->table, own_commands, sizeof(own_commands) / sizeof(own_commands[0]));
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("control socket path too long: %s", path);
		free(c);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	unlink(path);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0666) != 0 || listen(c->fd, 16) != 0) {
		int rc = -errno;
		log_err("control socket %s: %s", path, strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int control_register(struct control *c, const struct ctl_command *rows, size_t n)
{
	int rc = ctl_table_add(&c->table, rows, n);

	if (rc != 0)
		log_err("control socket: cannot register %zu command(s) from %s: %s", n,
			n ? rows[0].name : "-", strerror(-rc));
	return rc;
}

size_t control_pollfds(struct control *c, struct pollfd *p, size_t max)
{
	size_t n = 0;

	p[n++] = (struct pollfd){c->fd, POLLIN, 0};
	for (size_t i = 0; i < ENGINE_MAX_CLIENTS && n < max; i++)
		if (c->clients[i].fd >= 0)
			p[n++] = (struct pollfd){c->clients[i].fd, POLLIN, 0};
	return n;
}

static void drop(struct control *c, struct client *cl)
{
	close(cl->fd);
	cl->fd = -1;
	cl->next = CTL_CLOSE;
	cl->answered = false;
	cl->used = 0;
}

/* A refusal goes into the trail, within the caller's rate (root's are not counted). */
static void record_refusal(struct control *c, const struct ctl_caller *who, const char *cmd,
			   const char *why, bool counted)
{
	if (!counted && who->uid != 0 && !ctl_rate_take(&c->rate, who->uid, now_ms()))
		return; /* over the rate: in the next summary record */
	struct json_object *rec = json_object_new_object();
	pcl_record_head(rec, PCL_KIND_EVENT, "command-refused", "failure", why);
	jsonx_set_str(rec, "portcullis.command", cmd);
	jsonx_set_int(rec, "user.id", who->uid);
	engine_record_json(c->eng, rec, true);
	json_object_put(rec);
	log_warn("control socket: uid %u refused: %s", (unsigned)who->uid, why);
}

/* One request line: checked against its row and the caller's rate, then run. */
static void dispatch(struct control *c, struct client *cl, const char *line, size_t len)
{
	struct ctl_call call = {.eng = c->eng, .caller = &cl->who, .next = CTL_CLOSE};
	const char *name;
	char why[256];

	if (ctl_parse(line, len, &call.req, &name, why, sizeof(why)) != 0) {
		answer_error(cl, why);
		return;
	}
	const struct ctl_command *cmd = ctl_table_find(&c->table, name);
	if (cmd == NULL) {
		answer_error(cl, "unknown command");
	} else if (!ctl_allowed(cmd, &cl->who, why, sizeof(why))) {
		record_refusal(c, &cl->who, cmd->name, why, false);
		answer_error(cl, why);
	} else if (cmd->rated && cl->who.uid != 0 &&
		   !ctl_rate_take(&c->rate, cl->who.uid, now_ms())) {
		answer_error(cl, "too many requests: try again in a minute");
	} else if (cmd->run(&call) == CTL_REFUSED) {
		record_refusal(c, &cl->who, cmd->name, call.why, cmd->rated);
		answer_error(cl, call.why);
	} else {
		if (call.answer != NULL)
			send_json(cl, call.answer);
		cl->next = call.next;
	}
	json_object_put(call.answer);
	json_object_put(call.req);
}

static void read_client(struct control *c, struct client *cl)
{
	ssize_t n = recv(cl->fd, cl->buf + cl->used, sizeof(cl->buf) - 1 - cl->used, MSG_DONTWAIT);

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			drop(c, cl);
		return;
	}
	cl->used += (size_t)n;
	cl->buf[cl->used] = '\0';
	char *start = cl->buf, *nl;
	while ((nl = memchr(start, '\n', (size_t)(cl->buf + cl->used - start))) != NULL) {
		*nl = '\0';
		if (cl->answered) {
			drop(c, cl); /* one request per connection */
			return;
		}
		dispatch(c, cl, start, (size_t)(nl - start));
		cl->answered = true;
		if (cl->next == CTL_CLOSE) {
			drop(c, cl);
			return;
		}
		start = nl + 1;
	}
	cl->used = (size_t)(cl->buf + cl->used - start);
	memmove(cl->buf, start, cl->used);
	if (cl->used == sizeof(cl->buf) - 1) {
		answer_error(cl, "line too long");
		drop(c, cl);
	}
}

static size_t held_by(const struct control *c, uid_t uid)
{
	size_t n = 0;

	for (size_t i = 0; i < ENGINE_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0 && c->clients[i].who.uid == uid)
			n++;
	return n;
}

/* Every slot is taken: make room by closing the oldest connection of the ordinary user
 * who holds the most, if that is more than the newcomer holds: the slot freed, or -ENOSPC
 * when none qualifies. */
static int evict_for(struct control *c, uid_t uid)
{
	size_t mine = uid == 0 ? 0 : held_by(c, uid), most = 0;
	int victim = -1;

	for (size_t i = 0; i < ENGINE_MAX_CLIENTS; i++) {
		const struct client *cl = &c->clients[i];
		if (cl->fd < 0 || cl->who.uid == 0)
			continue;
		size_t h = held_by(c, cl->who.uid);
		if (h > most ||
		    (h == most && victim >= 0 && cl->since < c->clients[victim].since)) {
			most = h;
			victim = (int)i;
		}
	}
	if (victim < 0 || most <= mine + 1)
		return -ENOSPC;
	drop(c, &c->clients[victim]);
	return victim;
}

static void peer_groups(int fd, struct ctl_caller *who)
{
	gid_t g[CONTROL_MAX_GROUPS];
	socklen_t len = sizeof(g);

	who->n_groups = 0;
	/* More groups than we look at: only the primary group counts (fail closed). */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0 && len <= sizeof(g)) {
		who->n_groups = len / sizeof(gid_t);
		memcpy(who->groups, g, who->n_groups * sizeof(gid_t));
	}
}

static void accept_client(struct control *c)
{
	int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		close(fd);
		return;
	}
	if (cred.uid != 0 && held_by(c, cred.uid) >= CONTROL_MAX_PER_UID) {
		close(fd); /* its own connections are enough: the client sees it closed */
		ctl_rate_note(&c->rate, cred.uid, now_ms()); /* counted in the summary */
		return;
	}
	int slot = -1;
	for (size_t i = 0; i < ENGINE_MAX_CLIENTS && slot < 0; i++)
		if (c->clients[i].fd < 0)
			slot = (int)i;
	if (slot < 0 && (slot = evict_for(c, cred.uid)) < 0) {
		close(fd); /* full of fair shares: the client sees the connection closed */
		return;
	}
	struct client *cl = &c->clients[slot];
	c->serial = (c->serial + 1) & 0x7fffff;
	cl->fd = fd;
	cl->id = (c->serial << 8) | slot;
	cl->next = CTL_CLOSE;
	cl->answered = false;
	cl->since = now_ms() / 1000;
	cl->used = 0;
	cl->who = (struct ctl_caller){.uid = cred.uid, .gid = cred.gid, .client = cl->id};
	peer_groups(fd, &cl->who);
}

void control_service(struct control *c, const struct pollfd *p, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		for (size_t k = 0; k < ENGINE_MAX_CLIENTS; k++)
			if (c->clients[k].fd == p[i].fd) {
				read_client(c, &c->clients[k]);
				break;
			}
	}
	if (n > 0 && (p[0].revents & POLLIN))
		accept_client(c);
}

static void summarise_rate(struct control *c, int64_t now, bool now_anyway)
{
	uid_t uids[CTL_RATE_UIDS];
	uint64_t counts[CTL_RATE_UIDS], total = 0;
	char reason[512];
	size_t off = 0;

	if (!now_anyway && now - c->last_summary < CTL_RATE_SUMMARY_SECONDS)
		return;
	size_t n = ctl_rate_drain(&c->rate, uids, counts, CTL_RATE_UIDS);
	if (n == 0)
		return;
	c->last_summary = now;
	struct json_object *rec = json_object_new_object(), *arr = json_object_new_array();
	off += (size_t)snprintf(reason, sizeof(reason),
				"requests over the rate or connections over the limit, refused:");
	for (size_t i = 0; i < n; i++) {
		total += counts[i];
		json_object_array_add(arr, json_object_new_int64(uids[i]));
		if (off < sizeof(reason))
			off +=
			    (size_t)snprintf(reason + off, sizeof(reason) - off,
					     " uid %u: %" PRIu64 ";", (unsigned)uids[i], counts[i]);
	}
	pcl_record_head(rec, PCL_KIND_EVENT, "requests-rate-limited", "failure", reason);
	jsonx_set_int(rec, "portcullis.refused_count", (int64_t)total);
	jsonx_set(rec, "portcullis.refused_uids", arr);
	engine_record_json(c->eng, rec, true);
	json_object_put(rec);
}

void control_tick(struct control *c)
{
	int64_t now = now_ms() / 1000;

	for (size_t i = 0; i < ENGINE_MAX_CLIENTS; i++) {
		struct client *cl = &c->clients[i];
		if (cl->fd >= 0 && !cl->answered && now - cl->since >= CONTROL_IDLE_SECONDS)
			drop(c, cl); /* no request in time: the slot goes back */
	}
	summarise_rate(c, now, false);
}

void control_flush(struct control *c)
{
	if (c != NULL)
		summarise_rate(c, now_ms() / 1000, true);
}

void control_broadcast(struct control *c, struct json_object *rec)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < ENGINE_MAX_CLIENTS; i++) {
		struct client *cl = &c->clients[i];
		if (cl->fd < 0 || cl->next != CTL_WATCH || !ctl_visible(rec, cl->who.uid))
			continue;
		if (send_json(cl, rec) != 0)
			drop(c, cl); /* a client too slow to keep up is dropped, never waited for */
	}
}

bool control_watching(const struct control *c)
{
	for (size_t i = 0; c != NULL && i < ENGINE_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0 && c->clients[i].next == CTL_WATCH)
			return true;
	return false;
}

void control_relay(struct control *c, int id, const char *line)
{
	if (id < 0 || (id & 0xff) >= ENGINE_MAX_CLIENTS)
		return;
	struct client *cl = &c->clients[id & 0xff];
	if (cl->fd < 0 || cl->id != id || cl->next != CTL_RELAY)
		return;
	if (line == NULL || send(cl->fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ||
	    send(cl->fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
		drop(c, cl);
}
