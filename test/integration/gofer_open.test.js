'use strict';
// OPEN_MANY (src/gofer/server.ts openMany, used by gofer/client_reads.ts):
// several read descriptors in one reply, spoken to as a compromised Sentry
// would. Each descriptor must be of the file asked for, in order; unknown
// ids, directories and symlinks get their own error and no descriptor;
// counts out of range are refused whole; thousands of batches leave the
// Gofer holding a bounded number of descriptors.

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const { OP, Raw } = require('../lib/goferraw');

const EINVAL = 22;
const ENOID = 77;

/** OPEN_MANY of ids: per id its errno, and the descriptors that came. */
function openMany(g, ids) {
  const rep = g.req(OP.OPEN_MANY, (w) => {
    w.u16(ids.length);
    for (const id of ids) w.u32(id);
  });
  if (rep.errno !== 0) return { errno: rep.errno, fds: [] };
  const n = rep.r.u16();
  const errnos = [];
  for (let i = 0; i < n; i++) errnos.push(rep.r.i32());
  return { errno: 0, errnos, fds: rep.fds };
}

test('OPEN_MANY: one descriptor per file asked for, in order; errors per id; bad counts refused; bounded in the Gofer', (t) => {
  const root = h.tmpDir('tsvisor-gofer-open-');
  for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(root, `f${i}`), `file${i}\n`);
  fs.mkdirSync(path.join(root, 'dir'));
  fs.symlinkSync('/etc/passwd', path.join(root, 'link'));
  const g = new Raw([{ path: root, writable: false }]);
  t.after(() => g.close());
  const idOf = (name) => {
    const rep = g.walk(1, [name]);
    assert.strictEqual(rep.errno, 0, name);
    assert.strictEqual(rep.r.u16(), 1, name);
    return rep.r.u32();
  };
  const ids = Array.from({ length: 40 }, (_, i) => idOf(`f${i}`));
  const inoOf = (fd) => fs.fstatSync(fd).ino;

  // Counts: 0 and past 32 are refused whole, with no descriptor.
  for (const n of [0, 33, 0xffff]) {
    const rep = g.req(OP.OPEN_MANY, (w) => {
      w.u16(n);
      for (let i = 0; i < Math.min(n, 40); i++) w.u32(ids[i]);
    });
    assert.strictEqual(rep.errno, EINVAL, `count ${n}`);
    assert.strictEqual(rep.fd, -1);
  }
  // A count longer than the ids sent: malformed.
  assert.strictEqual(g.req(OP.OPEN_MANY, (w) => w.u16(5).u32(ids[0])).errno, EINVAL);

  // 32 files: 32 descriptors, each of its file.
  const all = openMany(g, ids.slice(0, 32));
  assert.strictEqual(all.errno, 0);
  assert.deepStrictEqual(all.errnos, new Array(32).fill(0));
  assert.strictEqual(all.fds.length, 32);
  all.fds.forEach((fd, i) => {
    assert.strictEqual(inoOf(fd), fs.statSync(path.join(root, `f${i}`)).ino, `descriptor ${i}`);
    assert.strictEqual(fs.readFileSync(`/proc/self/fd/${fd}`, 'latin1'), `file${i}\n`);
    fs.closeSync(fd);
  });

  // A mix: unknown ids, the root, a directory, a symlink between files: their own errors, the files' descriptors in order.
  const mixed = openMany(g, [ids[0], 999999, 1, idOf('dir'), idOf('link'), ids[1], 0, ids[2]]);
  assert.strictEqual(mixed.errno, 0);
  assert.deepStrictEqual(mixed.errnos, [0, ENOID, EINVAL, EINVAL, EINVAL, 0, ENOID, 0]);
  assert.strictEqual(mixed.fds.length, 3);
  assert.deepStrictEqual(mixed.fds.map(inoOf), [0, 1, 2].map((i) => fs.statSync(path.join(root, `f${i}`)).ino));
  for (const fd of mixed.fds) fs.closeSync(fd);

  // Thousands of batches: the Gofer keeps none of the descriptors it sent.
  for (let k = 0; k < 300; k++) {
    const rep = openMany(g, ids.slice(k % 8, (k % 8) + 32));
    assert.strictEqual(rep.fds.length, 32);
    for (const fd of rep.fds) fs.closeSync(fd);
  }
  const held = fs.readdirSync(`/proc/${g.pid}/fd`).length;
  assert.ok(held < 450, `the Gofer holds ${held} descriptors`);
  assert.ok(g.alive());
});
