/*
 * control.c - the engine's control socket (see control.h).
 * Linked by the engine. Clients are any local user: requests are untrusted, bounded
 * to one line of CONTROL_LINE_MAX bytes, parsed with json-c; the peer's uid comes
 * from SO_PEERCRED, never from the request.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine.h"
#include "engine_approval.h"
#include "engine_jobs.h"
#include "jsonx.h"
#include "log.h"

#define CONTROL_LINE_MAX 16384

struct client {
	int fd;
	int id;	    /* (serial << 8) | slot: a job's handle on this client */
	bool relay; /* waiting for a wipe's progress */
	bool watching;
	uid_t uid;
	size_t used;
	char buf[CONTROL_LINE_MAX];
};

struct control {
	int fd;
	int serial;
	struct engine *eng;
	struct client clients[ENGINE_MAX_CLIENTS];
};

int control_open(struct control **out, const char *path, struct engine *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct control *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < ENGINE_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	c->eng = e;
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
	(void)c;
	close(cl->fd);
	cl->fd = -1;
	cl->relay = false;
	cl->watching = false;
	cl->used = 0;
}

static int send_json(struct client *cl, struct json_object *o)
{
	size_t len;
	const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);

	if (send(cl->fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len ||
	    send(cl->fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
		return -1;
	return 0;
}

static void answer_devices(struct control *c, struct client *cl)
{
	struct json_object *res = json_object_new_object(), *arr = json_object_new_array();

	for (size_t i = 0;; i++) {
		const struct dev_entry *d = engine_device_at(c->eng, i);
		if (d == (const struct dev_entry *)-1)
			break;
		if (d != NULL)
			json_object_array_add(arr, engine_device_json(d));
	}
	json_object_object_add(res, "devices", arr);
	send_json(cl, res);
	json_object_put(res);
}

static void answer_error(struct client *cl, const char *msg)
{
	struct json_object *res = json_object_new_object();

	jsonx_set_str(res, "error", msg);
	send_json(cl, res);
	json_object_put(res);
}

/* One request line; returns false when the client is to be closed. */
static bool handle_line(struct control *c, struct client *cl, const char *line)
{
	struct json_object *req = json_tokener_parse(line);
	const char *cmd =
	    req && json_object_is_type(req, json_type_object) ? jsonx_get_str(req, "cmd") : NULL;
	struct json_object *ans;
	bool keep = false;
	char why[256];

	if (cmd == NULL) {
		answer_error(cl, "request is not a JSON object with a \"cmd\" string");
	} else if (strcmp(cmd, "devices") == 0) {
		answer_devices(c, cl);
	} else if (strcmp(cmd, "watch") == 0) {
		cl->watching = true;
		keep = true;
	} else if (strcmp(cmd, "wipe") == 0) {
		if (engine_wipe_request(c->eng, cl->id, jsonx_get_str(req, "device"), why,
					sizeof(why)) != 0)
			answer_error(cl, why);
		else
			keep = cl->relay = true;
	} else if ((ans = eappr_control(c->eng, cmd, req, cl->uid)) != NULL) {
		send_json(cl, ans);
		json_object_put(ans);
	} else {
		answer_error(cl, "unknown command");
	}
	json_object_put(req);
	return keep;
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
	while ((nl = strchr(start, '\n')) != NULL) {
		*nl = '\0';
		if (cl->watching || cl->relay || !handle_line(c, cl, start)) {
			drop(c, cl); /* one request per connection */
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
	for (size_t i = 0; i < ENGINE_MAX_CLIENTS; i++)
		if (c->clients[i].fd < 0) {
			c->serial = (c->serial + 1) & 0x7fffff;
			c->clients[i] = (struct client){
			    .fd = fd, .uid = cred.uid, .id = (c->serial << 8) | (int)i};
			return;
		}
	close(fd); /* full: the client sees the connection closed */
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

void control_broadcast(struct control *c, struct json_object *rec)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < ENGINE_MAX_CLIENTS; i++) {
		struct client *cl = &c->clients[i];
		if (cl->fd >= 0 && cl->watching && send_json(cl, rec) != 0)
			drop(c, cl); /* a client too slow to keep up is dropped, never waited for */
	}
}

void control_relay(struct control *c, int id, const char *line)
{
	if (id < 0 || (id & 0xff) >= ENGINE_MAX_CLIENTS)
		return;
	struct client *cl = &c->clients[id & 0xff];
	if (cl->fd < 0 || cl->id != id || !cl->relay)
		return;
	if (line == NULL || send(cl->fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ||
	    send(cl->fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
		drop(c, cl);
}
