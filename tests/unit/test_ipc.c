/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Messages between ztpd's processes (src/server/proto/ipc.h): READY and PASS_FD
 * on real SOCK_SEQPACKET socket pairs, and what a receiver refuses.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc.h"
#include "ztp/err.h"

static int sv[2];

static int
setup(void **state)
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

static int
teardown(void **state)
{
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static int
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* How many descriptors this process has open. */
static int
open_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		n += fd_open(fd);
	return n;
}

static void
test_ready_carries_the_addresses(void **state)
{
	struct signer_msg m = { .type = SIGNER_MSG_READY }, got;
	uint8_t buf[SIGNER_MSG_MAX];
	int fd;

	snprintf(m.u.ready.device, sizeof(m.u.ready.device), "127.0.0.1:11111");
	snprintf(m.u.ready.est, sizeof(m.u.ready.est), "[::1]:8443");
	assert_int_equal(ipc_send(sv[0], &m, -1), 0);
	assert_int_equal(ipc_recv(sv[1], buf, sizeof(buf), &got, &fd), 0);
	assert_int_equal(got.type, SIGNER_MSG_READY);
	assert_int_equal(fd, -1);
	assert_string_equal(got.u.ready.device, "127.0.0.1:11111");
	assert_string_equal(got.u.ready.admin, "");
	assert_string_equal(got.u.ready.est, "[::1]:8443");
}

static void
test_ready_with_a_control_character_is_not_sent(void **state)
{
	struct signer_msg m = { .type = SIGNER_MSG_READY };

	snprintf(m.u.ready.admin, sizeof(m.u.ready.admin), "127.0.0.1:1\n");
	assert_int_equal(ipc_send(sv[0], &m, -1), ZTP_EMALFORMED);
}

static void
test_pass_fd_carries_a_working_socket(void **state)
{
	struct signer_msg m = { .type = SIGNER_MSG_PASS_FD }, got;
	uint8_t buf[SIGNER_MSG_MAX];
	char c = 0;
	int pair[2], fd;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair), 0);
	assert_int_equal(ipc_send(sv[0], &m, pair[1]), 0);
	close(pair[1]);
	assert_int_equal(ipc_recv(sv[1], buf, sizeof(buf), &got, &fd), 0);
	assert_int_equal(got.type, SIGNER_MSG_PASS_FD);
	assert_true(fd >= 0);
	assert_true((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	assert_int_equal(write(pair[0], "x", 1), 1);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(c, 'x');
	close(fd);
	close(pair[0]);
}

static void
test_a_descriptor_goes_only_with_pass_fd(void **state)
{
	struct signer_msg ready = { .type = SIGNER_MSG_READY }, pass = { .type = SIGNER_MSG_PASS_FD };

	assert_int_equal(ipc_send(sv[0], &ready, 0), ZTP_EINVAL);
	assert_int_equal(ipc_send(sv[0], &pass, -1), ZTP_EINVAL);
}

/* A peer that breaks the rules: raw datagrams with or without descriptors. */
static void
send_raw(const uint8_t *msg, size_t len, int nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)msg, len };
	struct msghdr mh;
	int fds[2];

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		struct cmsghdr *c;
		fds[0] = open("/dev/null", O_RDONLY);
		fds[1] = open("/dev/null", O_RDONLY);
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(sv[0], &mh, 0), (ssize_t)len);
	if (nfds > 0) {
		close(fds[0]);
		close(fds[1]);
	}
}

static void
test_refusals_close_every_descriptor(void **state)
{
	static const uint8_t pass_fd[] = { 0x01, 0x02, 0, 0, 0, 0 };
	static const uint8_t ready[] = { 0x01, 0x01, 0, 0, 0, 0 };
	static const uint8_t pass_fd_field[] = { 0x01, 0x02, 0, 0, 0, 5, 0, 0x38, 0, 1, 'x' };
	uint8_t buf[SIGNER_MSG_MAX];
	struct signer_msg m;
	int fd, before = open_fds();

	send_raw(pass_fd, sizeof(pass_fd), 0); /* PASS_FD without a descriptor */
	assert_int_equal(ipc_recv(sv[1], buf, sizeof(buf), &m, &fd), ZTP_EMALFORMED);
	assert_int_equal(fd, -1);
	send_raw(pass_fd, sizeof(pass_fd), 2); /* with two */
	assert_int_equal(ipc_recv(sv[1], buf, sizeof(buf), &m, &fd), ZTP_EMALFORMED);
	assert_int_equal(fd, -1);
	send_raw(ready, sizeof(ready), 1); /* a descriptor on another type */
	assert_int_equal(ipc_recv(sv[1], buf, sizeof(buf), &m, &fd), ZTP_EMALFORMED);
	send_raw(pass_fd_field, sizeof(pass_fd_field), 1); /* a field PASS_FD does not have */
	assert_int_equal(ipc_recv(sv[1], buf, sizeof(buf), &m, &fd), ZTP_EMALFORMED);
	assert_int_equal(open_fds(), before);
}

static void
test_end_of_stream_and_nothing_there(void **state)
{
	uint8_t buf[64];
	struct signer_msg m;
	int fd;

	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(ipc_recv(sv[1], buf, sizeof(buf), &m, &fd), ZTP_EBUSY);
	close(sv[0]);
	sv[0] = open("/dev/null", O_RDONLY); /* for teardown */
	assert_int_equal(ipc_recv(sv[1], buf, sizeof(buf), &m, &fd), ZTP_ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ready_carries_the_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ready_with_a_control_character_is_not_sent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_pass_fd_carries_a_working_socket, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_a_descriptor_goes_only_with_pass_fd, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusals_close_every_descriptor, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_end_of_stream_and_nothing_there, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
