/*
 * fuzz_ipc_rights.c - libFuzzer harness for ipc_recv_rights: a datagram of the fuzzer's
 * bytes with 0 to 4 descriptors, received into a buffer and a descriptor limit of the
 * fuzzer's choosing. The answer must match what was sent (whole, or refused), and no
 * descriptor may be left open in the receiver beyond those it was handed.
 * Input: byte 0 = descriptors sent (low 3 bits, at most 4) and the limit (next 3 bits,
 * 5 and up invalid); byte 1 = buffer length; the rest the datagram.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int open_count(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int sv[2] = {-1, -1};
	uint8_t buf[256];
	int sent[IPC_RIGHTS_MAX], got[8];
	size_t nfds = 99;

	if (size < 2 || size - 2 > 1024)
		return 0;
	size_t nsend = data[0] & 7, max = (data[0] >> 3) & 7, len = data[1];
	const uint8_t *payload = data + 2;
	size_t plen = size - 2;
	if (nsend > IPC_RIGHTS_MAX)
		nsend = IPC_RIGHTS_MAX;
	if (sv[0] < 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	int before = open_count();
	for (size_t i = 0; i < nsend; i++)
		if ((sent[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
			abort();
	if (ipc_send_rights(sv[0], payload, plen, sent, nsend) != 0)
		abort();
	for (size_t i = 0; i < nsend; i++)
		close(sent[i]);
	ssize_t rc = ipc_recv_rights(sv[1], buf, len, got, max, &nfds);
	if (max > IPC_RIGHTS_MAX) {
		if (rc != -EINVAL || nfds != 0)
			abort();
		/* Nothing was read: drain the datagram for the next input. */
		if (ipc_recv_rights(sv[1], buf, sizeof(buf), got, IPC_RIGHTS_MAX, &nfds) < 0)
			abort();
		for (size_t i = 0; i < nfds; i++)
			close(got[i]);
	} else if (plen > len || nsend > max) {
		if (rc != -EMSGSIZE || nfds != 0)
			abort();
	} else {
		if (rc != (ssize_t)plen || nfds != nsend || memcmp(buf, payload, plen) != 0)
			abort();
		for (size_t i = 0; i < nfds; i++)
			if (fcntl(got[i], F_GETFD) != FD_CLOEXEC || close(got[i]) != 0)
				abort();
	}
	if (open_count() != before)
		abort(); /* a descriptor leaked into the receiver */
	return 0;
}
