'use strict';
// The two overlays share their lookup, copy-up, unlink and rename code
// (fsimpl/overlay/layered.ts) and differ in how a layer records what it
// hides (marks.ts): the same operations on the root overlay (a host lower
// layer under the Sentry's tmpfs) and on an overlay mount (tmpfs layers)
// must show the same tree, each leaving its own markers in its upper layer.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { TmpfsFs } = require('../../dist/fsimpl/tmpfs/tmpfs');
const { HostFs } = require('../../dist/fsimpl/hostfs/hostfs');
const { HostTree } = require('../../dist/host/hosttree');
const { OverlayFs } = require('../../dist/fsimpl/overlay/overlay');
const { OvlFs } = require('../../dist/fsimpl/overlay/stack');
const { FakeFrames, errnoOf } = require('./vfs_fakes');

const S_IFMT = 0o170000, S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFCHR = 0o020000;
const EIO = 5, EXDEV = 18;
const MOUNTER = 1000;

/** The lower tree both overlays start from: d/{a,b}, f, e/x. */
const TREE = { 'd/a': 'a\n', 'd/b': 'b\n', f: 'f\n', 'e/x': 'x\n' };

function rootOverlay() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-marks-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [p, data] of Object.entries(TREE)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), data);
  }
  const frames = new FakeFrames();
  const upper = new TmpfsFs(frames);
  return { ovl: new OverlayFs(new HostFs(new HostTree(dir), frames), upper), upper: upper.root() };
}

function mountOverlay(noxattr = false) {
  const frames = new FakeFrames();
  const lower = new TmpfsFs(frames).root();
  for (const [p, data] of Object.entries(TREE)) {
    let d = lower;
    const parts = p.split('/');
    for (const n of parts.slice(0, -1)) d = d.lookup(n, null) ?? d.create(n, { type: S_IFDIR, mode: 0o755, uid: 0, gid: 0 });
    d.create(parts.at(-1), { type: S_IFREG, mode: 0o644, uid: 0, gid: 0 }).writeAt(0, Buffer.from(data));
  }
  const upper = new TmpfsFs(frames).root();
  const ovl = new OvlFs({ upper, lower: [lower], dev: 0, prefix: 'trusted.overlay.', uid: MOUNTER, gid: MOUNTER, heap: null, depth: 1, noxattr });
  return { ovl, upper };
}

const names = (dir) => dir.readdir(null).map((e) => e.name).sort();
const at = (dir, p) => p.split('/').reduce((d, n) => d && d.lookup(n, null), dir);

/** The same changes on either overlay; what it shows afterwards. */
function change(ovl) {
  const root = ovl.root();
  const d = at(root, 'd');
  d.unlink('a');
  const afterUnlink = names(d);
  d.unlink('b');
  root.unlink('d');
  root.create('d', { type: S_IFDIR, mode: 0o755, uid: 0, gid: 0 });
  root.rename('f', root, 'g', 0);
  return { afterUnlink, d: names(at(root, 'd')), root: names(root), g: at(root, 'g').readAt(0, 10).toString() };
}

test('the same changes show the same tree on both overlays', () => {
  const a = change(rootOverlay().ovl);
  const b = change(mountOverlay().ovl);
  assert.deepStrictEqual(a, { afterUnlink: ['b'], d: [], root: ['d', 'e', 'g'], g: 'f\n' });
  assert.deepStrictEqual(b, a);
});

test('each overlay leaves its own markers in its upper layer', () => {
  const r = rootOverlay();
  change(r.ovl);
  const m = mountOverlay();
  change(m.ovl);
  for (const [{ upper }, owner] of [[r, 0], [m, MOUNTER]]) {
    const w = upper.lookup('f', null).attrs();
    assert.strictEqual(w.mode & S_IFMT, S_IFCHR, 'a renamed lower file leaves a whiteout');
    assert.deepStrictEqual([w.rdev, w.uid, w.gid], [0, owner, owner]);
  }
  // The root overlay's opacity is a field of the Sentry's tmpfs inode; a mount's is Linux's xattr.
  const rd = r.upper.lookup('d', null);
  assert.strictEqual(rd.opaque, true);
  assert.strictEqual(rd.xattrs?.get('trusted.overlay.opaque'), undefined);
  const md = m.upper.lookup('d', null);
  assert.strictEqual(md.opaque, false);
  assert.strictEqual(md.xattrs.get('trusted.overlay.opaque').toString(), 'y');
});

test('what each overlay refuses: renaming a merged directory (mount), an opaque directory without xattrs (EIO)', () => {
  // The root overlay copies a lower directory up whole to rename it; a mount has no redirects.
  const r = rootOverlay().ovl.root();
  r.rename('e', r, 'e2', 0);
  assert.deepStrictEqual(names(at(r, 'e2')), ['x']);
  const m = mountOverlay().ovl.root();
  assert.strictEqual(errnoOf(() => m.rename('e', m, 'e2', 0)), EXDEV);
  const n = mountOverlay(true).ovl.root();
  at(n, 'd').unlink('a');
  at(n, 'd').unlink('b');
  assert.strictEqual(errnoOf(() => n.unlink('d')), EIO);
  n.unlink('f');
  assert.strictEqual(errnoOf(() => n.create('f', { type: S_IFDIR, mode: 0o755, uid: 0, gid: 0 })), EIO);
});
