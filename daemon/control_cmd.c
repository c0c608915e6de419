/*
 * control_cmd.c - the control socket's command table and the dispatcher's pure parts
 * (see control.h): the request parser, the check of a caller against a command's row,
 * group membership, and which records a watcher may see. Linked by the engine, the unit
 * tests and the fuzz harness. Request lines come from any local user: untrusted, bounded
 * by the transport, parsed with json-c; the caller's identity comes from the kernel.
 */
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "jsonx.h"

int ctl_table_add(struct ctl_table *t, const struct ctl_command *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].name == NULL || rows[i].run == NULL ||
		    ctl_table_find(t, rows[i].name) != NULL)
			return -EEXIST;
	if (n > CONTROL_MAX_COMMANDS - t->n)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++)
		t->rows[t->n++] = &rows[i];
	return 0;
}

const struct ctl_command *ctl_table_find(const struct ctl_table *t, const char *name)
{
	for (size_t i = 0; name != NULL && i < t->n; i++)
		if (strcmp(t->rows[i]->name, name) == 0)
			return t->rows[i];
	return NULL;
}

int ctl_parse(const char *line, size_t len, struct json_object **req, const char **cmd, char *why,
	      size_t whylen)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL;

	*req = NULL;
	*cmd = NULL;
	if (tok == NULL) {
		snprintf(why, whylen, "out of memory");
		return -EINVAL;
	}
	if (memchr(line, '\0', len) == NULL && len <= CONTROL_LINE_MAX && len <= INT32_MAX) {
		o = json_tokener_parse_ex(tok, line, (int)len);
		/* One object and nothing after it but blanks. */
		if (o != NULL && json_tokener_get_error(tok) == json_tokener_success) {
			/* len bytes, not a string: the line need not end in NUL. */
			size_t end = json_tokener_get_parse_end(tok);
			while (end < len &&
			       (line[end] == ' ' || line[end] == '\t' || line[end] == '\r'))
				end++;
			if (end != len) {
				json_object_put(o);
				o = NULL;
			}
		} else if (o != NULL) {
			json_object_put(o);
			o = NULL;
		}
	}
	json_tokener_free(tok);
	const char *name =
	    o && json_object_is_type(o, json_type_object) ? jsonx_get_str(o, "cmd") : NULL;
	if (name == NULL || name[0] == '\0' || strlen(name) > 64) {
		snprintf(why, whylen, "request is not a JSON object with a \"cmd\" string");
		json_object_put(o);
		return -EINVAL;
	}
	*req = o;
	*cmd = name;
	return 0;
}

bool ctl_in_group(const struct ctl_caller *who, gid_t gid)
{
	if (who->gid == gid)
		return true;
	for (size_t i = 0; i < who->n_groups && i < CONTROL_MAX_GROUPS; i++)
		if (who->groups[i] == gid)
			return true;
	return false;
}

bool ctl_allowed(const struct ctl_command *c, const struct ctl_caller *who, char *why,
		 size_t whylen)
{
	if (c->who == CTL_ROOT && who->uid != 0) {
		snprintf(why, whylen, "%s: only root may do this", c->name);
		return false;
	}
	return true;
}

/* Device decisions anyone may follow: the device, its identity and the rule. */
static bool device_decision(const char *action)
{
	return strncmp(action, "device-", 7) == 0 || strncmp(action, "interface-", 10) == 0;
}

/* The transfer log of a medium starting, stopping or failing, a wipe about to start, and
 * a stick back to be wiped: the person at the PC is told that copies are recorded (and
 * what will happen to the stick), that the medium was stopped, that it is being wiped or
 * will be (portcullis notify). */
static bool medium_event(const char *action)
{
	static const char *const names[] = {"xfer-watch-started", "xfer-watch-stopped",
					    "xfer-watch-failed",  "xfer-fail-closed",
					    "wipe-requested",	  "wipe-owed-found"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(action, names[i]) == 0)
			return true;
	return false;
}

/* A field that is about a person or their files, never shown to another user. */
static bool personal_field(const char *key)
{
	return (strncmp(key, "file.", 5) == 0 && strncmp(key, "file.device.", 12) != 0) ||
	       strncmp(key, "process.", 8) == 0 || strncmp(key, "user.", 5) == 0 ||
	       strncmp(key, "approval.", 9) == 0;
}

bool ctl_visible(struct json_object *rec, uid_t uid)
{
	struct json_object *v;

	if (uid == 0)
		return true;
	if (rec == NULL || !json_object_is_type(rec, json_type_object))
		return false;
	if (json_object_object_get_ex(rec, "user.id", &v))
		return json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0 &&
		       (uint64_t)json_object_get_int64(v) == (uint64_t)uid;
	const char *action = jsonx_get_str(rec, "event.action");
	if (action == NULL || !(device_decision(action) || medium_event(action)))
		return false;
	/* These never carry another user's files or programs; refuse any that would, rather
	 * than trust every writer of records to keep it so. */
	json_object_object_foreach(rec, key, val)
	{
		(void)val;
		if (personal_field(key))
			return false;
	}
	return true;
}
