/*
 * fake_engine.c - pcl-fake-engine, a test program (never installed) that takes the
 * engine's place in a staged copy of the install: a compromised engine. The parent starts
 * it as it starts portcullis-engine (the launcher, a clean environment, descriptor 3 its
 * channel), so it runs under the launcher's filter as the engine does before its own.
 * It says IPC_HELLO and sends the requests listed in ARGV0.requests, one a line:
 *   LABEL authorize|prepare|commit|readonly|wipe|xfer NAME BUS DEV [BLOCK]
 *   LABEL detach BLOCK
 *   LABEL wait FILE          (waits until FILE exists: the test changes sysfs meanwhile)
 * and prints "FAKE-ENGINE LABEL ERR fd|-" for each answer on stderr, then
 * "FAKE-ENGINE done". Its input is the test's own file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"

#define PARENT_FD 3

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void set_ref(struct ipc_device_ref *d, const char *name, unsigned bus, unsigned dev)
{
	snprintf(d->name, sizeof(d->name), "%.63s", name);
	d->busnum = (uint16_t)bus;
	d->devnum = (uint16_t)dev;
}

/* The answer to request id; a helper's exit report arriving meanwhile is passed over. */
static int answer(uint32_t id, int *err, int *gotfd)
{
	for (;;) {
		struct ipc_msg m;
		int fd = -1;
		int rc = ipc_recv_fd(PARENT_FD, &m, &fd);
		if (rc != 0)
			return rc;
		if (fd >= 0)
			close(fd);
		if (m.type == IPC_RESULT && m.id == id) {
			*err = m.u.result.err;
			*gotfd = fd >= 0;
			return 0;
		}
	}
}

int main(int argc, char **argv)
{
	char path[4096], line[512], label[64], kind[16], name[256], block[IPC_NAME_MAX];
	unsigned bus = 0, dev = 0;
	uint32_t id = 0;

	(void)argc;
	snprintf(path, sizeof(path), "%s.requests", argv[0]);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "FAKE-ENGINE cannot read %s\n", path);
		return 1;
	}
	struct ipc_msg hello = {.type = IPC_HELLO};
	hello.u.hello.pid = (uint32_t)getpid();
	if (ipc_send(PARENT_FD, &hello) != 0)
		return 1;
	pause_ms(200);
	while (fgets(line, sizeof(line), f) != NULL) {
		struct ipc_msg m = {0};
		block[0] = '\0';
		int n = sscanf(line, "%63s %15s %255s %u %u %63s", label, kind, name, &bus, &dev,
			       block);
		if (n < 3)
			continue;
		if (strcmp(kind, "wait") == 0) {
			while (access(name, F_OK) != 0)
				pause_ms(20);
			continue;
		}
		m.id = ++id;
		if (strcmp(kind, "authorize") == 0 && n >= 5) {
			m.type = IPC_DEV_AUTHORIZE;
			set_ref(&m.u.authorize.dev, name, bus, dev);
			m.u.authorize.value = 1;
		} else if ((strcmp(kind, "prepare") == 0 || strcmp(kind, "commit") == 0) &&
			   n >= 5) {
			m.type = kind[0] == 'p' ? IPC_DEV_PREPARE : IPC_DEV_COMMIT;
			set_ref(&m.u.grant.dev, name, bus, dev);
		} else if (strcmp(kind, "readonly") == 0 && n == 6) {
			m.type = IPC_BLOCK_READONLY;
			set_ref(&m.u.readonly.dev, name, bus, dev);
			snprintf(m.u.readonly.name, sizeof(m.u.readonly.name), "%s", block);
		} else if ((strcmp(kind, "wipe") == 0 || strcmp(kind, "xfer") == 0) && n == 6) {
			m.type = IPC_JOB_START;
			m.u.job.kind = kind[0] == 'w' ? IPC_JOB_WIPE : IPC_JOB_XFER;
			set_ref(&m.u.job.dev, name, bus, dev);
			snprintf(m.u.job.block, sizeof(m.u.job.block), "%s", block);
			m.u.job.job = id;
			m.u.job.uid = 0;
			snprintf(m.u.job.ref, sizeof(m.u.job.ref), "none");
		} else if (strcmp(kind, "detach") == 0) {
			m.type = IPC_MEDIUM_DETACH;
			snprintf(m.u.detach.name, sizeof(m.u.detach.name), "%.63s", name);
			m.u.detach.how = IPC_DETACH_SCSI_DELETE;
		} else {
			fprintf(stderr, "FAKE-ENGINE bad request line: %s", line);
			return 1;
		}
		int err = 0, gotfd = 0;
		if (ipc_send(PARENT_FD, &m) != 0 || answer(m.id, &err, &gotfd) != 0) {
			fprintf(stderr, "FAKE-ENGINE channel lost at %s\n", label);
			return 1;
		}
		fprintf(stderr, "FAKE-ENGINE %s %d %s\n", label, err, gotfd ? "fd" : "-");
	}
	fclose(f);
	fprintf(stderr, "FAKE-ENGINE done\n");
	for (;;)
		pause_ms(3600 * 1000L);
}
