/*
 * cmd_status.c - `portcullis status`: for a councillor, in plain English, which devices
 * are plugged in, which are blocked and why, what to do (the request code to quote), and
 * that transfers are recorded and for how long. Runs as any user; talks to the control
 * socket and reads portcullisd.conf for the retention period (both only as far as
 * trusted as their file permissions; device strings are cleaned by notice.c).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "commands.h"
#include "notice.h"
#include "people.h"

static const char status_usage[] =
    "usage: portcullis status [--config FILE] [--approver TITLE] [--no-exceptions]\n";

/* Print text wrapped at 78 columns, every line after the first indented by `indent`. */
static void wrap(const char *prefix, const char *text, int indent)
{
	int col = printf("%s", prefix);
	const char *p = text;

	while (*p) {
		const char *sp = strchr(p, ' ');
		/* "request code: XXXX-XXXX" stays on one line: it is read out and typed. */
		if (strncmp(p, "request code: ", 14) == 0)
			sp = strchr(p + 14, ' ');
		int w = sp ? (int)(sp - p) : (int)strlen(p);
		if (col + 1 + w > 78 && col > indent) {
			printf("\n%*s", indent, "");
			col = indent;
		} else if (p != text) {
			putchar(' ');
			col++;
		}
		col += printf("%.*s", w, p);
		p += w;
		while (*p == ' ')
			p++;
	}
	putchar('\n');
}

static void show(const struct notice *n)
{
	static const char *const label[] = {"", "Works", "BLOCKED", "REFUSED", "Works", "", ""};
	char line[300];

	printf("\n  %-8s %s (%s)\n", label[n->kind], n->device, n->port);
	snprintf(line, sizeof(line), "%s%s", n->kind == NOTICE_ALLOWED ? "" : "Why: ", n->why);
	if (n->kind == NOTICE_ALLOWED) {
		line[0] = (char)(line[0] == 'i' ? 'I' : line[0]);
		wrap("           ", line, 11);
	} else {
		wrap("           ", line, 16);
		if (*n->todo) {
			snprintf(line, sizeof(line), "What to do: %s", n->todo);
			wrap("           ", line, 23);
		}
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
						 {"approver", required_argument, NULL, 'a'},
						 {"no-exceptions", no_argument, NULL, 'n'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	struct notice_ctx ctx = {0};
	const char *config = NULL;
	int opt;

	ctx.approver = NULL;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:a:nh", longopts, NULL)) != -1) {
		if (opt == 'c')
			config = optarg;
		else if (opt == 'a')
			ctx.approver = optarg;
		else if (opt == 'n')
			ctx.no_exceptions = true;
		else {
			fputs(status_usage, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc) {
		fputs(status_usage, stderr);
		return 2;
	}
	people_context(config, &ctx);

	struct json_object *req = json_object_new_object(), *res, *arr;
	json_object_object_add(req, "cmd", json_object_new_string("devices"));
	FILE *f = client_request(client_socket_path(), req);
	json_object_put(req);
	if (f == NULL) {
		fprintf(stderr,
			"portcullis: the device protection service is not answering; "
			"devices you plug in stay switched off. Please tell %s.\n",
			ctx.approver);
		return 1;
	}
	res = client_read(f);
	fclose(f);
	if (res == NULL || !json_object_object_get_ex(res, "devices", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		json_object_put(res);
		return pcl_fail("no valid answer from portcullisd");
	}

	struct notice n;
	size_t shown = 0, blocked = 0;
	char sentence[512];

	printf("This council computer only lets USB devices, memory cards and discs work if "
	       "the\ncouncil has approved them.\n");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		if (notice_from_record(json_object_array_get_idx(arr, i), false, &ctx, &n) ==
		    NOTICE_NONE)
			continue;
		if (shown++ == 0)
			printf("\nPlugged in now:\n");
		blocked += n.kind == NOTICE_BLOCKED || n.kind == NOTICE_REJECTED;
		show(&n);
	}
	if (shown == 0)
		printf("\nNothing is plugged in apart from the computer's own devices.\n");
	else if (blocked > 0)
		printf("\nA blocked device stays switched off until it is approved: unplugging "
		       "and\nplugging it in again does not change that.\n");
	notice_records_sentence(&ctx, sentence, sizeof(sentence));
	putchar('\n');
	wrap("", sentence, 0);
	json_object_put(res);
	return 0;
}
