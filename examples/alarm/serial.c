/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include "msg.h"
#include "serial.h"
#include "wait.h"
#include "ztp/err.h"

int
serial_open(struct serial *s, const char *path)
{
	struct termios t;

	s->path = path;
	s->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (s->fd < 0) {
		msg_errno("open %s", path);
		return ZTP_EIO;
	}
	if (tcgetattr(s->fd, &t) != 0) {
		if (errno == ENOTTY || errno == EINVAL) {
			msg_debug("%s is not a terminal: no line settings", path);
			return 0;
		}
		msg_errno("tcgetattr %s", path);
		goto fail;
	}
	cfmakeraw(&t);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB);
#ifdef CRTSCTS
	t.c_cflag &= ~(tcflag_t)CRTSCTS;
#endif
	t.c_cflag |= CS8 | CLOCAL | CREAD;
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (cfsetispeed(&t, B115200) != 0 || cfsetospeed(&t, B115200) != 0) {
		msg_errno("cfsetspeed %s", path);
		goto fail;
	}
	if (tcsetattr(s->fd, TCSANOW, &t) != 0) {
		msg_errno("tcsetattr %s", path);
		goto fail;
	}
	/* whatever the modem said before we were listening means nothing */
	(void)tcflush(s->fd, TCIOFLUSH);
	return 0;
fail:
	close(s->fd);
	s->fd = -1;
	return ZTP_EIO;
}

void
serial_close(struct serial *s)
{
	if (s == NULL || s->fd < 0)
		return;
	close(s->fd);
	s->fd = -1;
}

/* poll() the device for ev until deadline_ms. Returns 0 when ready. */
static int
serial_wait(struct serial *s, short ev, int64_t deadline_ms)
{
	struct pollfd p;
	int64_t left;
	int n;

	for (;;) {
		left = deadline_ms - wait_now_ms();
		if (left < 0)
			left = 0;
		if (left > 60000)
			left = 60000;
		p.fd = s->fd;
		p.events = ev;
		p.revents = 0;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0; /* ready, or POLLHUP/POLLERR: read/write reports it */
		if (n == 0) {
			if (wait_now_ms() >= deadline_ms)
				return ZTP_EEXPIRED;
			continue;
		}
		if (errno != EINTR) {
			msg_errno("poll %s", s->path);
			return ZTP_EIO;
		}
		if (wait_stopped())
			return ZTP_EBUSY;
	}
}

int
serial_write(struct serial *s, const void *buf, size_t len, int64_t deadline_ms)
{
	const unsigned char *p = buf;
	ssize_t n;
	int rc;

	while (len > 0) {
		n = write(s->fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR) {
			if (wait_stopped())
				return ZTP_EBUSY;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			msg_errno("write %s", s->path);
			return ZTP_EIO;
		}
		if ((rc = serial_wait(s, POLLOUT, deadline_ms)) != 0)
			return rc;
	}
	return 0;
}

int
serial_read(struct serial *s, void *buf, size_t cap, size_t *got, int64_t deadline_ms)
{
	ssize_t n;
	int rc;

	*got = 0;
	if (cap == 0)
		return ZTP_EINVAL;
	for (;;) {
		n = read(s->fd, buf, cap);
		if (n > 0) {
			*got = (size_t)n;
			return 0;
		}
		if (n == 0) {
			msg_err("%s: end of file (the modem went away)", s->path);
			return ZTP_EIO;
		}
		if (errno == EINTR) {
			if (wait_stopped())
				return ZTP_EBUSY;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			/* a pty whose other side closed reads EIO */
			msg_errno("read %s", s->path);
			return ZTP_EIO;
		}
		if ((rc = serial_wait(s, POLLIN, deadline_ms)) != 0)
			return rc;
	}
}
