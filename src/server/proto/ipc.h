/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Messages between ztpd's processes: the framed codec of signer_msg.h on
 * SOCK_SEQPACKET sockets, with a file descriptor attached where the
 * message type says so (PASS_FD). Every pair of processes uses it: the
 * parent and each child on a control socket, the front and the signer on
 * theirs. Both ends decode what they receive with the same checks.
 */
#ifndef ZTP_IPC_H
#define ZTP_IPC_H
#include <stddef.h>
#include <stdint.h>

#include "signer_msg.h"

/* The largest control message (READY with three addresses): a receive buffer's size. */
#define IPC_CTL_MAX (SIGNER_MSG_HDR_LEN + 3 * (SIGNER_FIELD_HDR_LEN + SIGNER_ADDR_MAX))

/*
 * Send m on sock, with fd attached if fd >= 0 (only a PASS_FD carries
 * one: anything else is ZTP_EINVAL). Blocks until it is queued. Returns 0,
 * the encoder's code, or ZTP_EIO (the peer is gone).
 */
int ipc_send(int sock, const struct signer_msg *m, int fd);

/*
 * Receive one message into buf (cap bytes, SIGNER_MSG_MAX) and decode it
 * into *m (pointers into buf). *fd gets the descriptor a PASS_FD carries,
 * -1 otherwise. A PASS_FD without exactly one descriptor, descriptors on
 * another type, or a truncated datagram are ZTP_EMALFORMED, and every
 * descriptor received is closed. Returns 0, ZTP_ENOENT at end of stream,
 * ZTP_EBUSY if sock is non-blocking and nothing is there, ZTP_EIO, or the
 * decoder's code.
 */
int ipc_recv(int sock, uint8_t *buf, size_t cap, struct signer_msg *m, int *fd);

#endif
