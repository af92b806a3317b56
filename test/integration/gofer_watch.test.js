'use strict';
// Host change feeds through the Gofer (src/gofer/watches.ts), spoken to as a
// compromised Sentry would: the Gofer watches only files of its tree named
// by id, at most 1024 per tree whatever is asked, and the inotify descriptor
// it donates reports the host's changes to them. (The sandbox's view of it:
// test/integration/hostnotify.test.js with --gofer.)

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const { OP, Raw } = require('../lib/goferraw');

const EINVAL = 22;
const ENOSPC = 28;
const ENOID = 77;
const IN_CREATE = 0x100;
const IN_MODIFY = 0x2;

/** The watches of the inotify instances a process holds, from its fdinfo: [{ wd, ino }] per descriptor. */
function watchesOf(pid) {
  const out = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fdinfo`)) {
    let info = '';
    try {
      info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'latin1');
    } catch {
      continue;
    }
    const w = [...info.matchAll(/^inotify wd:([0-9a-f]+) ino:([0-9a-f]+)/gm)].map((m) => ({ wd: parseInt(m[1], 16), ino: parseInt(m[2], 16) }));
    if (w.length) out.push(w);
  }
  return out;
}

/** The id of name under the tree's root (id 1), or the errno. */
function idOf(g, name) {
  const rep = g.walk(1, [name]);
  if (rep.errno !== 0) return { errno: rep.errno };
  if (rep.r.u16() !== 1) return { errno: -1 };
  return { id: rep.r.u32() };
}

/** Events read from a (non-blocking) inotify descriptor: [{ wd, mask, name }]. */
function readEvents(fd) {
  const out = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    let n;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === 'EAGAIN') return out;
      throw e;
    }
    for (let at = 0; at + 16 <= n; ) {
      const len = buf.readUInt32LE(at + 12);
      const raw = buf.subarray(at + 16, at + 16 + len);
      const nul = raw.indexOf(0);
      out.push({ wd: buf.readInt32LE(at), mask: buf.readUInt32LE(at + 4), name: raw.subarray(0, nul < 0 ? len : nul).toString('latin1') });
      at += 16 + len;
    }
  }
}

test('a hostile client gets at most 1024 host watches of the tree, only of its files; the donated feed reports the host\'s changes', (t) => {
  const root = h.tmpDir('tsvisor-gofer-watch-');
  const outside = h.tmpDir('tsvisor-gofer-watch-out-');
  for (let i = 0; i < 1100; i++) fs.writeFileSync(path.join(root, `f${i}`), '');
  fs.symlinkSync(outside, path.join(root, 'link-out'));
  const inside = new Set([fs.lstatSync(root).ino, ...fs.readdirSync(root).map((n) => fs.lstatSync(path.join(root, n)).ino)]);
  const g = new Raw([{ path: root, writable: false }]);
  t.after(() => g.close());

  // The feed first: a descriptor of an inotify instance, and only for a tree the Gofer serves.
  assert.strictEqual(g.req(OP.FEED, (w) => w.u32(7)).errno, EINVAL);
  assert.strictEqual(g.req(OP.FEED, (w) => w.u32(0xffffffff)).errno, EINVAL);
  const feed = g.req(OP.FEED, (w) => w.u32(0));
  assert.strictEqual(feed.errno, 0);
  assert.ok(feed.fd >= 0, 'FEED donates a descriptor');
  t.after(() => fs.closeSync(feed.fd));
  assert.strictEqual(fs.readlinkSync(`/proc/self/fd/${feed.fd}`), 'anon_inode:inotify');

  // Ids it never gave, symlinks (a watch through one would follow it out), malformed requests: refused.
  assert.strictEqual(g.req(OP.WATCH, (w) => w.u32(123456)).errno, ENOID);
  assert.strictEqual(g.req(OP.WATCH, (w) => w.u16(1)).errno, EINVAL);
  const link = idOf(g, 'link-out');
  assert.ok(link.id, 'link-out has an id');
  assert.strictEqual(g.req(OP.WATCH, (w) => w.u32(link.id)).errno, EINVAL);

  // The root and 1100 files: 1024 watches, then ENOSPC; the same file again gives its watch again.
  const rootWatch = g.req(OP.WATCH, (w) => w.u32(1));
  assert.strictEqual(rootWatch.errno, 0);
  const rootWd = rootWatch.r.i32();
  const wds = [rootWd];
  let refused = 0;
  for (let i = 0; i < 1100; i++) {
    const { id } = idOf(g, `f${i}`);
    const rep = g.req(OP.WATCH, (w) => w.u32(id));
    if (rep.errno === ENOSPC) refused++;
    else {
      assert.strictEqual(rep.errno, 0);
      wds.push(rep.r.i32());
    }
  }
  assert.strictEqual(wds.length, 1024);
  assert.strictEqual(refused, 1100 - 1023);
  let held = watchesOf(g.pid);
  assert.strictEqual(held.length, 1, 'one inotify instance in the Gofer');
  assert.strictEqual(held[0].length, 1024);
  for (const w of held[0]) assert.ok(inside.has(w.ino), `watch of inode ${w.ino} is of the tree`);
  // The donated descriptor is the same instance: the client's process holds those watches too, no more.
  const mine = watchesOf(process.pid).flat();
  assert.strictEqual(mine.length, 1024);

  // UNWATCH of descriptors it was never given changes nothing; of one it was, frees a place.
  for (const wd of [-1, 0, 99999, 0x7fffffff]) assert.strictEqual(g.req(OP.UNWATCH, (w) => w.u32(0).i32(wd)).errno, 0);
  assert.strictEqual(g.req(OP.UNWATCH, (w) => w.u32(9).i32(wds[5])).errno, EINVAL);
  assert.strictEqual(watchesOf(g.pid)[0].length, 1024);
  assert.strictEqual(g.req(OP.UNWATCH, (w) => w.u32(0).i32(wds[5])).errno, 0);
  held = watchesOf(g.pid);
  assert.strictEqual(held[0].length, 1023);
  const again = g.req(OP.WATCH, (w) => w.u32(idOf(g, 'f1099').id));
  assert.strictEqual(again.errno, 0);
  assert.strictEqual(g.req(OP.WATCH, (w) => w.u32(idOf(g, 'f1098').id)).errno, ENOSPC);

  // The host's changes come on the donated descriptor.
  readEvents(feed.fd);
  fs.writeFileSync(path.join(root, 'made-on-host'), 'x');
  fs.appendFileSync(path.join(root, 'f0'), 'y');
  const ev = readEvents(feed.fd);
  assert.ok(ev.some((e) => e.wd === rootWd && (e.mask & IN_CREATE) && e.name === 'made-on-host'), JSON.stringify(ev));
  assert.ok(ev.some((e) => e.wd === wds[1] && (e.mask & IN_MODIFY)), JSON.stringify(ev));
  assert.ok(g.alive());
});
