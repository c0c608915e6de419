/*
 * cmd_notify.c - `portcullis notify`: the per-user notifier. Follows the control socket
 * and shows a desktop notification (org.freedesktop.Notifications on the user's session
 * bus, through sd-bus) for every device blocked, refused or partly switched off, with the
 * same words as `portcullis status`, and for a file refused by the virus check or an
 * approved medium made read-only. Started at login by desktop/portcullis-notify.desktop.
 * Runs as the logged-in user; records come from portcullisd (device strings untrusted,
 * cleaned by notice.c); the session bus is the user's own.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "client.h"
#include "commands.h"
#include "notice.h"
#include "people.h"

#define NOTIFY_SEEN_MAX	  64
#define NOTIFY_RETRY_MAX  30 /* seconds between attempts to reach portcullisd, at most */
#define NOTIFY_CALL_USEC  (5 * 1000 * 1000)
#define NOTIFY_APP_NAME	  "Portcullis"
#define NOTIFY_ICON	  "drive-removable-media"
#define NOTIFY_DESKTOP_ID "portcullis-notify"

static const char notify_usage[] =
    "usage: portcullis notify [--config FILE] [--approver TITLE] [--no-exceptions]\n";

/* Devices already notified, so a device is announced once per plug (the `devices` snapshot
 * at start and the live stream may both mention it). */
struct seen {
	char port[40];
	enum notice_kind kind;
	char file[80]; /* a refused file: one notice per file, however often it is opened */
};

struct notifier {
	struct notice_ctx ctx;
	sd_bus *bus;
	int markup; /* -1 not asked yet, else whether the server reads body markup */
	struct seen seen[NOTIFY_SEEN_MAX];
	size_t n_seen;
};

static void forget(struct notifier *nt, const char *port)
{
	for (size_t i = 0; i < nt->n_seen;)
		if (strcmp(nt->seen[i].port, port) == 0)
			nt->seen[i] = nt->seen[--nt->n_seen];
		else
			i++;
}

/* True the first time (port, kind, file) is seen. */
static int first_time(struct notifier *nt, const char *port, const struct notice *n)
{
	for (size_t i = 0; i < nt->n_seen; i++)
		if (strcmp(nt->seen[i].port, port) == 0 && nt->seen[i].kind == n->kind &&
		    strcmp(nt->seen[i].file, n->file) == 0)
			return 0;
	if (nt->n_seen == NOTIFY_SEEN_MAX)
		nt->seen[0] = nt->seen[--nt->n_seen]; /* full: the oldest goes */
	struct seen *s = &nt->seen[nt->n_seen++];
	snprintf(s->port, sizeof(s->port), "%s", port);
	s->kind = n->kind;
	snprintf(s->file, sizeof(s->file), "%s", n->file);
	return 1;
}

static int open_bus(struct notifier *nt)
{
	int r;

	if (nt->bus != NULL)
		return 0;
	if ((r = sd_bus_open_user(&nt->bus)) < 0) {
		fprintf(stderr, "portcullis: cannot reach the session bus: %s\n", strerror(-r));
		nt->bus = NULL;
		return r;
	}
	nt->markup = -1;
	return 0;
}

/* Ask the notification server once whether it reads markup in the body. */
static void ask_capabilities(struct notifier *nt)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *cap;

	nt->markup = 0;
	if (sd_bus_call_method(nt->bus, "org.freedesktop.Notifications",
			       "/org/freedesktop/Notifications", "org.freedesktop.Notifications",
			       "GetCapabilities", &err, &reply, "") < 0) {
		sd_bus_error_free(&err);
		return;
	}
	if (sd_bus_message_enter_container(reply, 'a', "s") > 0) {
		while (sd_bus_message_read(reply, "s", &cap) > 0)
			if (strcmp(cap, "body-markup") == 0)
				nt->markup = 1;
		sd_bus_message_exit_container(reply);
	}
	sd_bus_message_unref(reply);
}

static int send_notification(struct notifier *nt, const struct notice *n)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char body[1024];
	int r;

	if ((r = open_bus(nt)) < 0)
		return r;
	if (nt->markup < 0)
		ask_capabilities(nt);
	notice_body(n, nt->markup == 1, body, sizeof(body));
	r = sd_bus_call_method(nt->bus, "org.freedesktop.Notifications",
			       "/org/freedesktop/Notifications", "org.freedesktop.Notifications",
			       "Notify", &err, &reply, "susssasa{sv}i", NOTIFY_APP_NAME, 0u,
			       NOTIFY_ICON, n->summary, body, 0, 2, "urgency", "y", (uint8_t)1,
			       "desktop-entry", "s", NOTIFY_DESKTOP_ID, 0);
	if (r < 0) {
		fprintf(stderr, "portcullis: desktop notification not shown: %s\n",
			err.message ? err.message : strerror(-r));
		sd_bus_error_free(&err);
		nt->bus = sd_bus_flush_close_unref(nt->bus); /* reconnect next time */
		return r;
	}
	sd_bus_message_unref(reply);
	return 0;
}

static void handle(struct notifier *nt, struct json_object *rec, int event)
{
	const char *action = client_field(rec, "event.action");
	const char *port = *client_field(rec, "usb.port") ? client_field(rec, "usb.port")
							  : client_field(rec, "volume.device_name");
	struct notice n;
	char body[1024];

	if (event &&
	    (strcmp(action, "device-removed") == 0 || strcmp(action, "device-allowed") == 0 ||
	     strcmp(action, "device-inserted") == 0)) {
		forget(nt, port);
		return;
	}
	if (notice_from_record(rec, event, &nt->ctx, &n) == NOTICE_NONE ||
	    n.kind == NOTICE_ALLOWED || !first_time(nt, port, &n))
		return;
	notice_body(&n, 0, body, sizeof(body));
	for (char *p = body; (p = strchr(p, '\n')) != NULL;)
		*p = ' ';
	printf("%s. %s\n", n.summary, body);
	send_notification(nt, &n);
}

/* Follow the daemon until the stream ends: subscribe first, then take the snapshot, so
 * nothing plugged in between is missed (the seen table drops the double). */
static int follow(struct notifier *nt)
{
	struct json_object *req = json_object_new_object(), *rec, *res, *arr;
	const char *path = client_socket_path();

	json_object_object_add(req, "cmd", json_object_new_string("watch"));
	FILE *w = client_request(path, req);
	json_object_put(req);
	if (w == NULL)
		return -1;
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("devices"));
	FILE *d = client_request(path, req);
	json_object_put(req);
	if (d != NULL) {
		res = client_read(d);
		fclose(d);
		if (res != NULL && json_object_object_get_ex(res, "devices", &arr) &&
		    json_object_is_type(arr, json_type_array))
			for (size_t i = 0; i < json_object_array_length(arr); i++)
				handle(nt, json_object_array_get_idx(arr, i), 0);
		json_object_put(res);
	}
	fprintf(stderr, "portcullis: following %s\n", path);
	while ((rec = client_read(w)) != NULL) {
		handle(nt, rec, 1);
		json_object_put(rec);
	}
	fclose(w);
	return 0;
}

int cmd_notify(int argc, char **argv)
{
	static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
						 {"approver", required_argument, NULL, 'a'},
						 {"no-exceptions", no_argument, NULL, 'n'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	struct notifier nt = {.markup = -1};
	const char *config = NULL;
	unsigned wait = 1;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:a:nh", longopts, NULL)) != -1) {
		if (opt == 'c')
			config = optarg;
		else if (opt == 'a')
			nt.ctx.approver = optarg;
		else if (opt == 'n')
			nt.ctx.no_exceptions = true;
		else {
			fputs(notify_usage, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc) {
		fputs(notify_usage, stderr);
		return 2;
	}
	people_context(config, &nt.ctx);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		/* The service may start after login or be restarted: keep trying, slowly. */
		if (follow(&nt) == 0) {
			wait = 1;
			fprintf(stderr, "portcullis: portcullisd went away; waiting for it\n");
		}
		sleep(wait);
		wait = wait * 2 > NOTIFY_RETRY_MAX ? NOTIFY_RETRY_MAX : wait * 2;
	}
}
