# Drives `docker run -it ... sh` (the command line in argv) through a
# pseudo-terminal as a user at a terminal would: waits for the prompt, asks
# for the terminal's name and size, interrupts a foreground `sleep` with ^C,
# suspends another with ^Z (the shell reports it stopped; the runtime itself
# must not stop), and exits the shell with a status. Prints one line per step (name: result)
# and then everything the terminal showed, after a line "--- transcript".
import fcntl, os, pty, select, struct, sys, termios, time

pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
# The client's terminal is 30 rows by 100 columns: Docker gives the container's terminal that size.
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 30, 100, 0, 0))
out = b''

def until(pat, secs=30):
    global out
    end = time.time() + secs
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if not r:
            continue
        try:
            d = os.read(fd, 4096)
        except OSError:
            return False
        if not d:
            return False
        out += d
        if pat in out:
            return True
    return False

def step(name, ok):
    print(f'{name}: {"ok" if ok else "FAILED"}', flush=True)

step('prompt', until(b'# '))
os.write(fd, b'[ -t 0 ] && echo "tty=yes"; stty size\r')
step('tty', until(b'tty=yes'))
step('size', until(b'30 100'))
os.write(fd, b'sleep 100\r')
time.sleep(2)
os.write(fd, b'\x03')
os.write(fd, b'echo "status=$?"\r')
step('interrupt', until(b'status=130', 20))
os.write(fd, b'sleep 101\r')
time.sleep(2)
os.write(fd, b'\x1a')
# (What is waited for is computed by the shell: the terminal echoes what is typed.)
os.write(fd, b'jobs; echo "jobs=$((40+2))"\r')
step('suspend', until(b'jobs=42', 20) and b'Stopped' in out)
os.write(fd, b'kill -9 %1; wait; echo "killed=$((1+1))"\r')
until(b'killed=2', 20)
os.write(fd, b'exit 5\r')
until(b'\x00never', 10)
_, st = os.waitpid(pid, 0)
print(f'exit: {os.waitstatus_to_exitcode(st)}')
print('--- transcript')
sys.stdout.write(out.decode('latin1'))
