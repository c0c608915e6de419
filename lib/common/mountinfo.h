/*
 * mountinfo.h - one parser of /proc/self/mountinfo lines, for every process that reads
 * the mount table (the engine, the parent, the wipe's pre-checks). Mount points and
 * sources are chosen by whoever mounted (a user, through an automounter): every field is
 * bounded, escapes decoded, and a malformed line is refused, never guessed at.
 */
#ifndef PCL_MOUNTINFO_H
#define PCL_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>

#define PCL_MOUNT_PATH_MAX 4096

struct pcl_mount {
	unsigned id, parent;   /* mount ids */
	unsigned major, minor; /* st_dev of the filesystem */
	bool writable;	       /* mounted "rw" and its superblock not "ro" */
	char mountpoint[PCL_MOUNT_PATH_MAX];
	char source[256]; /* "/dev/sdb1", "tmpfs", ... */
};

/* Parse one line (len bytes, no newline needed). Returns 0, or -EINVAL for a malformed
 * line or one whose mount point does not fit. */
int pcl_mountinfo_line(const char *line, size_t len, struct pcl_mount *m);

#endif
