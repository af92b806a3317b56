# Python with threads, processes and local IPC in the sandbox: every line it
# prints is deterministic, so the output must equal the native run's.
import asyncio, concurrent.futures, multiprocessing, os, queue, selectors, signal
import socket, sqlite3, subprocess, sys, tempfile, threading, time

section = sys.argv[1] if len(sys.argv) > 1 else "all"
# "bc" is not everywhere: the shell's arithmetic is.


def want(name):
    return section == "all" or name in section.split(",")


def square(x):
    return x * x


def child_put(q, n):
    q.put(sum(range(n)))


def threads():
    # 16 threads contend on one lock and one condition: a bounded buffer.
    lock = threading.Lock()
    cond = threading.Condition()
    counter = [0]
    items = []
    consumed = []

    def bump():
        for _ in range(2000):
            with lock:
                counter[0] += 1

    def producer(base):
        for i in range(200):
            with cond:
                while len(items) >= 8:
                    cond.wait()
                items.append(base + i)
                cond.notify_all()

    def consumer(n):
        got = 0
        for _ in range(n):
            with cond:
                while not items:
                    cond.wait()
                got += items.pop(0)
                cond.notify_all()
        with lock:
            consumed.append(got)

    ts = [threading.Thread(target=bump) for _ in range(8)]
    ts += [threading.Thread(target=producer, args=(k * 1000,)) for k in range(4)]
    ts += [threading.Thread(target=consumer, args=(200,)) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("threads: counter", counter[0], "consumed", sum(consumed), "left", len(items))
    # A barrier, an event and thread-local data.
    barrier = threading.Barrier(6)
    ev = threading.Event()
    local = threading.local()
    order = []

    def at_barrier(i):
        local.i = i
        barrier.wait()
        ev.wait(10)
        with lock:
            order.append(local.i)

    ts = [threading.Thread(target=at_barrier, args=(i,)) for i in range(6)]
    for t in ts:
        t.start()
    time.sleep(0.05)
    ev.set()
    for t in ts:
        t.join()
    print("threads: barrier", sorted(order), "alive", threading.active_count())
    # A condition wait with a timeout that expires.
    with cond:
        t0 = time.monotonic()
        r = cond.wait(0.1)
        print("threads: timed wait", r, time.monotonic() - t0 >= 0.09)
    q = queue.Queue()
    workers = [threading.Thread(target=lambda: [q.put(i) for i in range(100)]) for _ in range(5)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print("threads: queue", q.qsize(), sum(q.get() for _ in range(q.qsize())))


def processes():
    r = subprocess.run(["sh", "-c", "echo out; echo err >&2; exit 4"], capture_output=True, text=True)
    print("subprocess:", repr(r.stdout), repr(r.stderr), r.returncode)
    p = subprocess.Popen(["tr", "a-z", "A-Z"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = p.communicate(b"hello through pipes\n" * 1000)
    print("subprocess: communicate", len(out), out[:20], p.returncode)
    try:
        subprocess.run(["sleep", "5"], timeout=0.3)
    except subprocess.TimeoutExpired as e:
        print("subprocess: timeout", round(e.timeout, 2))
    p = subprocess.Popen(["sleep", "5"])
    try:
        p.wait(0.2)
    except subprocess.TimeoutExpired:
        p.kill()
        print("subprocess: killed", p.wait())
    print("subprocess: check_output", subprocess.check_output("echo $(( $(seq 1 5 | paste -sd+) ))", shell=True).strip())


def mp():
    for method in ("fork", "spawn"):
        ctx = multiprocessing.get_context(method)
        q = ctx.Queue()
        p = ctx.Process(target=child_put, args=(q, 1000))
        p.start()
        v = q.get(timeout=30)
        p.join()
        print("multiprocessing:", method, v, p.exitcode)
        with ctx.Pool(3) as pool:
            print("multiprocessing:", method, "pool", pool.map(square, range(10)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as ex:
        print("futures: threads", sum(ex.map(square, range(1000))))
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as ex:
        futs = [ex.submit(square, i) for i in range(20)]
        print("futures: processes", sum(f.result() for f in concurrent.futures.as_completed(futs)))


def block_recv(conn):
    conn.recv()


def block_get(q):
    q.get()


def block_sem(s):
    s.acquire()


def block_sleep():
    time.sleep(600)


def mpexit():
    # What test_multiprocessing_fork's end needs: daemon children blocked in
    # a pipe, a queue, a semaphore and a sleep die of terminate() and are
    # reaped, and the resource tracker, whose pipe every forked child
    # inherited, sees EOF once the last of them is gone, so its stop returns.
    from multiprocessing import resource_tracker, shared_memory
    ctx = multiprocessing.get_context("fork")
    sm = shared_memory.SharedMemory(create=True, size=4096)
    sm.buf[:5] = b"hello"
    near, far = ctx.Pipe()
    q = ctx.Queue()
    sem = ctx.Semaphore(0)
    kids = [ctx.Process(target=f, args=a, daemon=True)
            for f, a in ((block_recv, (far,)), (block_get, (q,)), (block_sem, (sem,)), (block_sleep, ()))]
    for k in kids:
        k.start()
    time.sleep(0.5)
    print("mpexit: alive", [k.is_alive() for k in kids])
    for k in kids:
        k.terminate()
    for k in kids:
        k.join(30)
    print("mpexit: exit codes", [k.exitcode for k in kids])
    sm.close()
    sm.unlink()
    signal.alarm(30)
    resource_tracker._resource_tracker._stop()
    signal.alarm(0)
    print("mpexit: tracker stopped")
    # One more left blocked for the interpreter's exit to terminate and join.
    ctx.Process(target=block_recv, args=(far,), daemon=True).start()
    print("mpexit: leaving a daemon child to exit")


def signals():
    got = []
    signal.signal(signal.SIGUSR1, lambda s, f: got.append("usr1"))
    signal.signal(signal.SIGALRM, lambda s, f: got.append("alrm"))
    os.kill(os.getpid(), signal.SIGUSR1)
    signal.setitimer(signal.ITIMER_REAL, 0.05)
    time.sleep(0.5)
    # A signal sent from another thread reaches the main thread's handler.
    t = threading.Thread(target=lambda: os.kill(os.getpid(), signal.SIGUSR1))
    t.start()
    t.join()
    time.sleep(0.05)
    print("signals:", got)
    print("signals: pthread_kill", signal.pthread_kill(threading.main_thread().ident, 0))
    old = signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])
    os.kill(os.getpid(), signal.SIGUSR2)
    print("signals: pending", signal.SIGUSR2 in signal.sigpending(), "waited", signal.sigwait([signal.SIGUSR2]))
    signal.pthread_sigmask(signal.SIG_SETMASK, old)


def ipc():
    a, b = socket.socketpair()
    sel = selectors.DefaultSelector()
    sel.register(b, selectors.EVENT_READ, "b")
    r, w = os.pipe()
    sel.register(r, selectors.EVENT_READ, "pipe")
    print("selectors: empty", sel.select(timeout=0.05))
    a.sendall(b"ping")
    os.write(w, b"x")
    print("selectors:", sorted(key.data for key, ev in sel.select(timeout=5)))
    print("socketpair:", b.recv(10), os.read(r, 1))
    t = threading.Thread(target=lambda: a.sendall(b"y" * 300000))
    t.start()
    n = 0
    while n < 300000:
        n += len(b.recv(65536))
    t.join()
    print("socketpair: bulk", n)
    a.close()
    print("socketpair: eof", b.recv(10))
    sel.close()


async def amain():
    p = await asyncio.create_subprocess_exec("sh", "-c", "cat; echo done >&2", stdin=asyncio.subprocess.PIPE,
                                             stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await p.communicate(b"via asyncio\n")
    print("asyncio:", out, err, p.returncode)
    procs = [await asyncio.create_subprocess_shell(f"echo {i}", stdout=asyncio.subprocess.PIPE) for i in range(4)]
    outs = await asyncio.gather(*(q.communicate() for q in procs))
    print("asyncio: gather", [o[0] for o in outs])
    results = await asyncio.gather(*(asyncio.sleep(0.01 * i, result=i) for i in range(5)))
    print("asyncio: sleeps", results)
    v = await asyncio.get_running_loop().run_in_executor(None, square, 12)
    print("asyncio: executor", v)
    try:
        await asyncio.wait_for(asyncio.sleep(5), 0.1)
    except asyncio.TimeoutError:
        print("asyncio: wait_for timed out")


def storage():
    with tempfile.TemporaryDirectory() as d:
        db = sqlite3.connect(os.path.join(d, "t.db"))
        db.execute("create table t (k integer primary key, v text)")
        db.executemany("insert into t (v) values (?)", [(str(i) * 3,) for i in range(500)])
        db.commit()
        print("sqlite3:", db.execute("select count(*), sum(length(v)) from t").fetchone())
        db.close()
        with tempfile.NamedTemporaryFile("w+", dir=d, delete=False) as f:
            f.write("temp data")
            name = f.name
        print("tempfile:", open(name).read(), os.path.dirname(name) == d)
    print("tempfile: cleaned", os.path.exists(d))
    import http.server, socketserver
    print("http.server:", http.server.SimpleHTTPRequestHandler.__name__, socketserver.ThreadingMixIn.daemon_threads)


if __name__ == "__main__":
    if want("threads"):
        threads()
    if want("processes"):
        processes()
    if want("mp"):
        mp()
    if want("signals"):
        signals()
    if want("mpexit"):
        mpexit()
    if want("ipc"):
        ipc()
    if want("asyncio"):
        asyncio.run(amain())
    if want("storage"):
        storage()
    sys.stdout.flush()
