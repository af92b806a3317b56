// Scheduling as a process sees it: CPU affinity, getcpu, sched_yield, nice
// values and scheduling policies. Affinity, nice and the policy are per
// thread, as on Linux (on the Task; a process-wide affinity until a thread
// sets its own), inherited at clone and reported back. The host's scheduler
// runs the threads: kernel/host_sched.ts hands it the affinity, the nice
// values and SCHED_IDLE; the other policies are kept and reported only, as
// the notes in the table say.

import { CAP_SYS_ADMIN, CAP_SYS_NICE } from '../abi/capability';
import { vTask, vGroup } from '../kernel/pid_ns';
import { E, Errno } from '../abi/errno';
import type { Task } from '../kernel/task';
import type { ThreadGroup } from '../kernel/thread_group';
import { allCpus, capable, checkSameOwner, credsOf, ncpus, need, rl, stateOf } from './sys_info';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { copyStructIn } from './sysutil';
import type { FamilyHooks } from '../kernel/lifecycle';

const RLIMIT_NICE = 13, RLIMIT_RTPRIO = 14;
const SCHED_OTHER = 0, SCHED_FIFO = 1, SCHED_RR = 2, SCHED_BATCH = 3, SCHED_IDLE = 5, SCHED_DEADLINE = 6;
const SCHED_RESET_ON_FORK = 0x40000000;

/**
 * The process a pid names (0: the caller's), or ESRCH. A zombie is found
 * too: Linux finds a task by its pid until it is reaped, so a parent can
 * read (and change) the scheduling of a child that exited but was not
 * waited for. Its threads are gone from Kernel.tasks; its group stays in
 * Kernel.groups under its pid.
 */
function findGroup(t: Task, pid: number): ThreadGroup {
  if (pid === 0) return t.tg;
  const task = vTask(t, pid);
  if (task) return task.tg;
  const tg = vGroup(t, pid);
  if (tg) return tg;
  throw new Errno(E.ESRCH);
}

/** The thread a scheduling call's pid names (0: the caller; a zombie process: its leader). */
function findThread(t: Task, pid: number): Task {
  if (pid === 0) return t;
  return vTask(t, pid) ?? findGroup(t, pid).leader;
}

/** The processes one PRIO_PROCESS/IOPRIO_WHO_PROCESS pid names: none if it names nothing. */
function oneProcess(t: Task, who: number): ThreadGroup[] {
  try {
    return [findGroup(t, who)];
  } catch {
    return [];
  }
}

/**
 * The CPU the caller runs on, as the sandbox models it: the first CPU its
 * affinity allows (the Sentry does not place stubs by the application's
 * affinity, so this is what a program that pinned itself expects to see:
 * LTP getcpu01); node 0.
 */
function getcpu(t: Task, a: number[]): number {
  const m = affinityOf(t) & allCpus(t);
  let cpu = 0;
  while (m !== 0n && !((m >> BigInt(cpu)) & 1n)) cpu++;
  if (a[0]) t.mm.writeU32(a[0], cpu);
  if (a[1]) t.mm.writeU32(a[1], 0);
  return 0;
}

/** Bytes of a kernel cpumask: whole unsigned longs covering every CPU. */
function cpumaskSize(t: Task): number {
  return Math.ceil(ncpus(t) / 64) * 8;
}

/** A thread's affinity (Linux keeps one per task): its own once set, else its process's. */
function affinityOf(t: Task): bigint {
  return t.affinity ?? stateOf(t.tg).affinity;
}

/** The thread a pid names for the affinity calls (0: the caller; a process's pid: its leader), or null for a zombie's group. */
function affinityTarget(t: Task, pid: number): Task | null {
  if (pid === 0) return t;
  const task = vTask(t, pid);
  if (task && task.state !== 'dead') return task;
  findGroup(t, pid);
  return null;
}

function schedGetaffinity(t: Task, a: number[]): number {
  const len = u32(a[1]);
  need(len * 8 >= ncpus(t) && len % 8 === 0);
  const pid = i32(a[0]);
  const target = affinityTarget(t, pid);
  const m = (target ? affinityOf(target) : stateOf(findGroup(t, pid)).affinity) & allCpus(t);
  const b = Buffer.alloc(Math.min(len, cpumaskSize(t)));
  for (let i = 0; i < b.length; i++) b[i] = Number((m >> BigInt(8 * i)) & 0xffn);
  t.mm.copyOut(a[2], b);
  return b.length;
}

function schedSetaffinity(t: Task, a: number[]): number {
  const b = t.mm.copyIn(a[2], Math.min(u32(a[1]), cpumaskSize(t)));
  const pid = i32(a[0]);
  const tg = findGroup(t, pid);
  checkSameOwner(t, tg);
  let m = 0n;
  for (let i = b.length - 1; i >= 0; i--) m = (m << 8n) | BigInt(b[i]);
  m &= allCpus(t);
  need(m !== 0n);
  const target = affinityTarget(t, pid);
  // A deadline task keeps every CPU of its root domain (admission counted them all).
  if ((target ?? tg.leader).sched.policy === SCHED_DEADLINE && m !== allCpus(t)) throw new Errno(E.EBUSY);
  if (target) {
    target.affinity = m;
    t.kernel.hostSched.affinityChanged(target);
  } else {
    stateOf(tg).affinity = m;
    for (const x of tg.tasks) if (x.state !== 'dead' && x.affinity === null) t.kernel.hostSched.affinityChanged(x);
  }
  return 0;
}

// ---- priorities and scheduling policies -----------------------------------------------

const PRIO_PROCESS = 0, PRIO_PGRP = 1, PRIO_USER = 2;

/**
 * The threads getpriority/setpriority address (nice is per thread on Linux:
 * PRIO_PROCESS names one thread by its tid, 0 the caller; a group or a user
 * means all their threads). EINVAL for a bad which.
 */
function prioTargets(t: Task, which: number, who: number): Task[] {
  const live = (g: ThreadGroup) => [...g.tasks].filter((x) => x.state !== 'dead');
  if (which === PRIO_PROCESS) {
    if (who === 0) return [t];
    const x = vTask(t, who);
    // A zombie process is still there to be asked (its leader's nice stands).
    if (x) return [x];
    const g = oneProcess(t, who)[0];
    return g ? [g.leader] : [];
  }
  const all = [...t.kernel.groups.values()];
  if (which === PRIO_PGRP) return all.filter((g) => g.pgid === (who || t.tg.pgid)).flatMap(live);
  if (which === PRIO_USER) return all.filter((g) => credsOf(g)?.uid === (who || t.creds.uid)).flatMap(live);
  throw new Errno(E.EINVAL);
}

function getpriority(t: Task, a: number[]): number {
  const targets = prioTargets(t, i32(a[0]), i32(a[1]));
  if (!targets.length) throw new Errno(E.ESRCH);
  // The raw syscall returns 20 - nice (1..40, never negative); libc converts back.
  return Math.max(...targets.map((x) => 20 - x.nice));
}

function setpriority(t: Task, a: number[]): number {
  const targets = prioTargets(t, i32(a[0]), i32(a[1]));
  const nice = Math.min(19, Math.max(-20, i32(a[2])));
  let error = targets.length ? 0 : E.ESRCH;
  for (const x of targets) {
    const c = credsOf(x.tg);
    if (!capable(t, CAP_SYS_NICE) && c && c.uid !== t.creds.euid && c.euid !== t.creds.euid) error = E.EPERM;
    else if (nice < x.nice && !capable(t, CAP_SYS_NICE) && 20 - nice > rl(t.tg.rlimits[RLIMIT_NICE].cur)) error = E.EACCES;
    else t.kernel.hostSched.setNice(x, nice);
  }
  if (error) throw new Errno(error);
  return 0;
}

function isRt(policy: number): boolean {
  return policy === SCHED_FIFO || policy === SCHED_RR;
}

const SCHED_FLAG_RESET_ON_FORK = 0x1, SCHED_FLAG_KEEP_POLICY = 0x8, SCHED_FLAG_KEEP_PARAMS = 0x10;
const SCHED_FLAG_UTIL_CLAMP = 0x60, SCHED_FLAG_ALL = 0x7f;
/** sizeof(struct sched_attr) in its first (VER0) and current (VER1) forms. */
const SCHED_ATTR_SIZE_VER0 = 48, SCHED_ATTR_SIZE = 56;
const PAGE_SIZE = 4096;

/** What a scheduling change asks for (struct sched_attr, or sched_setscheduler's policy and param). */
interface SchedRequest {
  /** -1: keep the current policy (sched_setparam, SCHED_FLAG_KEEP_POLICY). */
  policy: number;
  flags: number;
  nice: number;
  prio: number;
  /** SCHED_DEADLINE's runtime, deadline and period in ns. */
  dl: [number, number, number];
}

function validPolicy(p: number): boolean {
  return p === SCHED_OTHER || p === SCHED_BATCH || p === SCHED_IDLE || isRt(p) || p === SCHED_DEADLINE;
}

function fairPolicy(p: number): boolean {
  return p === SCHED_OTHER || p === SCHED_BATCH;
}

/** Whether nice may go to this value without CAP_SYS_NICE: RLIMIT_NICE allows 20 - nice. */
function niceAllowed(tg: ThreadGroup, nice: number): boolean {
  return 20 - nice <= rl(tg.rlimits[RLIMIT_NICE].cur);
}

/** Linux's sched_deadline_period_min_us and _max_us defaults, in ns. */
const DL_PERIOD_MIN = 100_000, DL_PERIOD_MAX = 4_194_304_000;
/**
 * The share of each CPU deadline tasks may reserve: sched_rt_runtime_us /
 * sched_rt_period_us (95%), less the 5% (50 ms a second) that Linux 6.12
 * and later reserve on each CPU for the fair class's deadline server.
 */
const DL_BW_SHARE = 0.95 - 0.05;

/** Linux's __checkparam_dl: runtime <= deadline <= period (0: the deadline), the period within its bounds. */
function validDeadline([runtime, deadline, period]: [number, number, number]): boolean {
  const p = period || deadline;
  return deadline !== 0 && runtime >= 1024 && deadline >= runtime && p >= deadline && p >= DL_PERIOD_MIN && p <= DL_PERIOD_MAX;
}

function bandwidth([runtime, deadline, period]: [number, number, number]): number {
  return runtime / (period || deadline);
}

/**
 * Admission control (Linux's sched_dl_overflow): the deadline tasks'
 * bandwidths (runtime / period) may sum to DL_BW_SHARE of each of the
 * sandbox's CPUs at most; past it the request is EBUSY. tg's own share is replaced.
 */
function admitDeadline(t: Task, x: Task, dl: [number, number, number]): void {
  let used = bandwidth(dl);
  for (const y of t.kernel.tasks.values()) {
    if (y === x || y.state === 'dead' || y.sched.policy !== SCHED_DEADLINE) continue;
    used += bandwidth(y.sched.dl);
  }
  if (used > DL_BW_SHARE * ncpus(t)) throw new Errno(E.EBUSY);
}

/** Linux's sched_fork: a deadline thread cannot fork or make threads (reset-on-fork children start as SCHED_OTHER and may). */
function mayFork(parent: Task): void {
  const s = parent.sched;
  if (s.policy === SCHED_DEADLINE && !s.resetOnFork) throw new Errno(E.EAGAIN);
}

/**
 * One scheduling change, checked as Linux checks it: the values first
 * (EINVAL), then what an unprivileged caller may not do (EPERM without
 * CAP_SYS_NICE: raise its priority past its limits, enter or change a
 * realtime policy without RLIMIT_RTPRIO, SCHED_DEADLINE at all, leave
 * SCHED_IDLE past RLIMIT_NICE, touch another user's process, clear
 * reset-on-fork), then what is not offered here.
 */
function applySched(t: Task, x: Task, r: SchedRequest): void {
  const tg = x.tg;
  const s = x.sched;
  let policy = r.policy;
  let resetOnFork: boolean;
  if (policy < 0) {
    policy = s.policy;
    resetOnFork = s.resetOnFork;
  } else {
    resetOnFork = (r.flags & SCHED_FLAG_RESET_ON_FORK) !== 0;
    need(validPolicy(policy));
  }
  need(!(r.flags & ~SCHED_FLAG_ALL));
  need(r.prio >= 0 && r.prio <= 99);
  need(isRt(policy) === (r.prio !== 0));
  if (policy === SCHED_DEADLINE) need(validDeadline(r.dl));
  if (!capable(t, CAP_SYS_NICE)) {
    const c = credsOf(tg);
    const lim = rl(tg.rlimits[RLIMIT_RTPRIO].cur);
    const refused =
      (fairPolicy(policy) && r.nice < x.nice && !niceAllowed(tg, r.nice)) ||
      (isRt(policy) && ((policy !== s.policy && lim === 0) || (r.prio > s.rtprio && r.prio > lim))) ||
      policy === SCHED_DEADLINE ||
      (s.policy === SCHED_IDLE && policy !== SCHED_IDLE && !niceAllowed(tg, x.nice)) ||
      (c !== null && t.creds.euid !== c.uid && t.creds.euid !== c.euid) ||
      (s.resetOnFork && !resetOnFork);
    if (refused) throw new Errno(E.EPERM);
  }
  // As a kernel without CONFIG_UCLAMP_TASK.
  if (r.flags & SCHED_FLAG_UTIL_CLAMP) throw new Errno(E.EOPNOTSUPP);
  if (policy === SCHED_DEADLINE) {
    // A deadline task must be allowed on every CPU of its root domain (here: the sandbox's).
    if ((affinityOf(x) & allCpus(t)) !== allCpus(t)) throw new Errno(E.EPERM);
    admitDeadline(t, x, r.dl);
  }
  s.resetOnFork = resetOnFork;
  // Linux quirk kept: with SCHED_FLAG_KEEP_PARAMS nothing but reset-on-fork changes, not even the policy.
  if (r.flags & SCHED_FLAG_KEEP_PARAMS) return;
  s.policy = policy;
  s.rtprio = r.prio;
  s.dl = policy === SCHED_DEADLINE ? [...r.dl] : [0, 0, 0];
  // setNice weighs the host thread for the new policy too (SCHED_IDLE).
  t.kernel.hostSched.setNice(x, fairPolicy(policy) ? r.nice : x.nice);
}

/** sched_setscheduler, and sched_setparam with policy -1 (keep the current one). */
function setScheduler(t: Task, pid: number, policy: number, paramAddr: number): number {
  need(paramAddr && pid >= 0);
  const prio = t.mm.readI32(paramAddr);
  const x = findThread(t, pid);
  need(policy >= -1);
  const flags = policy >= 0 && policy & SCHED_RESET_ON_FORK ? SCHED_FLAG_RESET_ON_FORK : 0;
  if (policy >= 0) policy &= ~SCHED_RESET_ON_FORK;
  applySched(t, x, { policy, flags, nice: x.nice, prio, dl: [0, 0, 0] });
  return 0;
}

function schedSetattr(t: Task, a: number[]): number {
  const pid = i32(a[0]), addr = a[1];
  need(addr && pid >= 0 && u32(a[2]) === 0);
  let size = t.mm.readU32(addr);
  if (size === 0) size = SCHED_ATTR_SIZE_VER0;
  let raw: Buffer;
  try {
    if (size < SCHED_ATTR_SIZE_VER0 || size > PAGE_SIZE) throw new Errno(E.E2BIG);
    raw = copyStructIn(t, addr, size, SCHED_ATTR_SIZE);
  } catch (e) {
    // Unlike the other extensible structs, this one's E2BIG tells the caller the size this kernel knows.
    if (e instanceof Errno && e.errno === E.E2BIG) t.mm.writeU32(addr, SCHED_ATTR_SIZE);
    throw e;
  }
  const flags = Number(raw.readBigUInt64LE(8));
  if (flags & SCHED_FLAG_UTIL_CLAMP && size < SCHED_ATTR_SIZE) throw new Errno(E.EINVAL);
  let policy = raw.readInt32LE(4);
  need(policy >= 0);
  const nice = Math.min(19, Math.max(-20, raw.readInt32LE(16)));
  let prio = raw.readUInt32LE(20);
  const dl: [number, number, number] = [Number(raw.readBigUInt64LE(24)), Number(raw.readBigUInt64LE(32)), Number(raw.readBigUInt64LE(40))];
  if (flags & SCHED_FLAG_KEEP_POLICY) policy = -1;
  const x = findThread(t, pid);
  const s = x.sched;
  let keptNice = nice;
  if (flags & SCHED_FLAG_KEEP_PARAMS) {
    if (isRt(s.policy)) prio = s.rtprio;
    else keptNice = x.nice;
  }
  applySched(t, x, { policy, flags, nice: keptNice, prio, dl });
  return 0;
}

function schedGetattr(t: Task, a: number[]): number {
  const pid = i32(a[0]), addr = a[1], usize = u32(a[2]);
  need(addr && pid >= 0 && usize <= PAGE_SIZE && usize >= SCHED_ATTR_SIZE_VER0 && u32(a[3]) === 0);
  const x = findThread(t, pid);
  const s = x.sched;
  const size = Math.min(usize, SCHED_ATTR_SIZE);
  const b = Buffer.alloc(SCHED_ATTR_SIZE);
  b.writeUInt32LE(size, 0);
  b.writeUInt32LE(s.policy, 4);
  b.writeBigUInt64LE(s.resetOnFork ? 1n : 0n, 8);
  if (isRt(s.policy)) b.writeUInt32LE(s.rtprio, 20);
  else if (s.policy !== SCHED_DEADLINE) b.writeInt32LE(x.nice, 16);
  s.dl.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), 24 + 8 * i));
  b.writeUInt32LE(1024, 52); // util_max: no clamping (SCHED_CAPACITY_SCALE)
  t.mm.copyOut(addr, b.subarray(0, size));
  return 0;
}

// ---- I/O priorities ---------------------------------------------------------------------

const IOPRIO_WHO_PROCESS = 1, IOPRIO_WHO_PGRP = 2, IOPRIO_WHO_USER = 3;
const IOPRIO_CLASS_NONE = 0, IOPRIO_CLASS_RT = 1, IOPRIO_CLASS_BE = 2, IOPRIO_CLASS_IDLE = 3;
// ioprio_get reports the value as set (class NONE: 0), as Linux 6 does; the nice-derived class only matters to an I/O scheduler.

function ioClass(prio: number): number {
  return (prio >> 13) & 7;
}

/** The processes ioprio_get/ioprio_set address (USER: by real uid); EINVAL for a bad which. */
function ioprioTargets(t: Task, which: number, who: number): ThreadGroup[] {
  const all = [...t.kernel.groups.values()];
  if (which === IOPRIO_WHO_PROCESS) return oneProcess(t, who);
  if (which === IOPRIO_WHO_PGRP) return all.filter((g) => g.pgid === (who || t.tg.pgid));
  if (which === IOPRIO_WHO_USER) return all.filter((g) => credsOf(g)?.uid === (who || t.creds.uid));
  throw new Errno(E.EINVAL);
}

function ioprioGet(t: Task, a: number[]): number {
  const targets = ioprioTargets(t, i32(a[0]), i32(a[1]));
  if (!targets.length) throw new Errno(E.ESRCH);
  // Several processes: the best (numerically lowest) of them.
  return Math.min(...targets.map((g) => stateOf(g).ioprio));
}

function ioprioSet(t: Task, a: number[]): number {
  const which = i32(a[0]), who = i32(a[1]), prio = i32(a[2]);
  const level = prio & 7;
  switch (ioClass(prio)) {
    case IOPRIO_CLASS_RT:
      if (!capable(t, CAP_SYS_NICE) && !capable(t, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
      break;
    case IOPRIO_CLASS_BE:
    case IOPRIO_CLASS_IDLE:
      break;
    case IOPRIO_CLASS_NONE:
      need(level === 0);
      break;
    default:
      throw new Errno(E.EINVAL);
  }
  const targets = ioprioTargets(t, which, who);
  if (!targets.length) throw new Errno(E.ESRCH);
  for (const g of targets) {
    const c = credsOf(g);
    if (c && c.uid !== t.creds.euid && c.uid !== t.creds.uid && !capable(t, CAP_SYS_NICE)) throw new Errno(E.EPERM);
    stateOf(g).ioprio = prio & 0xffff;
  }
  return 0;
}

function schedGetscheduler(t: Task, a: number[]): number {
  need(i32(a[0]) >= 0);
  const s = findThread(t, i32(a[0])).sched;
  return s.policy | (s.resetOnFork ? SCHED_RESET_ON_FORK : 0);
}

function schedGetparam(t: Task, a: number[]): number {
  need(a[1] && i32(a[0]) >= 0);
  t.mm.writeI32(a[1], findThread(t, i32(a[0])).sched.rtprio);
  return 0;
}

/** Linux's round-robin quantum (sched_rr_timeslice_ms' default). */
const RR_SLICE_NS = 100_000_000;
/** The fair classes' slice as reported: Linux's base slice (3 ms); the host's own depends on its scheduler. */
const FAIR_SLICE_NS = 3_000_000;

function schedRrGetInterval(t: Task, a: number[]): number {
  need(i32(a[0]) >= 0);
  const s = findThread(t, i32(a[0])).sched;
  const ns = s.policy === SCHED_RR ? RR_SLICE_NS : s.policy === SCHED_FIFO || s.policy === SCHED_DEADLINE ? 0 : FAIR_SLICE_NS;
  const b = Buffer.alloc(16);
  b.writeBigInt64LE(BigInt(Math.floor(ns / 1e9)), 0);
  b.writeBigInt64LE(BigInt(ns % 1e9), 8);
  t.mm.copyOut(a[1], b);
  return 0;
}

function priorityBound(a: number[], rtValue: number): number {
  const p = i32(a[0]);
  need(isRt(p) || [SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE].includes(p));
  return isRt(p) ? rtValue : 0;
}

// ---- prctl ------------------------------------------------------------------------------

export const defs: SyscallDef[] = [
  { nr: 309, name: 'getcpu', args: ['ptr', 'ptr', 'ptr'], fn: getcpu, partial: 'the first CPU of the caller\'s affinity mask, node 0' },
  { nr: 204, name: 'sched_getaffinity', args: ['int', 'uint', 'ptr_out'], fn: schedGetaffinity },
  { nr: 203, name: 'sched_setaffinity', args: ['int', 'uint', 'ptr'], fn: schedSetaffinity,
    partial: 'per thread (a process\'s pid names its leader); the host thread is kept on the masked CPUs within the platform\'s own placement' },
  { nr: 24, name: 'sched_yield', args: [], fn: () => 0 },
  { nr: 140, name: 'getpriority', args: ['prio_which', 'int'], fn: getpriority },
  { nr: 141, name: 'setpriority', args: ['prio_which', 'int', 'int'], fn: setpriority,
    partial: 'per thread; the host threads are weighed by nice counted from the sandbox\'s lowest, never above the Sentry\'s own priority (a sandbox ranks its threads against each other, not against the host\'s work)' },
  { nr: 144, name: 'sched_setscheduler', args: ['int', 'int', 'ptr'], fn: (t, a) => setScheduler(t, i32(a[0]), i32(a[1]), a[2]),
    partial: 'policies (SCHED_OTHER/BATCH/IDLE; SCHED_FIFO/RR with CAP_SYS_NICE or RLIMIT_RTPRIO) and SCHED_RESET_ON_FORK are per thread and inherited as on Linux; only SCHED_IDLE reaches the host (its thread weighs as nice 19): BATCH runs as OTHER, and FIFO/RR preempt nothing (the host runs them as fair threads at their nice); SCHED_DEADLINE with the parameter checks of Linux and admission (90% of each CPU, as Linux 6.18 with its fair server), which runs nothing sooner' },
  { nr: 142, name: 'sched_setparam', args: ['int', 'ptr'], fn: (t, a) => setScheduler(t, i32(a[0]), -1, a[1]) },
  { nr: 314, name: 'sched_setattr', args: ['int', 'ptr', 'hex'], fn: schedSetattr,
    partial: 'as sched_setscheduler (per thread; of the policies only SCHED_IDLE reaches the host); SCHED_DEADLINE parameters checked, admitted against 90% of each CPU and reported, not scheduled by; SCHED_FLAG_UTIL_CLAMP_* EOPNOTSUPP as without CONFIG_UCLAMP_TASK' },
  { nr: 315, name: 'sched_getattr', args: ['int', 'ptr_out', 'uint', 'hex'], fn: schedGetattr },
  { nr: 251, name: 'ioprio_set', args: ['int', 'int', 'hex'], fn: ioprioSet,
    partial: 'per process rather than per thread; stored and reported only (the host does the I/O)' },
  { nr: 252, name: 'ioprio_get', args: ['int', 'int'], fn: ioprioGet },
  { nr: 145, name: 'sched_getscheduler', args: ['int'], fn: schedGetscheduler },
  { nr: 148, name: 'sched_rr_get_interval', args: ['int', 'timespec_out'], fn: schedRrGetInterval,
    partial: 'SCHED_RR reports 100 ms, SCHED_FIFO and SCHED_DEADLINE 0 and the fair policies a fixed 3 ms slice, whatever the host\'s scheduler uses' },
  { nr: 143, name: 'sched_getparam', args: ['int', 'ptr'], fn: schedGetparam },
  { nr: 146, name: 'sched_get_priority_max', args: ['int'], fn: (_t, a) => priorityBound(a, 99) },
  { nr: 147, name: 'sched_get_priority_min', args: ['int'], fn: (_t, a) => priorityBound(a, 1) },
];

export const hooks: FamilyHooks = { mayFork };
