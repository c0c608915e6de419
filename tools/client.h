/*
 * client.h - the CLI's side of the portcullisd control socket.
 */
#ifndef PCL_TOOLS_CLIENT_H
#define PCL_TOOLS_CLIENT_H

#include <json-c/json.h>
#include <stdio.h>

#define CLIENT_DEFAULT_SOCKET "/run/portcullis/control.sock"

/* The socket path: PORTCULLIS_SOCKET from the environment, or the default. */
const char *client_socket_path(void);

/* Connect and send one request; returns a FILE to read answer lines from, or NULL
 * (a "portcullis: ..." message already printed). */
FILE *client_request(const char *path, struct json_object *req);

/* Read one JSON answer line; NULL at end of stream or on a malformed line. */
struct json_object *client_read(FILE *f);

/* A string field of a record ("" when absent or not a string). */
const char *client_field(struct json_object *o, const char *field);

/* The daemon's answer to "devices" (its "devices" member is an array); the caller puts
 * it. NULL after a message. */
struct json_object *client_devices(void);

/* The port of the device a user named: a port as `portcullis devices` shows it ("1-2"),
 * or the request code of a device plugged in now ("K7QP-3M2X", typed in any case, with
 * or without the hyphen). 0 with the port in out, or 1 after a message. */
int client_device_name(const char *arg, char *out, size_t len);

#endif
