# Drives an interactive bash on a pty it makes itself (pty.fork: openpty,
# setsid, TIOCSCTTY): a background job, jobs, fg, ^C, ^Z, fg again. Prints a
# transcript with process ids replaced, and the shell's exit status. With
# arguments, they are a command that runs the bash for it (`tsvisor do --`:
# the sandbox started from a terminal).
import os, pty, re, select, sys, time

pid, fd = pty.fork()
if pid == 0:
    os.environ.update({'PS1': '$ ', 'TERM': 'dumb', 'HOME': '/root'})
    argv = sys.argv[1:] + ['/bin/bash', '--norc', '--noprofile', '-i']
    os.execvp(argv[0], argv)

out = b''

def until(pat, timeout=20):
    """Read the master until pat is in what came since the last call (None: until the slave is gone)."""
    global out
    buf = b''
    end = time.time() + timeout
    while pat is None or pat not in buf:
        left = end - time.time()
        if left <= 0:
            sys.stdout.write('TIMEOUT waiting for %r after %r\n' % (pat, buf))
            sys.exit(1)
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        try:
            d = os.read(fd, 1024)
        except OSError:
            break
        if not d:
            break
        buf += d
    out += buf
    return buf

def send(s, pat=b'$ '):
    os.write(fd, s)
    return until(pat)

until(b'$ ')
send(b'sleep 100 &\n')
send(b'jobs\n')
send(b'fg\n', b'sleep 100\r\n')
time.sleep(0.3)
send(b'\x03')
send(b'echo status $?\n')
send(b'sleep 100\n', b'sleep 100\r\n')
time.sleep(0.3)
send(b'\x1a')
send(b'jobs\n')
send(b'fg\n', b'sleep 100\r\n')
time.sleep(0.3)
send(b'\x03')
send(b'echo status $?\n')
send(b'stty -a | head -1 | cut -d";" -f2-3\n')
send(b'exit 3\n', None)
_, status = os.waitpid(pid, 0)
text = re.sub(rb'\[(\d+)\] \d+', rb'[\1] PID', out).decode('latin1')
for line in text.split('\r\n'):
    print(repr(line))
print('status', os.waitstatus_to_exitcode(status))
