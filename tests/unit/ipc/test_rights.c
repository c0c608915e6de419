/*
 * test_rights.c - unit tests of ipc_send_rights / ipc_recv_rights: descriptors arrive in
 * order and are the very files sent; a datagram too long or with more descriptors than
 * the receiver asked for is refused with every descriptor closed, never half-kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "ipc.h"

/* n pipes, read ends non-blocking: a read end gives 0 (end of file) only once every
 * copy of its write end is closed, and -EAGAIN while one is still open somewhere. */
static void make_pipes(int (*p)[2], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(pipe2(p[i], O_CLOEXEC), 0);
		assert_int_equal(fcntl(p[i][0], F_SETFL, O_NONBLOCK), 0);
	}
}

static int writers_gone(int rd)
{
	char c;
	return read(rd, &c, 1) == 0;
}

static void close_pipes(int (*p)[2], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		close(p[i][0]);
		if (p[i][1] >= 0)
			close(p[i][1]);
	}
}

static void descriptors_arrive_in_order_and_are_the_files_sent(void **state)
{
	int sv[2], p[3][2], w[3], got[3] = {-1, -1, -1};
	size_t nfds = 99;
	char buf[16];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	make_pipes(p, 3);
	for (int i = 0; i < 3; i++)
		w[i] = p[i][1];
	assert_int_equal(ipc_send_rights(sv[0], "hello", 5, w, 3), 0);
	assert_int_equal(ipc_recv_rights(sv[1], buf, sizeof(buf), got, 3, &nfds), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(nfds, 3);
	for (int i = 0; i < 3; i++) {
		assert_true((fcntl(got[i], F_GETFD) & FD_CLOEXEC) != 0);
		char c = (char)('a' + i), back = 0;
		assert_int_equal(write(got[i], &c, 1), 1);
		assert_int_equal(read(p[i][0], &back, 1), 1); /* the very pipe, in order */
		assert_int_equal(back, c);
		close(got[i]);
	}
	/* None asked for, none sent: a plain datagram. */
	assert_int_equal(ipc_send_rights(sv[0], "x", 1, NULL, 0), 0);
	assert_int_equal(ipc_recv_rights(sv[1], buf, sizeof(buf), NULL, 0, &nfds), 1);
	assert_int_equal(nfds, 0);
	/* The peer closed: 0 bytes. */
	close(sv[0]);
	assert_int_equal(ipc_recv_rights(sv[1], buf, sizeof(buf), got, 3, &nfds), 0);
	close(sv[1]);
	close_pipes(p, 3);
}

/* More descriptors than asked for (some within the control buffer's padding, some past
 * it): refused, and not one left open in the receiver. */
static void more_descriptors_than_asked_for_are_all_closed(void **state)
{
	int sv[2], p[4][2], w[4], got[4] = {-1, -1, -1, -1};
	size_t nfds = 99;
	char buf[16];

	(void)state;
	for (size_t max = 0; max < 4; max++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
		make_pipes(p, 4);
		for (int i = 0; i < 4; i++)
			w[i] = p[i][1];
		assert_int_equal(ipc_send_rights(sv[0], "job", 3, w, max + 1), 0);
		for (size_t i = 0; i <= max; i++) {
			close(p[i][1]);
			p[i][1] = -1;
		}
		assert_int_equal(ipc_recv_rights(sv[1], buf, sizeof(buf), got, max, &nfds),
				 -EMSGSIZE);
		assert_int_equal(nfds, 0);
		for (size_t i = 0; i <= max; i++)
			assert_true(writers_gone(p[i][0]));
		close(sv[0]);
		close(sv[1]);
		close_pipes(p, 4);
	}
}

/* A datagram longer than the buffer is refused, not cut into something that parses; its
 * descriptors are closed. */
static void a_datagram_too_long_is_refused_with_its_descriptors(void **state)
{
	int sv[2], p[1][2], got[2] = {-1, -1};
	size_t nfds = 99;
	char buf[8], big[64];

	(void)state;
	memset(big, 'z', sizeof(big));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	make_pipes(p, 1);
	assert_int_equal(ipc_send_rights(sv[0], big, sizeof(big), &p[0][1], 1), 0);
	close(p[0][1]);
	p[0][1] = -1;
	assert_int_equal(ipc_recv_rights(sv[1], buf, sizeof(buf), got, 2, &nfds), -EMSGSIZE);
	assert_int_equal(nfds, 0);
	assert_true(writers_gone(p[0][0]));
	/* The channel goes on: the next datagram is whole. */
	assert_int_equal(ipc_send_rights(sv[0], "ok", 2, NULL, 0), 0);
	assert_int_equal(ipc_recv_rights(sv[1], buf, sizeof(buf), got, 2, &nfds), 2);
	close(sv[0]);
	close(sv[1]);
	close_pipes(p, 1);
}

static void limits_and_errors(void **state)
{
	int fds[IPC_RIGHTS_MAX + 1] = {0}, sv[2];
	size_t nfds = 99;
	char buf[4];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(ipc_send_rights(sv[0], "a", 1, fds, IPC_RIGHTS_MAX + 1), -EINVAL);
	assert_int_equal(ipc_send_rights(sv[0], "a", 1, NULL, 1), -EINVAL);
	assert_int_equal(ipc_recv_rights(sv[1], buf, sizeof(buf), fds, IPC_RIGHTS_MAX + 1, &nfds),
			 -EINVAL);
	assert_int_equal(nfds, 0);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(ipc_send_rights(sv[0], "a", 1, NULL, 0), -EBADF);
	assert_int_equal(ipc_recv_rights(sv[1], buf, sizeof(buf), NULL, 0, &nfds), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(descriptors_arrive_in_order_and_are_the_files_sent),
	    cmocka_unit_test(more_descriptors_than_asked_for_are_all_closed),
	    cmocka_unit_test(a_datagram_too_long_is_refused_with_its_descriptors),
	    cmocka_unit_test(limits_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
