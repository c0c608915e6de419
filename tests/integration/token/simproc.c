/*
 * simproc.c: process control of portcullis-token-sim for the token integration tests.
 * Linked by the token tests only.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "simproc.h"

static void die(const char *what)
{
	fprintf(stderr, "simproc: %s: %s\n", what, strerror(errno));
	exit(1);
}

void simproc_setup(struct simproc *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/pcl-token-XXXXXX");
	if (!mkdtemp(s->dir))
		die("mkdtemp");
	snprintf(s->sock, sizeof(s->sock), "%s/token.sock", s->dir);
	snprintf(s->path, sizeof(s->path), "sim:%s", s->sock);
	snprintf(s->state, sizeof(s->state), "%s/token.state", s->dir);
}

void simproc_start(struct simproc *s, const char *const *args)
{
	const char *prefix = getenv("PCL_PREFIX");
	char bin[512];
	char *argv[32];
	int n = 0, i;
	struct stat st;

	snprintf(bin, sizeof(bin), "%s/bin/portcullis-token-sim", prefix ? prefix : ".");
	unlink(s->sock);
	argv[n++] = bin;
	argv[n++] = (char *)(uintptr_t) "--socket";
	argv[n++] = s->sock;
	argv[n++] = (char *)(uintptr_t) "--state";
	argv[n++] = s->state;
	for (i = 0; args && args[i] && n < 31; i++)
		argv[n++] = (char *)(uintptr_t)args[i];
	argv[n] = NULL;
	s->pid = fork();
	if (s->pid < 0)
		die("fork");
	if (s->pid == 0) {
		execv(bin, argv);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		if (stat(s->sock, &st) == 0)
			return;
		usleep(10000);
	}
	fprintf(stderr, "simproc: %s did not create %s\n", bin, s->sock);
	exit(1);
}

void simproc_stop(struct simproc *s)
{
	int status;

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
}

void simproc_teardown(struct simproc *s)
{
	simproc_stop(s);
	unlink(s->sock);
	unlink(s->state);
	rmdir(s->dir);
}

struct touch_arg {
	pid_t pid;
	int delay_ms;
};

static void *toucher(void *p)
{
	struct touch_arg *t = p;
	struct timespec ts = {t->delay_ms / 1000, (long)(t->delay_ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
	kill(t->pid, SIGUSR1);
	free(t);
	return NULL;
}

void simproc_touch_after(struct simproc *s, int delay_ms)
{
	struct touch_arg *t = malloc(sizeof(*t));
	pthread_t th;

	if (!t)
		die("malloc");
	t->pid = s->pid;
	t->delay_ms = delay_ms;
	if (pthread_create(&th, NULL, toucher, t) != 0)
		die("pthread_create");
	pthread_detach(th);
}
