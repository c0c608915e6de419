/*
 * wipe_starter.h - the starter portcullis-wipe forks before its filter (wipe_starter.c):
 * the only part of it that can start a program.
 */
#ifndef PCL_TOOLS_WIPE_STARTER_H
#define PCL_TOOLS_WIPE_STARTER_H

/* Fork the starter for a wipe of device (the command line's); 0 or negative errno. */
int wipe_starter_start(const char *device);
/* For wipe_spawn_set_starter and cmd_wipe_mkfs (see there). */
long wipe_starter_wiper(const char *wiper, const char *user, const int fds[3]);
int wipe_starter_mkfs(const char *device);

#endif
