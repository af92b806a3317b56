'use strict';
// ext2 (fsimpl/ext2): a disk file system on the sandbox's loop devices. The
// sandbox formats (mkfs.ext2) and writes, and e2fsprogs run natively on the
// backing file must find it clean and see what was written (e2fsck -fn,
// debugfs); an image made natively (mkfs.ext2 -d, an htree directory from
// e2fsck -D) reads the same in the sandbox and stays clean after changes;
// corrupt images give EINVAL at mount or EUCLEAN on use, and the sandbox
// goes on. test/c/ext2ops.c checks the file operations itself.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const TOOLS = ['mkfs.ext2', 'e2fsck', 'debugfs', 'losetup'];

function native(cmd, args) {
  const r = childProcess.spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, out: (r.stdout || '') + (r.stderr || '') };
}
function fsck(img) {
  const r = native('e2fsck', ['-fn', img]);
  assert.strictEqual(r.status, 0, `e2fsck -fn ${img}:\n${r.out}`);
}
function debugfs(img, req) {
  return childProcess.spawnSync('debugfs', ['-R', req, img], { encoding: 'utf8' }).stdout;
}
// The sandbox sees dir at the same path, read-write, so the image it writes is the host's file.
function runIn(dir, script) {
  return h.runSandbox(['/bin/sh', '-c', `set -e; cd ${dir}; ${script}`], { cwd: dir, flags: ['-v', `${dir}:${dir}`] });
}

test('ext2: mkfs.ext2 and file operations in the sandbox; e2fsck and debugfs agree natively', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc', ...TOOLS])) return;
  const bin = h.buildPrograms().ext2ops.static;
  const dir = h.tmpDir();
  const r = runIn(dir, [
    'truncate -s 64M img', 'dev=$(losetup -f --show img)', 'mkfs.ext2 -q "$dev"', 'mkdir mnt', 'mount "$dev" mnt',
    `${bin} ops ${dir}/mnt "$dev"`, 'grep -c "^/dev/loop.* ext2 rw" /proc/mounts', 'grep -x "	ext2" /proc/filesystems',
    'echo shell > mnt/sh.txt', 'mkdir mnt/tree', 'cp -r /usr/include/linux mnt/tree/', 'ln -s sh.txt mnt/sl', 'rm -r mnt/tree/linux/netfilter',
    'mount -o remount,ro mnt', '! touch mnt/ro 2>/dev/null', 'mount -o remount,rw mnt', 'touch mnt/rw',
    'umount mnt', 'losetup -d "$dev"', 'echo end',
  ].join('; '));
  assert.strictEqual(r.status, 0, h.describe('sandbox', r) + r.stdout);
  assert.doesNotMatch(r.stdout, /FAIL/);
  assert.match(r.stdout, /\ndone\n1\n\text2\nend\n$/);
  const img = path.join(dir, 'img');
  fsck(img);
  assert.strictEqual(debugfs(img, 'cat /sh.txt'), 'shell\n');
  assert.strictEqual(debugfs(img, 'cat /d1/sub/../../sh.txt'), 'shell\n');
  const ls = debugfs(img, 'ls -l /');
  for (const name of ['data', 'victim', 'fast', 'slow', 'fifo', 'chr', 'blk', 'rw', 'tree', 'd1', 'd2']) assert.match(ls, new RegExp(` ${name}\\n`), ls);
  assert.doesNotMatch(ls, / gone\n/);
  assert.match(debugfs(img, 'stat /data'), /User: 100000 +Group: 200000/);
  assert.strictEqual(debugfs(img, 'cat /tree/linux/types.h'), fs.readFileSync('/usr/include/linux/types.h', 'utf8'));
  const sb = native('dumpe2fs', ['-h', img]).out;
  assert.match(sb, /Filesystem state: +clean\n/);
  assert.match(sb, /Mount count: +2\n/);
});

test('ext2: an image made natively reads the same in the sandbox, and an htree directory stays valid', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, TOOLS)) return;
  const dir = h.tmpDir();
  const src = path.join(dir, 'src');
  fs.mkdirSync(path.join(src, 'many'), { recursive: true });
  fs.writeFileSync(path.join(src, 'text'), 'native\n'.repeat(1000));
  fs.writeFileSync(path.join(src, 'big'), Buffer.alloc(300_000, 7));
  fs.symlinkSync('text', path.join(src, 'link'));
  fs.symlinkSync('y'.repeat(200), path.join(src, 'longlink'));
  for (let i = 0; i < 1500; i++) fs.writeFileSync(path.join(src, 'many', `file-${i}`), `${i}\n`);
  const img = path.join(dir, 'img');
  assert.strictEqual(native('mkfs.ext2', ['-q', '-d', src, img, '32M']).status, 0);
  // e2fsck -D indexes the big directory (dir_index): an htree the sandbox must keep valid (Linux's ext2 drops the index flag).
  assert.ok([0, 1].includes(native('e2fsck', ['-fyD', img]).status));
  assert.match(debugfs(img, 'stat /many'), /Flags: 0x1000/);
  const r = runIn(dir, [
    'dev=$(losetup -f --show img)', 'mkdir mnt', 'mount "$dev" mnt', 'md5sum mnt/text mnt/big', 'readlink mnt/link mnt/longlink | md5sum',
    'ls mnt/many | wc -l', 'cat mnt/many/file-777', 'rm mnt/many/file-1*', 'echo added > mnt/many/new', 'ls mnt/many | wc -l',
    'umount mnt', 'losetup -d "$dev"',
  ].join('; '));
  assert.strictEqual(r.status, 0, h.describe('sandbox', r) + r.stdout);
  const md5 = (b) => require('node:crypto').createHash('md5').update(b).digest('hex');
  const want = [
    `${md5(fs.readFileSync(path.join(src, 'text')))}  mnt/text`, `${md5(fs.readFileSync(path.join(src, 'big')))}  mnt/big`,
    `${md5(`text\n${'y'.repeat(200)}\n`)}  -`, '1500', '777', '890',
  ];
  assert.strictEqual(r.stdout, want.join('\n') + '\n');
  fsck(img);
  assert.doesNotMatch(debugfs(img, 'stat /many'), /Flags: 0x1000/);
  assert.strictEqual(debugfs(img, 'cat /many/new'), 'added\n');
});

// Corruptions, each in a fresh copy of one small image: [name, what to change].
function corruptions(img, bs) {
  const base = fs.readFileSync(img);
  const blocksOf = (p) => debugfs(img, `blocks ${p}`).trim().split(/\s+/).map(Number);
  const root = blocksOf('/')[0] * bs;
  const ind = Number(/\(IND\):(\d+)/.exec(debugfs(img, 'stat /big'))[1]);
  const sb = (off, v, size = 4) => (b) => (size === 4 ? b.writeUInt32LE(v, 1024 + off) : b.writeUInt16LE(v, 1024 + off));
  return [
    ['bad-magic', sb(56, 0x1234, 2)],
    ['inodes-beyond', sb(0, 0x7fffffff)],
    ['blocks-beyond-device', sb(4, 1 << 30)],
    ['block-size-huge', sb(24, 20)],
    ['incompat-extents', sb(96, 0x42)],
    ['rocompat-unknown', sb(100, 0x8003)],
    ['rocompat-unknown-ro', sb(100, 0x8003)],
    ['reclen-zero', (b) => b.writeUInt16LE(0, root + 4)],
    ['reclen-beyond', (b) => b.writeUInt16LE(bs + 12, root + 12 + 4)],
    ['dirent-inode-beyond', (b) => b.writeUInt32LE(0x7ffffff0, root + 24)],
    ['block-past-end', (b) => b.writeUInt32LE(0x7fffffff, ind * bs)],
    ['indirect-loop', (b) => b.writeUInt32LE(ind, ind * bs + 4)],
  ].map(([name, change]) => {
    const b = Buffer.from(base);
    change(b);
    return [name, b];
  });
}

test('ext2: corrupt images give EINVAL or EUCLEAN, never a crash', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc', ...TOOLS])) return;
  const bin = h.buildPrograms().ext2ops.static;
  const dir = h.tmpDir();
  const src = path.join(dir, 'src');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'big'), Buffer.alloc(100_000, 1));
  fs.writeFileSync(path.join(src, 'sub', 'small'), 'x');
  const img = path.join(dir, 'base');
  assert.strictEqual(native('mkfs.ext2', ['-q', '-b', '1024', '-d', src, img, '4M']).status, 0);
  const names = [];
  for (const [name, b] of corruptions(img, 1024)) {
    fs.writeFileSync(path.join(dir, name), b);
    names.push(name);
  }
  const r = h.runSandbox([bin, 'hostile', ...names.map((n) => path.join(dir, n)), img], { cwd: dir });
  assert.strictEqual(r.status, 0, h.describe('sandbox', r) + r.stdout);
  assert.strictEqual(r.stdout, [
    'bad-magic: mount EINVAL', 'inodes-beyond: mount EINVAL', 'blocks-beyond-device: mount EINVAL', 'block-size-huge: mount EINVAL',
    'incompat-extents: mount EINVAL', 'rocompat-unknown: mount EINVAL', 'rocompat-unknown-ro: mount ok walk ok umount ok',
    'reclen-zero: mount ok walk EUCLEAN remove EUCLEAN umount ok', 'reclen-beyond: mount ok walk EUCLEAN remove EUCLEAN umount ok',
    'dirent-inode-beyond: mount ok walk EUCLEAN remove EUCLEAN umount ok', 'block-past-end: mount ok walk EUCLEAN remove EUCLEAN umount ok',
    'indirect-loop: mount ok walk ok remove EUCLEAN umount ok', 'base: mount ok walk ok remove ok umount ok', 'done', '',
  ].join('\n'));
});

test('ext2: a sandbox that ends with the file system mounted leaves it consistent', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, TOOLS)) return;
  const dir = h.tmpDir();
  const r = runIn(dir, [
    'truncate -s 16M img', 'dev=$(losetup -f --show img)', 'mkfs.ext2 -q "$dev"', 'mkdir mnt', 'mount "$dev" mnt',
    'seq 1 30000 > mnt/a', 'seq 1 20000 > mnt/b', 'mkdir mnt/d', 'ln mnt/a mnt/d/a', 'rm mnt/b', 'echo left',
  ].join('; '));
  assert.strictEqual(r.status, 0, h.describe('sandbox', r) + r.stdout);
  assert.strictEqual(r.stdout, 'left\n');
  const img = path.join(dir, 'img');
  // Not cleanly unmounted (e2fsck checks it all then), but nothing to repair: the bitmaps and group counts went through.
  fsck(img);
  assert.match(native('dumpe2fs', ['-h', img]).out, /Filesystem state: +not clean\n/);
  assert.strictEqual(debugfs(img, 'cat /d/a').split('\n').length, 30001);
});
