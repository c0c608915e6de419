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
