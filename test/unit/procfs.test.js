'use strict';
// procfs unit tests: the exact text layouts (maps, stat, status, limits, mount
// tables) and the file system itself mounted at /proc in a real VFS, driven
// by a small fake kernel (one process with a fake address space and a real
// fd table holding a pipe).

const { FrameTable } = require('../../dist/mm/frame_table.js');
const test = require('node:test');
const assert = require('node:assert/strict');

const fmt = require('../../dist/fsimpl/proc/format.js');
const { ProcFs } = require('../../dist/fsimpl/proc/procfs.js');
const { VirtualFilesystem } = require('../../dist/vfs/vfs.js');
const { TmpfsFs } = require('../../dist/fsimpl/tmpfs/tmpfs.js');
const { FdTable } = require('../../dist/vfs/fd_table.js');
const { FsContext } = require('../../dist/vfs/fs_context.js');
const { Credentials } = require('../../dist/auth/creds.js');
const { NsProxy } = require('../../dist/kernel/namespaces.js');
const { UserNamespace } = require('../../dist/auth/userns.js');
const { ThreadGroup } = require('../../dist/kernel/thread_group.js');
const { Vma } = require('../../dist/mm/vma.js');
const { makePipe } = require('../../dist/fsimpl/pipe/pipe.js');
const { makedev, O_RDONLY, O_WRONLY, O_CREAT, O_DIRECTORY } = require('../../dist/abi/fs.js');

const EACCES = 13;
const EPERM = 1;
const ENOENT = 2;
const ESRCH = 3;
const EINVAL = 22;

function throwsErrno(fn, errno) {
  assert.throws(fn, (e) => {
    assert.equal(typeof e.errno, 'number', `not an Errno: ${e && e.stack}`);
    assert.equal(e.errno, errno, `expected errno ${errno}, got ${e.errno} (${e.message})`);
    return true;
  });
}

// ---------------------------------------------------------------- formatting

test('maps line: Linux column layout, name at column 73, trailing space without name', () => {
  const named = fmt.formatMapsLine({
    start: 0x55ad068f8000, end: 0x55ad068fd000, read: true, write: false, exec: true, shared: false,
    offset: 0x2000, major: 0xfe, minor: 0, ino: 260131, name: '/usr/bin/cat',
  });
  assert.equal(named, '55ad068f8000-55ad068fd000 r-xp 00002000 fe:00 260131                     /usr/bin/cat');
  assert.equal(named.indexOf('/usr/bin/cat'), 73);
  const anon = fmt.formatMapsLine({ start: 0x1000, end: 0x3000, read: true, write: true, exec: false, shared: true, offset: 0, major: 0, minor: 0, ino: 0, name: '' });
  assert.equal(anon, '00001000-00003000 rw-s 00000000 00:00 0 ');
});

test('stat line: 52 fields, comm kept whole, unsigned masks, unlimited rsslim', () => {
  const line = fmt.formatStat({
    pid: 42, comm: 'a b) c', state: 'S', ppid: 1, pgrp: 42, session: 42, numThreads: 1, starttime: 123,
    vsize: 8192, rss: 2, exitSignal: 17, blocked: 1n << 63n, sigcatch: 2n,
  });
  assert.ok(line.endsWith('\n'));
  const close = line.lastIndexOf(')');
  assert.equal(line.slice(0, close + 1), '42 (a b) c)');
  const rest = line.slice(close + 2, -1).split(' ');
  assert.equal(rest.length, 50);
  assert.equal(rest[0], 'S'); // field 3
  assert.equal(rest[1], '1'); // ppid
  assert.equal(rest[5], '-1'); // tpgid
  assert.equal(rest[19], '123'); // starttime (field 22)
  assert.equal(rest[20], '8192'); // vsize
  assert.equal(rest[21], '2'); // rss
  assert.equal(rest[22], fmt.U64_MAX); // rsslim
  assert.equal(rest[29], (1n << 63n).toString()); // blocked (field 32)
  assert.equal(rest[31], '2'); // sigcatch
  assert.equal(rest[35], '17'); // exit_signal (field 38)
});

test('status: hex signal masks, four uid columns, Groups, capabilities', () => {
  const s = fmt.formatStatus({
    name: 'sh', umask: 0o22, state: 'T', tgid: 5, pid: 6, ppid: 1, pgid: 5, sid: 1, uids: [1, 2, 3, 4], gids: [5, 6, 7, 8],
    fdSize: 64, groups: [10, 20], mem: null, threads: 1, sigQueued: 0, sigQueueLimit: 100, sigPnd: 0n, shdPnd: 1n,
    sigBlk: 0x10000n, sigIgn: 0n, sigCgt: (1n << 64n) - 1n, capInh: 0n, capPrm: (1n << 41n) - 1n, capEff: 0n, capBnd: 0n, capAmb: 0n, ncpu: 2,
    noNewPrivs: true, seccomp: 2, seccompFilters: 3,
  });
  const lines = s.split('\n');
  assert.equal(lines[0], 'Name:\tsh');
  assert.ok(lines.includes('Umask:\t0022'));
  assert.ok(lines.includes('State:\tT (stopped)'));
  assert.ok(lines.includes('Tgid:\t5'));
  assert.ok(lines.includes('Pid:\t6'));
  assert.ok(lines.includes('Uid:\t1\t2\t3\t4'));
  assert.ok(lines.includes('Gid:\t5\t6\t7\t8'));
  assert.ok(lines.includes('Groups:\t10 20 '));
  assert.ok(lines.includes('ShdPnd:\t0000000000000001'));
  assert.ok(lines.includes('SigBlk:\t0000000000010000'));
  assert.ok(lines.includes('SigCgt:\tffffffffffffffff'));
  assert.ok(lines.includes('CapPrm:\t000001ffffffffff'));
  assert.ok(lines.includes('NoNewPrivs:\t1'));
  assert.ok(lines.includes('Seccomp:\t2'));
  assert.ok(lines.includes('Seccomp_filters:\t3'));
  assert.ok(lines.includes('Cpus_allowed_list:\t0-1'));
  assert.ok(!s.includes('VmRSS'), 'no Vm lines without memory');
});

test('limits table layout', () => {
  const rl = Array.from({ length: 16 }, () => ({ cur: -1, max: -1 }));
  rl[7] = { cur: 1024, max: 4096 };
  const lines = fmt.formatLimits(rl).split('\n');
  assert.equal(lines[0], 'Limit                     Soft Limit           Hard Limit           Units     ');
  assert.equal(lines[1], 'Max cpu time              unlimited            unlimited            seconds   ');
  assert.equal(lines[8], 'Max open files            1024                 4096                 files     ');
  assert.equal(lines[14], 'Max nice priority         unlimited            unlimited            ');
  assert.equal(lines.length, 18);
});

test('uptime, mount lines and meminfo widths', () => {
  assert.equal(fmt.formatUptime(12_345_678_901, 1_000_000_000), '12.34 1.00\n');
  const m = { id: 22, parentId: 1, major: 0, minor: 21, mountPoint: '/a b', fsType: 'proc', source: 'proc', readonly: false, noexec: true };
  assert.equal(fmt.formatMountinfoLine(m), '22 1 0:21 / /a\\040b rw,noexec,relatime - proc proc rw\n');
  assert.equal(fmt.formatMountsLine(m), 'proc /a\\040b proc rw,noexec,relatime 0 0\n');
  const mi = fmt.formatMeminfo(16305312, 1000, 900).split('\n');
  assert.equal(mi[0], 'MemTotal:       16305312 kB');
  assert.equal(mi[1], 'MemFree:            1000 kB');
  assert.equal(fmt.procVersionString(), 'Linux version 6.8.0 #1 SMP PREEMPT_DYNAMIC Sun Dec 11 12:00:00 UTC 2022\n');
  assert.equal(fmt.cpuMaskHex(2), '3');
  assert.equal(fmt.cpuMaskHex(40), 'ff,ffffffff');
});

// ---------------------------------------------------------------- mounted procfs

const PAGE = 4096;
const ARGS = Buffer.from('prog\0-x\0', 'latin1');
const ENV = Buffer.from('A=1\0B=2\0', 'latin1');

function fakeMm() {
  const mem = new Map([[0x7ff000, Buffer.concat([ARGS, ENV])]]);
  const frames = (n, present) => {
    const ft = new FrameTable(n);
    for (let i = 0; i < present; i++) ft.set(i, i);
    return ft;
  };
  const exeFile = { mappable: null, name: '/bin/prog', dev: makedev(0xfe, 1), ino: 77 };
  return {
    vmas: [
      new Vma(0x400000, 0x402000, 5, false, frames(2, 2), exeFile, 0),
      new Vma(0x402000, 0x403000, 3, false, frames(1, 1), exeFile, 2),
      new Vma(0x600000, 0x621000, 3, false, frames(0x21, 3), null, 0, false, '[heap]'),
      new Vma(0x7f0000, 0x800000, 3, false, frames(16, 1), null, 0, true, '[stack]'),
    ],
    as: { reserved: [{ start: 0x900000, end: 0x902000, name: '[vdso]' }, { start: 0x10000000, end: 0x10010000, name: '[stub]' }] },
    brkStart: 0x600000, brkEnd: 0x621000, stackTop: 0x800000,
    argStart: 0x7ff000, argEnd: 0x7ff000 + ARGS.length, envStart: 0x7ff000 + ARGS.length, envEnd: 0x7ff000 + ARGS.length + ENV.length,
    copyIn(addr, len) {
      for (const [base, b] of mem) if (addr >= base && addr + len <= base + b.length) return Buffer.from(b.subarray(addr - base, addr - base + len));
      const e = new Error('fault');
      e.errno = 14;
      throw e;
    },
  };
}

function setup() {
  const vfs = new VirtualFilesystem(new TmpfsFs({}));
  const r0 = { creds: new Credentials(), root: vfs.root, ctx: null };
  vfs.mkdir(r0, vfs.root, '/proc', 0o555);
  vfs.mkdir(r0, vfs.root, '/work', 0o755);
  const now = Number(process.hrtime.bigint());
  const kernel = {
    tasks: new Map(), groups: new Map(), rootNs: NsProxy.initial(UserNamespace.initial(), vfs.rootMount, 'box'),
    bootMonotonicNs: now - 5e9, bootRealtimeNs: Date.now() * 1e6 - 5e9, monotonicNs: () => Number(process.hrtime.bigint()), vfs,
    memfile: { ramBytes: () => ({ total: 64 << 20, free: 48 << 20 }) },
  };
  const proc = new ProcFs(kernel, { cpuinfo: 'processor\t: 0\nmodel name\t: X\n\nprocessor\t: 1\nmodel name\t: X\n\n', ncpu: 2 });
  vfs.mountAt('/proc', proc);
  const init = new ThreadGroup(1, 1, 1);
  const tg = new ThreadGroup(7, 7, 1);
  tg.parent = init;
  tg.comm = 'prog';
  tg.exePath = '/bin/prog';
  tg.startTimeNs = kernel.bootMonotonicNs + 2e9;
  const fdTable = new FdTable();
  const task = {
    tid: 7, pid: 7, tg, mm: fakeMm(), fdTable, fs: new FsContext(vfs.root, vfs.resolve(r0, vfs.root, '/work', true)), nsproxy: kernel.rootNs,
    creds: new Credentials(0, 0, 0, 0, 0, 0, 0, 0, [], kernel.rootNs.mnt.owner),
    nice: 0, sched: { policy: 0, rtprio: 0, resetOnFork: false, dl: [0, 0, 0] }, state: 'running', sigmask: 1n << 1n, pending: new Map(), startTimeNs: tg.startTimeNs, kernel,
    block: () => Promise.reject(new Error('would block')), sendSignal: () => {},
    ctx: { cpuTime: () => ({ userNs: 2.5e9, sysNs: 0.5e9 }) },
    cpuTime() {
      return this.ctx.cpuTime();
    },
  };
  tg.tasks.add(task);
  kernel.tasks.set(7, task);
  kernel.groups.set(7, tg);
  const [rd, wr] = makePipe(0);
  fdTable.installAt(3, rd);
  fdTable.installAt(4, wr, true);
  const r = { creds: task.creds, root: vfs.root, ctx: task };
  const open = (path, flags = O_RDONLY, who = task, rr = r) => vfs.open(who, rr, vfs.root, path, flags, 0o644);
  const read = (path, who = task, rr = r) => {
    const f = open(path, O_RDONLY, who, rr);
    const out = [];
    for (;;) {
      const b = f.read(who, 100);
      if (b.length === 0) break;
      out.push(b);
    }
    f.decRef();
    return Buffer.concat(out).toString('latin1');
  };
  return { vfs, kernel, proc, tg, task, r, open, read, rd, wr };
}

test('self, thread-self and the root listing', () => {
  const { vfs, r, proc } = setup();
  assert.equal(vfs.readlink(r, vfs.root, '/proc/self'), '7');
  assert.equal(vfs.readlink(r, vfs.root, '/proc/thread-self'), '7/task/7');
  const names = proc.root().readdir(r.ctx).map((e) => e.name);
  for (const n of ['self', 'thread-self', 'cpuinfo', 'meminfo', 'sys', '7']) assert.ok(names.includes(n), n);
  const st = proc.statfs();
  assert.equal(st.type, 0x9fa0);
  assert.equal(proc.name, 'proc');
  // Without a calling task there is no self.
  throwsErrno(() => vfs.readlink({ ...r, ctx: null }, vfs.root, '/proc/self'), ENOENT);
  assert.equal(vfs.resolve(r, vfs.root, '/proc/self/task/7/stat', true).dentry.inode.attrs().mode & 0o777, 0o444);
});

test('stat and status reflect the task state and memory', () => {
  const { read, task, tg } = setup();
  let stat = read('/proc/self/stat');
  let f = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
  assert.equal(stat.startsWith('7 (prog) R 1 7 1 '), true, stat);
  assert.equal(f.length, 50);
  assert.equal(f[19], '200'); // starttime: 2 s after boot at 100 Hz
  assert.equal(Number(f[20]), 0x2000 + 0x1000 + 0x21000 + 0x10000); // vsize
  assert.equal(Number(f[21]), 2 + 1 + 3 + 1); // rss pages
  assert.equal(f[29], '2'); // blocked: SIGINT
  task.state = 'blocked';
  assert.match(read('/proc/7/stat'), /^7 \(prog\) S /);
  // utime and stime (fields 14 and 15) in clock ticks from the platform's CPU time.
  assert.deepEqual(read('/proc/7/stat').split(') ')[1].split(' ').slice(11, 13), ['250', '50']);
  tg.stopped = true;
  assert.match(read('/proc/7/stat'), /^7 \(prog\) T /);
  const status = read('/proc/self/status');
  assert.match(status, /^Name:\tprog\n/);
  assert.match(status, /\nState:\tT \(stopped\)\n/);
  assert.match(status, /\nPPid:\t1\n/);
  assert.match(status, /\nSigBlk:\t0000000000000002\n/);
  assert.match(status, /\nVmRSS:\t {6}28 kB\n/);
  assert.match(status, /\nVmStk:\t {6}64 kB\n/);
  assert.match(status, /\nVmExe:\t {7}8 kB\n/);
  assert.equal(read('/proc/self/statm'), `${(0x2000 + 0x1000 + 0x21000 + 0x10000) / PAGE} 7 3 2 0 ${(0x1000 + 0x21000 + 0x10000) / PAGE} 0\n`);
});

test('cmdline, environ, maps, comm, limits, mounts', () => {
  const { read, task, open } = setup();
  assert.equal(read('/proc/self/cmdline'), 'prog\0-x\0');
  assert.equal(read('/proc/7/environ'), 'A=1\0B=2\0');
  const maps = read('/proc/self/maps').split('\n');
  assert.equal(maps[0], '00400000-00402000 r-xp 00000000 fe:01 77'.padEnd(73) + '/bin/prog');
  assert.equal(maps[1], '00402000-00403000 rw-p 00002000 fe:01 77'.padEnd(73) + '/bin/prog');
  assert.ok(maps.some((l) => l.endsWith(' [heap]')));
  assert.ok(maps.some((l) => l.startsWith('00900000-00902000 r-xp') && l.endsWith('[vdso]')));
  assert.ok(!maps.some((l) => l.includes('[stub]')));
  assert.equal(read('/proc/self/comm'), 'prog\n');
  const c = open('/proc/self/comm', O_WRONLY);
  c.write(task, Buffer.from('renamed-to-something-long\n'));
  assert.equal(read('/proc/self/comm'), 'renamed-to-some\n');
  assert.match(read('/proc/self/limits'), /\nMax open files            1024                 1048576              files     \n/);
  const mounts = read('/proc/mounts');
  assert.match(mounts, /^tmpfs \/ tmpfs rw,relatime 0 0\n/);
  assert.match(mounts, /\nproc \/proc proc rw,relatime 0 0\n/);
  assert.match(read('/proc/self/mountinfo'), /^\d+ 0 0:\d+ \/ \/ rw,relatime - tmpfs tmpfs rw\n\d+ \d+ 0:\d+ \/ \/proc rw,relatime - proc proc rw\n$/);
  assert.equal(read('/proc/self/cgroup'), '0::/\n');
});

test('fd links: names, reopening a pipe, fdinfo, permissions', async () => {
  const { vfs, r, read, open, task, rd, kernel } = setup();
  const pipeName = `pipe:[${rd.pipe.ino}]`;
  assert.equal(vfs.readlink(r, vfs.root, '/proc/self/fd/3'), pipeName);
  assert.equal(vfs.readlink(r, vfs.root, '/proc/self/fd/4'), pipeName);
  const names = vfs.resolve(r, vfs.root, '/proc/self/fd', true).dentry.inode.readdir(task).map((e) => e.name);
  assert.deepEqual(names, ['3', '4']);
  // Opening fd/4 gives a new write end of the same pipe.
  const w = open('/proc/self/fd/4', O_WRONLY);
  assert.notEqual(w, task.fdTable.get(4));
  assert.equal(await w.write(task, Buffer.from('hello')), 5);
  assert.equal((await rd.read(task, 100)).toString(), 'hello');
  // A file with a path links to its path; fdinfo shows offset, octal flags with O_CLOEXEC, mount id.
  const st = open('/proc/self/status');
  task.fdTable.installAt(5, st);
  assert.equal(vfs.readlink(r, vfs.root, '/proc/self/fd/5'), '/proc/7/status');
  const dir = open('/work', O_RDONLY | O_DIRECTORY);
  task.fdTable.installAt(6, dir);
  assert.equal(vfs.resolve(r, vfs.root, '/proc/self/fd/6', true).dentry, dir.path.dentry);
  assert.match(read('/proc/self/fdinfo/4'), /^pos:\t0\nflags:\t02000001\nmnt_id:\t0\nino:\t\d+\n$/);
  assert.equal(vfs.readlink(r, vfs.root, '/proc/self/cwd'), '/work');
  assert.equal(vfs.readlink(r, vfs.root, '/proc/self/root'), '/');
  assert.equal(vfs.readlink(r, vfs.root, '/proc/self/exe'), '/bin/prog');
  throwsErrno(() => vfs.readlink(r, vfs.root, '/proc/self/fd/9'), ENOENT);
  // Another user may not look into the fd directory of a root process.
  const other = { ...task, tid: 8, pid: 8, tg: new ThreadGroup(8, 8, 1), creds: new Credentials(1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, [], kernel.rootNs.mnt.owner) };
  kernel.tasks.set(8, other);
  const ro = { creds: other.creds, root: vfs.root, ctx: other };
  throwsErrno(() => vfs.readlink(ro, vfs.root, '/proc/7/fd/3'), EACCES);
  throwsErrno(() => vfs.readlink(ro, vfs.root, '/proc/7/cwd'), EACCES);
  assert.match(read('/proc/7/stat', other, ro), /^7 \(prog\) R /);
});

test('read-only files, writable values, zombies and reaped processes', () => {
  const { vfs, r, read, open, task, tg } = setup();
  throwsErrno(() => open('/proc/self/stat', O_WRONLY), EACCES);
  throwsErrno(() => open('/proc/newfile', O_WRONLY | O_CREAT), EACCES);
  throwsErrno(() => vfs.mkdir(r, vfs.root, '/proc/d', 0o755), EPERM);
  throwsErrno(() => vfs.unlink(r, vfs.root, '/proc/self/stat'), EPERM);
  throwsErrno(() => open('/proc/sys/vm/overcommit_memory', O_WRONLY), 30);
  const adj = open('/proc/self/oom_score_adj', O_WRONLY);
  assert.equal(adj.write(task, Buffer.from('500\n')), 4);
  throwsErrno(() => adj.write(task, Buffer.from('5000\n')), EINVAL);
  assert.equal(read('/proc/self/oom_score_adj'), '500\n');
  // sys/
  assert.equal(read('/proc/sys/kernel/hostname'), 'box\n');
  assert.equal(read('/proc/sys/kernel/pid_max'), '4194304\n');
  assert.equal(read('/proc/sys/kernel/osrelease'), '6.8.0\n');
  assert.equal(read('/proc/sys/net/core/somaxconn'), '4096\n');
  const bootId = read('/proc/sys/kernel/random/boot_id');
  assert.match(bootId, /^[0-9a-f-]{36}\n$/);
  assert.equal(read('/proc/sys/kernel/random/boot_id'), bootId);
  assert.notEqual(read('/proc/sys/kernel/random/uuid'), read('/proc/sys/kernel/random/uuid'));
  const h = open('/proc/sys/kernel/hostname', O_WRONLY);
  h.write(task, Buffer.from('newname\n'));
  assert.equal(read('/proc/sys/kernel/hostname'), 'newname\n');
  assert.match(read('/proc/uptime'), /^\d+\.\d\d \d+\.\d\d\n$/);
  assert.match(read('/proc/loadavg'), /^0\.00 0\.00 0\.00 1\/1 7\n$/);
  assert.equal(read('/proc/cpuinfo').split('processor').length - 1, 2);
  assert.match(read('/proc/stat'), /^cpu  0 0 0 \d+ 0 0 0 0 0 0\ncpu0 .*\ncpu1 .*\nintr 0\nctxt 0\nbtime \d+\n/);
  // Zombie: state Z, no memory, no command line; the fd directory is empty.
  const stat = open('/proc/7/stat');
  tg.zombie = true;
  tg.exitStatus = 3 << 8;
  task.state = 'dead';
  assert.match(read('/proc/7/stat'), /^7 \(prog\) Z 1 7 1 .* 768\n$/);
  assert.equal(read('/proc/7/cmdline'), '');
  assert.deepEqual(vfs.resolve(r, vfs.root, '/proc/7/fd', true).dentry.inode.readdir(task), []);
  // Reaped: the open file fails with ESRCH, the directory is gone.
  tg.reaped = true;
  r.ctx.kernel.groups.delete(7);
  throwsErrno(() => stat.read(task, 100), ESRCH);
  throwsErrno(() => vfs.resolve(r, vfs.root, '/proc/7', true), ENOENT);
});
