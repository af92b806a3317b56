// PID namespaces (man 7 pid_namespaces): a tree of numberings. A task has a
// number in its own namespace and in every ancestor up to the root; the
// root's number is its kernel-wide id (Task.tid, ThreadGroup.pid, the keys
// of Kernel.tasks and Kernel.groups, pgid and sid). System calls translate
// at the boundary: numbers coming in are looked up in the caller's
// namespace, numbers going out are the target's number there (0 when the
// caller cannot see it).
import { E, Errno } from '../abi/errno';
import type { UserNamespace } from '../auth/userns';
import type { Task } from './task';
import type { ThreadGroup } from './thread_group';

/** Linux's MAX_PID_NS_LEVEL: the deepest level a namespace may have (the root is 0). */
export const MAX_PID_NS_LEVEL = 32;
/** The largest pid + 1 (kernel.pid_max), in every namespace. */
const PID_MAX = 4194304;

/** The numbers of one task: nrs[L] is its number in its ancestor at level L (Linux's struct pid). */
export class Pid {
  constructor(
    /** The deepest namespace, the task's own. */
    readonly ns: PidNamespace,
    readonly nrs: number[],
  ) {}

  get global(): number {
    return this.nrs[0];
  }

  /** The number in ns, or 0 when ns is not this pid's namespace or an ancestor of it. */
  nrIn(ns: PidNamespace): number {
    if (ns.level > this.ns.level) return 0;
    let n = this.ns;
    while (n.level > ns.level) n = n.parent!;
    return n === ns ? this.nrs[ns.level] : 0;
  }
}

export class PidNamespace {
  readonly kind = 'pid';
  readonly level: number;
  /** The live pids of the namespace (its own processes' and its descendants'), by their number here. */
  readonly byNr = new Map<number, Pid>();
  private last = 0;
  /** The namespace's init (its pid 1, Linux's child_reaper) once forked. */
  init: ThreadGroup | null = null;
  /** Linux's PIDNS_ADDING: cleared when init dies (or its fork failed); a fork into the namespace is then ENOMEM. */
  adding = true;
  /** The procfs instance that shows this namespace (fsimpl/proc; opaque here), made by the first mount of proc in it. */
  procFs: object | null = null;

  constructor(
    readonly owner: UserNamespace,
    readonly inum: number,
    readonly parent: PidNamespace | null,
  ) {
    this.level = parent ? parent.level + 1 : 0;
  }

  get root(): PidNamespace {
    let n: PidNamespace = this;
    while (n.parent) n = n.parent;
    return n;
  }

  /** Whether this namespace is ns or an ancestor of it. */
  contains(ns: PidNamespace): boolean {
    for (let n: PidNamespace | null = ns; n && n.level >= this.level; n = n.parent) if (n === this) return true;
    return false;
  }

  /** The number given last (kernel.ns_last_pid): the next search starts after it. */
  get lastNr(): number {
    return this.last;
  }

  set lastNr(nr: number) {
    this.last = nr;
  }

  /** The next free number, cycling as Linux does (after a wrap, 1 is init's and never given again). */
  private allocNr(): number {
    for (let i = 0; i < PID_MAX; i++) {
      const nr = this.last + 1 >= PID_MAX ? 2 : this.last + 1;
      this.last = nr;
      if (!this.byNr.has(nr)) return nr;
    }
    throw new Errno(E.EAGAIN);
  }

  /**
   * A new pid in this namespace with a number at every level (Linux's
   * alloc_pid): ENOMEM once init is gone. chosen (clone3's set_tid) names
   * the numbers of the innermost levels, this one first: each must be in
   * range, 1 in a namespace without its init yet (EINVAL), allowed by
   * mayChoose for its namespace (EPERM) and free (EEXIST). Chosen numbers
   * do not move where the search for the next free one starts.
   */
  alloc(chosen: readonly number[] = [], mayChoose: (ns: PidNamespace) => boolean = () => false): Pid {
    if (chosen.length > this.level + 1) throw new Errno(E.EINVAL);
    let i = 0;
    for (let n: PidNamespace | null = this; n && i < chosen.length; n = n.parent, i++) {
      const nr = chosen[i];
      if (nr < 1 || nr >= PID_MAX || (nr !== 1 && n.parent && !n.init)) throw new Errno(E.EINVAL);
      if (!mayChoose(n)) throw new Errno(E.EPERM);
      if (n.byNr.has(nr)) throw new Errno(E.EEXIST);
    }
    for (let n: PidNamespace | null = this; n; n = n.parent) if (!n.adding) throw new Errno(E.ENOMEM);
    const nrs: number[] = new Array<number>(this.level + 1);
    i = 0;
    for (let n: PidNamespace | null = this; n; n = n.parent, i++) nrs[n.level] = i < chosen.length ? chosen[i] : n.allocNr();
    const p = new Pid(this, nrs);
    for (let n: PidNamespace | null = this; n; n = n.parent) n.byNr.set(nrs[n.level], p);
    return p;
  }

  /** Give p's numbers back in every namespace (its task and its process are gone). */
  static free(p: Pid): void {
    for (let n: PidNamespace | null = p.ns; n; n = n.parent) if (n.byNr.get(p.nrs[n.level]) === p) n.byNr.delete(p.nrs[n.level]);
    // The first process failed or went before it was init: nobody can enter any more (Linux's free_pid).
    if (p.nrs[p.ns.level] === 1 && p.ns.parent) p.ns.adding = false;
  }

  /** A child namespace (clone or unshare CLONE_NEWPID): ENOSPC past MAX_PID_NS_LEVEL, as Linux since 4.9. */
  child(owner: UserNamespace, inum: number): PidNamespace {
    if (this.level + 1 > MAX_PID_NS_LEVEL) throw new Errno(E.ENOSPC);
    return new PidNamespace(owner, inum, this);
  }

  /** The kernel-wide id of number nr here, or 0. */
  globalOf(nr: number): number {
    if (!this.parent) return this.byNr.has(nr) ? nr : 0;
    return this.byNr.get(nr)?.global ?? 0;
  }

  /** The number here of kernel-wide id g (a pgid, a sid, a pid), or 0 when this namespace cannot see it. */
  nrOfGlobal(g: number): number {
    if (!this.parent) return g;
    return this.root.byNr.get(g)?.nrIn(this) ?? 0;
  }
}

/** The namespace a task is in (Linux's task_active_pid_ns); tasks made before a pid (in unit tests) are the root's. */
export function pidNsOf(t: Task): PidNamespace {
  return t.threadPid?.ns ?? t.kernel.rootNs.pid;
}

/** t's thread id as seen from ns. */
export function tidIn(t: Task, ns: PidNamespace): number {
  return t.threadPid ? t.threadPid.nrIn(ns) : ns.level === 0 ? t.tid : 0;
}

/** tg's process id as seen from ns. */
export function tgidIn(tg: ThreadGroup, ns: PidNamespace): number {
  return tg.tgPid ? tg.tgPid.nrIn(ns) : ns.level === 0 ? tg.pid : 0;
}

/** Whether tg is the init of its PID namespace (the root's pid 1 included). */
export function isNsInit(tg: ThreadGroup): boolean {
  return tg.tgPid ? tg.tgPid.nrs[tg.tgPid.ns.level] === 1 : tg.pid === 1;
}

/** The task with number nr in ns (0 and negatives: none). */
export function findTask(tasks: Map<number, Task>, ns: PidNamespace, nr: number): Task | undefined {
  if (nr <= 0) return undefined;
  return tasks.get(ns.parent ? ns.globalOf(nr) : nr);
}

/** The process with number nr in ns. */
export function findGroup(groups: Map<number, ThreadGroup>, ns: PidNamespace, nr: number): ThreadGroup | undefined {
  if (nr <= 0) return undefined;
  return groups.get(ns.parent ? ns.globalOf(nr) : nr);
}

/** The namespaces from top down to bottom (top an ancestor of bottom, or bottom itself); empty when top is not above bottom. */
export function levelsBetween(top: PidNamespace, bottom: PidNamespace): PidNamespace[] {
  const out: PidNamespace[] = [];
  for (let n: PidNamespace | null = bottom; n && n.level >= top.level; n = n.parent) out.unshift(n);
  return out[0] === top ? out : [];
}

/** The task number nr names in t's PID namespace. */
export function vTask(t: Task, nr: number): Task | undefined {
  return findTask(t.kernel.tasks, pidNsOf(t), nr);
}

/** The process number nr names in t's PID namespace. */
export function vGroup(t: Task, nr: number): ThreadGroup | undefined {
  return findGroup(t.kernel.groups, pidNsOf(t), nr);
}

/** t's thread id in its own namespace (gettid's answer): what futex words and robust lists hold. */
export function ownTid(t: Task): number {
  return t.threadPid ? t.threadPid.nrs[t.threadPid.ns.level] : t.tid;
}
