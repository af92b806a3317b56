'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { HostTree } = require('../../dist/host/hosttree');
const { buildMountNamespace } = require('../../dist/sandbox/mounts');
const { FdTable } = require('../../dist/vfs/fd_table');
const { openForExec } = require('../../dist/vfs/exec');
const { FakeFrames, fakeTask, fakeMemory } = require('./vfs_fakes');
const { PidNamespace } = require('../../dist/kernel/pid_ns');

const families = ['sys_read_write', 'sys_open', 'sys_stat', 'sys_dir', 'sys_link', 'sys_attr', 'sys_fd', 'sys_pipe', 'sys_ioctl'];
const table = new Map();
for (const f of families) for (const d of require(`../../dist/syscalls/${f}`).defs) {
  assert.ok(!table.has(d.name), `duplicate ${d.name}`);
  table.set(d.name, d);
}

function makeTask() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-sys-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(path.join(dir, 'bin', 'prog'), '#!/bin/sh\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'data'), 'hostdata', { mode: 0o644 });
  const { vfs, rootContext } = buildMountNamespace({ rootfs: new HostTree(dir), memfile: new FakeFrames(), host: { cpuinfo: '', ncpu: 2 } });
  const t = fakeTask(0);
  t.mm = fakeMemory();
  // Pipe buffers are runs of memory-file frames: a run is one Buffer here.
  const runs = new Map();
  t.mm.memfile = {
    heap: new (require('../../dist/abi/accounting').HeapBudget)(1 << 30),
    alloc: (n) => (runs.set(runs.size + 1, Buffer.alloc(n * 4096)), runs.size),
    bytes: (f) => runs.get(f),
    decRef: (f) => runs.delete(f),
  };
  t.fs = rootContext();
  t.fdTable = new FdTable();
  // Lock holders' pids are shown in the caller's PID namespace: the initial one here.
  t.kernel = { vfs, rootNs: { pid: new PidNamespace(null, 0, null) } };
  // Writes and truncates consult RLIMIT_FSIZE.
  t.tg = { rlimits: require('../../dist/kernel/thread_group').defaultRlimits() };
  return { t, dir };
}

/** Call a syscall; returns the result or -errno. Strings/buffers are placed in fake memory. */
async function sys(t, name, ...args) {
  try {
    return await table.get(name).fn(t, args);
  } catch (e) {
    if (e.constructor.name === 'Errno') return -e.errno;
    throw e;
  }
}
let scratch = 0x1000;
function str(t, s) {
  const a = scratch;
  t.mm.copyOut(a, Buffer.from(s + '\0', 'latin1'));
  scratch += s.length + 1 + 8 - ((s.length + 1) % 8);
  if (scratch > 0x1000 + 40000) scratch = 0x1000;
  return a;
}
const BUF = 0x1000 + 45000;

test('open/write/read/lseek/fstat through the syscall layer', async () => {
  const { t } = makeTask();
  const fd = await sys(t, 'openat', -100, str(t, '/tmp/f'), 0o102 /* O_CREAT|O_RDWR */, 0o666);
  assert.strictEqual(fd, 0);
  t.mm.copyOut(BUF, Buffer.from('hello world'));
  assert.strictEqual(await sys(t, 'write', fd, BUF, 11), 11);
  assert.strictEqual(await sys(t, 'lseek', fd, 6, 0), 6);
  assert.strictEqual(await sys(t, 'read', fd, BUF, 100), 5);
  assert.strictEqual(t.mm.mem.toString('latin1', BUF - 0x1000, BUF - 0x1000 + 5), 'world');
  assert.strictEqual(await sys(t, 'fstat', fd, BUF), 0);
  const st = t.mm.copyIn(BUF, 144);
  assert.strictEqual(st.readUInt32LE(24), 0o100644, 'mode with umask 022 applied');
  assert.strictEqual(Number(st.readBigInt64LE(48)), 11);
  assert.strictEqual(await sys(t, 'read', 99, BUF, 1), -9);
  const ro = await sys(t, 'open', str(t, '/data'), 0, 0);
  assert.strictEqual(await sys(t, 'write', ro, BUF, 1), -9);
  assert.strictEqual(await sys(t, 'pread64', ro, BUF, 4, 4), 4);
  assert.strictEqual(t.mm.mem.toString('latin1', BUF - 0x1000, BUF - 0x1000 + 4), 'data');
  assert.strictEqual(await sys(t, 'fcntl', ro, 3 /* F_GETFL */, 0), 0o100000);
  assert.strictEqual(await sys(t, 'open', str(t, '/nope'), 0, 0), -2);
  assert.strictEqual(await sys(t, 'open', str(t, '/data/'), 0, 0), -20);
});

test('stat, statx, getdents64, getcwd, chdir, mkdir, rename, unlink, readlink', async () => {
  const { t } = makeTask();
  assert.strictEqual(await sys(t, 'mkdir', str(t, '/tmp/d'), 0o777), 0);
  assert.strictEqual(await sys(t, 'mkdir', str(t, '/tmp/d'), 0o777), -17);
  assert.strictEqual(await sys(t, 'chdir', str(t, '/tmp/d')), 0);
  assert.strictEqual(await sys(t, 'getcwd', BUF, 100), 7);
  assert.strictEqual(t.mm.mem.toString('latin1', BUF - 0x1000, BUF - 0x1000 + 6), '/tmp/d');
  assert.strictEqual(await sys(t, 'getcwd', BUF, 3), -34);
  const fd = await sys(t, 'creat', str(t, 'x'), 0o600);
  assert.ok(fd >= 0);
  assert.strictEqual(await sys(t, 'symlink', str(t, 'x'), str(t, 'lnk')), 0);
  assert.strictEqual(await sys(t, 'readlink', str(t, 'lnk'), BUF, 100), 1);
  assert.strictEqual(await sys(t, 'lstat', str(t, 'lnk'), BUF), 0);
  assert.strictEqual(t.mm.copyIn(BUF, 144).readUInt32LE(24) & 0o170000, 0o120000);
  assert.strictEqual(await sys(t, 'statx', -100, str(t, 'lnk'), 0, 0x7ff, BUF), 0);
  const sx = t.mm.copyIn(BUF, 256);
  assert.strictEqual(sx.readUInt16LE(28), 0o100600);
  assert.strictEqual(await sys(t, 'renameat2', -100, str(t, 'x'), -100, str(t, 'y'), 0), 0);
  const dfd = await sys(t, 'open', str(t, '.'), 0o200000, 0);
  const n = await sys(t, 'getdents64', dfd, BUF, 4096);
  const b = t.mm.copyIn(BUF, n);
  const seen = [];
  for (let o = 0; o < n; o += b.readUInt16LE(o + 16)) seen.push(b.toString('latin1', o + 19, b.indexOf(0, o + 19)));
  assert.deepStrictEqual(seen.sort(), ['.', '..', 'lnk', 'y']);
  assert.strictEqual(await sys(t, 'unlinkat', -100, str(t, '/tmp/d'), 0x200), -39);
  assert.strictEqual(await sys(t, 'unlinkat', dfd, str(t, 'y'), 0), 0);
  assert.strictEqual(await sys(t, 'unlink', str(t, 'lnk')), 0);
  assert.strictEqual(await sys(t, 'rmdir', str(t, '/tmp/d')), 0);
  // The removed cwd: getcwd fails with ENOENT like Linux.
  assert.strictEqual(await sys(t, 'getcwd', BUF, 100), -2);
  assert.strictEqual(await sys(t, 'access', str(t, '/bin/prog'), 1), 0);
  assert.strictEqual(await sys(t, 'access', str(t, '/data'), 1), -13);
  assert.strictEqual(await sys(t, 'statfs', str(t, '/tmp'), BUF), 0);
  assert.strictEqual(Number(t.mm.copyIn(BUF, 8).readBigInt64LE(0)), 0x01021994);
});

test('pipes, dup, fcntl, ioctl FIONREAD, flock, utimensat, truncate', async () => {
  const { t } = makeTask();
  assert.strictEqual(await sys(t, 'pipe2', BUF, 0o2000000), 0);
  const [r, w] = [t.mm.readI32(BUF), t.mm.readI32(BUF + 4)];
  assert.deepStrictEqual([r, w], [0, 1]);
  assert.strictEqual(await sys(t, 'fcntl', r, 1 /* F_GETFD */, 0), 1);
  t.mm.copyOut(BUF, Buffer.from('abc'));
  assert.strictEqual(await sys(t, 'write', w, BUF, 3), 3);
  assert.strictEqual(await sys(t, 'ioctl', r, 0x541b, BUF), 0);
  assert.strictEqual(t.mm.readI32(BUF), 3);
  assert.strictEqual(await sys(t, 'fcntl', w, 1032 /* F_GETPIPE_SZ */, 0), 65536);
  assert.strictEqual(await sys(t, 'dup3', r, r, 0), -22);
  assert.strictEqual(await sys(t, 'dup2', r, 10), 10);
  assert.strictEqual(await sys(t, 'fcntl', r, 1030 /* F_DUPFD_CLOEXEC */, 5), 5);
  assert.strictEqual(await sys(t, 'fcntl', r, 4 /* F_SETFL */, 0o4000), 0);
  assert.strictEqual(await sys(t, 'read', 10, BUF, 10), 3);
  assert.strictEqual(await sys(t, 'read', 10, BUF, 10), -11, 'O_NONBLOCK is shared by dup');
  const fd = await sys(t, 'open', str(t, '/data'), 2, 0);
  assert.strictEqual(await sys(t, 'flock', fd, 2 | 4), 0);
  const fd2 = await sys(t, 'open', str(t, '/data'), 0, 0);
  assert.strictEqual(await sys(t, 'flock', fd2, 1 | 4), -11);
  assert.strictEqual(await sys(t, 'close', fd), 0);
  assert.strictEqual(await sys(t, 'flock', fd2, 1 | 4), 0);
  // utimensat with explicit times.
  const ts = Buffer.alloc(32);
  ts.writeBigInt64LE(1000n, 0);
  ts.writeBigInt64LE(5n, 8);
  ts.writeBigInt64LE(2000n, 16);
  ts.writeBigInt64LE(BigInt((1 << 30) - 2), 24); // UTIME_OMIT
  t.mm.copyOut(BUF, ts);
  assert.strictEqual(await sys(t, 'utimensat', -100, str(t, '/data'), BUF, 0), 0);
  assert.strictEqual(await sys(t, 'stat', str(t, '/data'), BUF), 0);
  const st = t.mm.copyIn(BUF, 144);
  assert.strictEqual(Number(st.readBigInt64LE(72)), 1000);
  assert.strictEqual(Number(st.readBigInt64LE(80)), 5);
  assert.strictEqual(await sys(t, 'truncate', str(t, '/data'), 2), 0);
  assert.strictEqual(await sys(t, 'stat', str(t, '/data'), BUF), 0);
  assert.strictEqual(Number(t.mm.copyIn(BUF, 144).readBigInt64LE(48)), 2);
  // Record locks: a conflicting lock from another fd table is reported.
  const lk = Buffer.alloc(32);
  lk.writeInt16LE(1, 0); // F_WRLCK
  t.mm.copyOut(BUF, lk);
  const wfd = await sys(t, 'open', str(t, '/data'), 2, 0);
  assert.strictEqual(await sys(t, 'fcntl', wfd, 6 /* F_SETLK */, BUF), 0);
  const other = Object.assign(Object.create(Object.getPrototypeOf(t)), t, { fdTable: t.fdTable.fork(), pid: 555 });
  t.mm.copyOut(BUF, lk);
  assert.strictEqual(await sys(other, 'fcntl', wfd, 6, BUF), -11);
  assert.strictEqual(await sys(other, 'fcntl', wfd, 5 /* F_GETLK */, BUF), 0);
  assert.strictEqual(t.mm.copyIn(BUF, 32).readInt32LE(24), t.pid);
});

test('openForExec: errors and reading', () => {
  const { t } = makeTask();
  const e = openForExec(t, '/bin/prog');
  assert.strictEqual(e.read(0, 2).toString(), '#!');
  assert.strictEqual(e.path, '/bin/prog');
  assert.strictEqual(e.size, 10);
  assert.throws(() => openForExec(t, '/data'), (x) => x.errno === 13);
  assert.throws(() => openForExec(t, '/bin'), (x) => x.errno === 13);
  assert.throws(() => openForExec(t, '/nope'), (x) => x.errno === 2);
});
