/*
 * test_ipc.c - unit tests of the parent/engine message codec: round trips, and
 * rejection of truncated, oversized, mistyped and malicious messages.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "ipc.h"

static struct ipc_msg authorize_msg(void)
{
	struct ipc_msg m = {.type = IPC_DEV_AUTHORIZE, .id = 42};

	strcpy(m.u.authorize.dev.name, "1-2.3");
	m.u.authorize.dev.busnum = 1;
	m.u.authorize.dev.devnum = 7;
	m.u.authorize.value = 1;
	return m;
}

static void round_trip_of_every_type_keeps_every_field(void **state)
{
	struct ipc_msg in[7], out;
	uint8_t buf[IPC_MSG_MAX];

	in[0] = authorize_msg();
	in[1] = (struct ipc_msg){.type = IPC_IFACE_AUTHORIZE, .id = 1};
	strcpy(in[1].u.iface.dev.name, "3-1");
	strcpy(in[1].u.iface.iface, "3-1:1.2");
	in[1].u.iface.value = 1;
	in[2] = (struct ipc_msg){.type = IPC_DEV_REMOVE, .id = 9};
	strcpy(in[2].u.remove.dev.name, "usb2");
	in[3] = (struct ipc_msg){.type = IPC_MEDIUM_DETACH, .id = 3};
	strcpy(in[3].u.detach.name, "sr0");
	in[3].u.detach.how = IPC_DETACH_SCSI_DELETE;
	in[5] = (struct ipc_msg){.type = IPC_DEV_PREPARE, .id = 10};
	strcpy(in[5].u.grant.dev.name, "1-2.3");
	in[5].u.grant.dev.devnum = 7;
	in[6] = (struct ipc_msg){.type = IPC_DEV_COMMIT, .id = 11};
	strcpy(in[6].u.grant.dev.name, "1-2.3");
	in[6].u.grant.dev.busnum = 1;
	in[4] = (struct ipc_msg){.type = IPC_RESULT, .id = 42, .u.result.err = -ENODEV};

	for (size_t i = 5; i < 7; i++) {
		int n = ipc_encode(&in[i], buf, sizeof(buf));
		assert_true(n > 0);
		assert_int_equal(ipc_decode(buf, (size_t)n, &out), 0);
		assert_int_equal(out.type, in[i].type);
		assert_int_equal(out.id, in[i].id);
		assert_string_equal(out.u.grant.dev.name, "1-2.3");
		assert_int_equal(out.u.grant.dev.busnum, in[i].u.grant.dev.busnum);
		assert_int_equal(out.u.grant.dev.devnum, in[i].u.grant.dev.devnum);
	}
	for (size_t i = 0; i < 5; i++) {
		int n = ipc_encode(&in[i], buf, sizeof(buf));
		assert_true(n > 0);
		assert_int_equal(ipc_decode(buf, (size_t)n, &out), 0);
		assert_int_equal(out.type, in[i].type);
		assert_int_equal(out.id, in[i].id);
	}
	assert_string_equal(out.u.iface.iface, ""); /* last one was a result */
	int n = ipc_encode(&in[1], buf, sizeof(buf));
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), 0);
	assert_string_equal(out.u.iface.iface, "3-1:1.2");
	assert_string_equal(out.u.iface.dev.name, "3-1");
	n = ipc_encode(&in[0], buf, sizeof(buf));
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), 0);
	assert_int_equal(out.u.authorize.dev.devnum, 7);
	assert_int_equal(out.u.authorize.value, 1);
}

static void block_readonly_round_trips_and_rejects_bad_names(void **state)
{
	struct ipc_msg m = {.type = IPC_BLOCK_READONLY, .id = 5}, out;
	uint8_t buf[IPC_MSG_MAX];

	(void)state;
	strcpy(m.u.readonly.dev.name, "1-2");
	m.u.readonly.dev.busnum = 1;
	m.u.readonly.dev.devnum = 9;
	strcpy(m.u.readonly.name, "loop5");
	int n = ipc_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), 0);
	assert_string_equal(out.u.readonly.dev.name, "1-2");
	assert_int_equal(out.u.readonly.dev.devnum, 9);
	assert_int_equal(out.type, IPC_BLOCK_READONLY);
	assert_string_equal(out.u.readonly.name, "loop5");
	assert_string_equal(ipc_type_name(IPC_BLOCK_READONLY), "block-readonly");
	for (int i = 0; i < n; i++)
		assert_int_equal(ipc_decode(buf, (size_t)i, &out), -EBADMSG);
	strcpy(m.u.readonly.name, "../sda");
	assert_int_equal(ipc_encode(&m, buf, sizeof(buf)), -EINVAL);
}

static void job_messages_round_trip_and_bad_numbers_are_refused(void **state)
{
	struct ipc_msg m = {.type = IPC_JOB_START, .id = 5}, out;
	uint8_t buf[IPC_MSG_MAX];

	(void)state;
	m.u.job.kind = IPC_JOB_XFER;
	strcpy(m.u.job.dev.name, "1-2");
	m.u.job.dev.devnum = 4;
	strcpy(m.u.job.block, "sdb1");
	m.u.job.mount_id = 77;
	m.u.job.job = 0x01020304;
	int n = ipc_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), 0);
	assert_int_equal(out.u.job.mount_id, 77);
	assert_string_equal(out.u.job.block, "sdb1");
	assert_int_equal(out.u.job.job, 0x01020304);
	assert_string_equal(ipc_type_name(IPC_JOB_START), "job-start");
	memset(buf + n - 4, 0, 4); /* job number 0 */
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), -EBADMSG);
	m.u.job.job = 0;
	assert_int_equal(ipc_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.u.job.job = 3;
	m.u.job.kind = 9;
	assert_int_equal(ipc_encode(&m, buf, sizeof(buf)), -EINVAL);

	/* A wipe carries who asked and the approval's reference; a bad reference is refused. */
	m.u.job.kind = IPC_JOB_WIPE;
	m.u.job.uid = 4242;
	strcpy(m.u.job.ref, "A-0123456789abcdef");
	n = ipc_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), 0);
	assert_int_equal(out.u.job.uid, 4242);
	assert_string_equal(out.u.job.ref, "A-0123456789abcdef");
	buf[n - 1] = '/';
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), -EBADMSG);
	assert_int_equal(ipc_decode(buf, (size_t)n - 19, &out), -EBADMSG);
	m.u.job.ref[0] = '\0';
	assert_int_equal(ipc_encode(&m, buf, sizeof(buf)), -EINVAL);

	struct ipc_msg x = {.type = IPC_JOB_EXIT, .id = 0};
	x.u.exit.job = 3;
	x.u.exit.signaled = 1;
	x.u.exit.code = 31;
	n = ipc_encode(&x, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), 0);
	assert_int_equal(out.type, IPC_JOB_EXIT);
	assert_int_equal(out.u.exit.job, 3);
	assert_int_equal(out.u.exit.signaled, 1);
	assert_int_equal(out.u.exit.code, 31);
	assert_string_equal(ipc_type_name(IPC_JOB_EXIT), "job-exit");
	buf[n - 2] = 2; /* neither exited nor signalled */
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), -EBADMSG);
}

/* A descriptor travels with a message only where the receiver asks for one; anywhere
 * else it is closed on arrival, never left in the receiver's table. */
static void descriptors_arrive_only_where_asked_for(void **state)
{
	struct ipc_msg m = {.type = IPC_RESULT, .id = 8}, out;
	int sv[2], pipefd[2], got = -2;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(ipc_send_fd(sv[0], &m, pipefd[1]), 0);
	assert_int_equal(ipc_recv_fd(sv[1], &out, &got), 0);
	assert_true(got >= 0 && got != pipefd[1]);
	assert_int_equal(write(got, "x", 1), 1); /* the very pipe */
	char c;
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(got);

	/* Unasked: closed. The pipe's only writer left is ours, so closing it gives EOF. */
	assert_int_equal(ipc_send_fd(sv[0], &m, pipefd[1]), 0);
	assert_int_equal(ipc_recv(sv[1], &out), 0);
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &c, 1), 0);
	close(pipefd[0]);
	close(sv[0]);
	close(sv[1]);
}

static void every_truncation_is_rejected(void **state)
{
	struct ipc_msg m = authorize_msg(), out;
	uint8_t buf[IPC_MSG_MAX];
	int n = ipc_encode(&m, buf, sizeof(buf));

	for (int i = 0; i < n; i++)
		assert_int_equal(ipc_decode(buf, (size_t)i, &out), -EBADMSG);
}

static void trailing_bytes_and_length_lies_are_rejected(void **state)
{
	struct ipc_msg m = authorize_msg(), out;
	uint8_t buf[IPC_MSG_MAX];
	int n = ipc_encode(&m, buf, sizeof(buf));

	buf[n] = 0;
	assert_int_equal(ipc_decode(buf, (size_t)n + 1, &out), -EBADMSG);
	buf[8]++; /* payload length no longer matches */
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), -EBADMSG);
}

static void wrong_magic_version_and_type_are_rejected(void **state)
{
	struct ipc_msg m = authorize_msg(), out;
	uint8_t buf[IPC_MSG_MAX];
	int n = ipc_encode(&m, buf, sizeof(buf));

	buf[0] ^= 1;
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), -EBADMSG);
	buf[0] ^= 1;
	buf[2] = IPC_VERSION + 1;
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), -EPROTO);
	buf[2] = IPC_VERSION;
	buf[3] = IPC_TYPE_END;
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), -EBADMSG);
}

static void path_traversal_and_bad_names_never_decode(void **state)
{
	static const char *const bad[] = {"..", "../../etc", "1-2/../x", "a b", "x\n", ".hidden"};
	struct ipc_msg m = authorize_msg(), out;
	uint8_t buf[IPC_MSG_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(m.u.authorize.dev.name, bad[i]);
		assert_int_equal(ipc_encode(&m, buf, sizeof(buf)), -EINVAL);
	}
	/* Forge the name on the wire: encode a good one, then patch a byte to '/'. */
	strcpy(m.u.authorize.dev.name, "1-2.3");
	int n = ipc_encode(&m, buf, sizeof(buf));
	buf[13 + 1] = '/';
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), -EBADMSG);
	/* An embedded NUL would shorten the name behind the length's back. */
	buf[13 + 1] = '\0';
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), -EBADMSG);
}

static void out_of_range_values_are_rejected(void **state)
{
	struct ipc_msg m = authorize_msg(), out;
	uint8_t buf[IPC_MSG_MAX];
	int n = ipc_encode(&m, buf, sizeof(buf));

	buf[n - 1] = 2; /* authorized value */
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), -EBADMSG);
	m.u.authorize.value = 2;
	assert_int_equal(ipc_encode(&m, buf, sizeof(buf)), -EINVAL);

	struct ipc_msg r = {.type = IPC_RESULT, .u.result.err = 5};
	n = ipc_encode(&r, buf, sizeof(buf));
	assert_int_equal(ipc_decode(buf, (size_t)n, &out), -EBADMSG);
}

static void seqpacket_send_and_receive(void **state)
{
	int sv[2];
	struct ipc_msg m = authorize_msg(), out;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(ipc_send(sv[0], &m), 0);
	assert_int_equal(ipc_recv(sv[1], &out), 0);
	assert_string_equal(out.u.authorize.dev.name, "1-2.3");
	/* An oversized datagram is rejected, not truncated into something valid. */
	uint8_t big[IPC_MSG_MAX + 50] = {0};
	assert_int_equal(send(sv[0], big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_int_equal(ipc_recv(sv[1], &out), -EBADMSG);
	close(sv[0]);
	assert_int_equal(ipc_recv(sv[1], &out), -ECONNRESET);
	close(sv[1]);
}

/* Every message type has a name of its own: the parent prints it with %s. */
static void every_type_has_a_name(void **state)
{
	(void)state;
	for (unsigned t = 1; t < IPC_TYPE_END; t++) {
		const char *name = ipc_type_name((uint8_t)t);
		assert_non_null(name);
		assert_string_not_equal(name, "unknown");
		for (unsigned u = 1; u < t; u++)
			assert_string_not_equal(name, ipc_type_name((uint8_t)u));
	}
	assert_string_equal(ipc_type_name(IPC_JOB_START), "job-start");
	assert_string_equal(ipc_type_name(IPC_JOB_STOP), "job-stop");
	assert_string_equal(ipc_type_name(0), "unknown");
	assert_string_equal(ipc_type_name(IPC_TYPE_END), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip_of_every_type_keeps_every_field),
	    cmocka_unit_test(block_readonly_round_trips_and_rejects_bad_names),
	    cmocka_unit_test(job_messages_round_trip_and_bad_numbers_are_refused),
	    cmocka_unit_test(descriptors_arrive_only_where_asked_for),
	    cmocka_unit_test(every_truncation_is_rejected),
	    cmocka_unit_test(trailing_bytes_and_length_lies_are_rejected),
	    cmocka_unit_test(wrong_magic_version_and_type_are_rejected),
	    cmocka_unit_test(path_traversal_and_bad_names_never_decode),
	    cmocka_unit_test(out_of_range_values_are_rejected),
	    cmocka_unit_test(seqpacket_send_and_receive),
	    cmocka_unit_test(every_type_has_a_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
