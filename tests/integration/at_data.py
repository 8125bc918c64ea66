# SPDX-License-Identifier: Apache-2.0
"""at_data: one AT command that takes data after the modem's "> " prompt.

usage: at_data.py PTY COMMAND HEXDATA
Opens the pty (raw), echo off, sends COMMAND with CR, waits for "> " (10 s),
writes the bytes of HEXDATA as they are, and reads the answer up to its
final result code (OK, ERROR, +CME ERROR: <text>). Prints the answer after
the prompt with
CR, LF and other control bytes escaped, as pty_chat.py does; exit 1 on a
deadline or a hang-up. A command answered at once (ERROR instead of the
prompt) is printed as it came, the data not sent.
"""
import os, re, select, sys, time, tty

pty, cmd, data = sys.argv[1], sys.argv[2].encode('latin-1'), bytes.fromhex(sys.argv[3])
fd = os.open(pty, os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
final = re.compile(rb'\r\n(OK|ERROR|\+CME ERROR: [^\r\n]*)\r\n$')


def read_until(pred, deadline=10):
    got, end = b'', time.monotonic() + deadline
    while not pred(got):
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return got, False
        more = os.read(fd, 65536)
        if not more:
            return got, False
        got += more
    return got, True


os.write(fd, b'ATE0\r')
read_until(lambda g: final.search(g))
os.write(fd, cmd + b'\r')
got, ok = read_until(lambda g: g.endswith(b'\r\n> ') or final.search(g))
if ok and got.endswith(b'\r\n> '):
    os.write(fd, data)
    got, ok = read_until(lambda g: final.search(g))
esc = {13: '\\r', 10: '\\n', 92: '\\\\'}
print(''.join(esc.get(c, chr(c) if 32 <= c < 127 else '\\x%02x' % c) for c in got))
sys.exit(0 if ok else 1)
