// A Task is one application thread: its registers live in a platform Context,
// its resources (memory, files, fs context, credentials) may be shared with
// other tasks. The task runs as a loop driven by the scheduler: the platform
// reports a Stop, the task serves it (a syscall, a fault) and resumes its
// context, delivering pending signals on the way back to the application.

import type { SeccompFilter } from './seccomp';
import type { MemoryFile } from '../platform/memfile';
import type { MemCharge } from '../platform/memcharge';
import type { HeapBudget } from '../abi/accounting';
import type { MemoryManager } from '../mm/mm';
import type { Context } from '../platform/platform';
import type { FdTable } from '../vfs/fd_table';
import type { FsContext } from '../vfs/fs_context';
import type { Credentials } from '../auth/creds';
import { Errno, ERESTARTSYS } from '../abi/errno';
import type { Kernel } from './kernel';
import type { NsProxy } from './namespaces';
import type { Pid } from './pid_ns';
import { type SigInfo, sigBit, SigQueue, UNBLOCKABLE } from '../abi/signals';
import type { AltStack } from './signal_frame';
import type { ThreadGroup } from './thread_group';
import { KernelTimer } from './timers';
import type { Waitable, Waiter } from '../abi/waitqueue';
import type { Tracee } from './ptrace';

export type TaskState = 'running' | 'blocked' | 'stopped' | 'dead';

/**
 * A thread's scheduling policy (per thread on Linux, as nice is): the
 * policy, its realtime priority, SCHED_RESET_ON_FORK, and SCHED_DEADLINE's
 * runtime, deadline and period in ns (zeros under other policies).
 */
export interface SchedPolicy {
  policy: number;
  rtprio: number;
  resetOnFork: boolean;
  dl: [number, number, number];
}

/**
 * What restart_syscall continues after a call failed with
 * ERESTART_RESTARTBLOCK: plain data, run by the table in syscalls/sys_time.ts.
 * Deadlines are monotonic ns, so a sleep resumed later (after a signal, or
 * after Kernel.pause) still ends when it would have.
 */
export type RestartBlock =
  /** nanosleep / relative clock_nanosleep: sleep on to deadline; rem gets the time left if interrupted again. */
  | { kind: 'nanosleep'; deadline: number; rem: number }
  /** rt_sigtimedwait with a timeout, unwound by a pause: wait on for set until deadline. */
  | { kind: 'sigtimedwait'; set: bigint; info: number; deadline: number }
  /** poll with a timeout: poll the same pollfd array on to the same deadline. */
  | { kind: 'poll'; fds: number; nfds: number; deadline: number }
  /** FUTEX_WAIT(_BITSET) with a timeout: wait on for the same word to the same deadline. */
  | { kind: 'futex'; uaddr: number; priv: boolean; val: number; bitset: number; deadline: number }
  /** epoll_wait with a timeout, unwound by a pause: wait on to the same deadline. */
  | { kind: 'epoll'; epfd: number; events: number; max: number; deadline: number };

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
  /** seccomp filters attached by this task, newest first (kernel/seccomp.ts); inherited by fork, kept by exec. */
  seccomp: SeccompFilter | null = null;
  /** SECCOMP_MODE_STRICT: only read, write, exit and rt_sigreturn. */
  seccompStrict = false;
  clearChildTid = 0;
  /** set_robust_list: the user address of this thread's robust futex list head. */
  robustList = 0;
  /** The continuation of an interrupted nanosleep & co (restart_syscall). */
  restartBlock: RestartBlock | null = null;
  /** A vfork parent: the child running on this task's context until it execs or exits. */
  vforkChild: Task | null = null;
  /** A vfork child: the parent whose context it borrows. */
  vforkParent: Task | null = null;
  /**
   * A CLONE_VFORK child with its own context (a thread, or a process with
   * its own memory): the task whose clone waits until this one execs or exits.
   */
  vforkWaiter: Task | null = null;
  /**
   * Held by Kernel.pause at the point of return to the application (signals
   * delivered, restarts applied): the registers are the whole truth, and
   * resume() only has to switch back.
   */
  paused = false;
  /** The deadline of a timed block (a kernel timer record: kind 'block', this task). */
  readonly blockTimer: KernelTimer<'block'> = new KernelTimer('block', this);
  /** The one waiter this task puts on a queue when it blocks. */
  private readonly waiter = new TaskWaiter(this);
  private blockQueue: Waitable | null = null;
  /** The settlement of the block in progress (promise resolvers: they never outlive a pause). */
  private blockResolve: ((events: number) => void) | null = null;
  private blockReject: ((reason: Errno) => void) | null = null;
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
  /**
   * The thread's own name when it is not the leader (PR_SET_NAME in a thread,
   * or the name it was created with); null: the process's, tg.comm.
   */
  ownComm: string | null = null;
  /** This thread's CPU affinity once set for it (sched_setaffinity, or inherited from its creator's); null: the process's. */
  affinity: bigint | null = null;
  /** The thread's nice value (-20..19): per thread as on Linux, a new task's is its creator's (HostScheduling.setNice). */
  nice = 0;
  /** prctl PR_SET_TSC: rdtsc raises SIGSEGV (PR_TSC_SIGSEGV) on this thread; inherited by clone, kept across execve, as on Linux. */
  tscSigsegv = false;
  /** The thread's scheduling policy: a new task's is its creator's, less what SCHED_RESET_ON_FORK clears (lifecycle.ts). */
  sched: SchedPolicy = { policy: 0, rtprio: 0, resetOnFork: false, dl: [0, 0, 0] };
  /** The namespaces the task is in, but its user namespace (that is on its credentials) and its PID namespace (threadPid's). */
  nsproxy: NsProxy;
  /** The task's numbers in its PID namespace and every ancestor (kernel/pid_ns.ts); threadPid.global is tid. */
  threadPid: Pid | null = null;
  /** ptrace: this task's link to its tracer and its ptrace-stop (kernel/ptrace.ts); null when not traced. */
  ptrace: Tracee | null = null;
  /** ptrace: the tasks this task traces. */
  readonly tracees = new Set<Task>();

  constructor(
    readonly kernel: Kernel,
    /** Changes once at most: a thread that execs takes its leader's tid. */
    public tid: number,
    public tg: ThreadGroup,
    public mm: MemoryManager,
    public fdTable: FdTable,
    public fs: FsContext,
    public creds: Credentials,
    public ctx: Context,
  ) {
    ctx.owner = this;
    this.nsproxy = kernel.rootNs;
    this.startTimeNs = kernel.monotonicNs();
  }

  get heapBudget(): HeapBudget {
    return this.mm.memfile.heap;
  }

  get frames(): MemoryFile {
    return this.mm.memfile;
  }

  get memCharge(): MemCharge | null {
    return this.mm.charge;
  }

  get pid(): number {
    return this.tg.pid;
  }

  /** This thread's name (comm): the leader's is the process's. */
  get comm(): string {
    return this.ownComm ?? this.tg.comm;
  }

  set comm(name: string) {
    if (this === this.tg.leader) {
      this.tg.comm = name;
      this.ownComm = null;
    } else {
      this.ownComm = name;
    }
  }

  /**
   * Block until q (a queue, or a file through its eventRegister) is notified with an event in mask (resolves with the events),
   * the monotonic deadline passes (resolves 0), or a signal interrupts (rejects
   * with Errno(ERESTARTSYS), which becomes EINTR or a restart).
   */
  block(q: Waitable | null, mask: number, deadlineNs?: number): Promise<number> {
    // A pause pending (of the kernel, or of the task's container or cgroup) counts as a signal would: the handler unwinds to its restart point.
    if (this.hasInterruptingSignal() || this.kernel.pausing || this.tg.freezer?.frozen || this.kernel.cgroups.frozen(this)) return Promise.reject(new Errno(ERESTARTSYS));
    // Mapping changes made so far in this call reach the host before time
    // passes: sibling threads run meanwhile, and a frame the call let go of
    // may be given to another process.
    this.mm.as.flushPending();
    return new Promise<number>((resolve, reject) => {
      this.blockResolve = resolve;
      this.blockReject = reject;
      this.state = 'blocked';
      this.kernel.taskBlocked();
      if (q) {
        this.waiter.mask = mask;
        this.blockQueue = q;
        q.eventRegister(this.waiter);
      }
      if (deadlineNs !== undefined) this.kernel.timers.arm(this.blockTimer, deadlineNs);
    });
  }

  /** End the block in progress: a wake-up (events), the deadline (0), or an interruption (reason). */
  endBlock(events: number, reason?: Errno): void {
    const resolve = this.blockResolve;
    const reject = this.blockReject;
    if (!resolve || !reject) return;
    this.blockResolve = this.blockReject = null;
    if (this.blockQueue) this.blockQueue.eventUnregister(this.waiter);
    this.blockQueue = null;
    this.kernel.timers.cancel(this.blockTimer);
    if (this.state === 'blocked') this.state = 'running';
    this.kernel.taskUnblocked();
    if (reason) reject(reason);
    else resolve(events);
  }

  /** The deadline of a timed block passed (the kernel timer table's 'block' entry). */
  blockTimedOut(): void {
    this.endBlock(0);
  }

  /** Sleep until a monotonic deadline, interruptibly. */
  async sleepUntil(deadlineNs: number): Promise<void> {
    await this.block(null, 0, deadlineNs);
  }

  /** Wake the task out of an interruptible block (signal arrival, exit, pause): its handler unwinds with ERESTARTSYS. */
  wakeForSignal(): void {
    this.endBlock(0, new Errno(ERESTARTSYS));
  }

  /** Whether a pending, unblocked signal would interrupt a blocking call now. */
  hasInterruptingSignal(): boolean {
    if (this.tg.exiting) return true;
    // A tracee's tracer sees every signal, ignored ones too; PTRACE_INTERRUPT asks for a trap.
    const traced = this.ptrace !== null;
    if (traced && this.ptrace!.trapPending) return true;
    const wakes = (sig: number) => {
      const bit = sigBit(sig);
      if (this.sigmask & bit && !(bit & UNBLOCKABLE)) return false;
      return traced || (this.waitedSignals & bit) !== 0n || !this.kernel.signals.isIgnored(this, sig);
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

/** A blocked task on a wait queue: a plain object with a method, no closure. */
class TaskWaiter implements Waiter {
  mask = 0;

  constructor(private readonly task: Task) {}

  wake(events: number): void {
    this.task.endBlock(events);
  }
}
