'use strict';
// Whole-path walks through the Gofer (src/gofer/client.ts walkPath, server.ts
// walk): a path walk of the VFS tells each lookup the names that follow it
// (vfs/inode.ts LookupAhead), and the client then asks for the rest of the
// path in one WALK (stopping at a symlink or a missing name), remembering a
// missing name as absent, and, when the walk's file is opened for reading,
// brings its read descriptor in the same reply (WALK_OPEN). Counted with
// the connection's round trips: a stat of a path ten directories deep costs
// what a stat of a file at the top does; then WALK's new flags byte spoken
// to as a compromised Sentry would.

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const { OP, Raw } = require('../lib/goferraw');

const { startGofer } = require(path.join(h.ROOT, 'dist', 'gofer', 'start.js'));

const EINVAL = 22;
const DEPTH = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];

function deepTree() {
  const dir = h.tmpDir('tsvisor-gofer-walk-');
  h.writeTree(dir, { [`${DEPTH.join('/')}/file`]: 'deep\n', top: 'top\n' });
  fs.symlinkSync('../../..', path.join(dir, 'a', 'b', 'up'));
  return dir;
}

function client(t, dir, limits) {
  const g = startGofer([{ path: dir, writable: false }]);
  t.after(() => {
    g.conn.close();
    try {
      process.kill(g.pid, 'SIGKILL');
    } catch {}
  });
  return { c: g.conn.tree(0, limits), trips: () => g.conn.roundTrips };
}

/** Look up names from the root one at a time as the VFS's walk does, each told what follows (LookupAhead); ends at a non-directory. */
function walkAsVfs(c, names, open = false) {
  const ahead = { names, at: 0, open };
  let cur = c.root();
  for (let i = 0; i < names.length && cur; i++) {
    // The VFS follows a symlink itself (a new walk of its target).
    if ((cur.stat.mode & 0o170000) !== 0o040000) return cur;
    ahead.at = i;
    cur = c.lookup(cur, names[i], ahead);
  }
  return cur;
}

test('a lookup told the rest of its path brings it in one WALK; a missing name is then absent without another', (t) => {
  const dir = deepTree();
  const { c, trips } = client(t, dir, { ttlMs: 600_000 });
  c.lookup(c.root(), 'top');
  let before = trips();
  const f = walkAsVfs(c, [...DEPTH, 'file']);
  assert.ok(f, 'found');
  assert.strictEqual(f.stat.size, 5);
  assert.strictEqual(trips(), before + 1, 'eleven names, one round trip');
  // Told nothing (a plain lookup), the same names are kept: no round trip either.
  let cur = c.root();
  for (const n of DEPTH) cur = c.lookup(cur, n);
  assert.strictEqual(trips(), before + 1);

  before = trips();
  assert.strictEqual(walkAsVfs(c, [...DEPTH, 'x', 'y', 'z']), null);
  assert.strictEqual(trips(), before + 1, 'the walk stops at the missing name, which the next lookup knows absent');
  assert.strictEqual(walkAsVfs(c, [...DEPTH, 'x']), null);
  assert.strictEqual(trips(), before + 1);

  // Through a symlink: the WALK stops at it (the VFS follows it itself).
  before = trips();
  const up = walkAsVfs(c, ['a', 'b', 'up', 'etc', 'passwd']);
  assert.ok(up && (up.stat.mode & 0o170000) === 0o120000, 'the walk ends at the symlink');
  assert.strictEqual(trips(), before + 1);
  // "..": the WALK takes the names before it only.
  before = trips();
  const ahead = { names: ['a', 'b', 'c', '..', 'c'], at: 0, open: false };
  c.lookup(c.root(), 'a', ahead);
  assert.ok(trips() <= before + 1);
});

test('an absence a WALK saw never hides a name a later listing has', (t) => {
  const dir = deepTree();
  const { c } = client(t, dir, { ttlMs: 600_000 });
  assert.strictEqual(walkAsVfs(c, ['a', 'b', 'late', 'x']), null);
  const b = walkAsVfs(c, ['a', 'b']);
  assert.strictEqual(c.lookup(b, 'late'), null, 'absent, as the WALK saw');
  // A regular file: the listing brings its name, not its attributes (those come at its lookup).
  fs.writeFileSync(path.join(dir, 'a', 'b', 'late'), 'late\n');
  assert.ok(c.readdir(b).some((e) => e.name === 'late'), 'the listing has it');
  assert.ok(c.lookup(b, 'late'), 'and so does the lookup after it');
});

test('a walk that opens its file brings the read descriptor along: the read needs no OPEN', (t) => {
  const dir = deepTree();
  const { c, trips } = client(t, dir, { ttlMs: 600_000 });
  c.lookup(c.root(), 'top');
  const before = trips();
  const f = walkAsVfs(c, [...DEPTH, 'file'], true);
  c.pin(f);
  const buf = Buffer.alloc(16);
  assert.strictEqual(buf.toString('latin1', 0, c.pread(f, buf, 0)), 'deep\n');
  c.unpin(f);
  assert.strictEqual(trips(), before + 1, 'walk, open and read: one round trip');
  assert.strictEqual(c.held().read, 1);
  // A directory or a symlink is never opened, whatever the walk says.
  const d = walkAsVfs(c, ['a', 'b', 'up'], true);
  assert.ok(d);
  assert.strictEqual(c.held().read, 1);
});

test('through tsvisor do --gofer: a stat or a cat ten directories deep costs the round trips of one at the top', (t) => {
  if (!h.needTools(t, ['/bin/busybox'])) return;
  const dir = deepTree();
  const stats = path.join(h.tmpDir('tsvisor-gofer-walk-stats-'), 'stats.json');
  const trips = (argv) => {
    const r = h.runSandbox(argv, { flags: ['--gofer', '--stats', stats] });
    assert.strictEqual(r.status, 0, r.stderr);
    return { out: r.stdout, trips: JSON.parse(fs.readFileSync(stats, 'utf8')).hostFds.roundTrips };
  };
  const deep = `${dir}/${DEPTH.join('/')}/file`;
  const top = trips(['/bin/busybox', 'stat', '-c', '%s', `${dir}/top`]);
  const low = trips(['/bin/busybox', 'stat', '-c', '%s', deep]);
  assert.deepStrictEqual([top.out, low.out], ['4\n', '5\n']);
  // Each directory on the way cost a round trip before (10 more).
  assert.ok(low.trips <= top.trips, `deep ${low.trips}, top ${top.trips}`);
  const catTop = trips(['/bin/busybox', 'cat', `${dir}/top`]);
  const catLow = trips(['/bin/busybox', 'cat', deep]);
  assert.deepStrictEqual([catTop.out, catLow.out], ['top\n', 'deep\n']);
  assert.ok(catLow.trips <= catTop.trips, `deep ${catLow.trips}, top ${catTop.trips}`);
  // A missing name deep down: ENOENT, as natively, and no round trip per directory.
  const miss = h.runSandbox(['/bin/busybox', 'stat', `${dir}/${DEPTH.join('/')}/nope`], { flags: ['--gofer', '--stats', stats] });
  assert.strictEqual(miss.status, 1);
  assert.match(miss.stderr, /No such file or directory/);
  assert.ok(JSON.parse(fs.readFileSync(stats, 'utf8')).hostFds.roundTrips <= top.trips);
});

test('WALK flags from a hostile client: unknown bits and trailing bytes are EINVAL; a descriptor only for a regular file the whole walk reached', (t) => {
  const dir = deepTree();
  const g = new Raw([{ path: dir, writable: false }]);
  t.after(() => g.close());
  const walk = (names, tail) =>
    g.req(OP.WALK, (w) => {
      w.u32(1).u16(names.length);
      for (const n of names) w.str(n);
      for (const b of tail) w.u8(b);
    });
  for (const tail of [[2], [0x80], [0xff], [1, 0], [0, 0], [1, 1, 1]]) {
    const rep = walk(['top'], tail);
    assert.strictEqual(rep.errno, EINVAL, `flags ${JSON.stringify(tail)}`);
    assert.deepStrictEqual(rep.fds, []);
  }
  /** A WALK with flags: the nodes found, how it ended, and the descriptor that came. */
  const walkFlags = (names, flags) => {
    const rep = walk(names, [flags]);
    assert.strictEqual(rep.errno, 0);
    const found = rep.r.u16();
    for (let k = 0; k < found; k++) {
      rep.r.u32();
      rep.r.stat();
    }
    const end = rep.r.u8();
    const opened = flags & 1 ? rep.r.u8() : 0;
    assert.strictEqual(rep.fds.length, opened, 'a descriptor exactly when the reply says so');
    return { found, end, fd: rep.fd };
  };
  const file = walkFlags([...DEPTH, 'file'], 1);
  assert.deepStrictEqual([file.found, file.end], [11, 0]);
  const st = fs.fstatSync(file.fd);
  assert.strictEqual(st.ino, fs.statSync(path.join(dir, ...DEPTH, 'file')).ino);
  fs.closeSync(file.fd);
  // Not reached whole, a directory, a symlink: no descriptor.
  for (const names of [[...DEPTH], ['a', 'b', 'up'], ['a', 'b', 'up', 'etc', 'passwd'], [...DEPTH, 'nope'], ['a', 'nope', 'file']]) {
    const r = walkFlags(names, 1);
    assert.strictEqual(r.fd, -1, names.join('/'));
  }
  assert.strictEqual(walkFlags(['a', 'nope', 'file'], 0).end, 1, 'ended at a missing name');
  assert.strictEqual(walkFlags(['a', 'b', 'up', 'etc'], 0).end, 0, 'ended at a non-directory');
  // Bad names anywhere in the walk still fail it whole, with or without flags.
  for (const bad of ['..', '.', '', 'x/y', 'a\0']) assert.strictEqual(walk(['a', bad], [1]).errno, EINVAL);
  assert.ok(g.alive());
});
