# SPDX-License-Identifier: Apache-2.0
"""c2c_chat: a host's side of a chip-to-chip session, for the tests.

usage: c2c_chat.py PTY LINE...
Environment: ZTP_C2C (the ztp-c2c tool), C2C_KEY, C2C_HMAC, C2C_TE (hex).
Sends AT+USECC2C=1,"<C2C_TE>" in plain text and reads its plain answer;
if it is OK, sends each LINE (with CR LF) as frames made by `ztp-c2c
encode` and reads frames until `ztp-c2c decode` of what came gives a final
result code, then does the same with AT+USECC2C=2. Prints each answer on a
line of its own (the plain one first), escaped as pty_chat.py does; a
frame ztp-c2c rejects prints "rejected: <reason>". 10 s per answer; exit 1
on a deadline.
"""
import os, re, select, subprocess, sys, time, tty

tool = os.environ['ZTP_C2C']
keys = ['--version', '2', '--key', os.environ['C2C_KEY'], '--hmac-key', os.environ['C2C_HMAC'],
        '--te-secret', os.environ['C2C_TE']]
esc = {13: '\\r', 10: '\\n', 92: '\\\\'}
FINAL = re.compile(rb'\r\n(OK|ERROR|\+CME ERROR: [^\r\n]*)\r\n$')


def show(b):
    return ''.join(esc.get(c, chr(c) if 32 <= c < 127 else '\\x%02x' % c) for c in b)


def read_until(fd, done):
    """Bytes from fd until done(bytes) gives a result, 10 s at most."""
    got, end = b'', time.monotonic() + 10
    while time.monotonic() < end:
        if select.select([fd], [], [], end - time.monotonic())[0]:
            more = os.read(fd, 4096)
            if not more:
                break
            got += more
            r = done(got)
            if r is not None:
                return r
    print('timeout after %s' % show(got))
    sys.exit(1)


def decoded(raw):
    """The clear text of raw if it is whole frames ending in a final result."""
    if not raw.endswith(b'\xf9'):
        return None
    p = subprocess.run([tool, 'decode'] + keys, input=raw.hex().encode(), capture_output=True)
    if p.returncode != 0:
        if b'incomplete' in p.stderr:
            return None
        return 'rejected: ' + p.stderr.decode().strip()
    clear = bytes.fromhex(p.stdout.decode().strip())
    return show(clear) if FINAL.search(clear) else None


fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
os.write(fd, b'AT+USECC2C=1,"%s"\r\n' % os.environ['C2C_TE'].encode())
first = read_until(fd, lambda b: show(b) if FINAL.search(b) else None)
print(first)
if not first.endswith('\\r\\nOK\\r\\n'):
    sys.exit(0)
close = [] if os.environ.get('C2C_NO_CLOSE') else ['AT+USECC2C=2']
for line in sys.argv[2:] + close:
    p = subprocess.run([tool, 'encode'] + keys, input=(line + '\r\n').encode().hex().encode(),
                       capture_output=True, check=True)
    os.write(fd, bytes.fromhex(p.stdout.decode().replace('\n', '')))
    print(read_until(fd, decoded))
