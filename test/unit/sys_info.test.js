'use strict';
// Unit tests of the info, time and credential syscall families (sys_info.ts,
// sys_time.ts, sys_creds.ts) against a fake task: application memory is one
// Buffer-backed region, the kernel's clocks and timers are driven by hand, and
// a blocking sleep is a promise the test resolves or interrupts.

const test = require('node:test');
const assert = require('node:assert/strict');

const { Errno } = require('../../dist/abi/errno.js');
const { Credentials } = require('../../dist/auth/creds.js');
const { ThreadGroup } = require('../../dist/kernel/thread_group.js');
const { TimerQueue } = require('../../dist/kernel/timers.js');
const { NsProxy } = require('../../dist/kernel/namespaces.js');
const { UserNamespace } = require('../../dist/auth/userns.js');
const infoOnly = require('../../dist/syscalls/sys_info.js');
const sched = require('../../dist/syscalls/sys_sched.js');
const info = { ...infoOnly, defs: [...infoOnly.defs, ...sched.defs] };
const time = require('../../dist/syscalls/sys_time.js');
const restart = require('../../dist/syscalls/sys_restart.js');
const creds = require('../../dist/syscalls/sys_creds.js');

const EPERM = 1, ESRCH = 3, EINTR = 4, EFAULT = 14, EACCES = 13, EINVAL = 22, EOPNOTSUPP = 95;
const FS_BASE = 21; // Reg.FS_BASE in user_regs_struct order
const BASE = 0x10000;
const SIZE = 0x40000;

// ---- the fake task ----------------------------------------------------------------------

class FakeMem {
  constructor() {
    this.buf = Buffer.alloc(SIZE);
  }
  range(addr, len) {
    if (addr < BASE || addr + len > BASE + SIZE || len < 0) throw new Errno(EFAULT);
    return addr - BASE;
  }
  copyIn(addr, len) {
    const o = this.range(addr, len);
    return Buffer.from(this.buf.subarray(o, o + len));
  }
  copyOut(addr, data) {
    const o = this.range(addr, data.length);
    this.buf.set(data, o);
  }
  readCString(addr, max) {
    let s = '';
    for (let i = 0; ; i++) {
      const c = this.copyIn(addr + i, 1)[0];
      if (c === 0) return s;
      if (i + 1 >= max) throw new Errno(36);
      s += String.fromCharCode(c);
    }
  }
  readU32(a) { return this.copyIn(a, 4).readUInt32LE(0); }
  readI32(a) { return this.copyIn(a, 4).readInt32LE(0); }
  readU64(a) { return Number(this.copyIn(a, 8).readBigUInt64LE(0)); }
  readI64(a) { return Number(this.copyIn(a, 8).readBigInt64LE(0)); }
  readBigU64(a) { return this.copyIn(a, 8).readBigUInt64LE(0); }
  writeU32(a, v) { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); this.copyOut(a, b); }
  writeI32(a, v) { const b = Buffer.alloc(4); b.writeInt32LE(v | 0); this.copyOut(a, b); }
  writeU64(a, v) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v))); this.copyOut(a, b); }
  writeI64(a, v) { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(v)); this.copyOut(a, b); }
  usage() { return { size: SIZE, rss: 8 * 4096 }; }
}

function fakeKernel() {
  const k = {
    now: 5_000_000_000_000,
    bootMonotonicNs: 5_000_000_000_000 - 3_500_000_000,
    // The initial namespaces (a mount tree is not needed here).
    rootNs: NsProxy.initial(UserNamespace.initial(), { children: new Map() }, 'tsvisor'),
    tasks: new Map(),
    groups: new Map(),
    // Nice values are the task's; the host weighing is the real Lifecycle's.
    hostSched: { setNice(t, nice) { t.nice = nice; }, affinityChanged() {} },
    hostTimer: 0,
    sent: [],
    logged: [],
    monotonicNs() { return this.now; },
    realtimeNs() { return 1_700_000_000_000_000_000 + (this.now - this.bootMonotonicNs); },
    /** The host's clocks as [s, ns]: the realtime ones (0, 5) as realtimeNs, the others as now. */
    clock(id) {
      const ns = id === 0 || id === 5 ? this.realtimeNs() : this.now;
      return [Math.floor(ns / 1e9), ns % 1e9];
    },
    realtime() { return this.clock(0); },
    /** Advance the clock, running due timers (the kernel's own heap) in deadline order, each at its time. */
    advance(ns) {
      const end = this.now + ns;
      while (this.timers.next && this.timers.next <= end) {
        this.now = Math.max(this.now, this.timers.next);
        this.timers.runDue(this.now);
      }
      this.now = end;
    },
    logOnce(key, msg) { this.logged.push(msg); },
    log() {},
    signals: { sendToGroup: (tg, sig, si) => k.sent.push({ tg, sig, si }) },
    memfile: { ramBytes: () => ({ total: 64 << 20, free: 48 << 20 }) },
    // A machine unlike the test host: affinity masks follow it, not node:os.
    hostInfo: { ncpu: 3 },
    // fs.nr_open, RLIMIT_NOFILE's ceiling.
    vfs: { nrOpen: 1048576 },
  };
  k.timers = new TimerQueue(k, (d) => (k.hostTimer = d));
  return k;
}

function fakeTask(k, pid, uid = 0, parentTg = null) {
  const tg = new ThreadGroup(pid, pid, pid);
  tg.parent = parentTg;
  tg.startTimeNs = k.now - 2_000_000_000;
  const regs = new Map();
  tg.childUserNs = 3_000_000_000;
  tg.childSysNs = 10_000_000;
  const t = {
    kernel: k, tid: pid, tg, mm: new FakeMem(), fdTable: { limit: 1024 }, nice: 0, sched: { policy: 0, rtprio: 0, resetOnFork: false, dl: [0, 0, 0] }, state: 'running',
    creds: new Credentials(uid, uid, uid, uid, uid, uid, uid, uid, [], k.rootNs.mnt.owner),
    nsproxy: k.rootNs,
    ctx: { regs: { get: (r) => regs.get(r) ?? 0, set: (r, v) => regs.set(r, v) }, cpuTime: () => ({ userNs: 1_500_000_000, sysNs: 250_000_000 }) },
    cpuTime() {
      return this.ctx.cpuTime();
    },
    startTimeNs: k.now - 1_000_000_000,
    restartBlock: null,
    clearChildTid: 0,
    sleeper: null,
    hasInterruptingSignal: () => false,
    block(q, mask, deadline) {
      return new Promise((resolve, reject) => {
        this.sleeper = { deadline, resolve, reject };
      });
    },
    sleepUntil(d) { return this.block(null, 0, d).then(() => undefined); },
  };
  tg.tasks.add(t);
  k.tasks.set(pid, t);
  k.groups.set(pid, tg);
  return t;
}

function setup(uid = 0) {
  const k = fakeKernel();
  const t = fakeTask(k, 1, uid);
  return { k, t };
}

function table(mod) {
  const m = new Map();
  for (const d of mod.defs) m.set(d.name, d);
  return (t, name, ...args) => m.get(name).fn(t, args.concat([0, 0, 0, 0, 0, 0]).slice(0, 6));
}
const I = table(info);
const PR = table(require('../../dist/syscalls/sys_prctl.js'));
const T = table({ defs: [...time.defs, ...restart.defs] });
const C = table(creds);

function errnoOf(fn) {
  try {
    const r = fn();
    return r && typeof r.then === 'function' ? 'promise' : r;
  } catch (e) {
    assert.ok(e instanceof Errno, `not an Errno: ${e && e.stack}`);
    return -e.errno;
  }
}

async function asyncErrno(p) {
  try {
    return await p;
  } catch (e) {
    assert.ok(e instanceof Errno, `not an Errno: ${e && e.stack}`);
    return -e.errno;
  }
}

const A = BASE + 0x100; // a scratch address in the fake memory
const cstr = (b, off, len) => b.subarray(off, off + len).toString('latin1').split('\0')[0];

// ---- sys_info ----------------------------------------------------------------------------

test('syscall numbers and names are unique across the three families', () => {
  const seen = new Map();
  for (const mod of [info, time, creds]) {
    for (const d of mod.defs) {
      assert.ok(!seen.has(d.nr), `nr ${d.nr} defined twice`);
      seen.set(d.nr, d.name);
      assert.equal(typeof d.fn, 'function');
      assert.ok(Array.isArray(d.args));
    }
  }
});

test('uname reports the sandbox identity and /proc/version agrees', () => {
  const { k, t } = setup();
  assert.equal(I(t, 'uname', A), 0);
  const b = t.mm.copyIn(A, 390);
  assert.equal(cstr(b, 0, 65), 'Linux');
  assert.equal(cstr(b, 65, 65), 'tsvisor');
  assert.equal(cstr(b, 130, 65), info.UTS_RELEASE);
  assert.equal(cstr(b, 195, 65), info.UTS_VERSION);
  assert.equal(cstr(b, 260, 65), 'x86_64');
  assert.equal(cstr(b, 325, 65), k.rootNs.uts.domainname);
  assert.equal(errnoOf(() => I(t, 'uname', 8)), -EFAULT);
  const pv = info.procVersionString();
  assert.ok(pv.startsWith(`Linux version ${info.UTS_RELEASE} `));
  assert.ok(pv.includes(info.UTS_VERSION));
  assert.ok(pv.endsWith('\n'));
});

test('sethostname and setdomainname: root only, at most 64 bytes', () => {
  const { k, t } = setup();
  t.mm.copyOut(A, Buffer.from('box.example'));
  assert.equal(I(t, 'sethostname', A, 3), 0);
  assert.equal(k.rootNs.uts.hostname, 'box');
  assert.equal(errnoOf(() => I(t, 'sethostname', A, 65)), -EINVAL);
  assert.equal(errnoOf(() => I(t, 'sethostname', A, -1)), -EINVAL);
  assert.equal(I(t, 'setdomainname', A, 11), 0);
  assert.equal(k.rootNs.uts.domainname, 'box.example');
  const u = setup(1000).t;
  assert.equal(errnoOf(() => I(u, 'sethostname', A, 3)), -EPERM);
});

test('sysinfo fills uptime, memory, procs and mem_unit', () => {
  const { t } = setup();
  assert.equal(I(t, 'sysinfo', A), 0);
  const b = t.mm.copyIn(A, 112);
  assert.equal(b.readBigInt64LE(0), 4n); // 3.5 s rounds up
  assert.equal(b.readBigUInt64LE(32), BigInt(64 << 20)); // the sandbox's limit, not the host's RAM
  assert.equal(b.readBigUInt64LE(40), BigInt(48 << 20));
  assert.equal(b.readUInt16LE(80), 1);
  assert.equal(b.readUInt32LE(104), 1);
});

test('getrandom validates flags and fills large buffers', () => {
  const { t } = setup();
  assert.equal(I(t, 'getrandom', A, 16, 0), 16);
  assert.notDeepEqual(t.mm.copyIn(A, 16), Buffer.alloc(16));
  assert.equal(I(t, 'getrandom', A, 16, 1 | 2), 16);
  assert.equal(I(t, 'getrandom', A, 16, 4), 16);
  assert.equal(errnoOf(() => I(t, 'getrandom', A, 16, 8)), -EINVAL);
  assert.equal(errnoOf(() => I(t, 'getrandom', A, 16, 2 | 4)), -EINVAL);
  assert.equal(I(t, 'getrandom', BASE, 200000, 0), 200000);
  // Running off the end of memory after some bytes: a short count, not EFAULT.
  assert.equal(I(t, 'getrandom', BASE + SIZE - 70000, 140000, 0), 65536);
  assert.equal(errnoOf(() => I(t, 'getrandom', 8, 16, 0)), -EFAULT);
  assert.equal(I(t, 'getrandom', 8, 0, 0), 0);
});

test('personality: query, set, inherit', () => {
  const { k, t } = setup();
  assert.equal(I(t, 'personality', 0xffffffff), 0);
  assert.equal(I(t, 'personality', 0x0040000), 0);
  assert.equal(I(t, 'personality', -1), 0x0040000); // 0xffffffff as a sign-extended register
  const child = fakeTask(k, 2, 0, t.tg);
  assert.equal(I(child, 'personality', 0xffffffff), 0x0040000);
  assert.equal(info.personalityOf(child.tg), 0x0040000);
});

test('prlimit64, getrlimit and setrlimit follow Linux checks', () => {
  const { k, t } = setup(1000);
  assert.equal(I(t, 'getrlimit', 7, A), 0);
  assert.equal(t.mm.copyIn(A, 16).readBigUInt64LE(0), 1024n);
  assert.equal(I(t, 'getrlimit', 3, A), 0); // stack: max infinity
  assert.equal(t.mm.copyIn(A, 16).readBigUInt64LE(8), 0xffffffffffffffffn);
  assert.equal(errnoOf(() => I(t, 'getrlimit', 16, A)), -EINVAL);
  const put = (cur, max) => {
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(cur, 0);
    b.writeBigUInt64LE(max, 8);
    t.mm.copyOut(A + 32, b);
  };
  put(512n, 1000n);
  assert.equal(I(t, 'prlimit64', 0, 7, A + 32, A), 0);
  assert.equal(t.mm.copyIn(A, 16).readBigUInt64LE(0), 1024n); // old value
  assert.deepEqual(t.tg.rlimits[7], { cur: 512, max: 1000 });
  assert.equal(t.fdTable.limit, 512, 'descriptors are allocated below the new soft limit');
  put(2000n, 1000n);
  assert.equal(errnoOf(() => I(t, 'setrlimit', 7, A + 32)), -EINVAL);
  put(10n, 2000n);
  assert.equal(errnoOf(() => I(t, 'setrlimit', 7, A + 32)), -EPERM); // raising max unprivileged
  put(0xffffffffffffffffn, 0xffffffffffffffffn);
  assert.equal(errnoOf(() => I(t, 'setrlimit', 4, A + 32)), 0); // core: already infinite
  assert.equal(t.tg.rlimits[4].cur, -1);
  assert.equal(errnoOf(() => I(t, 'prlimit64', 99, 7, 0, A)), -ESRCH);
  const other = fakeTask(k, 2, 0);
  assert.equal(errnoOf(() => I(t, 'prlimit64', 2, 7, 0, A)), -EPERM);
  assert.equal(errnoOf(() => I(other, 'prlimit64', 1, 7, 0, A)), 0);
  const root = setup(0).t;
  put(10n, 1n << 21n);
  root.mm.copyOut(A + 32, t.mm.copyIn(A + 32, 16));
  assert.equal(errnoOf(() => I(root, 'setrlimit', 7, A + 32)), -EPERM); // beyond nr_open, even for root
});

test('getrusage and times', () => {
  const { k, t } = setup();
  assert.equal(I(t, 'getrusage', 0, A), 0);
  let ru = t.mm.copyIn(A, 144);
  assert.equal(ru.readBigInt64LE(32), 32n); // 8 pages in KiB
  assert.deepEqual([ru.readBigInt64LE(0), ru.readBigInt64LE(8), ru.readBigInt64LE(16), ru.readBigInt64LE(24)], [1n, 500000n, 0n, 250000n]);
  assert.equal(I(t, 'getrusage', -1, A), 0);
  ru = t.mm.copyIn(A, 144);
  assert.deepEqual([ru.readBigInt64LE(0), ru.readBigInt64LE(16), ru.readBigInt64LE(24)], [3n, 0n, 10000n]);
  assert.equal(I(t, 'getrusage', 1, A), 0);
  assert.equal(errnoOf(() => I(t, 'getrusage', 2, A)), -EINVAL);
  assert.equal(I(t, 'times', 0), 350);
  k.advance(10_000_000);
  assert.equal(I(t, 'times', A), 351);
  const tms = t.mm.copyIn(A, 32);
  assert.deepEqual([0, 8, 16, 24].map((o) => tms.readBigInt64LE(o)), [150n, 25n, 300n, 1n]);
});

test('arch_prctl sets and reads FS, refuses kernel addresses', () => {
  const { t } = setup();
  assert.equal(I(t, 'arch_prctl', 0x1002, 0x7f0000001000), 0);
  assert.equal(t.ctx.regs.get(FS_BASE), 0x7f0000001000);
  assert.equal(I(t, 'arch_prctl', 0x1003, A), 0);
  assert.equal(t.mm.readU64(A), 0x7f0000001000);
  assert.equal(errnoOf(() => I(t, 'arch_prctl', 0x1002, 0x7ffffffff000)), -EPERM);
  assert.equal(errnoOf(() => I(t, 'arch_prctl', 0x1002, -4096)), -EPERM);
  assert.equal(I(t, 'arch_prctl', 0x1001, 0x1000), 0);
  assert.equal(I(t, 'arch_prctl', 0x1004, A), 0);
  assert.equal(t.mm.readU64(A), 0x1000);
  assert.equal(I(t, 'arch_prctl', 0x1011, 0), 1);
  assert.equal(errnoOf(() => I(t, 'arch_prctl', 0x1012, 0)), -19);
  assert.equal(errnoOf(() => I(t, 'arch_prctl', 0x9999, 0)), -EINVAL);
  assert.equal(errnoOf(() => I(t, 'arch_prctl', 0x1003, 8)), -EFAULT);
});

test('CPU affinity: sizes, round trip, empty masks, the HostInfo\'s CPUs only', () => {
  const { t } = setup();
  const n = t.kernel.hostInfo.ncpu;
  assert.equal(errnoOf(() => I(t, 'sched_getaffinity', 0, 4, A)), -EINVAL);
  assert.equal(errnoOf(() => I(t, 'sched_getaffinity', 0, 12, A)), -EINVAL);
  assert.equal(I(t, 'sched_getaffinity', 0, 128, A), 8 * Math.ceil(n / 64));
  assert.equal(t.mm.readU64(A), 2 ** n - 1);
  assert.equal(errnoOf(() => I(t, 'sched_getaffinity', 77, 8, A)), -ESRCH);
  t.mm.writeU64(A, 1);
  assert.equal(I(t, 'sched_setaffinity', 0, 8, A), 0);
  assert.equal(I(t, 'sched_getaffinity', 0, 8, A + 64), 8);
  assert.equal(t.mm.readU64(A + 64), 1);
  t.mm.writeU64(A, 0xf6);
  assert.equal(I(t, 'sched_setaffinity', 0, 8, A), 0);
  assert.equal(I(t, 'sched_getaffinity', 0, 8, A + 64), 8);
  assert.equal(t.mm.readU64(A + 64), 6); // no CPU beyond the three
  t.mm.writeU64(A, 0);
  assert.equal(errnoOf(() => I(t, 'sched_setaffinity', 0, 8, A)), -EINVAL);
  t.mm.writeU64(A, 8);
  assert.equal(errnoOf(() => I(t, 'sched_setaffinity', 0, 8, A)), -EINVAL); // only CPU 3, which is not there
  assert.equal(I(t, 'getcpu', A, A + 4, 0), 0);
  assert.equal(I(t, 'getcpu', 0, 0, 0), 0);
});

test('priorities: 20 - nice, unprivileged raising is EACCES', () => {
  const { k, t } = setup(1000);
  assert.equal(I(t, 'getpriority', 0, 0), 20);
  assert.equal(I(t, 'setpriority', 0, 0, 5), 0);
  assert.equal(I(t, 'getpriority', 0, 0), 15);
  assert.equal(I(t, 'setpriority', 0, 0, 100), 0); // clamped to 19
  assert.equal(I(t, 'getpriority', 0, 1), 1);
  assert.equal(errnoOf(() => I(t, 'setpriority', 0, 0, 0)), -EACCES);
  assert.equal(errnoOf(() => I(t, 'getpriority', 0, 999)), -ESRCH);
  assert.equal(errnoOf(() => I(t, 'getpriority', 3, 0)), -EINVAL);
  fakeTask(k, 2, 0);
  assert.equal(errnoOf(() => I(t, 'setpriority', 0, 2, 10)), -EPERM);
  assert.equal(I(t, 'getpriority', 2, 1000), 1); // PRIO_USER
});

test('scheduling policies', () => {
  const { t } = setup(1000);
  assert.equal(I(t, 'sched_get_priority_max', 1), 99);
  assert.equal(I(t, 'sched_get_priority_min', 2), 1);
  assert.equal(I(t, 'sched_get_priority_max', 0), 0);
  assert.equal(errnoOf(() => I(t, 'sched_get_priority_max', 4)), -EINVAL);
  assert.equal(I(t, 'sched_getscheduler', 0), 0);
  assert.equal(errnoOf(() => I(t, 'sched_getscheduler', -1)), -EINVAL);
  t.mm.writeI32(A, 10);
  assert.equal(errnoOf(() => I(t, 'sched_setscheduler', 0, 1, A)), -EPERM);
  assert.equal(errnoOf(() => I(t, 'sched_setscheduler', 0, 0, A)), -EINVAL);
  assert.equal(errnoOf(() => I(t, 'sched_setscheduler', 0, 0, 0)), -EINVAL);
  t.mm.writeI32(A, 0);
  assert.equal(I(t, 'sched_setscheduler', 0, 3, A), 0);
  assert.equal(I(t, 'sched_getscheduler', 0), 3);
  assert.equal(I(t, 'sched_getparam', 0, A + 8), 0);
  assert.equal(t.mm.readI32(A + 8), 0);
  const root = setup(0).t;
  root.mm.writeI32(A, 50);
  assert.equal(I(root, 'sched_setscheduler', 0, 1, A), 0);
  assert.equal(I(root, 'sched_getparam', 0, A + 8), 0);
  assert.equal(root.mm.readI32(A + 8), 50);
  assert.equal(I(t, 'sched_yield'), 0);
});

test('prctl: names, flags, capabilities, unknown options', () => {
  const { k, t } = setup();
  t.mm.copyOut(A, Buffer.from('a-very-long-thread-name\0'));
  assert.equal(PR(t, 'prctl', 15, A), 0);
  assert.equal(t.comm, 'a-very-long-thr');
  assert.equal(PR(t, 'prctl', 16, A + 64), 0);
  assert.equal(cstr(t.mm.copyIn(A + 64, 16), 0, 16), 'a-very-long-thr');
  assert.equal(PR(t, 'prctl', 3), 1);
  assert.equal(PR(t, 'prctl', 4, 0), 0);
  assert.equal(PR(t, 'prctl', 3), 0);
  assert.equal(errnoOf(() => PR(t, 'prctl', 4, 2)), -EINVAL);
  assert.equal(PR(t, 'prctl', 1, 9), 0);
  assert.equal(PR(t, 'prctl', 2, A), 0);
  assert.equal(t.mm.readI32(A), 9);
  assert.equal(info.parentDeathSignal(t.tg), 9);
  assert.equal(errnoOf(() => PR(t, 'prctl', 1, 65)), -EINVAL);
  assert.equal(PR(t, 'prctl', 39), 0);
  assert.equal(errnoOf(() => PR(t, 'prctl', 38, 0)), -EINVAL);
  assert.equal(PR(t, 'prctl', 38, 1), 0);
  assert.equal(PR(t, 'prctl', 39), 1);
  assert.equal(PR(t, 'prctl', 21), 0);
  assert.equal(PR(t, 'prctl', 23, 21), 1);
  assert.equal(PR(t, 'prctl', 24, 21), 0);
  assert.equal(PR(t, 'prctl', 23, 21), 0);
  assert.equal(errnoOf(() => PR(t, 'prctl', 23, 41)), -EINVAL);
  assert.equal(PR(t, 'prctl', 36, 1), 0);
  assert.equal(PR(t, 'prctl', 37, A), 0);
  assert.equal(t.mm.readI32(A), 1);
  assert.equal(PR(t, 'prctl', 47, 1, 5), 0);
  assert.equal(errnoOf(() => PR(t, 'prctl', 47, 2, 5)), -EPERM);
  assert.equal(errnoOf(() => PR(t, 'prctl', 0x53564d41, 0, A, 16, A)), -EINVAL);
  assert.equal(errnoOf(() => PR(t, 'prctl', 12345)), -EINVAL);
  assert.equal(errnoOf(() => PR(t, 'prctl', 12345)), -EINVAL);
  assert.equal(k.logged.filter((m) => m.includes('12345')).length, 2); // logOnce dedups in the real kernel
  // A child inherits no_new_privs but not pdeathsig or the subreaper flag.
  const child = fakeTask(k, 2, 0, t.tg);
  assert.equal(PR(child, 'prctl', 39), 1);
  assert.equal(info.parentDeathSignal(child.tg), 0);
  assert.equal(info.isChildSubreaper(child.tg), false);
  const u = setup(1000).t;
  assert.equal(errnoOf(() => PR(u, 'prctl', 24, 21)), -EPERM);
});

// ---- sys_time ----------------------------------------------------------------------------

function readTs(t, addr) {
  const b = t.mm.copyIn(addr, 16);
  return [Number(b.readBigInt64LE(0)), Number(b.readBigInt64LE(8))];
}

function putTs(t, addr, sec, nsec) {
  const b = Buffer.alloc(16);
  b.writeBigInt64LE(BigInt(sec), 0);
  b.writeBigInt64LE(BigInt(nsec), 8);
  t.mm.copyOut(addr, b);
}

test('clock_gettime and clock_getres', () => {
  const { k, t } = setup();
  assert.equal(T(t, 'clock_gettime', 1, A), 0);
  assert.deepEqual(readTs(t, A), [5000, 0]);
  assert.equal(T(t, 'clock_gettime', 0, A), 0);
  const rt = readTs(t, A);
  assert.equal(rt[0], 1_700_000_003);
  assert.equal(rt[1], 500_000_000);
  // CPU clocks: the platform's user + system time of the process / thread.
  assert.equal(T(t, 'clock_gettime', 2, A), 0);
  assert.deepEqual(readTs(t, A), [1, 750_000_000]);
  assert.equal(T(t, 'clock_gettime', 3, A), 0);
  assert.deepEqual(readTs(t, A), [1, 750_000_000]);
  for (const id of [4, 5, 6, 7, 8, 9, 11]) assert.equal(T(t, 'clock_gettime', id, A), 0, `clock ${id}`);
  for (const id of [10, 12, 1000]) assert.equal(errnoOf(() => T(t, 'clock_gettime', id, A)), -EINVAL);
  assert.equal(errnoOf(() => T(t, 'clock_gettime', 1, 0)), -EFAULT);
  // CPU clocks named by pid: ~pid << 3 | perthread << 2 | which.
  assert.equal(T(t, 'clock_gettime', (~1 << 3) | 2, A), 0); // process 1, sched
  assert.deepEqual(readTs(t, A), [1, 750_000_000]);
  assert.equal(T(t, 'clock_gettime', (~1 << 3) | 1, A), 0); // process 1, virt: user time only
  assert.deepEqual(readTs(t, A), [1, 500_000_000]);
  assert.equal(T(t, 'clock_gettime', (~0 << 3) | 4 | 2, A), 0); // this thread
  assert.deepEqual(readTs(t, A), [1, 750_000_000]);
  assert.equal(errnoOf(() => T(t, 'clock_gettime', (~77 << 3) | 2, A)), -EINVAL);
  assert.equal(errnoOf(() => T(t, 'clock_gettime', (~0 << 3) | 3, A)), -EINVAL);
  assert.equal(T(t, 'clock_getres', 1, A), 0);
  assert.deepEqual(readTs(t, A), [0, 1]);
  assert.equal(T(t, 'clock_getres', 6, A), 0);
  assert.deepEqual(readTs(t, A), [0, 4_000_000]);
  assert.equal(T(t, 'clock_getres', 0, 0), 0);
  assert.equal(errnoOf(() => T(t, 'clock_getres', 10, A)), -EINVAL);
  k.advance(1);
});

test('gettimeofday and time accept NULL', () => {
  const { t } = setup();
  assert.equal(T(t, 'gettimeofday', A, A + 16), 0);
  const b = t.mm.copyIn(A, 24);
  assert.equal(b.readBigInt64LE(0), 1_700_000_003n);
  assert.equal(b.readBigInt64LE(8), 500_000n);
  assert.equal(b.readBigInt64LE(16), 0n);
  assert.equal(T(t, 'gettimeofday', 0, 0), 0);
  assert.equal(T(t, 'time', 0), 1_700_000_003);
  assert.equal(T(t, 'time', A), 1_700_000_003);
  assert.equal(t.mm.readI64(A), 1_700_000_003);
  assert.equal(errnoOf(() => T(t, 'time', 8)), -EFAULT);
});

test('nanosleep validates, sleeps, and restarts after interruption', async () => {
  const { k, t } = setup();
  putTs(t, A, 0, 1_000_000_000);
  assert.equal(errnoOf(() => T(t, 'nanosleep', A, 0)), -EINVAL);
  putTs(t, A, -1, 0);
  assert.equal(errnoOf(() => T(t, 'nanosleep', A, 0)), -EINVAL);
  putTs(t, A, 0, 0);
  assert.equal(T(t, 'nanosleep', A, 0), 0);
  assert.equal(errnoOf(() => T(t, 'nanosleep', 8, 0)), -EFAULT);

  putTs(t, A, 2, 0);
  let p = T(t, 'nanosleep', A, A + 16);
  assert.equal(t.sleeper.deadline, k.now + 2_000_000_000);
  k.advance(500_000_000);
  t.sleeper.reject(new Errno(512));
  assert.equal(await asyncErrno(p), -516);
  assert.deepEqual(readTs(t, A + 16), [1, 500_000_000]);
  // The continuation is data: the sleep's absolute deadline and where rem goes.
  assert.deepEqual(t.restartBlock, { kind: 'nanosleep', deadline: k.now + 1_500_000_000, rem: A + 16 });
  // restart_syscall sleeps on to the same deadline.
  p = T(t, 'restart_syscall');
  assert.equal(t.restartBlock, null);
  assert.equal(t.sleeper.deadline, k.now + 1_500_000_000);
  t.sleeper.resolve(0);
  assert.equal(await p, 0);
  assert.equal(errnoOf(() => T(t, 'restart_syscall')), -EINTR);
});

test('clock_nanosleep: clocks, flags, absolute deadlines', async () => {
  const { k, t } = setup(1000);
  putTs(t, A, 1, 0);
  assert.equal(errnoOf(() => T(t, 'clock_nanosleep', 3, 0, A, 0)), -EOPNOTSUPP);
  assert.equal(errnoOf(() => T(t, 'clock_nanosleep', 4, 0, A, 0)), -EOPNOTSUPP);
  assert.equal(errnoOf(() => T(t, 'clock_nanosleep', 10, 0, A, 0)), -EINVAL);
  assert.equal(errnoOf(() => T(t, 'clock_nanosleep', 8, 0, A, 0)), -EPERM);
  // Absolute, in the past: at once.
  assert.equal(T(t, 'clock_nanosleep', 1, 1, A, 0), 0);
  // Absolute on CLOCK_REALTIME: converted to a monotonic deadline.
  putTs(t, A, 1_700_000_010, 0);
  const p = T(t, 'clock_nanosleep', 0, 1, A, A + 16);
  assert.equal(t.sleeper.deadline, k.now + 6_500_000_000);
  t.sleeper.reject(new Errno(512));
  assert.equal(await asyncErrno(p), -514);
  assert.deepEqual(readTs(t, A + 16), [0, 0]); // rem untouched for absolute sleeps
  // Relative on CLOCK_MONOTONIC, completing.
  putTs(t, A, 0, 5);
  const q = T(t, 'clock_nanosleep', 1, 0, A, 0);
  t.sleeper.resolve(0);
  assert.equal(await q, 0);
});

test('alarm and ITIMER_REAL share one timer and re-arm by interval', () => {
  const { k, t } = setup();
  assert.equal(T(t, 'alarm', 10), 0);
  k.advance(3_400_000_000);
  assert.equal(T(t, 'alarm', 5), 7); // 6.6 s left rounds to 7
  k.advance(5_000_000_000);
  assert.equal(k.sent.length, 1);
  assert.equal(k.sent[0].sig, 14);
  assert.equal(k.sent[0].si.code, 0x80);
  assert.equal(T(t, 'alarm', 0), 0);

  const b = Buffer.alloc(32);
  b.writeBigInt64LE(0n, 0);
  b.writeBigInt64LE(250_000n, 8); // interval 0.25 s
  b.writeBigInt64LE(1n, 16);
  b.writeBigInt64LE(0n, 24); // value 1 s
  t.mm.copyOut(A, b);
  assert.equal(T(t, 'setitimer', 0, A, A + 32), 0);
  k.advance(1_600_000_000);
  assert.equal(k.sent.length, 1 + 3); // at 1.0, 1.25, 1.5 s
  assert.equal(T(t, 'getitimer', 0, A + 64), 0);
  const g = t.mm.copyIn(A + 64, 32);
  assert.equal(g.readBigInt64LE(8), 250_000n);
  assert.equal(g.readBigInt64LE(24), 150_000n); // next at 1.75 s
  assert.equal(T(t, 'alarm', 0), 1); // 0.15 s left reads as 1
  k.advance(5_000_000_000);
  assert.equal(k.sent.length, 4);
  // Bad values and timers.
  b.writeBigInt64LE(1_000_000n, 8);
  t.mm.copyOut(A, b);
  assert.equal(errnoOf(() => T(t, 'setitimer', 0, A, 0)), -EINVAL);
  assert.equal(errnoOf(() => T(t, 'getitimer', 3, A)), -EINVAL);
  // ITIMER_VIRTUAL is stored; NULL new_value disarms.
  b.writeBigInt64LE(0n, 8);
  t.mm.copyOut(A, b);
  assert.equal(T(t, 'setitimer', 1, A, 0), 0);
  assert.equal(T(t, 'setitimer', 1, 0, A + 64), 0);
  assert.equal(t.mm.copyIn(A + 64, 32).readBigInt64LE(16), 1n);
  assert.equal(T(t, 'getitimer', 1, A + 64), 0);
  assert.equal(t.mm.copyIn(A + 64, 32).readBigInt64LE(16), 0n);
});

// ---- sys_creds ---------------------------------------------------------------------------

function ids(t, kind) {
  const base = A + 0x200;
  C(t, kind === 'uid' ? 'getresuid' : 'getresgid', base, base + 4, base + 8);
  const fs = kind === 'uid' ? t.creds.fsuid : t.creds.fsgid;
  return [t.mm.readU32(base), t.mm.readU32(base + 4), t.mm.readU32(base + 8), fs];
}

test('getters', () => {
  const { t } = setup(1000);
  assert.equal(C(t, 'getuid'), 1000);
  assert.equal(C(t, 'geteuid'), 1000);
  assert.equal(C(t, 'getgid'), 1000);
  assert.equal(C(t, 'getegid'), 1000);
  assert.equal(errnoOf(() => C(t, 'getresuid', 8, A, A)), -EFAULT);
});

test('setuid: root sets all, others only real or saved', () => {
  const { t } = setup(0);
  const before = t.creds;
  assert.equal(C(t, 'setresuid', -1, 1000, -1), 0);
  assert.notEqual(t.creds, before, 'credentials are replaced, not edited');
  assert.equal(before.euid, 0);
  assert.deepEqual(ids(t, 'uid'), [0, 1000, 0, 1000]);
  assert.equal(C(t, 'setuid', 0), 0); // unprivileged now, but 0 is the real ID
  assert.deepEqual(ids(t, 'uid'), [0, 0, 0, 0]);
  assert.equal(C(t, 'setuid', 500), 0); // privileged: all four
  assert.deepEqual(ids(t, 'uid'), [500, 500, 500, 500]);
  assert.equal(errnoOf(() => C(t, 'setuid', 0)), -EPERM);
  assert.equal(errnoOf(() => C(t, 'setuid', -1)), -EINVAL);
  assert.equal(errnoOf(() => C(t, 'setgid', 7)), -EPERM);
});

test('setreuid: saved ID rules and unprivileged limits', () => {
  const { t } = setup(0);
  assert.equal(C(t, 'setreuid', 1000, 2000), 0);
  assert.deepEqual(ids(t, 'uid'), [1000, 2000, 2000, 2000]);
  assert.equal(C(t, 'setreuid', -1, 1000), 0); // euid back to real: saved unchanged
  assert.deepEqual(ids(t, 'uid'), [1000, 1000, 2000, 1000]);
  assert.equal(C(t, 'setreuid', -1, 2000), 0); // to saved: saved becomes the new euid
  assert.deepEqual(ids(t, 'uid'), [1000, 2000, 2000, 2000]);
  assert.equal(C(t, 'setreuid', 2000, -1), 0); // real to the effective ID
  assert.deepEqual(ids(t, 'uid'), [2000, 2000, 2000, 2000]);
  assert.equal(errnoOf(() => C(t, 'setreuid', 3000, -1)), -EPERM);
  assert.equal(errnoOf(() => C(t, 'setreuid', -1, 0)), -EPERM);
  const g = setup(0).t;
  assert.equal(C(g, 'setregid', 10, 20), 0);
  assert.deepEqual(ids(g, 'gid'), [10, 20, 20, 20]);
});

test('setresuid/setresgid and the filesystem IDs', () => {
  const { t } = setup(0);
  assert.equal(C(t, 'setresgid', 1, 2, 3), 0);
  assert.deepEqual(ids(t, 'gid'), [1, 2, 3, 2]);
  assert.equal(C(t, 'setresuid', 10, 20, 30), 0);
  assert.deepEqual(ids(t, 'uid'), [10, 20, 30, 20]);
  assert.equal(C(t, 'setresuid', 30, 10, -1), 0);
  assert.deepEqual(ids(t, 'uid'), [30, 10, 30, 10]);
  assert.equal(errnoOf(() => C(t, 'setresuid', -1, 0, -1)), -EPERM);
  assert.equal(C(t, 'setfsuid', 30), 10); // returns the old value
  assert.equal(t.creds.fsuid, 30);
  assert.equal(C(t, 'setfsuid', 999), 30); // not allowed: unchanged
  assert.equal(t.creds.fsuid, 30);
  assert.equal(C(t, 'setfsuid', -1), 30);
  assert.equal(C(t, 'setfsgid', 3), 2);
  assert.equal(t.creds.fsgid, 3);
});

test('getgroups and setgroups', () => {
  const { t } = setup(0);
  assert.equal(C(t, 'getgroups', 0, 0), 0);
  const b = Buffer.alloc(12);
  [30, 10, 20].forEach((g, i) => b.writeUInt32LE(g, 4 * i));
  t.mm.copyOut(A, b);
  assert.equal(C(t, 'setgroups', 3, A), 0);
  assert.equal(C(t, 'getgroups', 0, 0), 3);
  assert.equal(errnoOf(() => C(t, 'getgroups', 2, A + 32)), -EINVAL);
  assert.equal(errnoOf(() => C(t, 'getgroups', -1, A + 32)), -EINVAL);
  assert.equal(C(t, 'getgroups', 10, A + 32), 3);
  assert.deepEqual([0, 1, 2].map((i) => t.mm.readU32(A + 32 + 4 * i)), [10, 20, 30]);
  assert.equal(errnoOf(() => C(t, 'setgroups', 65537, A)), -EINVAL);
  assert.equal(errnoOf(() => C(t, 'setgroups', 1, 8)), -EFAULT);
  assert.equal(C(t, 'setgroups', 0, 0), 0);
  assert.equal(C(t, 'getgroups', 0, 0), 0);
  const u = setup(1000).t;
  assert.equal(errnoOf(() => C(u, 'setgroups', 0, 0)), -EPERM);
});

test('capget and capset', () => {
  const { t } = setup(0);
  const hdr = (version, pid = 0) => {
    t.mm.writeU32(A, version);
    t.mm.writeI32(A + 4, pid);
  };
  hdr(0x20080522);
  assert.equal(C(t, 'capget', A, A + 16), 0);
  const d = t.mm.copyIn(A + 16, 24);
  assert.deepEqual([d.readUInt32LE(0), d.readUInt32LE(4), d.readUInt32LE(8)], [0xffffffff, 0xffffffff, 0]);
  assert.deepEqual([d.readUInt32LE(12), d.readUInt32LE(16), d.readUInt32LE(20)], [0x1ff, 0x1ff, 0]);
  // Unknown version: EINVAL and the preferred version written back; a NULL data probe succeeds.
  hdr(1234);
  assert.equal(errnoOf(() => C(t, 'capget', A, A + 16)), -EINVAL);
  assert.equal(t.mm.readU32(A), 0x20080522);
  hdr(1234);
  assert.equal(C(t, 'capget', A, 0), 0);
  assert.equal(t.mm.readU32(A), 0x20080522);
  hdr(0x20080522, -1);
  assert.equal(errnoOf(() => C(t, 'capget', A, A + 16)), -EINVAL);
  hdr(0x20080522, 42);
  assert.equal(errnoOf(() => C(t, 'capget', A, A + 16)), -ESRCH);
  // Lower: drop CAP_NET_RAW (13) from everything.
  hdr(0x20080522);
  const n = Buffer.alloc(24);
  n.writeUInt32LE((0xffffffff & ~(1 << 13)) >>> 0, 0);
  n.writeUInt32LE((0xffffffff & ~(1 << 13)) >>> 0, 4);
  n.writeUInt32LE(0x1ff, 12);
  n.writeUInt32LE(0x1ff, 16);
  t.mm.copyOut(A + 64, n);
  assert.equal(C(t, 'capset', A, A + 64), 0);
  assert.equal(C(t, 'capget', A, A + 16), 0);
  assert.equal(t.mm.readU32(A + 20) & (1 << 13), 0);
  // Raising again is refused; effective outside permitted too.
  n.writeUInt32LE(0xffffffff, 4);
  t.mm.copyOut(A + 64, n);
  assert.equal(errnoOf(() => C(t, 'capset', A, A + 64)), -EPERM);
  hdr(0x20080522, 42);
  assert.equal(errnoOf(() => C(t, 'capset', A, A + 64)), -EPERM);
  // Unprivileged: no capabilities at all.
  const u = setup(1000).t;
  u.mm.writeU32(A, 0x19980330);
  u.mm.writeI32(A + 4, 0);
  assert.equal(C(u, 'capget', A, A + 16), 0);
  assert.deepEqual([0, 4, 8].map((o) => u.mm.readU32(A + 16 + o)), [0, 0, 0]);
});
