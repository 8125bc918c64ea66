/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"
#include "ztp/err.h"

#define MAX_FDS 4 /* received at once, to close what a peer sends too many of */

int
ipc_send(int sock, const struct signer_msg *m, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	uint8_t buf[SIGNER_MSG_MAX];
	struct msghdr mh;
	struct iovec iov;
	size_t len;
	ssize_t n;
	int rc;

	if ((fd >= 0) != (m->type == SIGNER_MSG_PASS_FD))
		return ZTP_EINVAL;
	if ((rc = signer_msg_encode(m, buf, sizeof(buf), &len)) != 0)
		return rc;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *c;
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	while ((n = sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)len ? 0 : ZTP_EIO;
}

/* Close every descriptor of mh's SCM_RIGHTS messages; the first one into *first if wanted. */
static int
take_fds(struct msghdr *mh, int *first)
{
	struct cmsghdr *c;
	int n = 0, one;
	size_t i, k;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k && i < MAX_FDS; i++) {
			memcpy(&one, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (n == 0 && first != NULL)
				*first = one;
			else
				close(one);
			n++;
		}
	}
	return n;
}

int
ipc_recv(int sock, uint8_t *buf, size_t cap, struct signer_msg *m, int *fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
	} ctl;
	struct msghdr mh;
	struct iovec iov;
	ssize_t n;
	int got = -1, nfds, rc;

	*fd = -1;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = cap;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? ZTP_EBUSY : ZTP_EIO;
	nfds = take_fds(&mh, &got);
	if (n == 0 && nfds == 0)
		return ZTP_ENOENT;
	rc = ZTP_EMALFORMED;
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0)
		goto fail;
	if ((rc = signer_msg_decode(buf, (size_t)n, m)) != 0)
		goto fail;
	rc = ZTP_EMALFORMED;
	if ((m->type == SIGNER_MSG_PASS_FD) != (nfds == 1))
		goto fail;
	*fd = got;
	return 0;
fail:
	if (got >= 0)
		close(got);
	return rc;
}
