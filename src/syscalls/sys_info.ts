// The system's identity and per-process knobs: uname and host/domain names,
// sysinfo, getrandom, personality, resource limits and usage, times,
// arch_prctl and prctl. CPU affinity, priorities and scheduling policies are
// in sys_sched.ts.
//
// The kernel reports its own identity (Linux 4.4.0, like gVisor), never the
// host's. Per-process settings are ThreadGroup.procState, made on first use
// from the parent's: personality,
// nice, affinity, policy, dumpable, keepcaps, no_new_privs and the bounding
// set are inherited; pdeathsig and the subreaper flag start cleared, as after
// fork on Linux. The fork hook copies them eagerly (a parent's change after
// fork must not reach the child); the exec hook resets what execve resets.

import { seccompMode, setFilter, setStrict } from './sys_seccomp';
import type { NumaPolicy } from '../abi/mempolicy';
import type { FamilyHooks } from '../kernel/lifecycle';
import { randomFill } from '../host/random';
import { capBit, type Credentials, credsForExec, hasCapability } from '../auth/creds';
import { CAP_LAST_CAP, CAP_SETPCAP, CAP_SYS_ADMIN, CAP_SYS_NICE, CAP_SYS_RESOURCE, SECBIT_KEEP_CAPS, SECBIT_NO_CAP_AMBIENT_RAISE, SECURE_ALL_BITS, SECURE_ALL_LOCKS } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import type { Task } from '../kernel/task';
import { type ProcState, RLIM_INFINITY, type Rlimit, RLIMIT_NOFILE, type ThreadGroup } from '../kernel/thread_group';
import { Reg } from '../platform/platform';
import { encodeTimeval } from '../abi/time';
import { i32, u32, type SyscallDef } from '../kernel/syscall';

import { UTS_MACHINE, UTS_RELEASE, UTS_SYSNAME, UTS_VERSION } from '../kernel/uts';
import { TASK_SIZE } from '../abi/mm';
import { RLIM_NLIMITS } from '../abi/resource';
export { procVersionString, UTS_MACHINE, UTS_RELEASE, UTS_SYSNAME, UTS_VERSION } from '../kernel/uts';
const UTS_LEN = 64; // __NEW_UTS_LEN: each utsname field is 65 bytes


const NS = 1_000_000_000;
const NR_OPEN = 1048576; // fs.nr_open: the ceiling of RLIMIT_NOFILE
const TASK_COMM_LEN = 16;
const SCHED_OTHER = 0;

// ---- per-process state ------------------------------------------------------------------

const DEFAULT_STATE = {
  personality: 0, nice: 0, policy: SCHED_OTHER, rtprio: 0, dumpable: 1, noNewPrivs: false,
  pdeathsig: 0, subreaper: false,
  /** SCHED_RESET_ON_FORK / SCHED_FLAG_RESET_ON_FORK: children start with the default policy. */
  resetOnFork: false,
  /** ioprio_set's value (class << 13 | data); 0 is IOPRIO_CLASS_NONE, which follows the nice value. */
  ioprio: 0,
  /** set_mempolicy's policy; null is MPOL_DEFAULT. */
  mempolicy: null as NumaPolicy | null,
};

/** The CPUs the sandbox shows (its HostInfo's). */
export function ncpus(t: Task): number {
  return t.kernel.hostInfo.ncpu;
}

export function allCpus(t: Task): bigint {
  return (1n << BigInt(ncpus(t))) - 1n;
}

/** A first process may run everywhere; masked to the sandbox's CPUs (allCpus) where it is read. */
const EVERY_CPU = -1n;

/** A child's settings: its parent's, less what fork clears. */
function childState(parent: ProcState | null): ProcState {
  if (!parent) return { ...DEFAULT_STATE, affinity: EVERY_CPU };
  const c = { ...parent, pdeathsig: 0, subreaper: false };
  if (c.resetOnFork) {
    // Realtime policies go back to SCHED_OTHER, a raised priority (negative nice) back to 0.
    if (c.policy === 1 || c.policy === 2) Object.assign(c, { policy: SCHED_OTHER, rtprio: 0 });
    if (c.nice < 0) c.nice = 0;
    c.resetOnFork = false;
  }
  return c;
}

export function stateOf(tg: ThreadGroup): ProcState {
  let s = tg.procState;
  if (!s) {
    s = childState(tg.parent ? stateOf(tg.parent) : null);
    tg.procState = s;
  }
  return s;
}

/** Give a new child its parent's inheritable settings as they are at fork time. */
export function inheritOnFork(parent: ThreadGroup, child: ThreadGroup): void {
  child.procState = childState(stateOf(parent));
}

/** What execve resets: the process becomes dumpable again (keep-caps, in the credentials, goes with exec's own change of them). */
export function resetOnExec(tg: ThreadGroup): void {
  const s = stateOf(tg);
  s.dumpable = 1;
  for (const t of tg.tasks) t.creds = credsForExec(t.creds, s.noNewPrivs);
}

/** PR_SET_NO_NEW_PRIVS: execve grants no privilege (setuid bits, capabilities) beyond what the process has. */
export function noNewPrivs(tg: ThreadGroup): boolean {
  return tg.procState?.noNewPrivs ?? false;
}

/** The personality(2) value of a process (ADDR_NO_RANDOMIZE & co, for the loader and mmap). */
export function personalityOf(tg: ThreadGroup): number {
  return stateOf(tg).personality;
}

/** The signal a process asked for when its parent dies (PR_SET_PDEATHSIG), 0 if none. */
export function parentDeathSignal(tg: ThreadGroup): number {
  return tg.procState?.pdeathsig ?? 0;
}

/** Whether a process is a child subreaper (PR_SET_CHILD_SUBREAPER). */
export function isChildSubreaper(tg: ThreadGroup): boolean {
  return tg.procState?.subreaper ?? false;
}

// ---- helpers ----------------------------------------------------------------------------

/** EINVAL unless ok. */
export function need(ok: unknown): void {
  if (!ok) throw new Errno(E.EINVAL);
}

/** The caller holds cap in its effective set. */
export function capable(t: Task, cap: number): boolean {
  return hasCapability(t.creds, cap);
}

export function credsOf(tg: ThreadGroup): Credentials | null {
  for (const t of tg.tasks) return t.creds;
  return null;
}

/** The process a pid names (0: the caller's), or ESRCH. */
export function findGroup(t: Task, pid: number): ThreadGroup {
  if (pid === 0) return t.tg;
  const task = t.kernel.tasks.get(pid);
  if (!task || task.tg.zombie) throw new Errno(E.ESRCH);
  return task.tg;
}

/** Changing another process's scheduling: the caller's euid must be its uid or euid, or root. */
export function checkSameOwner(t: Task, tg: ThreadGroup): void {
  const c = credsOf(tg);
  if (tg !== t.tg && c && !capable(t, CAP_SYS_NICE) && t.creds.euid !== c.uid && t.creds.euid !== c.euid) throw new Errno(E.EPERM);
}

/** PR_SET_NAME: the first 15 bytes of a string (longer ones are cut, not refused). */
function readComm(t: Task, addr: number): string {
  try {
    return t.mm.readCString(addr, TASK_COMM_LEN);
  } catch (e) {
    if (e instanceof Errno && e.errno === E.ENAMETOOLONG) return t.mm.copyIn(addr, TASK_COMM_LEN - 1).toString('latin1');
    throw e;
  }
}

// ---- identity, sysinfo, getrandom, personality -----------------------------------------

function uname(t: Task, a: number[]): number {
  const fields = [UTS_SYSNAME, t.kernel.hostname, UTS_RELEASE, UTS_VERSION, UTS_MACHINE, t.kernel.domainname];
  const b = Buffer.alloc(6 * (UTS_LEN + 1));
  fields.forEach((f, i) => Buffer.from(f, 'latin1').copy(b, i * (UTS_LEN + 1), 0, UTS_LEN));
  t.mm.copyOut(a[0], b);
  return 0;
}

/** sethostname/setdomainname: root only (CAP_SYS_ADMIN), at most 64 bytes. */
function setName(t: Task, a: number[], set: (name: string) => void): number {
  if (!capable(t, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  const len = i32(a[1]);
  need(len >= 0 && len <= UTS_LEN);
  const s = t.mm.copyIn(a[0], len).toString('latin1');
  set(s.split('\0')[0]);
  return 0;
}

function sysinfo(t: Task, a: number[]): number {
  const k = t.kernel;
  const up = Math.max(0, k.monotonicNs() - k.bootMonotonicNs);
  const b = Buffer.alloc(112); // loads, shared/buffer RAM, swap and high memory stay 0
  b.writeBigInt64LE(BigInt(Math.ceil(up / NS)), 0); // uptime, rounded up
  const ram = k.memfile.ramBytes(); // the sandbox's limit, not the host's RAM
  b.writeBigUInt64LE(BigInt(ram.total), 32);
  b.writeBigUInt64LE(BigInt(ram.free), 40);
  b.writeUInt16LE(Math.min(k.tasks.size, 0xffff), 80); // procs
  b.writeUInt32LE(1, 104); // mem_unit
  t.mm.copyOut(a[0], b);
  return 0;
}

const GRND_NONBLOCK = 1, GRND_RANDOM = 2, GRND_INSECURE = 4;
const MAX_RW_COUNT = 0x7ffff000;

/** The entropy pool is always ready, so GRND_NONBLOCK never fails. Large requests are filled in chunks. */
function getrandom(t: Task, a: number[]): number {
  const flags = u32(a[2]);
  need(!(flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)));
  need((flags & (GRND_INSECURE | GRND_RANDOM)) !== (GRND_INSECURE | GRND_RANDOM));
  const count = a[1] < 0 || a[1] > MAX_RW_COUNT ? MAX_RW_COUNT : a[1];
  const chunk = Buffer.allocUnsafe(Math.min(count, 1 << 16));
  let done = 0;
  while (done < count && !(done > 0 && t.hasInterruptingSignal())) {
    const n = Math.min(count - done, chunk.length);
    randomFill(chunk, 0, n);
    try {
      t.mm.copyOut(a[0] + done, chunk.subarray(0, n));
    } catch (e) {
      if (done > 0 && e instanceof Errno && e.errno === E.EFAULT) break; // a short read, as on Linux
      throw e;
    }
    done += n;
  }
  chunk.fill(0);
  return done;
}

function personality(t: Task, a: number[]): number {
  const s = stateOf(t.tg);
  const old = s.personality;
  if (u32(a[0]) !== 0xffffffff) s.personality = u32(a[0]);
  return old;
}

// ---- resource limits and usage ---------------------------------------------------------

/** struct rlimit64 {u64 cur, max}; values past 2^53 are taken as RLIM_INFINITY. */
function readRlimit(t: Task, addr: number): Rlimit {
  const b = t.mm.copyIn(addr, 16);
  const conv = (v: bigint): number => (v > BigInt(Number.MAX_SAFE_INTEGER) ? RLIM_INFINITY : Number(v));
  return { cur: conv(b.readBigUInt64LE(0)), max: conv(b.readBigUInt64LE(8)) };
}

function writeRlimit(t: Task, addr: number, r: Rlimit): void {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(r.cur)), 0); // RLIM_INFINITY (-1) becomes 2^64-1
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(r.max)), 8);
  t.mm.copyOut(addr, b);
}

/** A stored limit for comparisons: RLIM_INFINITY above everything. */
export function rl(v: number): number {
  return v === RLIM_INFINITY ? Infinity : v;
}

/** Set (when n is given) one limit of tg with Linux's checks; returns the old value. */
function setRlimit(t: Task, tg: ThreadGroup, resource: number, n: Rlimit | null): Rlimit {
  need(resource < RLIM_NLIMITS);
  const old = { ...tg.rlimits[resource] };
  if (!n) return old;
  need(rl(n.cur) <= rl(n.max));
  if (resource === RLIMIT_NOFILE && rl(n.max) > NR_OPEN) throw new Errno(E.EPERM);
  if (rl(n.max) > rl(old.max) && !capable(t, CAP_SYS_RESOURCE)) throw new Errno(E.EPERM);
  tg.rlimits[resource] = { cur: n.cur, max: n.max };
  // The fd table checks new descriptors against the limit itself (nr_open bounds it).
  if (resource === RLIMIT_NOFILE) {
    for (const task of tg.tasks) if (task.fdTable) task.fdTable.limit = Math.min(rl(n.cur), NR_OPEN);
  }
  return old;
}

function getrlimit(t: Task, a: number[]): number {
  writeRlimit(t, a[1], setRlimit(t, t.tg, u32(a[0]), null));
  return 0;
}

function setrlimit(t: Task, a: number[]): number {
  setRlimit(t, t.tg, u32(a[0]), readRlimit(t, a[1]));
  return 0;
}

/** Another process's limits: the caller's real IDs must equal all of its IDs, or CAP_SYS_RESOURCE. */
function mayPrlimit(t: Task, tg: ThreadGroup): boolean {
  const { uid, gid } = t.creds;
  const c = credsOf(tg);
  if (tg === t.tg || capable(t, CAP_SYS_RESOURCE)) return true;
  return !!c && [c.uid, c.euid, c.suid].every((x) => x === uid) && [c.gid, c.egid, c.sgid].every((x) => x === gid);
}

function prlimit64(t: Task, a: number[]): number {
  const n = a[2] ? readRlimit(t, a[2]) : null;
  const tg = findGroup(t, i32(a[0]));
  if (!mayPrlimit(t, tg)) throw new Errno(E.EPERM);
  const old = setRlimit(t, tg, u32(a[1]), n);
  if (a[3]) writeRlimit(t, a[3], old);
  return 0;
}

const RUSAGE_SELF = 0, RUSAGE_CHILDREN = -1, RUSAGE_THREAD = 1;

/** struct rusage (144 bytes): CPU times are not measured; ru_maxrss is the current resident size. */
function getrusage(t: Task, a: number[]): number {
  const who = i32(a[0]);
  need(who === RUSAGE_SELF || who === RUSAGE_CHILDREN || who === RUSAGE_THREAD);
  const b = Buffer.alloc(144);
  const c =
    who === RUSAGE_CHILDREN ? { userNs: t.tg.childUserNs, sysNs: t.tg.childSysNs } : who === RUSAGE_THREAD ? t.cpuTime() : t.tg.cpuTime();
  encodeTimeval(b, 0, c.userNs); // ru_utime
  encodeTimeval(b, 16, c.sysNs); // ru_stime
  if (who !== RUSAGE_CHILDREN) b.writeBigInt64LE(BigInt(Math.floor(t.mm.usage().rss / 1024)), 32); // ru_maxrss, KiB
  t.mm.copyOut(a[1], b);
  return 0;
}

const TICK_NS = NS / 100; // clock_t ticks: USER_HZ = 100

function times(t: Task, a: number[]): number {
  const k = t.kernel;
  if (a[0]) {
    const b = Buffer.alloc(32); // tms_utime, tms_stime, tms_cutime, tms_cstime
    const self = t.tg.cpuTime();
    [self.userNs, self.sysNs, t.tg.childUserNs, t.tg.childSysNs].forEach((ns, i) => b.writeBigInt64LE(BigInt(Math.floor(ns / TICK_NS)), i * 8));
    t.mm.copyOut(a[0], b);
  }
  return Math.floor(Math.max(0, k.monotonicNs() - k.bootMonotonicNs) / TICK_NS);
}

// ---- arch_prctl, getcpu, affinity ----------------------------------------------------

const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004;
const ARCH_GET_CPUID = 0x1011, ARCH_SET_CPUID = 0x1012;

function archPrctl(t: Task, a: number[]): number {
  const regs = t.ctx.regs;
  const code = i32(a[0]);
  switch (code) {
    case ARCH_SET_FS: case ARCH_SET_GS:
      if (a[1] < 0 || a[1] >= TASK_SIZE) throw new Errno(E.EPERM);
      regs.set(code === ARCH_SET_FS ? Reg.FS_BASE : Reg.GS_BASE, a[1]);
      return 0;
    case ARCH_GET_FS: case ARCH_GET_GS:
      t.mm.writeU64(a[1], regs.get(code === ARCH_GET_FS ? Reg.FS_BASE : Reg.GS_BASE));
      return 0;
    case ARCH_GET_CPUID:
      return 1;
    case ARCH_SET_CPUID:
      throw new Errno(E.ENODEV); // no CPUID faulting
    default:
      throw new Errno(E.EINVAL);
  }
}

const PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4;
const PR_GET_KEEPCAPS = 7, PR_SET_KEEPCAPS = 8, PR_SET_NAME = 15, PR_GET_NAME = 16;
const PR_GET_SECCOMP = 21, PR_SET_SECCOMP = 22, PR_CAPBSET_READ = 23, PR_CAPBSET_DROP = 24, PR_GET_SECUREBITS = 27, PR_SET_SECUREBITS = 28;
const PR_SET_CHILD_SUBREAPER = 36, PR_GET_CHILD_SUBREAPER = 37;
const PR_SET_NO_NEW_PRIVS = 38, PR_GET_NO_NEW_PRIVS = 39, PR_CAP_AMBIENT = 47, PR_SET_PTRACER = 0x59616d61;
const PR_CAP_AMBIENT_IS_SET = 1, PR_CAP_AMBIENT_RAISE = 2, PR_CAP_AMBIENT_LOWER = 3, PR_CAP_AMBIENT_CLEAR_ALL = 4;

function capValid(c: number): boolean {
  return c >= 0 && c <= CAP_LAST_CAP;
}

/** PR_CAP_AMBIENT: a capability may be ambient only while permitted and inheritable. */
function capAmbient(t: Task, op: number, cap: number, arg4: number, arg5: number): number {
  if (op === PR_CAP_AMBIENT_CLEAR_ALL) {
    need(!cap && !arg4 && !arg5);
    const c = t.creds.clone();
    c.capAmbient = 0n;
    t.creds = c;
    return 0;
  }
  need(!arg4 && !arg5 && capValid(cap));
  const bit = capBit(cap);
  const o = t.creds;
  switch (op) {
    case PR_CAP_AMBIENT_IS_SET:
      return o.capAmbient & bit ? 1 : 0;
    case PR_CAP_AMBIENT_RAISE:
    case PR_CAP_AMBIENT_LOWER: {
      const raise = op === PR_CAP_AMBIENT_RAISE;
      if (raise && (!(o.capPermitted & bit) || !(o.capInheritable & bit) || o.securebits & SECBIT_NO_CAP_AMBIENT_RAISE)) throw new Errno(E.EPERM);
      const c = o.clone();
      c.capAmbient = raise ? c.capAmbient | bit : c.capAmbient & ~bit;
      t.creds = c;
      return 0;
    }
    default:
      throw new Errno(E.EINVAL);
  }
}

function prctl(t: Task, a: number[]): number {
  const [, arg2, arg3, arg4, arg5] = a;
  const s = stateOf(t.tg);
  const option = i32(a[0]);
  const noExtra = !(arg3 || arg4 || arg5);
  switch (option) {
    case PR_SET_PDEATHSIG:
      need(arg2 >= 0 && arg2 <= 64);
      s.pdeathsig = arg2;
      return 0;
    case PR_GET_PDEATHSIG: case PR_GET_CHILD_SUBREAPER:
      t.mm.writeI32(arg2, option === PR_GET_PDEATHSIG ? s.pdeathsig : Number(s.subreaper));
      return 0;
    case PR_GET_DUMPABLE:
      return s.dumpable;
    case PR_GET_KEEPCAPS:
      return t.creds.securebits & SECBIT_KEEP_CAPS ? 1 : 0;
    case PR_SET_DUMPABLE:
      need(arg2 === 0 || arg2 === 1);
      s.dumpable = arg2;
      return 0;
    case PR_SET_KEEPCAPS: {
      need(arg2 === 0 || arg2 === 1);
      if (t.creds.securebits & (SECBIT_KEEP_CAPS << 1)) throw new Errno(E.EPERM); // locked
      const c = t.creds.clone();
      c.securebits = arg2 ? c.securebits | SECBIT_KEEP_CAPS : c.securebits & ~SECBIT_KEEP_CAPS;
      t.creds = c;
      return 0;
    }
    case PR_GET_SECUREBITS:
      return t.creds.securebits;
    case PR_SET_SECUREBITS: {
      const old = t.creds.securebits;
      const bits = u32(arg2);
      // A locked flag may not change, a lock may not be lifted, and it takes CAP_SETPCAP.
      const locked = (old & SECURE_ALL_LOCKS) >> 1;
      if (locked & (old ^ bits) || old & SECURE_ALL_LOCKS & ~bits || bits & ~(SECURE_ALL_BITS | SECURE_ALL_LOCKS) || !capable(t, CAP_SETPCAP)) {
        throw new Errno(E.EPERM);
      }
      const c = t.creds.clone();
      c.securebits = bits;
      t.creds = c;
      return 0;
    }
    case PR_SET_NAME:
      t.tg.comm = readComm(t, arg2);
      return 0;
    case PR_GET_NAME: {
      const b = Buffer.alloc(TASK_COMM_LEN);
      Buffer.from(t.tg.comm, 'latin1').copy(b, 0, 0, TASK_COMM_LEN - 1);
      t.mm.copyOut(arg2, b);
      return 0;
    }
    case PR_GET_SECCOMP:
      return seccompMode(t);
    case PR_SET_SECCOMP:
      if (arg2 === 1) return setStrict(t);
      if (arg2 === 2) return setFilter(t, 0, arg3);
      throw new Errno(E.EINVAL);
    case PR_CAPBSET_READ:
      need(capValid(arg2));
      return t.creds.capBounding & capBit(arg2) ? 1 : 0;
    case PR_CAPBSET_DROP: {
      if (!capable(t, CAP_SETPCAP)) throw new Errno(E.EPERM);
      need(capValid(arg2));
      const c = t.creds.clone();
      c.capBounding &= ~capBit(arg2);
      t.creds = c;
      return 0;
    }
    case PR_SET_CHILD_SUBREAPER:
      s.subreaper = arg2 !== 0;
      return 0;
    case PR_SET_NO_NEW_PRIVS:
      need(arg2 === 1 && noExtra);
      s.noNewPrivs = true;
      return 0;
    case PR_GET_NO_NEW_PRIVS:
      need(!arg2 && noExtra);
      return s.noNewPrivs ? 1 : 0;
    case PR_CAP_AMBIENT:
      return capAmbient(t, arg2, arg3, arg4, arg5);
    case PR_SET_PTRACER:
      return 0; // Yama: nothing traces inside the sandbox
    default: // PR_SET_VMA, PR_SET_MM, ...
      t.kernel.logOnce(`prctl-${option}`, `prctl: option ${option} (0x${(option >>> 0).toString(16)}) is not supported: EINVAL`);
      throw new Errno(E.EINVAL);
  }
}

// ---- the table ------------------------------------------------------------------------

export const hooks: FamilyHooks = { fork: inheritOnFork, exec: resetOnExec };

/** What setrlimit accepts and reports but nothing checks yet (mq_* do not exist; memory is never locked). */
const NOT_ENFORCED = 'RLIMIT_CPU (no SIGXCPU), RLIMIT_MEMLOCK, RLIMIT_MSGQUEUE and RLIMIT_RTTIME are kept and reported, not enforced';

export const defs: SyscallDef[] = [
  { nr: 63, name: 'uname', args: ['ptr_out'], fn: uname },
  { nr: 170, name: 'sethostname', args: ['inbuf', 'int'], fn: (t, a) => setName(t, a, (n) => (t.kernel.hostname = n)) },
  { nr: 171, name: 'setdomainname', args: ['inbuf', 'int'], fn: (t, a) => setName(t, a, (n) => (t.kernel.domainname = n)) },
  { nr: 99, name: 'sysinfo', args: ['ptr_out'], fn: sysinfo, partial: 'load averages, shared/buffer RAM and swap are 0; RAM figures are the sandbox memory limit and what is left of it' },
  { nr: 318, name: 'getrandom', args: ['buf_hex', 'size', 'grnd_flags'], fn: getrandom },
  { nr: 135, name: 'personality', args: ['hex'], fn: personality,
    partial: 'the value is stored, inherited and reported, but no personality flag changes behaviour (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ...)' },
  { nr: 302, name: 'prlimit64', args: ['int', 'rlimit_res', 'rlimit', 'rlimit_out'], fn: prlimit64, partial: `limits above 2^53-1 are stored as RLIM_INFINITY; ${NOT_ENFORCED}` },
  { nr: 97, name: 'getrlimit', args: ['rlimit_res', 'rlimit_out'], fn: getrlimit },
  { nr: 160, name: 'setrlimit', args: ['rlimit_res', 'rlimit'], fn: setrlimit, partial: NOT_ENFORCED },
  { nr: 98, name: 'getrusage', args: ['int', 'ptr_out'], fn: getrusage,
    partial: 'CPU times are the host\'s accounting of the stub processes (the Sentry\'s own work for them is not charged); ru_maxrss is the current resident size; the other counters are 0' },
  { nr: 100, name: 'times', args: ['ptr_out'], fn: times,
    partial: 'CPU times are the host\'s accounting of the stub processes; the result counts 100 Hz ticks since the sandbox booted' },
  { nr: 158, name: 'arch_prctl', args: ['arch_prctl_op', 'hex'], fn: archPrctl,
    partial: 'ARCH_SET_CPUID fails with ENODEV (no CPUID faulting); the XCOMP (AMX) and MAP_VDSO requests are EINVAL' },
  { nr: 157, name: 'prctl', args: ['prctl_op', 'prctl_arg', 'prctl_arg', 'prctl_arg', 'prctl_arg'], fn: prctl,
    partial: 'supported: PDEATHSIG (stored, not sent yet), DUMPABLE, KEEPCAPS, SECUREBITS, NAME (per process), GET/SET_SECCOMP, CAPBSET_READ/DROP, CHILD_SUBREAPER (stored, reparenting ignores it), NO_NEW_PRIVS, CAP_AMBIENT, SET_PTRACER; all other options (PR_SET_VMA, PR_SET_MM, ...) are EINVAL' },
];
