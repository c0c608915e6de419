/*
 * cmd_media_accept.c - `portcullis media accept DEVICE`: the owner of a stick the approver
 * marked "this stick carries council data: wipe after import" accepts, on screen, that
 * everything on it will be erased once the import is over; until then the approved stick
 * stays out. Runs as the stick's owner (the user who asked for the exception) or root;
 * the daemon checks who asks (SO_PEERCRED) and records the acceptance.
 *   media close-owed REF --reason TEXT   root or the wipe group closes an owed wipe by
 *                                        hand (the stick is lost, or wiped elsewhere)
 */
#include <stdio.h>
#include <string.h>

#include "approval_cli.h"
#include "client.h"
#include "commands.h"

static int usage(void)
{
	fprintf(stderr, "usage: portcullis media accept DEVICE\n"
			"       portcullis media close-owed REF --reason TEXT\n");
	return 2;
}

static int accept(const char *device)
{
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string("media-accept"));
	struct json_object *ans = acli_call_device(req, device);
	if (ans == NULL)
		return 1;
	printf("%s is let in: it carries council data and everything on it will be erased "
	       "when you eject it (approval %s)\n",
	       client_field(ans, "accepted"), client_field(ans, "approval"));
	json_object_put(ans);
	return 0;
}

static int close_owed(const char *ref, const char *reason)
{
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("wipe-owed-close"));
	json_object_object_add(req, "ref", json_object_new_string(ref));
	json_object_object_add(req, "reason", json_object_new_string(reason));
	struct json_object *ans = acli_call(req);
	if (ans == NULL)
		return 1;
	printf("owed wipe %s closed by hand\n", client_field(ans, "closed"));
	json_object_put(ans);
	return 0;
}

int cmd_media_accept(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "accept") == 0)
		return accept(argv[2]);
	if (argc == 5 && strcmp(argv[1], "close-owed") == 0 && strcmp(argv[3], "--reason") == 0)
		return close_owed(argv[2], argv[4]);
	return usage();
}
