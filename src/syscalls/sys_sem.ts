// System V semaphores: semget, semop, semtimedop, semctl (the sets are
// kernel/ipc/sem.ts, one namespace per sandbox).
import { E, Errno, ERESTARTNOHAND, ERESTARTSYS } from '../abi/errno';
import { ALL_EVENTS } from '../abi/waitqueue';
import { decodeTimespec, TIMESPEC_SIZE } from '../abi/time';
import type { Task } from '../kernel/task';
import type { ThreadGroup } from '../kernel/thread_group';
import { i32, type SyscallDef } from '../kernel/syscall';
import type { FamilyHooks } from '../kernel/lifecycle';
import { checkAccess, encodePerm, getOrCreate, IPC_INFO, newPerm } from '../kernel/ipc/ipc';
import { commonCtl, type CtlKind } from './sysv_ctl';
import { applyUndo, SEMVMX, SemSet, type SemOp } from '../kernel/ipc/sem';

const IPC_NOWAIT = 0o4000, SEM_UNDO = 0x1000;
const GETPID = 11, GETVAL = 12, GETALL = 13, GETNCNT = 14, GETZCNT = 15, SETVAL = 16, SETALL = 17;
const SEM_STAT = 18, SEM_INFO = 19, SEM_STAT_ANY = 20;

function semget(t: Task, key: number, nsems: number, flags: number): number {
  const ns = t.nsproxy.ipc.sem;
  if (nsems < 0 || nsems > ns.semmsl) throw new Errno(E.EINVAL);
  return getOrCreate(ns.set, t.creds, key, flags, ((flags >> 6) | (flags >> 3) | flags) & 7, (s) => {
    if (nsems > s.nsems) throw new Errno(E.EINVAL);
  }, () => {
    if (nsems === 0) throw new Errno(E.EINVAL);
    if (ns.total + nsems > ns.semmns) throw new Errno(E.ENOSPC);
    const s = new SemSet(newPerm(t.creds, key, flags), nsems, t.kernel.realtimeNs());
    ns.total += nsems;
    return s;
  });
}

/** Record the SEM_UNDO adjustments of operations that were applied. */
function noteUndo(tg: ThreadGroup, s: SemSet, ops: SemOp[]): void {
  for (const o of ops) {
    if (!(o.flags & SEM_UNDO) || o.op === 0) continue;
    let adj = tg.semUndo.get(s.id);
    if (!adj) tg.semUndo.set(s.id, (adj = new Map()));
    const v = (adj.get(o.num) ?? 0) - o.op;
    if (v === 0) adj.delete(o.num);
    else adj.set(o.num, v);
  }
}

/**
 * All the operations or none; wait while one cannot proceed. A signal ends
 * the wait with EINTR whatever SA_RESTART says (as Linux); only a pause of
 * the sandbox restarts it.
 */
async function semtimedop(t: Task, id: number, sopsAddr: number, nsops: number, deadline: number | undefined): Promise<number> {
  const ns = t.nsproxy.ipc.sem;
  if (nsops < 1) throw new Errno(E.EINVAL);
  if (nsops > ns.semopm) throw new Errno(E.E2BIG);
  const raw = t.mm.copyIn(sopsAddr, nsops * 6);
  const ops: SemOp[] = [];
  for (let i = 0; i < nsops; i++) ops.push({ num: raw.readUInt16LE(i * 6), op: raw.readInt16LE(i * 6 + 2), flags: raw.readInt16LE(i * 6 + 4) });
  const s = ns.set.get(id);
  if (ops.some((o) => o.num >= s.nsems)) throw new Errno(E.EFBIG);
  checkAccess(t.creds, s.perm, ops.some((o) => o.op !== 0) ? 2 : 4);
  for (;;) {
    if (s.removed) throw new Errno(E.EIDRM);
    const r = s.tryOps(ops, t.tg.pid);
    if (r === 'erange') throw new Errno(E.ERANGE);
    if (r === null) {
      noteUndo(t.tg, s, ops);
      s.otimeNs = t.kernel.realtimeNs();
      s.queue.notify(ALL_EVENTS);
      return 0;
    }
    if (r.flags & IPC_NOWAIT) throw new Errno(E.EAGAIN);
    if (deadline !== undefined && t.kernel.monotonicNs() >= deadline) throw new Errno(E.EAGAIN);
    s.blocked.set(t, r);
    try {
      await t.block(s.queue, ALL_EVENTS, deadline);
    } catch (e) {
      if (!(e instanceof Errno) || e.errno !== ERESTARTSYS) throw e;
      if (t.kernel.pausing && !t.hasInterruptingSignal()) throw new Errno(ERESTARTNOHAND);
      throw new Errno(E.EINTR);
    } finally {
      s.blocked.delete(t);
    }
  }
}

function semidDs(s: SemSet): Buffer {
  const b = Buffer.alloc(104);
  encodePerm(b, 0, s.perm);
  b.writeBigInt64LE(BigInt(Math.floor(s.otimeNs / 1e9)), 48);
  b.writeBigInt64LE(BigInt(Math.floor(s.ctimeNs / 1e9)), 64);
  b.writeBigUInt64LE(BigInt(s.nsems), 80);
  return b;
}

/** SETVAL and SETALL reset every process's adjustments for what they set. */
function dropUndo(t: Task, s: SemSet, num: number | null): void {
  for (const tg of t.kernel.groups.values()) {
    const adj = tg.semUndo.get(s.id);
    if (!adj) continue;
    if (num === null) tg.semUndo.delete(s.id);
    else adj.delete(num);
  }
}

const SEM_CTL: CtlKind<SemSet> = { stat: SEM_STAT, statAny: SEM_STAT_ANY, ds: semidDs, dsSize: 104 };

function semctl(t: Task, id: number, num: number, cmd: number, arg: number): number {
  const ns = t.nsproxy.ipc.sem;
  cmd &= ~0x100; // IPC_64
  switch (cmd) {
    case IPC_INFO: case SEM_INFO: {
      const b = Buffer.alloc(40);
      let used = 0;
      for (const s of ns.set.values()) used += s.nsems;
      // struct seminfo; SEM_INFO puts the sets in use and their semaphores in semusz and semaem.
      [cmd === SEM_INFO ? ns.set.size : 1024000000, ns.semmni, ns.semmns, ns.semmns, ns.semmsl, ns.semopm, ns.semopm,
        cmd === SEM_INFO ? ns.set.size : 20, SEMVMX, cmd === SEM_INFO ? used : SEMVMX].forEach((v, i) => b.writeInt32LE(v, i * 4));
      t.mm.copyOut(arg, b);
      return ns.set.maxIndex;
    }
  }
  const common = commonCtl(t, ns, SEM_CTL, cmd, id, arg);
  if (common !== undefined) return common;
  const s = ns.set.get(id);
  const one = (): number => {
    if (num < 0 || num >= s.nsems) throw new Errno(E.EINVAL);
    return num;
  };
  switch (cmd) {
    case GETVAL: case GETPID: case GETNCNT: case GETZCNT: {
      checkAccess(t.creds, s.perm, 4);
      const n = one();
      if (cmd === GETVAL) return s.values[n];
      if (cmd === GETPID) return s.pids[n];
      return s.count(n, cmd === GETZCNT);
    }
    case GETALL: {
      checkAccess(t.creds, s.perm, 4);
      const b = Buffer.alloc(s.nsems * 2);
      s.values.forEach((v, i) => b.writeUInt16LE(v, i * 2));
      t.mm.copyOut(arg, b);
      return 0;
    }
    case SETVAL: {
      const n = one();
      const v = i32(arg);
      if (v < 0 || v > SEMVMX) throw new Errno(E.ERANGE);
      checkAccess(t.creds, s.perm, 2);
      s.values[n] = v;
      s.pids[n] = t.tg.pid;
      dropUndo(t, s, n);
      break;
    }
    case SETALL: {
      const b = t.mm.copyIn(arg, s.nsems * 2);
      const vals = Array.from({ length: s.nsems }, (_, i) => b.readUInt16LE(i * 2));
      if (vals.some((v) => v > SEMVMX)) throw new Errno(E.ERANGE);
      checkAccess(t.creds, s.perm, 2);
      vals.forEach((v, i) => {
        s.values[i] = v;
        s.pids[i] = t.tg.pid;
      });
      dropUndo(t, s, null);
      break;
    }
    default:
      throw new Errno(E.EINVAL);
  }
  s.ctimeNs = t.kernel.realtimeNs();
  s.queue.notify(ALL_EVENTS);
  return 0;
}

export const hooks: FamilyHooks = {
  // The undo list is not inherited: a child starts with none (fork does not copy it).
  taskExit: (t) => {
    const last = [...t.tg.tasks].every((x) => x === t || x.state === 'dead');
    if (t.tg.semUndo.size && last) applyUndo(t.nsproxy.ipc.sem, t.tg.semUndo, t.tg.pid);
  },
};

export const defs: SyscallDef[] = [
  { nr: 64, name: 'semget', args: ['int', 'int', 'hex'], fn: (t, a) => semget(t, i32(a[0]), i32(a[1]), i32(a[2])) },
  { nr: 65, name: 'semop', args: ['int', 'ptr', 'size'], fn: (t, a) => semtimedop(t, i32(a[0]), a[1], a[2], undefined) },
  {
    nr: 220, name: 'semtimedop', args: ['int', 'ptr', 'size', 'timespec'],
    fn: (t, a) => semtimedop(t, i32(a[0]), a[1], a[2], a[3] ? t.kernel.monotonicNs() + decodeTimespec(t.mm.copyIn(a[3], TIMESPEC_SIZE)) : undefined),
  },
  {
    nr: 66, name: 'semctl', args: ['int', 'int', 'int', 'hex'], fn: (t, a) => semctl(t, i32(a[0]), i32(a[1]), i32(a[2]), a[3]),
    partial: 'semadj values are not bounded by SEMAEM',
  },
];
