// System V semaphore sets (man 2 semget, semop, semctl). A semop applies all
// of its operations or none; one that cannot proceed waits on the set's
// queue and tries again on every change. SEM_UNDO adjustments are kept per
// process (ThreadGroup.semUndo) and applied when it exits.

import { IpcSet, type IpcObject, type IpcPerm } from './ipc';
import { WaitQueue } from '../../abi/waitqueue';

/** Linux's defaults: SEMMSL, SEMMNS, SEMOPM, SEMMNI, SEMVMX (SEMAEM is SEMVMX too). */
export const SEMMSL = 32000, SEMMNS = 1024000000, SEMOPM = 500, SEMMNI = 32000, SEMVMX = 32767;

export interface SemOp {
  num: number;
  op: number;
  flags: number;
}

export class SemSet implements IpcObject {
  id = 0;
  otimeNs = 0;
  ctimeNs: number;
  readonly values: number[];
  readonly pids: number[];
  /** Tasks waiting: the operation each is blocked on (for GETNCNT, GETZCNT). */
  readonly blocked = new Map<object, SemOp>();
  readonly queue = new WaitQueue();
  removed = false;

  constructor(readonly perm: IpcPerm, nsems: number, nowNs: number) {
    this.values = new Array<number>(nsems).fill(0);
    this.pids = new Array<number>(nsems).fill(0);
    this.ctimeNs = nowNs;
  }

  get nsems(): number {
    return this.values.length;
  }

  /**
   * Try the operations as one: null if done, else the first that would wait.
   * ERANGE for a value pushed past SEMVMX (nothing applied).
   */
  tryOps(ops: SemOp[], pid: number): SemOp | null | 'erange' {
    const v = [...this.values];
    for (const o of ops) {
      const cur = v[o.num];
      if (o.op === 0) {
        if (cur !== 0) return o;
      } else if (o.op < 0) {
        if (cur + o.op < 0) return o;
        v[o.num] = cur + o.op;
      } else {
        if (cur + o.op > SEMVMX) return 'erange';
        v[o.num] = cur + o.op;
      }
    }
    for (let i = 0; i < v.length; i++) this.values[i] = v[i];
    for (const o of ops) this.pids[o.num] = pid;
    return null;
  }

  count(num: number, zero: boolean): number {
    let n = 0;
    for (const o of this.blocked.values()) if (o.num === num && (o.op === 0) === zero) n++;
    return n;
  }
}

export class SemNamespace {
  semmsl = SEMMSL;
  semmns = SEMMNS;
  semopm = SEMOPM;
  semmni = SEMMNI;
  readonly set = new IpcSet<SemSet>(() => this.semmni);
  /** Semaphores in all sets (against semmns). */
  total = 0;

  /** IPC_RMID: waiters get EIDRM. */
  remove(s: SemSet): void {
    s.removed = true;
    this.set.remove(s);
    this.total -= s.nsems;
    s.queue.notify(0xffffffff);
  }
}

/** A process's SEM_UNDO adjustments: set id, then semaphore number, then the adjustment. */
export type SemUndo = Map<number, Map<number, number>>;

/** Apply a process's adjustments as it exits (clamped to 0..SEMVMX, as Linux). */
export function applyUndo(ns: SemNamespace, undo: SemUndo, pid: number): void {
  for (const [id, adj] of undo) {
    let s: SemSet;
    try {
      s = ns.set.get(id);
    } catch {
      continue; // the set is gone
    }
    for (const [num, d] of adj) {
      if (num >= s.nsems) continue;
      s.values[num] = Math.min(SEMVMX, Math.max(0, s.values[num] + d));
      s.pids[num] = pid;
    }
    s.queue.notify(0xffffffff);
  }
  undo.clear();
}
