// A thread group is a process: what its threads share (signal handlers,
// process-directed pending signals, rlimits, job control identity) and its
// place in the process tree (parent, children, exit status for wait).

import type { NumaPolicy } from '../abi/mempolicy';
import type { AioContext } from './aio';
import { Itimers } from './itimers';
import type { PosixTimer } from './posix_timers';
import { type SigAction, type SigInfo, defaultSigAction, NSIG, SigQueue } from '../abi/signals';
import type { Task } from './task';
import type { Pid } from './pid_ns';
import { WaitQueue } from '../abi/waitqueue';
import type { SemUndo } from './ipc/sem';
import type { MemCharge } from '../platform/memcharge';
import type { Freezer } from './freezer';
import type { Cgroup } from './cgroup';

export { RLIM_INFINITY, RLIMIT_NOFILE, RLIMIT_STACK } from '../abi/resource';
import { RLIM_INFINITY, RLIMIT_NAMES, RLIMIT_NOFILE, RLIMIT_STACK } from '../abi/resource';

export interface Rlimit {
  cur: number;
  max: number;
}

export function defaultRlimits(): Rlimit[] {
  const inf = { cur: RLIM_INFINITY, max: RLIM_INFINITY };
  const r: Rlimit[] = RLIMIT_NAMES.map(() => ({ ...inf }));
  r[RLIMIT_STACK] = { cur: 8 * 1024 * 1024, max: RLIM_INFINITY };
  r[RLIMIT_NOFILE] = { cur: 1024, max: 1048576 };
  r[4] = { cur: 0, max: RLIM_INFINITY }; // core
  r[6] = { cur: 63707, max: 63707 }; // nproc
  r[8] = { cur: 8 * 1024 * 1024, max: 8 * 1024 * 1024 }; // memlock
  r[11] = { cur: 63707, max: 63707 }; // sigpending
  r[12] = { cur: 819200, max: 819200 }; // msgqueue
  r[13] = { cur: 0, max: 0 };
  r[14] = { cur: 0, max: 0 };
  return r;
}

/**
 * Per-process settings of the info and scheduling families (personality,
 * affinity with one bit per host CPU until a thread sets its own, prctl
 * flags; nice and the scheduling policy are per thread, Task.nice and
 * Task.sched).
 * Made on first use from the parent's (syscalls/sys_info.ts stateOf).
 */
export interface ProcState {
  personality: number;
  dumpable: number;
  noNewPrivs: boolean;
  pdeathsig: number;
  subreaper: boolean;
  timerSlackNs: number;
  defaultTimerSlackNs: number;
  affinity: bigint;
  /** ioprio_set's value (class << 13 | level). */
  ioprio: number;
  /** set_mempolicy's policy; null is MPOL_DEFAULT. */
  mempolicy: NumaPolicy | null;
}

/** What wait4/waitid can report about a child. */
/** 'traced': a ptrace-stop, reported to the tracer only. */
export type ChildEvent = { kind: 'exited' | 'stopped' | 'continued' | 'traced'; status: number; si: SigInfo };

/**
 * A pod container's pids controller (Linux's pids.max): its tasks, threads
 * included, may number at most limit; clone fails with EAGAIN past it.
 * Shared by every process of the container, inherited at fork.
 */
export class PidsGroup {
  constructor(readonly limit: number) {}
}

/** What a pod container's processes are held to beyond the sandbox's limits (sandbox/pod.ts). */
export interface TaskLimits {
  memory: MemCharge | null;
  pids: PidsGroup | null;
  freezer: Freezer | null;
}

export class ThreadGroup {
  /** Its container's pids controller; null: only the sandbox's task limit. */
  pids: PidsGroup | null = null;
  /** Its container's freezer (kernel/freezer.ts): while frozen, its tasks are held. */
  freezer: Freezer | null = null;
  /** Its cgroup (kernel/cgroup.ts); null: the root. Inherited at fork. */
  cgroup: Cgroup | null = null;
  readonly tasks = new Set<Task>();
  parent: ThreadGroup | null = null;
  readonly children = new Set<ThreadGroup>();
  /** The process's numbers in its PID namespace and its ancestors (its leader's); tgPid.global is pid. */
  tgPid: Pid | null = null;
  pgid: number;
  sid: number;
  actions: SigAction[] = Array.from({ length: NSIG + 1 }, defaultSigAction);
  /** Process-directed pending signals. */
  pending = new SigQueue();
  /** membarrier registrations (MEMBARRIER_CMD_REGISTER_* bits); exec clears them as Linux's new mm does. */
  membarrierRegistered = 0;
  /** SEM_UNDO adjustments, applied at exit (kernel/ipc/sem.ts); not inherited by fork. */
  readonly semUndo: SemUndo = new Map();
  /** Woken when a signal is queued to the process or one of its tasks (signalfd readers; Linux's signalfd_wqh). */
  readonly signalWaiters = new WaitQueue();
  rlimits: Rlimit[] = defaultRlimits();
  /** Exit status in wait(2) encoding once the group has exited. */
  exitStatus: number | null = null;
  exitSigInfo: SigInfo | null = null;
  zombie = false;
  reaped = false;
  /** Signal sent to the parent when this process exits (SIGCHLD unless clone said otherwise). */
  exitSignal = 17;
  /** Job control: stopped by a stop signal; reported once through wait (WUNTRACED/WCONTINUED). */
  stopped = false;
  stopReport: ChildEvent | null = null;
  contReport: ChildEvent | null = null;
  readonly contQueue = new WaitQueue();
  /** Children state changes wake waiters here (wait4, waitid). */
  readonly childQueue = new WaitQueue();
  /** Linux AIO contexts (io_setup) by id, the ring's address; null until the first. */
  aio: Map<number, AioContext> | null = null;
  /** Notified when this process exits and when it is reaped (its pidfds listen). */
  readonly exitQueue = new WaitQueue();
  /** Set by exit_group so every thread dies. */
  exiting = false;
  comm = '';
  /** Has run execve since fork (Linux's PF_FORKNOEXEC cleared): its parent may no longer setpgid it. */
  execed = false;
  exePath = '';
  startTimeNs = 0;
  /** Interval timers (alarm, setitimer): not inherited by fork, kept by execve. */
  readonly itimers: Itimers = new Itimers(this);
  /** personality, nice, affinity, prctl flags...: null until first used (then copied from the parent's). */
  procState: ProcState | null = null;
  /** POSIX timers by id (timer_create): not inherited by fork, deleted by execve. */
  readonly posixTimers = new Map<number, PosixTimer>();
  /** Where timer_create looks for a free id next (ids are given in a cycle, as on Linux). */
  nextPosixTimerId = 0;
  /** CPU time of reaped children and their reaped descendants, ns (times(2), RUSAGE_CHILDREN). */
  childUserNs = 0;
  childSysNs = 0;
  /** Peak resident size in KiB, sampled (kernel/rusage.ts); and the largest of reaped descendants'. */
  maxRssKb = 0;
  childMaxRssKb = 0;
  /** The process's own CPU time, frozen when it exited. */
  finalUserNs = 0;
  finalSysNs = 0;

  get childTimeNs(): number {
    return this.childUserNs + this.childSysNs;
  }

  constructor(readonly pid: number, pgid: number, sid: number) {
    this.pgid = pgid;
    this.sid = sid;
  }

  get leader(): Task {
    for (const t of this.tasks) return t;
    throw new Error('thread group without tasks');
  }

  /** CPU time of the whole process: live threads plus what exited threads left. */
  cpuTime(precise = false): { userNs: number; sysNs: number } {
    let userNs = this.finalUserNs;
    let sysNs = this.finalSysNs;
    if (!this.zombie) {
      for (const t of this.tasks) {
        if (t.state === 'dead') continue;
        const c = t.ctx.cpuTime(precise);
        userNs += c.userNs;
        sysNs += c.sysNs;
      }
    }
    return { userNs, sysNs };
  }

  forkActions(): SigAction[] {
    return this.actions.map((a) => ({ ...a }));
  }
}
