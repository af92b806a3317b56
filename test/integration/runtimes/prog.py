# Python in the sandbox: the interpreter, its standard library, files,
# subprocesses with pipes, signals, and errors from the kernel.
import errno, hashlib, json, os, signal, subprocess, sys

os.makedirs("d/e", exist_ok=True)
with open("d/e/f.txt", "w") as f:
    f.write("line\n" * 100)
print(sorted(os.listdir("d")), os.path.getsize("d/e/f.txt"))
print(hashlib.sha256(open("d/e/f.txt", "rb").read()).hexdigest())
os.rename("d/e/f.txt", "d/g.txt")
os.symlink("g.txt", "d/link")
print(os.readlink("d/link"), open("d/link").read().count("line"))
try:
    os.rmdir("d")
except OSError as e:
    print("rmdir:", errno.errorcode[e.errno])
r = subprocess.run(["sh", "-c", "echo from child; exit 3"], capture_output=True, text=True)
print(repr(r.stdout), r.returncode)
p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
out, _ = p.communicate(b"through a pipe\n")
print(out, p.returncode)
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
os.kill(os.getpid(), signal.SIGUSR1)
print("signal handled:", got)
print(json.dumps({"sum": sum(range(100000)), "fact": len(str(__import__("math").factorial(500)))}))
pid = os.fork()
if pid == 0:
    os._exit(7)
print("child status", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
sys.stdout.flush()
