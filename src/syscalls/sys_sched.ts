// Scheduling as a process sees it: CPU affinity, getcpu, sched_yield, nice
// values and scheduling policies. The Sentry does not schedule host threads by
// these values: they are kept per process (with the other per-process knobs of
// sys_info.ts), inherited on fork and reported back, as the notes in the table say.

import { CAP_SYS_NICE } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import type { Task } from '../kernel/task';
import type { ThreadGroup } from '../kernel/thread_group';
import { allCpus, capable, checkSameOwner, credsOf, findGroup, ncpus, need, rl, stateOf } from './sys_info';
import { i32, u32, type SyscallDef } from '../kernel/syscall';

const RLIMIT_NICE = 13, RLIMIT_RTPRIO = 14;
const SCHED_OTHER = 0, SCHED_FIFO = 1, SCHED_RR = 2, SCHED_BATCH = 3, SCHED_IDLE = 5, SCHED_DEADLINE = 6;
const SCHED_RESET_ON_FORK = 0x40000000;

function getcpu(t: Task, a: number[]): number {
  if (a[0]) t.mm.writeU32(a[0], 0);
  if (a[1]) t.mm.writeU32(a[1], 0);
  return 0;
}

/** Bytes of a kernel cpumask: whole unsigned longs covering every CPU. */
function cpumaskSize(t: Task): number {
  return Math.ceil(ncpus(t) / 64) * 8;
}

function schedGetaffinity(t: Task, a: number[]): number {
  const len = u32(a[1]);
  need(len * 8 >= ncpus(t) && len % 8 === 0);
  const m = stateOf(findGroup(t, i32(a[0]))).affinity & allCpus(t);
  const b = Buffer.alloc(Math.min(len, cpumaskSize(t)));
  for (let i = 0; i < b.length; i++) b[i] = Number((m >> BigInt(8 * i)) & 0xffn);
  t.mm.copyOut(a[2], b);
  return b.length;
}

function schedSetaffinity(t: Task, a: number[]): number {
  const b = t.mm.copyIn(a[2], Math.min(u32(a[1]), cpumaskSize(t)));
  const tg = findGroup(t, i32(a[0]));
  checkSameOwner(t, tg);
  let m = 0n;
  for (let i = b.length - 1; i >= 0; i--) m = (m << 8n) | BigInt(b[i]);
  m &= allCpus(t);
  need(m !== 0n);
  stateOf(tg).affinity = m;
  return 0;
}

// ---- priorities and scheduling policies -----------------------------------------------

const PRIO_PROCESS = 0, PRIO_PGRP = 1, PRIO_USER = 2;

/** The live processes getpriority/setpriority address; EINVAL for a bad which. */
function prioTargets(t: Task, which: number, who: number): ThreadGroup[] {
  const all = [...t.kernel.groups.values()].filter((g) => !g.zombie);
  if (which === PRIO_PROCESS) {
    const task = who === 0 ? t : t.kernel.tasks.get(who);
    return task && !task.tg.zombie ? [task.tg] : [];
  }
  if (which === PRIO_PGRP) return all.filter((g) => g.pgid === (who || t.tg.pgid));
  if (which === PRIO_USER) return all.filter((g) => credsOf(g)?.uid === (who || t.creds.uid));
  throw new Errno(E.EINVAL);
}

function getpriority(t: Task, a: number[]): number {
  const targets = prioTargets(t, i32(a[0]), i32(a[1]));
  if (!targets.length) throw new Errno(E.ESRCH);
  // The raw syscall returns 20 - nice (1..40, never negative); libc converts back.
  return Math.max(...targets.map((g) => 20 - stateOf(g).nice));
}

function setpriority(t: Task, a: number[]): number {
  const targets = prioTargets(t, i32(a[0]), i32(a[1]));
  const nice = Math.min(19, Math.max(-20, i32(a[2])));
  let error = targets.length ? 0 : E.ESRCH;
  for (const g of targets) {
    const c = credsOf(g);
    const s = stateOf(g);
    if (!capable(t, CAP_SYS_NICE) && c && c.uid !== t.creds.euid && c.euid !== t.creds.euid) error = E.EPERM;
    else if (nice < s.nice && !capable(t, CAP_SYS_NICE) && 20 - nice > rl(t.tg.rlimits[RLIMIT_NICE].cur)) error = E.EACCES;
    else s.nice = nice;
  }
  if (error) throw new Errno(error);
  return 0;
}

function isRt(policy: number): boolean {
  return policy === SCHED_FIFO || policy === SCHED_RR;
}

/** sched_setscheduler, and sched_setparam with policy -1 (keep the current one). */
function setScheduler(t: Task, pid: number, policy: number, paramAddr: number): number {
  need(paramAddr && pid >= 0);
  const prio = t.mm.readI32(paramAddr);
  const tg = findGroup(t, pid);
  const s = stateOf(tg);
  need(policy >= -1);
  policy = policy === -1 ? s.policy : policy & ~SCHED_RESET_ON_FORK;
  need([SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE].includes(policy));
  need(isRt(policy) ? prio >= 1 && prio <= 99 : prio === 0);
  if (!capable(t, CAP_SYS_NICE)) {
    const lim = rl(tg.rlimits[RLIMIT_RTPRIO].cur);
    if (isRt(policy) && ((policy !== s.policy && lim === 0) || (prio > s.rtprio && prio > lim))) throw new Errno(E.EPERM);
    checkSameOwner(t, tg);
  }
  Object.assign(s, { policy, rtprio: prio });
  return 0;
}

function schedGetscheduler(t: Task, a: number[]): number {
  need(i32(a[0]) >= 0);
  return stateOf(findGroup(t, i32(a[0]))).policy;
}

function schedGetparam(t: Task, a: number[]): number {
  need(a[1] && i32(a[0]) >= 0);
  t.mm.writeI32(a[1], stateOf(findGroup(t, i32(a[0]))).rtprio);
  return 0;
}

function priorityBound(a: number[], rtValue: number): number {
  const p = i32(a[0]);
  need(isRt(p) || [SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE].includes(p));
  return isRt(p) ? rtValue : 0;
}

// ---- prctl ------------------------------------------------------------------------------

export const defs: SyscallDef[] = [
  { nr: 309, name: 'getcpu', args: ['ptr', 'ptr', 'ptr'], fn: getcpu, partial: 'always CPU 0, node 0' },
  { nr: 204, name: 'sched_getaffinity', args: ['int', 'uint', 'ptr_out'], fn: schedGetaffinity },
  { nr: 203, name: 'sched_setaffinity', args: ['int', 'uint', 'ptr'], fn: schedSetaffinity,
    partial: 'the mask is stored and reported per process; host threads do not move' },
  { nr: 24, name: 'sched_yield', args: [], fn: () => 0 },
  { nr: 140, name: 'getpriority', args: ['prio_which', 'int'], fn: getpriority },
  { nr: 141, name: 'setpriority', args: ['prio_which', 'int', 'int'], fn: setpriority,
    partial: 'nice values are per process (not per thread), stored and reported only: host scheduling is unchanged' },
  { nr: 144, name: 'sched_setscheduler', args: ['int', 'int', 'ptr'], fn: (t, a) => setScheduler(t, i32(a[0]), i32(a[1]), a[2]),
    partial: 'policies (SCHED_OTHER/BATCH/IDLE; SCHED_FIFO/RR for root) are stored and reported only; SCHED_RESET_ON_FORK is ignored' },
  { nr: 142, name: 'sched_setparam', args: ['int', 'ptr'], fn: (t, a) => setScheduler(t, i32(a[0]), -1, a[1]) },
  { nr: 145, name: 'sched_getscheduler', args: ['int'], fn: schedGetscheduler },
  { nr: 143, name: 'sched_getparam', args: ['int', 'ptr'], fn: schedGetparam },
  { nr: 146, name: 'sched_get_priority_max', args: ['int'], fn: (_t, a) => priorityBound(a, 99) },
  { nr: 147, name: 'sched_get_priority_min', args: ['int'], fn: (_t, a) => priorityBound(a, 1) },
];
