/*
 * uring_writer.c - test program for the transfer log (test_xfer_bpf.py): as uid UID,
 * opens PATH through io_uring (no open system call), writes TEXT through io_uring, and
 * exits at once without closing it, so that the file's last close happens in the exit.
 * Usage: xfer_uring_writer UID PATH TEXT. Its arguments come from the test: trusted.
 */
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <grp.h>

static int submit_wait(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int rc = io_uring_submit(ring);
	if (rc < 0)
		return rc;
	if ((rc = io_uring_wait_cqe(ring, &cqe)) < 0)
		return rc;
	rc = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return rc;
}

int main(int argc, char **argv)
{
	struct io_uring ring;
	if (argc != 4) {
		fprintf(stderr, "usage: xfer_uring_writer UID PATH TEXT\n");
		return 2;
	}
	uid_t uid = (uid_t)strtoul(argv[1], NULL, 10);
	if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		perror("xfer_uring_writer: setresuid");
		return 1;
	}
	int rc = io_uring_queue_init(4, &ring, 0);
	if (rc < 0) {
		fprintf(stderr, "xfer_uring_writer: io_uring_queue_init: %s\n", strerror(-rc));
		return 1;
	}
	io_uring_prep_openat(io_uring_get_sqe(&ring), AT_FDCWD, argv[2],
			     O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int fd = submit_wait(&ring);
	if (fd < 0) {
		fprintf(stderr, "xfer_uring_writer: openat %s: %s\n", argv[2], strerror(-fd));
		return 1;
	}
	size_t len = strlen(argv[3]);
	io_uring_prep_write(io_uring_get_sqe(&ring), fd, argv[3], (unsigned)len, 0);
	rc = submit_wait(&ring);
	if (rc != (int)len) {
		fprintf(stderr, "xfer_uring_writer: write: %s\n", rc < 0 ? strerror(-rc) : "short");
		return 1;
	}
	_exit(0); /* the file and the ring are closed by the exit */
}
