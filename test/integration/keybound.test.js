'use strict';
// keybound: what a hostile program can make the Sentry keep with keys is
// bounded and accounted. test/hostile/keyflood.c (as root in the sandbox)
// fills root's byte quota with the largest payloads (EDQUOT), nests keyrings
// until possession stops (EACCES), tries a cycle (EDEADLK) and a chain too
// deep to link (ELOOP), oversized payloads and descriptions (EINVAL), then
// raises the quotas to the maximum and fills until the sandbox's memory
// budget refuses (ENOMEM). The heap budget never goes past its limit, and
// once the program is gone the keys are collected and their charge returned.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const { Sandbox } = require('../../dist/sandbox/sandbox.js');

const ENV = ['PATH=/usr/bin:/bin', 'LC_ALL=C'];

test('keys a program makes the Sentry keep are bounded by the quotas and the memory budget, and collected', { timeout: 300_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-keyflood-');
  const bin = path.join(dir, 'keyflood');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'keyflood.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const outPath = path.join(dir, 'out');
  const stdin = fs.openSync('/dev/null', 'r');
  const out = fs.openSync(outPath, 'w+');
  const err = fs.openSync(`${outPath}.err`, 'w+');
  const sb = new Sandbox({ rootfs: '/', argv: [bin], env: ENV, cwd: '/', stdio: [stdin, out, err], memory: 256 << 20 });
  const heap = sb.kernel.platform.memfile.heap;
  const before = heap.used;
  let status;
  try {
    status = await sb.run();
  } finally {
    for (const fd of [stdin, out, err]) fs.closeSync(fd);
  }
  const stdout = fs.readFileSync(outPath, 'latin1');
  assert.strictEqual(status, 0, `${stdout}\n${fs.readFileSync(`${outPath}.err`, 'latin1')}`);
  // 25000000 bytes of quota, each key costing its payload, its description and a link.
  const under = Number(/^32767-byte keys under root's quota: (\d+), then EDQUOT$/m.exec(stdout)?.[1]);
  assert.ok(under > 700 && under < 763, stdout);
  assert.match(stdout, /^payload 32768: EINVAL$/m);
  assert.match(stdout, /^description 8191: EINVAL$/m);
  assert.match(stdout, /^keyctl_update 5000: EINVAL$/m);
  assert.match(stdout, /^nesting stops at 8: EACCES$/m);
  assert.match(stdout, /^cycle: EDEADLK$/m);
  assert.match(stdout, /^deep chain below another: ELOOP$/m);
  assert.match(stdout, /^keyrings linking one chain: 300, linking the hub below them: EDEADLK$/m);
  // Without a quota the sandbox's memory budget (a quarter of 256 MiB) stops it.
  const over = Number(/^32767-byte keys without a quota: (\d+), then ENOMEM$/m.exec(stdout)?.[1]);
  assert.ok(over > 0 && over * 32767 <= heap.limit, stdout);
  assert.match(stdout, /^clear: ok$/m);
  assert.match(stdout, /^after clearing, 1000-byte keys: \d+, then ENOMEM$/m);
  assert.ok(stdout.endsWith('done\n'), stdout);
  assert.ok(heap.peak <= heap.limit, `peak ${heap.peak} over the limit ${heap.limit}`);
  // The program is gone: a sweep takes back every key but the register's.
  const keys = sb.kernel.keys;
  keys.markDirty();
  keys.sweep();
  assert.deepStrictEqual([...keys.all()].map((k) => k.description).sort(), []);
  assert.ok(heap.used - before < 1 << 20, `heap still charged: ${heap.used - before}`);
});
