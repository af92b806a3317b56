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
