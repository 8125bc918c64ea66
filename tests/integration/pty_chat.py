# SPDX-License-Identifier: Apache-2.0
"""pty_chat: a device application's side of a modem, for the tests.

usage: pty_chat.py PTY LINE...
Opens the pty (a new open per call, as an application that closes and
reopens the port), sends each LINE with CR LF (or $EOL) and reads the answer
up to its final result code (OK, ERROR or +CME ERROR: <text>) with a 10 s
deadline; after the last one, 50 ms more to catch any stray byte. Prints each answer on a line
of its own with CR, LF and other control bytes escaped (\\r, \\n, \\xNN).
Exit 1 on a deadline, or at once when the modem hangs up, with what it got.

With ZTP_SIM_PID set, the pty is only opened if that process (our
ztp-sim, which keeps the pty's slave side open) still holds it, checked
before and after the open: a dead modem's pty may already belong to
another test's ztp-sim. Exit 2 then.
"""
import os, re, select, sys, time, tty
eol = os.environ.get('EOL', '\r\n').encode()
lines = sys.argv[2:]
pid = os.environ.get('ZTP_SIM_PID')


def ours():
    if not pid:
        return True
    try:
        fds = os.listdir('/proc/%s/fd' % pid)
        return any(os.readlink('/proc/%s/fd/%s' % (pid, f)) == sys.argv[1] for f in fds)
    except OSError:
        return False


if not ours():
    sys.exit(2)
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
if not ours():
    os.close(fd)
    sys.exit(2)
tty.setraw(fd)
esc = {13: '\\r', 10: '\\n', 92: '\\\\'}
rc = 0
for i, line in enumerate(lines):
    os.write(fd, line.encode('latin-1') + eol)
    got, end, done = b'', time.monotonic() + 10, None
    while True:
        left = (done if done is not None else end) - time.monotonic()
        if left <= 0:
            break
        if select.select([fd], [], [], left)[0]:
            try:
                more = os.read(fd, 4096)
            except OSError:
                more = b''
            if not more:  # the modem hung up (its ztp-sim died): no answer will come
                break
            got += more
            if done is None and (got.endswith(b'\r\nOK\r\n') or got.endswith(b'\r\nERROR\r\n')
                                 or re.search(rb'\r\n\+CME ERROR: [^\r\n]*\r\n$', got)):
                done = time.monotonic() + (0.05 if i == len(lines) - 1 else 0)
    print(''.join(esc.get(c, chr(c) if 32 <= c < 127 else '\\x%02x' % c) for c in got))
    if done is None:
        rc = 1
        break
os.close(fd)
sys.exit(rc)
