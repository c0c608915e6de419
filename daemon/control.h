/*
 * control.h - the engine's control socket for the portcullis CLI: one JSON request
 * per line ({"cmd":"devices"} or {"cmd":"watch"}), JSON answers per line.
 */
#ifndef PCL_DAEMON_CONTROL_H
#define PCL_DAEMON_CONTROL_H

#include <json-c/json.h>
#include <poll.h>
#include <stddef.h>

struct control;
struct engine;

int control_open(struct control **out, const char *path, struct engine *e);
/* Fill pollfds for the listening socket and clients; returns how many. */
size_t control_pollfds(struct control *c, struct pollfd *p, size_t max);
/* Handle whatever poll reported on those pollfds. */
void control_service(struct control *c, const struct pollfd *p, size_t n);
/* Send a record to every watching client. */
void control_broadcast(struct control *c, struct json_object *rec);

/* Send a helper's line to the client with this id (if still there); NULL closes it. */
void control_relay(struct control *c, int id, const char *line);

#endif
