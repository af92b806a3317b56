// The system's identity and per-process knobs: uname and host/domain names,
// sysinfo, getrandom, personality, resource limits and usage, times,
// arch_prctl (prctl is sys_prctl.ts). CPU affinity, priorities and scheduling policies are
// in sys_sched.ts.
//
// The kernel reports its own identity (the release in kernel/uts.ts), never the
// host's. Per-process settings are ThreadGroup.procState, made on first use
// from the parent's: personality,
// nice, affinity, policy, dumpable, keepcaps, no_new_privs and the bounding
// set are inherited; pdeathsig and the subreaper flag start cleared, as after
// fork on Linux. The fork hook copies them eagerly (a parent's change after
// fork must not reach the child); the exec hook resets what execve resets.

import type { NumaPolicy } from '../abi/mempolicy';
import { vTask } from '../kernel/pid_ns';
import type { ExecOutcome, FamilyHooks } from '../kernel/lifecycle';
import { randomFill } from '../host/random';
import { type Credentials } from '../auth/creds';
import { capableInit, nsCapable } from '../auth/userns';
import { CAP_SYS_ADMIN, CAP_SYS_NICE, CAP_SYS_RESOURCE } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import type { Task } from '../kernel/task';
import { type ProcState, RLIM_INFINITY, type Rlimit, RLIMIT_NOFILE, type ThreadGroup } from '../kernel/thread_group';
import { Reg } from '../platform/platform';
import { encodeRusage, rusageOf, sampleRss } from '../kernel/rusage';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { boottimeOffsetNs } from './sys_time';

import { UTS_MACHINE, UTS_RELEASE, UTS_SYSNAME, UTS_VERSION } from '../kernel/uts';
import { TASK_SIZE } from '../abi/mm';
import { RLIM_NLIMITS, RLIMIT_CPU } from '../abi/resource';
export { procVersionString, UTS_MACHINE, UTS_RELEASE, UTS_SYSNAME, UTS_VERSION } from '../kernel/uts';
const UTS_LEN = 64; // __NEW_UTS_LEN: each utsname field is 65 bytes


const NS = 1_000_000_000;

// ---- per-process state ------------------------------------------------------------------

const DEFAULT_STATE = {
  personality: 0, dumpable: 1, noNewPrivs: false,
  pdeathsig: 0, subreaper: false,
  /** PR_SET_TIMERSLACK (ns); 0 restores the default, which is the parent's slack at fork (50 us for the first process). */
  timerSlackNs: 50_000, defaultTimerSlackNs: 50_000,
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
  return { ...parent, pdeathsig: 0, subreaper: false, defaultTimerSlackNs: parent.timerSlackNs };
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

/**
 * What execve resets: the process becomes dumpable again unless the new
 * program changed its credentials (then 0, suid_dumpable's default); a
 * privileged program loses the parent-death signal.
 */
export function resetOnExec(tg: ThreadGroup, ex: ExecOutcome): void {
  const s = stateOf(tg);
  s.dumpable = ex.dumpable ? 1 : 0;
  if (!ex.dumpable || ex.secure) s.pdeathsig = 0;
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

/** Linux's capable(): the capability in the sandbox's initial user namespace (a namespace's root has none there). */
export function capable(t: Task, cap: number): boolean {
  return capableInit(t.creds, cap);
}

export function credsOf(tg: ThreadGroup): Credentials | null {
  for (const t of tg.tasks) return t.creds;
  return null;
}

/** The process a pid names (0: the caller's), or ESRCH. */
export function findGroup(t: Task, pid: number): ThreadGroup {
  if (pid === 0) return t.tg;
  const task = vTask(t, pid);
  if (!task || task.tg.zombie) throw new Errno(E.ESRCH);
  return task.tg;
}

/** Changing another process's scheduling: the caller's euid must be its uid or euid, or root. */
export function checkSameOwner(t: Task, tg: ThreadGroup): void {
  const c = credsOf(tg);
  if (tg !== t.tg && c && !capable(t, CAP_SYS_NICE) && t.creds.euid !== c.uid && t.creds.euid !== c.euid) throw new Errno(E.EPERM);
}

// ---- identity, sysinfo, getrandom, personality -----------------------------------------

const UNAME26 = 0x0020000;

function uname(t: Task, a: number[]): number {
  const uts = t.nsproxy.uts;
  // The UNAME26 personality shows a 2.6.(60 + minor) release to programs that cannot parse newer ones.
  const release = personalityOf(t.tg) & UNAME26 ? `2.6.${Number(UTS_RELEASE.split('.')[1]) + 60}` : UTS_RELEASE;
  const fields = [UTS_SYSNAME, uts.hostname, release, UTS_VERSION, UTS_MACHINE, uts.domainname];
  const b = Buffer.alloc(6 * (UTS_LEN + 1));
  fields.forEach((f, i) => Buffer.from(f, 'latin1').copy(b, i * (UTS_LEN + 1), 0, UTS_LEN));
  t.mm.copyOut(a[0], b);
  return 0;
}

/** sethostname/setdomainname: CAP_SYS_ADMIN in the user namespace owning the UTS namespace, at most 64 bytes. */
function setName(t: Task, a: number[], set: (name: string) => void): number {
  if (!nsCapable(t.creds, t.nsproxy.uts.owner, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  const len = i32(a[1]);
  need(len >= 0 && len <= UTS_LEN);
  const s = t.mm.copyIn(a[0], len).toString('latin1');
  set(s.split('\0')[0]);
  return 0;
}

function sysinfo(t: Task, a: number[]): number {
  const k = t.kernel;
  // The uptime of the caller's time namespace (its CLOCK_BOOTTIME offset added), as Linux's.
  const up = Math.max(0, k.monotonicNs() - k.bootMonotonicNs + boottimeOffsetNs(t));
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
  if (resource === RLIMIT_NOFILE && rl(n.max) > t.kernel.vfs.nrOpen) throw new Errno(E.EPERM);
  if (rl(n.max) > rl(old.max) && !capable(t, CAP_SYS_RESOURCE)) throw new Errno(E.EPERM);
  tg.rlimits[resource] = { cur: n.cur, max: n.max };
  if (resource === RLIMIT_CPU) tg.itimers.cpuLimit.watch(t.kernel);
  // The fd table checks new descriptors against the limit itself (nr_open bounds it).
  if (resource === RLIMIT_NOFILE) {
    for (const task of tg.tasks) if (task.fdTable) task.fdTable.limit = Math.min(rl(n.cur), t.kernel.vfs.nrOpen);
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

/** struct rusage: see kernel/rusage.ts. A thread's ru_maxrss is its address space's peak, as on Linux. */
function getrusage(t: Task, a: number[]): number {
  const who = i32(a[0]);
  need(who === RUSAGE_SELF || who === RUSAGE_CHILDREN || who === RUSAGE_THREAD);
  let r;
  if (who === RUSAGE_THREAD) {
    sampleRss(t.tg, t.mm);
    r = { ...t.cpuTime(), maxRssKb: t.tg.maxRssKb };
  } else r = rusageOf(t.tg, who === RUSAGE_SELF ? 'self' : 'children');
  t.mm.copyOut(a[1], encodeRusage(r));
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

// ---- the table ------------------------------------------------------------------------

export const hooks: FamilyHooks = { fork: inheritOnFork, exec: resetOnExec };

/** What setrlimit accepts and reports but nothing checks yet (mq_* do not exist; memory is never locked). */
const NOT_ENFORCED = 'RLIMIT_MEMLOCK, RLIMIT_MSGQUEUE and RLIMIT_RTTIME are kept and reported, not enforced; RLIMIT_CPU counts the stubs\' CPU time as the Sentry looks at it (at least 1 ms late)';

export const defs: SyscallDef[] = [
  { nr: 63, name: 'uname', args: ['ptr_out'], fn: uname },
  { nr: 170, name: 'sethostname', args: ['inbuf', 'int'], fn: (t, a) => setName(t, a, (n) => (t.nsproxy.uts.hostname = n)) },
  { nr: 171, name: 'setdomainname', args: ['inbuf', 'int'], fn: (t, a) => setName(t, a, (n) => (t.nsproxy.uts.domainname = n)) },
  { nr: 99, name: 'sysinfo', args: ['ptr_out'], fn: sysinfo, partial: 'load averages, shared/buffer RAM and swap are 0; RAM figures are the sandbox memory limit and what is left of it' },
  { nr: 318, name: 'getrandom', args: ['buf_hex', 'size', 'grnd_flags'], fn: getrandom },
  { nr: 135, name: 'personality', args: ['hex'], fn: personality,
    partial: 'the value is stored, inherited and reported; of the flags only STICKY_TIMEOUTS changes behaviour (select, pselect6 and ppoll leave the timeout as given), not ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ...' },
  { nr: 302, name: 'prlimit64', args: ['int', 'rlimit_res', 'rlimit', 'rlimit_out'], fn: prlimit64, partial: `limits above 2^53-1 are stored as RLIM_INFINITY; ${NOT_ENFORCED}` },
  { nr: 97, name: 'getrlimit', args: ['rlimit_res', 'rlimit_out'], fn: getrlimit },
  { nr: 160, name: 'setrlimit', args: ['rlimit_res', 'rlimit'], fn: setrlimit, partial: NOT_ENFORCED },
  { nr: 98, name: 'getrusage', args: ['int', 'ptr_out'], fn: getrusage,
    partial: 'CPU times are the host\'s accounting of the stub processes (the Sentry\'s own work for them is not charged); ru_maxrss is the peak of the pages held, sampled at getrusage, wait, exec and exit (a peak freed in between is missed); the other counters are 0' },
  { nr: 100, name: 'times', args: ['ptr_out'], fn: times,
    partial: 'CPU times are the host\'s accounting of the stub processes; the result counts 100 Hz ticks since the sandbox booted' },
  { nr: 158, name: 'arch_prctl', args: ['arch_prctl_op', 'hex'], fn: archPrctl,
    partial: 'ARCH_SET_CPUID fails with ENODEV (no CPUID faulting); the XCOMP (AMX) and MAP_VDSO requests are EINVAL' },
];
