'use strict';
// What the Gofer client (src/gofer/client.ts) answers without a round trip,
// counted with the connection's roundTrips: in a read-only tree a name absent
// from a fresh listing is absent (python's imports, PATH searches, git's
// .gitignore opens), until the revalidation interval ends or the host's
// change feed reports a change of the directory; never in a writable tree;
// and a small directory never listed is listed at its first lookup (one
// READDIR instead of a WALK per name). Each check also shows the cache hides
// nothing the host has: a file added on the host is found once the listing
// is no longer trusted.

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const { startGofer } = require(path.join(h.ROOT, 'dist', 'gofer', 'start.js'));

/** A Gofer serving dir (writable or not), closed and killed when the test ends; the client of its tree 0 with limits. */
function client(t, dir, writable, limits) {
  const g = startGofer([{ path: dir, writable }]);
  t.after(() => {
    g.conn.close();
    try {
      process.kill(g.pid, 'SIGKILL');
    } catch {}
  });
  const c = g.conn.tree(0, limits);
  return { c, trips: () => g.conn.roundTrips };
}

function smallTree() {
  const dir = h.tmpDir('tsvisor-gofer-cache-');
  const tree = {};
  for (let i = 0; i < 20; i++) tree[`d/f${i}`] = `${i}\n`;
  h.writeTree(dir, tree);
  return dir;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('read-only tree: a fresh listing answers absent names without a round trip; a file added on the host is found once the listing is old', async (t) => {
  const dir = smallTree();
  const { c, trips } = client(t, dir, false, { ttlMs: 1000 });
  const d = c.lookup(c.root(), 'd');
  c.readdir(d);
  const before = trips();
  for (let i = 0; i < 50; i++) assert.strictEqual(c.lookup(d, `absent${i}`), null);
  assert.strictEqual(trips(), before, 'absent names of a fresh listing cost no round trip');
  assert.strictEqual(c.negativeHits, 50);
  // Present names are still found (their attributes came with the listing or come in one batch).
  assert.ok(c.lookup(d, 'f3'));
  fs.writeFileSync(path.join(dir, 'd', 'absent0'), 'added on the host\n');
  await sleep(1100);
  const n = c.lookup(d, 'absent0');
  assert.ok(n, 'the host\'s new file is found after the revalidation interval');
  const buf = Buffer.alloc(64);
  assert.strictEqual(buf.toString('latin1', 0, c.pread(n, buf, 0)), 'added on the host\n');
});

test('read-only tree: the change feed of a watched directory ends the trust in its listing at once', (t) => {
  const dir = smallTree();
  // A revalidation interval longer than the test: only the feed can make the new name seen.
  const { c, trips } = client(t, dir, false, { ttlMs: 600_000 });
  const d = c.lookup(c.root(), 'd');
  const feed = c.changes();
  feed.add(d);
  c.readdir(d);
  const before = trips();
  assert.strictEqual(c.lookup(d, 'new'), null);
  assert.strictEqual(trips(), before);
  fs.writeFileSync(path.join(dir, 'd', 'new'), 'x\n');
  const events = feed.take();
  assert.ok(events.some((e) => e.name === 'new'), `the feed reports the new name: ${JSON.stringify(events)}`);
  assert.ok(c.lookup(d, 'new'), 'seen at once after the feed reported it');
  assert.ok(trips() > before, 'asked the Gofer again');
});

test('writable tree: an absent name is asked for every time (a create must not fail EEXIST on a name the host added)', (t) => {
  const dir = smallTree();
  const { c, trips } = client(t, dir, true, { ttlMs: 600_000 });
  const d = c.lookup(c.root(), 'd');
  c.readdir(d);
  const before = trips();
  assert.strictEqual(c.lookup(d, 'new'), null);
  assert.strictEqual(trips(), before + 1);
  fs.writeFileSync(path.join(dir, 'd', 'new'), 'x\n');
  assert.ok(c.lookup(d, 'new'), 'the host\'s new file is seen at once');
  assert.strictEqual(c.negativeHits, 0);
});

test('a small directory never listed is listed at its first lookup: the next lookups, present or absent, cost nothing', (t) => {
  const dir = smallTree();
  const { c, trips } = client(t, dir, false, { ttlMs: 600_000 });
  const d = c.lookup(c.root(), 'd');
  const before = trips();
  assert.ok(c.lookup(d, 'f0'));
  assert.strictEqual(trips(), before + 1, 'one READDIR with attributes');
  for (let i = 1; i < 20; i++) assert.ok(c.lookup(d, `f${i}`));
  assert.strictEqual(c.lookup(d, '.gitignore'), null);
  assert.strictEqual(trips(), before + 1);
});
