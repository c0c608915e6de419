/*
 * client.c - connect to the portcullisd control socket and exchange JSON lines.
 * Linked by the portcullis CLI; answers come from the daemon (trusted to be the
 * daemon only as far as the socket's permissions go) and are parsed with json-c.
 */
#include "client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "commands.h"
#include "reqcode.h"

#define ANSWER_MAX (4u << 20)

const char *client_socket_path(void)
{
	const char *p = getenv("PORTCULLIS_SOCKET");

	return p && *p ? p : CLIENT_DEFAULT_SOCKET;
}

FILE *client_request(const char *path, struct json_object *req)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		pcl_fail("%s: socket path too long", path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		pcl_fail("cannot reach portcullisd at %s: %s (is the service running?)", path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	size_t len;
	const char *s = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &len);
	if (write(fd, s, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
		pcl_fail("cannot send to portcullisd: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "r");
	if (f == NULL)
		close(fd);
	return f;
}

struct json_object *client_read(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	struct json_object *o = NULL;

	if (n > 0 && (size_t)n < ANSWER_MAX) {
		o = json_tokener_parse(line);
		if (o != NULL && !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			o = NULL;
		}
	}
	free(line);
	return o;
}

const char *client_field(struct json_object *o, const char *field)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, field, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

struct json_object *client_devices(void)
{
	struct json_object *req = json_object_new_object(), *res, *arr;

	json_object_object_add(req, "cmd", json_object_new_string("devices"));
	FILE *f = client_request(client_socket_path(), req);
	json_object_put(req);
	if (f == NULL)
		return NULL;
	res = client_read(f);
	fclose(f);
	if (res == NULL || !json_object_object_get_ex(res, "devices", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		json_object_put(res);
		pcl_fail("no valid answer from portcullisd");
		return NULL;
	}
	return res;
}

int client_device_name(const char *arg, char *out, size_t len)
{
	char code[PCL_REQUEST_CODE_LEN], have[PCL_REQUEST_CODE_LEN];
	struct json_object *res, *arr;
	int rc = 1;

	if (strlen(arg) >= len)
		return pcl_fail("%s: not a device", arg);
	strcpy(out, arg);
	if (pcl_request_code_normalise(arg, code) != 0)
		return 0; /* a port, as `portcullis devices` shows it */
	if ((res = client_devices()) == NULL)
		return 1;
	json_object_object_get_ex(res, "devices", &arr);
	for (size_t i = 0; rc != 0 && i < json_object_array_length(arr); i++) {
		struct json_object *d = json_object_array_get_idx(arr, i);
		const char *port = client_field(d, "volume.device_name");
		if (strcmp(port, arg) == 0 ||
		    (pcl_request_code(client_field(d, "usb.hash"), have) == 0 &&
		     strcmp(have, code) == 0 && strlen(port) < len)) {
			strcpy(out, port);
			rc = 0;
		}
	}
	json_object_put(res);
	if (rc != 0)
		pcl_fail("no device plugged in has the request code %s (see `portcullis status`)",
			 code);
	return rc;
}
