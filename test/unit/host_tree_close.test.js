'use strict';
// HostTree.close (a removed pod container's trees, sandbox/pod.ts): every
// descriptor the tree held is closed, the root's too, so that the host can
// unmount what the tree is on; later calls fail instead of reaching a
// descriptor number the process may have reused.
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');
const { HostTree } = require('../../dist/host/hosttree');
const { WritableHostTree } = require('../../dist/host/hosttree_rw');

/** Descriptors of this process that name a path under dir. */
function fdsUnder(dir) {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) n++;
    } catch {
      // closed meanwhile (readdir's own)
    }
  }
  return n;
}

for (const Tree of [HostTree, WritableHostTree]) {
  test(`${Tree.name}.close: no descriptor under the tree is left, and later calls fail`, (t) => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-treeclose-')));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.mkdirSync(path.join(dir, 'a'));
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(dir, 'a', `f${i}`), `file ${i}\n`);
    const tree = new Tree(dir);
    const a = tree.lookup(tree.root(), 'a');
    const buf = Buffer.alloc(64);
    for (let i = 0; i < 20; i++) {
      const f = tree.lookup(a, `f${i}`);
      if (i % 2) tree.pin(f);
      assert.strictEqual(buf.toString('latin1', 0, tree.pread(f, buf, 0)), `file ${i}\n`);
    }
    assert.ok(fdsUnder(dir) >= 20, 'the tree holds descriptors under it');
    tree.close();
    assert.strictEqual(fdsUnder(dir), 0);
    assert.throws(() => tree.lookup(tree.root(), 'a'));
    tree.close();
    assert.strictEqual(fdsUnder(dir), 0, 'a second close closes nothing');
  });
}
