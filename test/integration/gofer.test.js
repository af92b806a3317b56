'use strict';
// The Gofer (src/gofer): a separate, confined process serving host trees to
// the Sentry. Here it is spoken to directly, as a compromised Sentry would:
// random and adversarial messages (huge lengths, unknown ids, "..", "/", NUL
// in names, walks through symlinks that lead out, thousands of opens) must
// each get an error reply, never a crash, and no descriptor it hands out may
// be of a file outside the tree, also while a host process swaps a directory
// for a symlink to the outside during walks. Then the normal programs run
// under `tsvisor do --gofer` and are compared with native runs, and the
// client's caches are checked to batch (count of round trips) yet see host
// changes.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const DIST = path.join(h.ROOT, 'dist');
const { startGofer } = require(path.join(DIST, 'gofer', 'start.js'));
const { OP, Raw } = require('../lib/goferraw');
const libc = require(path.join(DIST, 'host', 'libc.js'));

const EINVAL = 22;
const ENOID = 77;
const EROFS = 30;
const EMSGSIZE = 90;
const MARKER = 'MARKER-FROM-OUTSIDE';

function buildTree() {
  const root = h.tmpDir('tsvisor-gofer-');
  const out = h.tmpDir('tsvisor-gofer-out-');
  fs.mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
  fs.mkdirSync(path.join(out, 'b'));
  for (let i = 0; i < 50; i++) {
    fs.writeFileSync(path.join(root, 'a', 'b', `f${i}`), `legit${i}\n`);
    fs.writeFileSync(path.join(out, 'b', `f${i}`), `${MARKER}\n`);
  }
  fs.writeFileSync(path.join(out, 'secret'), `${MARKER}\n`);
  fs.symlinkSync(out, path.join(root, 'link-out'));
  fs.symlinkSync('../../..', path.join(root, 'a', 'up'));
  fs.symlinkSync('/etc', path.join(root, 'abs'));
  fs.writeFileSync(path.join(root, 'top'), 'top\n');
  return { root, out };
}

/** (dev, ino) of every file under dir (no symlinks followed): a donated descriptor must be one of them. */
function inodesUnder(dir) {
  const set = new Set();
  const walk = (p) => {
    const st = fs.lstatSync(p);
    set.add(`${st.dev}:${st.ino}`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
  return set;
}

/**
 * Check a donated descriptor: of a file inside the tree, never holding the
 * marker, or the tree's inotify feed (FEED) watching only files inside it;
 * then close it.
 */
function checkFd(fd, inside, what) {
  if (fd < 0) return;
  try {
    if (fs.readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:inotify') {
      const inos = new Set([...inside].map((k) => k.split(':')[1]));
      for (const m of fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1').matchAll(/^inotify wd:[0-9a-f]+ ino:([0-9a-f]+)/gm)) {
        assert.ok(inos.has(String(parseInt(m[1], 16))), `${what}: a watch of a file outside the tree`);
      }
      return;
    }
    const st = fs.fstatSync(fd);
    assert.ok(inside.has(`${st.dev}:${st.ino}`), `${what}: a descriptor of a file outside the tree`);
    const buf = Buffer.alloc(64);
    const n = fs.readSync(fd, buf, 0, 64, 0);
    assert.ok(!buf.toString('latin1', 0, n).includes(MARKER), `${what}: read the outside marker`);
  } finally {
    fs.closeSync(fd);
  }
}

test('the Gofer is confined: its own mount and network namespaces, only the tree, few capabilities, seccomp', (t) => {
  const { root } = buildTree();
  const g = new Raw([{ path: root, writable: false }]);
  t.after(() => g.close());
  const status = fs.readFileSync(`/proc/${g.pid}/status`, 'utf8');
  const field = (k) => new RegExp(`^${k}:\\s*(\\S+)`, 'm').exec(status)[1];
  // CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH only (bits 1 and 2).
  assert.strictEqual(BigInt(`0x${field('CapEff')}`), 6n, status);
  assert.strictEqual(BigInt(`0x${field('CapBnd')}`), 6n, status);
  assert.strictEqual(field('NoNewPrivs'), '1');
  assert.strictEqual(field('Seccomp'), '2');
  for (const ns of ['mnt', 'net']) {
    assert.notStrictEqual(fs.readlinkSync(`/proc/${g.pid}/ns/${ns}`), fs.readlinkSync(`/proc/self/ns/${ns}`), `own ${ns} namespace`);
  }
  // Its root holds the served tree (at /0) and its own /proc (itself alone) and nothing else of the host.
  assert.deepStrictEqual(fs.readdirSync(`/proc/${g.pid}/root`).sort(), ['0', 'proc']);
  assert.deepStrictEqual(fs.readdirSync(`/proc/${g.pid}/root/proc`).filter((e) => /^\d+$/.test(e)), ['1']);
  assert.notStrictEqual(fs.readlinkSync(`/proc/${g.pid}/ns/pid`), fs.readlinkSync('/proc/self/ns/pid'), 'own PID namespace');
  assert.deepStrictEqual(fs.readdirSync(`/proc/${g.pid}/root/0`).sort(), fs.readdirSync(root).sort());
  // Read-only tree: read-only mount in the Gofer, and writes refused.
  assert.throws(() => fs.writeFileSync(`/proc/${g.pid}/root/0/new`, 'x'), /EROFS/);
  assert.strictEqual(g.req(OP.CREATE, (w) => w.u32(1).str('new').u32(0o644).i32(-1).i32(-1)).errno, EROFS);
});

test('adversarial messages get error replies; nothing outside the tree is reached', (t) => {
  const { root } = buildTree();
  const inside = inodesUnder(root);
  const g = new Raw([{ path: root, writable: false }]);
  t.after(() => g.close());
  const rootId = g.req(OP.ROOT, (w) => w.u32(0));
  assert.strictEqual(rootId.errno, 0);
  assert.strictEqual(rootId.r.u32(), 1);
  // Names that are not one component.
  for (const bad of ['..', '.', '', '/', 'a/b', '/etc', 'a\0b', '../..']) {
    assert.strictEqual(g.walk(1, [bad]).errno, EINVAL, `walk ${JSON.stringify(bad)}`);
    assert.strictEqual(g.walk(1, ['a', bad]).errno, EINVAL, `walk a/${JSON.stringify(bad)}`);
  }
  assert.notStrictEqual(g.walk(1, ['x'.repeat(300)]).errno, 0, 'an over-long name');
  // A walk through a symlink stops at the symlink (never followed).
  for (const names of [['link-out', 'secret'], ['link-out', 'b', 'f0'], ['a', 'up', 'etc', 'passwd'], ['abs', 'passwd']]) {
    const rep = g.walk(1, names);
    assert.strictEqual(rep.errno, 0);
    const found = rep.r.u16();
    assert.ok(found < names.length, `walk ${names.join('/')} went through a symlink (${found} found)`);
  }
  // Opening the symlink itself: an error (not a regular file), never the target.
  const link = g.walk(1, ['link-out']);
  link.r.u16();
  const linkId = link.r.u32();
  const o = g.req(OP.OPEN, (w) => w.u32(linkId).u8(0));
  assert.notStrictEqual(o.errno, 0);
  assert.strictEqual(o.fd, -1);
  assert.strictEqual(g.req(OP.READLINK, (w) => w.u32(linkId)).r.str(4096), fs.readlinkSync(path.join(root, 'link-out')));
  // Unknown ids, and ids of no tree.
  for (const id of [0, 500000, 0xfffffffe, 0xffffffff]) assert.strictEqual(g.req(OP.STAT, (w) => w.u32(id)).errno, ENOID, `id ${id}`);
  assert.strictEqual(g.req(OP.ROOT, (w) => w.u32(5)).errno, EINVAL);
  // Truncated and over-long messages.
  assert.strictEqual(g.send(Buffer.from([OP.WALK, 0, 0, 0, 1])).errno, EINVAL);
  assert.strictEqual(g.send(Buffer.from([OP.WALK, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0xff, 0xff])).errno, EINVAL, 'a name length past the end');
  assert.strictEqual(g.send(Buffer.alloc((1 << 17) + 100, 2)).errno, EMSGSIZE);
  assert.strictEqual(g.send(Buffer.from([99, 0, 0, 0])).errno, 38, 'unknown op: ENOSYS');
  assert.strictEqual(g.walk(1, new Array(300).fill('a')).errno, EINVAL, 'too many components');
  // READDIR past the end of a listing.
  assert.strictEqual(g.req(OP.READDIR, (w) => w.u32(1).u32(1000).u8(1)).errno, EINVAL);

  // Random messages, and random fields in well-formed ones, with names from an adversarial pool.
  const names = ['a', 'b', 'f1', 'top', 'link-out', 'up', 'abs', '..', '.', '/', 'a\0', '', 'secret', 'x'.repeat(255), 'x'.repeat(256)];
  let seed = 12345;
  const rnd = (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const ops = Object.values(OP).concat([0, 7, 8, 9, 19, 20, 21, 22, 23, 24, 26, 255]);
  let errors = 0;
  for (let i = 0; i < 4000; i++) {
    let rep;
    if (i % 4 === 0) {
      const b = Buffer.alloc(rnd(200));
      for (let k = 0; k < b.length; k++) b[k] = rnd(256);
      if (b.length) b[0] = ops[rnd(ops.length)];
      rep = g.send(b);
    } else {
      const op = ops[rnd(ops.length)];
      rep = g.req(op, (w) => {
        w.u32(rnd(3) === 0 ? rnd(2 ** 31) : rnd(40));
        const n = rnd(4);
        if (op === OP.WALK) {
          w.u16(n);
          for (let k = 0; k < n; k++) w.str(names[rnd(names.length)]);
          // WALK's flags byte (WALK_OPEN, a descriptor of the last name): valid, unknown bits, or followed by more bytes.
          if (rnd(2)) w.u8(rnd(3) === 0 ? rnd(256) : rnd(2));
          if (rnd(8) === 0) w.u8(rnd(256));
        } else {
          for (let k = 0; k < n; k++) (rnd(2) ? w.u32(rnd(2 ** 31)) : w.str(names[rnd(names.length)]));
        }
      });
    }
    if (rep.errno !== 0) errors++;
    for (const fd of rep.fds) checkFd(fd, inside, `message ${i}`);
  }
  assert.ok(errors > 1000, `most random messages are refused (${errors})`);
  assert.ok(g.alive(), 'the Gofer survived the fuzzing');
  assert.strictEqual(g.walk(1, ['a', 'b', 'f1']).errno, 0, 'and still serves');
});

test('descriptor exhaustion: thousands of opens and ids stay bounded in the Gofer', (t) => {
  const { root } = buildTree();
  const inside = inodesUnder(root);
  const g = new Raw([{ path: root, writable: false }]);
  t.after(() => g.close());
  for (let i = 0; i < 3000; i++) {
    const w = g.walk(1, ['a', 'b', `f${i % 50}`]);
    assert.strictEqual(w.errno, 0);
    assert.strictEqual(w.r.u16(), 3);
    w.r.u32();
    w.r.stat();
    w.r.u32();
    w.r.stat();
    const id = w.r.u32();
    const o = g.req(OP.OPEN, (x) => x.u32(id).u8(0));
    assert.strictEqual(o.errno, 0);
    assert.ok(o.fd >= 0);
    checkFd(o.fd, inside, `open ${i}`);
  }
  const fds = fs.readdirSync(`/proc/${g.pid}/fd`).length;
  assert.ok(fds < 450, `the Gofer holds ${fds} descriptors`);
  assert.ok(g.alive());
});

test('ids the Gofer forgot are found again by the client; ESTALE when the name leads elsewhere', (t) => {
  const { root } = buildTree();
  process.env.TSVISOR_GOFER_MAX_IDS = '20';
  let g;
  try {
    g = startGofer([{ path: root, writable: false }]);
  } finally {
    delete process.env.TSVISOR_GOFER_MAX_IDS;
  }
  t.after(() => {
    g.conn.close();
    try {
      process.kill(g.pid, 'SIGKILL');
    } catch {}
  });
  const c = g.conn.tree(0);
  const a = c.lookup(c.root(), 'a');
  const b = c.lookup(a, 'b');
  const first = c.lookup(b, 'f0');
  // Many more ids than the Gofer keeps: f0's (and a's, b's) are forgotten.
  for (let i = 1; i < 50; i++) c.lookup(b, `f${i}`);
  const buf = Buffer.alloc(16);
  const n = c.pread(first, buf, 0);
  assert.strictEqual(buf.toString('latin1', 0, n), 'legit0\n');
  // Replaced on the host: the forgotten node is stale, not the new file.
  const late = c.lookup(b, 'f1');
  for (let i = 2; i < 50; i++) c.lookup(b, `f${i}`);
  // (Written next to it and renamed over it: a new inode, never the old number reused.)
  fs.writeFileSync(path.join(root, 'a', 'b', 'f1.new'), 'new\n');
  fs.renameSync(path.join(root, 'a', 'b', 'f1.new'), path.join(root, 'a', 'b', 'f1'));
  assert.throws(() => c.pread(late, buf, 0), (e) => e.errno === 116);
});

// The swapper: flips DIR/a between the real directory and a symlink to OUT until DIR/stop exists.
const SWAPPER = `
const fs = require('node:fs');
const [dir, out] = process.argv.slice(1);
const a = dir + '/a', real = dir + '/a.real';
let n = 0;
while (!fs.existsSync(dir + '/stop')) {
  fs.renameSync(a, real);
  fs.symlinkSync(out, a);
  fs.unlinkSync(a);
  fs.renameSync(real, a);
  n++;
}
process.stdout.write(String(n));
`;

/** The SWAPPER running on root (until stop() asks it to end and checks it swapped); g is closed when the test ends. */
async function startSwapper(t, g, root, out) {
  const child = childProcess.spawn(process.execPath, ['-e', SWAPPER, root, out], { stdio: ['ignore', 'pipe', 'inherit'] });
  let swaps = '';
  child.stdout.on('data', (d) => { swaps += d; });
  const done = new Promise((resolve) => child.on('exit', resolve));
  t.after(() => {
    g.close();
    fs.writeFileSync(path.join(root, 'stop'), '');
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  return {
    async stop() {
      fs.writeFileSync(path.join(root, 'stop'), '');
      await done;
      assert.ok(Number(swaps) > 0, `the host swapped (${swaps})`);
    },
  };
}

test('a host process swapping a directory for a symlink during walks never leads the Gofer outside', async (t) => {
  const { root, out } = buildTree();
  const inside = inodesUnder(root);
  const g = new Raw([{ path: root, writable: false }]);
  const swapper = await startSwapper(t, g, root, out);
  let opened = 0;
  let stopped = 0;
  for (let i = 0; i < 3000; i++) {
    const w = g.walk(1, ['a', 'b', `f${i % 50}`]);
    // ESTALE: a directory found a moment ago is a symlink now.
    assert.ok(w.errno === 0 || w.errno === 116, `walk errno ${w.errno}`);
    const found = w.errno === 0 ? w.r.u16() : 0;
    if (found < 3) {
      stopped++;
      continue;
    }
    w.r.u32();
    const sa = w.r.stat();
    assert.ok(inside.has(`${sa.dev}:${sa.ino}`) || (sa.mode & 0o170000) === 0o040000, 'walked a directory of the tree');
    w.r.u32();
    w.r.stat();
    const id = w.r.u32();
    const o = g.req(OP.OPEN, (x) => x.u32(id).u8(0));
    if (o.errno === 0) {
      opened++;
      checkFd(o.fd, inside, `walk ${i}`);
    }
  }
  await swapper.stop();
  assert.ok(opened > 0 && stopped > 0, `walks saw both states (opened ${opened}, stopped at the symlink ${stopped})`);
  assert.ok(g.alive());
});

const GOFER = { flags: ['--gofer'] };

test('programs under tsvisor do --gofer match native runs', (t) => {
  if (!h.needTools(t, ['/bin/busybox', 'python3', 'gcc'])) return;
  const dir = h.tmpDir('tsvisor-gofer-progs-');
  h.writeTree(dir, {
    'src/main.c': '#include <stdio.h>\n#include "lib.h"\nint main(void) { printf("%d\\n", twice(21)); return 0; }\n',
    'src/lib.h': 'static inline int twice(int x) { return 2 * x; }\n',
    'd/e/f.txt': 'deep\n',
    'd/link': { symlink: 'e/f.txt' },
    'd/dangling': { symlink: 'nowhere' },
  });
  h.compare(t, ['/bin/busybox', 'ls', '-lR', '--full-time', dir], GOFER);
  h.compare(t, ['/bin/sh', '-c', `find /usr/include ${dir} -xdev | sort | md5sum`], GOFER);
  h.compare(t, ['/bin/sh', '-c', `cat ${dir}/d/link /etc/passwd | md5sum`], GOFER);
  h.compare(t, ['python3', '-c', 'import email, json, http.client, asyncio; print(len(json.dumps({"a": 1})))'], GOFER);
  const out = h.tmpDir('tsvisor-gofer-gcc-');
  h.compare(t, ['/bin/sh', '-c', `gcc -O1 -I${dir}/src -o ${out}/prog ${dir}/src/main.c && ${out}/prog`], { ...GOFER, sandbox: { ...GOFER, env: {} } });
});

test('through the Gofer, a file added on the host is seen at once; a listing then stat costs one round trip per directory', (t) => {
  if (!h.needTools(t, ['/bin/busybox'])) return;
  const dir = h.tmpDir('tsvisor-gofer-live-');
  const tree = {};
  for (let d = 0; d < 10; d++) for (let f = 0; f < 30; f++) tree[`d${d}/f${f}`] = `${d}.${f}\n`;
  h.writeTree(dir, tree);
  const stats = path.join(h.tmpDir('tsvisor-gofer-stats-'), 'stats.json');
  const script = `ls -lR ${dir} | wc -l; while [ ! -e ${dir}/new ]; do sleep 0.01; done; cat ${dir}/new`;
  const sb = childProcess.spawn(process.execPath, h.sandboxArgs(['/bin/busybox', 'sh', '-c', script], { flags: ['--gofer', '--stats', stats] }),
    { cwd: h.ROOT, env: h.sentryEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  t.after(() => {
    try {
      process.kill(-sb.pid, 'SIGKILL');
    } catch {}
  });
  let stdout = '';
  let stderr = '';
  sb.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const watchdog = setTimeout(() => reject(new Error(`timed out\n${stdout}\n${stderr}`)), 60_000);
    sb.stdout.on('data', (d) => {
      stdout += d;
      if (/^\d+\n/.test(stdout) && !fs.existsSync(path.join(dir, 'new'))) fs.writeFileSync(path.join(dir, 'new'), 'added on the host\n');
    });
    sb.on('exit', (code) => {
      clearTimeout(watchdog);
      try {
        assert.strictEqual(code, 0, stderr);
        assert.match(stdout, /^added on the host$/m);
        const s = JSON.parse(fs.readFileSync(stats, 'utf8'));
        // 300 files in 10 directories: the listing brings the attributes, ls's lstats cost nothing more.
        assert.ok(s.hostFds.roundTrips < 200, `round trips: ${JSON.stringify(s.hostFds)}`);
        resolve();
      } catch (e) {
        reject(e);
      }
    });
  });
});

// Writable trees (read-write binds): the same hostility, now with the calls that change the host.

/** Every path under dir with its type, mode, owner and content or target: what must not change outside the tree. */
function snapshot(dir) {
  const out = [];
  const walk = (p) => {
    const st = fs.lstatSync(p);
    let what = '';
    if (st.isSymbolicLink()) what = fs.readlinkSync(p);
    else if (st.isFile()) what = fs.readFileSync(p, 'latin1');
    out.push(`${path.relative(dir, p)} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.nlink} ${what}`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e));
  };
  walk(dir);
  return out.join('\n');
}

/** The id and attributes of the last component of a WALK, or null if the walk stopped short. */
function walkId(g, id, names) {
  const rep = g.walk(id, names);
  if (rep.errno !== 0) return null;
  const found = rep.r.u16();
  let last = null;
  for (let k = 0; k < found; k++) last = { id: rep.r.u32(), stat: rep.r.stat() };
  return found === names.length ? last : null;
}

const creating = (w, id, name) => w.u32(id).str(name).u32(0o644).i32(-1).i32(-1);

test('a writable tree: hostile write messages get errors, never a change outside the tree, never a device node', (t) => {
  const { root, out } = buildTree();
  const other = h.tmpDir('tsvisor-gofer-other-');
  fs.writeFileSync(path.join(other, 'keep'), 'other tree\n');
  const before = snapshot(out);
  const g = new Raw([{ path: root, writable: true }, { path: other, writable: true }]);
  t.after(() => g.close());
  const status = fs.readFileSync(`/proc/${g.pid}/status`, 'utf8');
  // DAC_OVERRIDE, DAC_READ_SEARCH, CHOWN, FOWNER, FSETID: no CAP_MKNOD.
  assert.strictEqual(BigInt(`0x${/^CapEff:\s*(\S+)/m.exec(status)[1]}`), 0x1fn, status);
  assert.strictEqual(g.req(OP.ROOT, (w) => w.u32(1)).errno, 0);
  // Names that are not one component, in every call that takes one.
  for (const bad of ['..', '.', '', '/', 'a/b', '../x', 'x\0y', '/etc/passwd']) {
    const what = JSON.stringify(bad);
    assert.strictEqual(g.req(OP.CREATE, (w) => creating(w, 1, bad)).errno, EINVAL, `create ${what}`);
    assert.strictEqual(g.req(OP.MKDIR, (w) => creating(w, 1, bad)).errno, EINVAL, `mkdir ${what}`);
    assert.strictEqual(g.req(OP.SYMLINK, (w) => w.u32(1).str(bad).str(out).i32(-1).i32(-1)).errno, EINVAL, `symlink ${what}`);
    assert.strictEqual(g.req(OP.UNLINK, (w) => w.u32(1).str(bad).u8(0)).errno, EINVAL, `unlink ${what}`);
    assert.strictEqual(g.req(OP.RENAME, (w) => w.u32(1).str('top').u32(1).str(bad).u32(0)).errno, EINVAL, `rename to ${what}`);
    assert.strictEqual(g.req(OP.RENAME, (w) => w.u32(1).str(bad).u32(1).str('x').u32(0)).errno, EINVAL, `rename from ${what}`);
  }
  // A symlink to the outside used as a directory: ENOTDIR, nothing made there.
  const link = walkId(g, 1, ['link-out']);
  assert.ok(link);
  for (const op of [OP.CREATE, OP.MKDIR]) assert.strictEqual(g.req(op, (w) => creating(w, link.id, 'planted')).errno, 20);
  assert.strictEqual(g.req(OP.UNLINK, (w) => w.u32(link.id).str('secret').u8(0)).errno, 20);
  assert.strictEqual(g.req(OP.RENAME, (w) => w.u32(link.id).str('secret').u32(1).str('stolen').u32(0)).errno, 20);
  // Changing the symlink's attributes changes the symlink, never its target.
  g.req(OP.SETATTR, (w) => w.u32(link.id).u8(1 | 2).u32(0o777).i32(1234).i32(1234).u64(0).u8(2).i64(0n).u8(2).i64(0n));
  assert.strictEqual(g.req(OP.OPEN, (w) => w.u32(link.id).u8(1)).errno, EINVAL, 'a symlink is never opened for writing');
  // Device nodes: refused by the Gofer itself.
  for (const type of [0o020000, 0o060000]) {
    assert.strictEqual(g.req(OP.MKNOD, (w) => w.u32(1).str('dev').u32(type | 0o666).u64(0x0801).i32(-1).i32(-1)).errno, 1);
  }
  assert.ok(!fs.existsSync(path.join(root, 'dev')));
  // Across trees: EXDEV.
  const top = walkId(g, 1, ['top']);
  assert.strictEqual(g.req(OP.LINK, (w) => w.u32(top.id).u32(2).str('x')).errno, 18);
  assert.strictEqual(g.req(OP.RENAME, (w) => w.u32(1).str('top').u32(2).str('x').u32(0)).errno, 18);
  // A donated write descriptor is of the file asked for, inside the tree.
  const o = g.req(OP.OPEN, (w) => w.u32(top.id).u8(1));
  assert.strictEqual(o.errno, 0);
  fs.writeSync(o.fd, 'written through the donated descriptor\n', 0);
  fs.closeSync(o.fd);
  assert.strictEqual(fs.readFileSync(path.join(root, 'top'), 'latin1'), 'written through the donated descriptor\n');
  assert.notStrictEqual(g.req(OP.OPEN, (w) => w.u32(1).u8(1)).errno, 0, 'a directory is never opened for writing');
  // The Gofer keeps no file open for writing once a request is done (a host exec would be ETXTBSY).
  const writable = fs.readdirSync(`/proc/${g.pid}/fd`).filter((fd) => {
    try {
      // Files of the trees: /0/..., /1/... in the Gofer's root.
      if (!/^\/\d+(\/|$)/.test(fs.readlinkSync(`/proc/${g.pid}/fd/${fd}`))) return false;
      return (parseInt(/^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/${g.pid}/fdinfo/${fd}`, 'latin1'))[1], 8) & 3) !== 0;
    } catch {
      return false;
    }
  });
  assert.deepStrictEqual(writable, [], 'the Gofer holds no tree file open for writing');

  // Random write requests with adversarial names and ids.
  const names = ['a', 'b', 'f1', 'top', 'link-out', 'up', 'abs', '..', '.', '/', 'a\0', '', 'new', 'x'.repeat(255), 'x'.repeat(256)];
  let seed = 777;
  const rnd = (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const ops = [OP.CREATE, OP.MKDIR, OP.SYMLINK, OP.MKNOD, OP.LINK, OP.UNLINK, OP.RENAME, OP.SETATTR, OP.FSYNC, OP.GETXATTR, OP.SETXATTR,
    OP.LISTXATTR, OP.REMOVEXATTR, OP.STATFS, OP.OPEN, OP.WALK, OP.READDIR, 18, 20];
  const inside = () => inodesUnder(root);
  for (let i = 0; i < 3000; i++) {
    const op = ops[rnd(ops.length)];
    const rep = g.req(op, (w) => {
      w.u32(rnd(4) === 0 ? rnd(2 ** 31) : rnd(60));
      for (let k = rnd(6); k > 0; k--) {
        const f = rnd(4);
        if (f === 0) w.str(names[rnd(names.length)]);
        else if (f === 1) w.u32(rnd(3) === 0 ? rnd(2 ** 32) : rnd(60));
        else if (f === 2) w.u8(rnd(256));
        else w.i32(rnd(3) === 0 ? -1 : rnd(70000));
      }
    });
    if (rep.fd >= 0) checkFd(rep.fd, inside(), `write message ${i}`);
  }
  assert.ok(g.alive(), 'the Gofer survived');
  assert.strictEqual(snapshot(out), before, 'nothing outside the trees changed');
});

test('a writable tree: a host process swapping a directory for a symlink during writes never makes one land outside', async (t) => {
  const { root, out } = buildTree();
  const before = snapshot(out);
  const g = new Raw([{ path: root, writable: true }]);
  const swapper = await startSwapper(t, g, root, out);
  let wrote = 0;
  // On a loaded host the swapper may win every race for a while: go on (up to 20000 rounds) until one write lands inside.
  for (let i = 0; i < 1500 || (wrote === 0 && i < 20000); i++) {
    const b = walkId(g, 1, ['a', 'b']);
    if (!b) continue;
    const f = `f${i % 50}`;
    const made = g.req(OP.CREATE, (w) => creating(w, b.id, `n${i}`));
    if (made.errno === 0) wrote++;
    g.req(OP.MKDIR, (w) => creating(w, b.id, `d${i}`));
    g.req(OP.SYMLINK, (w) => w.u32(b.id).str(`s${i}`).str('/etc/passwd').i32(-1).i32(-1));
    g.req(OP.RENAME, (w) => w.u32(b.id).str(f).u32(b.id).str(`${f}.moved`).u32(0));
    g.req(OP.RENAME, (w) => w.u32(b.id).str(`${f}.moved`).u32(b.id).str(f).u32(0));
    const fid = walkId(g, b.id, [f]);
    if (fid) {
      g.req(OP.SETATTR, (w) => w.u32(fid.id).u8(1 | 4 | 8 | 16).u32(0o600).i32(-1).i32(-1).u64(3).u8(1).i64(0n).u8(1).i64(0n));
      const o = g.req(OP.OPEN, (w) => w.u32(fid.id).u8(1));
      if (o.fd >= 0) {
        fs.writeSync(o.fd, 'W', 0);
        fs.closeSync(o.fd);
      }
    }
    for (const n of [`n${i}`, `s${i}`]) g.req(OP.UNLINK, (w) => w.u32(b.id).str(n).u8(0));
    g.req(OP.UNLINK, (w) => w.u32(b.id).str(`d${i}`).u8(1));
  }
  await swapper.stop();
  assert.ok(wrote > 0, 'writes happened inside');
  assert.ok(g.alive());
  assert.strictEqual(snapshot(out), before, 'the outside tree is byte for byte the same');
});

test('read-write binds through the Gofer: test/integration/hostrw.test.js passes with TSVISOR_GOFER=1', { timeout: 900_000 }, () => {
  const r = childProcess.spawnSync(process.execPath, ['--test', '--test-concurrency=1', path.join(__dirname, 'hostrw.test.js')], {
    cwd: h.ROOT, env: { ...h.sentryEnv(), TSVISOR_GOFER: '1' }, encoding: 'utf8', timeout: 880_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20,
  });
  assert.strictEqual(r.status, 0, r.stdout.split('\n').filter((l) => /^not ok|^# (pass|fail)|Error|expected|actual/.test(l)).join('\n'));
  assert.match(r.stdout, /^# fail 0$/m);
});

test('--confine with a read-write bind through the Gofer: chown inside is done by the Gofer on the host', (t) => {
  const dir = h.tmpDir('tsvisor-gofer-chown-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const r = h.runSandbox(['/bin/sh', '-c', 'cd /data && echo x > f && mkdir d && chown 1234:2345 f d && ln -s f l && chown -h 99:98 l && ls -ln f'], {
    flags: ['--confine', '--gofer', '-v', `${dir}:/data`],
  });
  assert.strictEqual(r.status, 0, r.stderr);
  for (const [name, uid, gid] of [['f', 1234, 2345], ['d', 1234, 2345], ['l', 99, 98]]) {
    const st = fs.lstatSync(path.join(dir, name));
    assert.deepStrictEqual([st.uid, st.gid], [uid, gid], name);
  }
});
