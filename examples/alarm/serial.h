/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The serial device the modem sits on: a real UART, a USB modem's tty or a
 * pseudo-terminal of ztp-sim. Every read and write has a deadline; end of
 * file is an error.
 */
#ifndef ALARM_SERIAL_H
#define ALARM_SERIAL_H
#include <stddef.h>
#include <stdint.h>

struct serial {
	int fd;           /* -1 when closed */
	const char *path; /* borrowed from the caller, for messages */
};

/*
 * Open path for reading and writing (not as the controlling terminal, non
 * blocking) and, if it is a terminal, put it in raw mode, 115200 baud, 8N1,
 * no flow control, and flush what was pending. A device that is not a
 * terminal is used as it is. Returns 0 or ZTP_EIO (already reported).
 */
int serial_open(struct serial *s, const char *path);

/* Close the device; accepts a serial that is not open. */
void serial_close(struct serial *s);

/*
 * Write all of buf[0..len) before deadline_ms (wait_now_ms() time).
 * Returns 0, ZTP_EEXPIRED, ZTP_EBUSY (stop requested) or ZTP_EIO (reported).
 */
int serial_write(struct serial *s, const void *buf, size_t len, int64_t deadline_ms);

/*
 * Read at least one byte, at most cap, into buf, waiting until deadline_ms;
 * *got gets the count. A deadline already passed only takes what is
 * pending. Returns 0, ZTP_EEXPIRED (nothing arrived), ZTP_EBUSY (stop
 * requested) or ZTP_EIO (end of file or a read error, reported).
 */
int serial_read(struct serial *s, void *buf, size_t cap, size_t *got, int64_t deadline_ms);

#endif
