// A Task is one application thread: its registers live in a platform Context,
// its resources (memory, files, fs context, credentials) may be shared with
// other tasks. The task runs as a loop driven by the scheduler: the platform
// reports a Stop, the task serves it (a syscall, a fault) and resumes its
// context, delivering pending signals on the way back to the application.

import type { HeapBudget } from '../abi/accounting';
import type { MemoryManager } from '../mm/mm';
import type { Context } from '../platform/platform';
import type { FdTable } from '../vfs/fd_table';
import type { FsContext } from '../vfs/fs_context';
import type { Credentials } from '../auth/creds';
import { Errno, ERESTARTSYS } from '../abi/errno';
import type { Kernel } from './kernel';
import { type SigInfo, sigBit, SigQueue, UNBLOCKABLE } from '../abi/signals';
import type { AltStack } from './signal_frame';
import type { ThreadGroup } from './thread_group';
import type { Waitable, Waiter } from '../abi/waitqueue';

export type TaskState = 'running' | 'blocked' | 'stopped' | 'dead';

/** Thrown (internally) when a blocking call is interrupted by a signal. */

export class Task {
  state: TaskState = 'running';
  /** Signal mask: blocked signals. */
  sigmask = 0n;
  /** Signals rt_sigtimedwait is waiting for: pending, they end the wait even when their action is to ignore. */
  waitedSignals = 0n;
  /**
   * The mask in force before rt_sigtimedwait unblocked the waited signals
   * (Linux's real_blocked): a signal in it is queued, never discarded as
   * ignored, so sigtimedwait can still take it.
   */
  realBlocked = 0n;
  /** Mask to restore after a handler runs when set by sigsuspend/ppoll. */
  savedSigmask: bigint | null = null;
  /** Thread-directed pending signals. */
  pending = new SigQueue();
  altStack: AltStack = { sp: 0, size: 0, flags: 2 };
  clearChildTid = 0;
  /** set_robust_list: the user address of this thread's robust futex list head. */
  robustList = 0;
  /** Set while the task blocks interruptibly: called when a signal arrives. */
  private interrupt: ((reason: Errno) => void) | null = null;
  /** The continuation of an interrupted nanosleep & co (restart_syscall). */
  restartBlock: (() => number | Promise<number>) | null = null;
  /** vfork child running on this task's context: the parent stays parked. */
  vforkParked = false;
  /** Saved registers of a vfork parent while its child borrows the context. */
  vforkSavedRegs: Buffer | null = null;
  vforkSavedFp: Buffer | null = null;
  /** The last fault resolved, to tell a fault that repeats (a real one) from a stale mapping. */
  lastFaultAddr = -1;
  lastFaultRip = -1;
  faultRepeats = 0;
  /**
   * The arguments of the system call being served, refilled at each syscall
   * stop: a task has at most one call in flight, so one array serves them
   * all. A handler may read it until it returns (or its promise settles);
   * anything kept longer must be copied.
   */
  readonly syscallArgs: number[] = [0, 0, 0, 0, 0, 0];
  startTimeNs = 0;

  constructor(
    readonly kernel: Kernel,
    readonly tid: number,
    public tg: ThreadGroup,
    public mm: MemoryManager,
    public fdTable: FdTable,
    public fs: FsContext,
    public creds: Credentials,
    public ctx: Context,
  ) {
    ctx.owner = this;
    this.startTimeNs = kernel.monotonicNs();
  }

  get heapBudget(): HeapBudget {
    return this.mm.memfile.heap;
  }

  get pid(): number {
    return this.tg.pid;
  }

  /**
   * Block until q (a queue, or a file through its eventRegister) is notified with an event in mask (resolves with the events),
   * the monotonic deadline passes (resolves 0), or a signal interrupts (rejects
   * with Errno(ERESTARTSYS), which becomes EINTR or a restart).
   */
  block(q: Waitable | null, mask: number, deadlineNs?: number): Promise<number> {
    if (this.hasInterruptingSignal()) return Promise.reject(new Errno(ERESTARTSYS));
    return new Promise<number>((resolve, reject) => {
      let timer: number | null = null;
      const finish = () => {
        if (q) q.eventUnregister(waiter);
        if (timer !== null) this.kernel.cancelTimer(timer);
        this.interrupt = null;
        this.state = 'running';
        this.kernel.taskUnblocked();
      };
      const waiter: Waiter = {
        mask,
        wake: (events: number) => {
          finish();
          resolve(events);
        },
      };
      if (q) q.eventRegister(waiter);
      if (deadlineNs !== undefined) {
        timer = this.kernel.addTimer(deadlineNs, () => {
          timer = null;
          finish();
          resolve(0);
        });
      }
      this.interrupt = (reason) => {
        finish();
        reject(reason);
      };
      this.state = 'blocked';
      this.kernel.taskBlocked();
    });
  }

  /** Sleep until a monotonic deadline, interruptibly. */
  async sleepUntil(deadlineNs: number): Promise<void> {
    await this.block(null, 0, deadlineNs);
  }

  /** Wake the task out of an interruptible block (signal arrival, exit). */
  wakeForSignal(): void {
    const i = this.interrupt;
    if (i) i(new Errno(ERESTARTSYS));
  }

  /** Whether a pending, unblocked signal would interrupt a blocking call now. */
  hasInterruptingSignal(): boolean {
    if (this.tg.exiting) return true;
    const wakes = (sig: number) => {
      const bit = sigBit(sig);
      if (this.sigmask & bit && !(bit & UNBLOCKABLE)) return false;
      return (this.waitedSignals & bit) !== 0n || !this.kernel.signals.isIgnored(this, sig);
    };
    for (const sig of this.pending.keys()) if (wakes(sig)) return true;
    for (const sig of this.tg.pending.keys()) if (wakes(sig)) return true;
    return false;
  }

  /** Send a signal to this thread (SIGPIPE on a broken pipe, faults, tgkill). */
  sendSignal(sig: number, info?: SigInfo): void {
    this.kernel.signals.sendToTask(this, sig, info ?? { signo: sig, code: 0x80 });
  }

  /** CPU time of this thread so far (frozen once it is dead). */
  cpuTime(precise = false): { userNs: number; sysNs: number } {
    if (this.state === 'dead') return { userNs: this.tg.finalUserNs, sysNs: this.tg.finalSysNs };
    return this.ctx.cpuTime(precise);
  }
}
