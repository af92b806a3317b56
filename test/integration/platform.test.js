'use strict';
// The ptrace platform on its own: stubs are traced, pinned, named, confined by
// seccomp, and run application code whose system calls all stop in the tracer.
// Runs in a child Node process: the platform makes its thread the tracer.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const path = require('node:path');
const { test } = require('node:test');

const DIST = path.join(__dirname, '..', '..', 'dist');

function runScript(src) {
  const r = childProcess.spawnSync(process.execPath, ['-e', src], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, DIST } });
  assert.strictEqual(r.status, 0, `child failed:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

test('stubs: seccomp-confined, named, pinned; app syscalls stop in the tracer; other host calls kill the stub', () => {
  const out = runScript(`
    const fs = require('fs');
    const { PtracePlatform } = require(process.env.DIST + '/platform/ptrace/platform.js');
    const p = new PtracePlatform();
    const as = p.newAddressSpace();
    const status = fs.readFileSync('/proc/' + as.pid + '/status', 'utf8');
    const comm = fs.readFileSync('/proc/' + as.pid + '/comm', 'utf8').trim();
    // Application code: getpid; getppid; loop.
    const f = p.memfile.alloc(1);
    Buffer.from([0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xb8, 110, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf0]).copy(p.memfile.bytes(f));
    as.mapFrames(0x400000, 1, f, 5);
    const ctx = as.mainContext();
    ctx.regs.set(16, 0x400000);
    const seen = [];
    ctx.resume();
    for (let i = 0; i < 4; i++) {
      const ev = p.wait();
      seen.push(ev.kind === 'stop' && ev.stop.kind === 'syscall' ? ctx.regs.get(15) : 'other');
      ctx.regs.set(10, 1000 + i);
      ctx.resume();
    }
    p.wait();
    let killed = false;
    try { as.inject(39, []); } catch (e) { killed = /died|gone|faulted/.test(e.message); }
    console.log(JSON.stringify({ seccomp: /Seccomp:\\s+2/.test(status), comm, seen, killed, cpus: /Cpus_allowed_list:\\s+(\\S+)/.exec(status)[1] }));
    p.shutdown();
    process.exit(0);
  `);
  assert.ok(out.seccomp, 'stub runs with a seccomp filter');
  assert.strictEqual(out.comm, 'tsvisor-stub');
  assert.deepStrictEqual(out.seen, [39, 110, 39, 110]);
  assert.ok(out.killed, 'a host getpid injected into a stub is not allowed');
  assert.match(out.cpus, /^\d+$/, `stub pinned to one CPU, got ${out.cpus}`);
});

test('host event service: level and edge watches, unwatch, a number closed and reused', () => {
  const out = runScript(`
    const fs = require('fs');
    const os = require('os');
    const path = require('path');
    const cp = require('child_process');
    const { PtracePlatform } = require(process.env.DIST + '/platform/ptrace/platform.js');
    const p = new PtracePlatform();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-watch-'));
    const c = fs.constants;
    // A FIFO: the read side non-blocking, so it opens without a writer.
    const fifo = (name) => {
      const f = path.join(dir, name);
      cp.execFileSync('mkfifo', [f]);
      const r = fs.openSync(f, c.O_RDONLY | c.O_NONBLOCK);
      return { r, w: fs.openSync(f, c.O_WRONLY) };
    };
    const calls = [];
    // Wait for the next host event (the timer bounds it) and dispatch it.
    const step = () => {
      p.setTimer(Number(process.hrtime.bigint()) + 50e6);
      for (;;) {
        const ev = p.wait();
        if (ev.kind !== 'host') continue;
        const timer = p.dispatchHostEvents();
        return timer;
      }
    };
    const drainTimer = () => { while (!step()); };
    const res = {};

    const a = fifo('a');
    const wa = p.watch(a.r, 1, (rev) => calls.push('level ' + rev));
    fs.writeSync(a.w, 'x');
    step();
    res.level1 = calls.splice(0);
    step(); // not read: still ready, reported again
    res.level2 = calls.splice(0);
    p.unwatch(wa);
    drainTimer();
    res.afterUnwatch = calls.splice(0);

    const b = fifo('b');
    const wb = p.watch(b.r, 1, (rev) => calls.push('edge ' + rev), { edge: true });
    fs.writeSync(b.w, 'y');
    step();
    res.edge1 = calls.splice(0);
    drainTimer(); // still ready, no new data: no report
    res.edge2 = calls.splice(0);
    fs.writeSync(b.w, 'z');
    step();
    res.edge3 = calls.splice(0);
    p.unwatch(wb);

    // Unwatch, close, and the number comes back for another file: only the new watch reports.
    const num = b.r;
    fs.closeSync(b.r);
    const d = fifo('d');
    res.reused = d.r === num;
    p.watch(d.r, 1, (rev) => calls.push('new ' + rev), { edge: true });
    fs.writeSync(d.w, 'q');
    step();
    res.newFile = calls.splice(0);
    let refused = false;
    try { p.watch(9999, 1, () => {}); } catch (e) { refused = e.errno === 9; }
    res.refused = refused;
    fs.rmSync(dir, { recursive: true, force: true });
    console.log(JSON.stringify(res));
    p.shutdown();
    process.exit(0);
  `);
  assert.deepStrictEqual(out.level1, ['level 1']);
  assert.deepStrictEqual(out.level2, ['level 1']);
  assert.deepStrictEqual(out.afterUnwatch, []);
  assert.deepStrictEqual(out.edge1, ['edge 1']);
  assert.deepStrictEqual(out.edge2, []);
  assert.deepStrictEqual(out.edge3, ['edge 1']);
  assert.ok(out.reused, 'the fd number was reused (test premise)');
  assert.deepStrictEqual(out.newFile, ['new 1']);
  assert.ok(out.refused, 'a closed fd is refused with EBADF');
});
