// The kernel: the PID namespace, the scheduler loop, timers and host-fd
// readiness. Everything runs on the Sentry's main thread: the loop blocks in
// the platform's wait() when no JavaScript work is pending, serves one stop,
// and yields to promise continuations whenever a blocked task was woken.

import type { MemoryFile } from '../platform/memfile';
import type { Platform } from '../platform/platform';
import type { HostInfo } from '../host/hostinfo';
import type { SyscallDef } from './syscall';
import type { VirtualFilesystem } from '../vfs/vfs';
import { E, Errno } from '../abi/errno';
import { SignalManager } from './signals';
import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import { wakeCounter } from '../abi/waitqueue';
import { FutexTable } from './futex';
import { Lifecycle, LifecycleHooks } from './lifecycle';
import { TaskRunner } from './runner';
import { KernelLog } from './klog';
import type { Strace } from './strace/strace';
import { KernelTimer, TimerQueue } from './timers';
import { PauseControl } from './pause';

export interface KernelOptions {
  platform: Platform;
  vfs: VirtualFilesystem;
  /** What the sandbox shows of the host machine (CPUs, HWCAP), captured once at boot. */
  hostInfo: HostInfo;
  hostname?: string;
  log?: (msg: string) => void;
  warn?: (msg: string) => void;
}

export class Kernel {
  readonly platform: Platform;
  readonly memfile: MemoryFile;
  readonly vfs: VirtualFilesystem;
  readonly hostInfo: HostInfo;
  readonly signals = new SignalManager(this);
  readonly lifecycle = new Lifecycle(this);
  readonly runner = new TaskRunner(this);
  /** Futex wait queues of this sandbox (kernel/futex.ts). */
  readonly futexes = new FutexTable();
  /** Fork, exec and task-exit work of syscall families (registered from the table). */
  readonly hooks = new LifecycleHooks();
  readonly tasks = new Map<number, Task>();
  readonly groups = new Map<number, ThreadGroup>();
  /** The sandbox's kernel log (syslog(2), dmesg). */
  readonly klog = new KernelLog(() => this.monotonicNs() - this.bootMonotonicNs);
  table: Array<SyscallDef | undefined> = [];
  /** Names of every syscall number, for logs of unimplemented ones (the table has only the implemented). */
  syscallNames: Record<number, string> = {};
  /** Set by --strace: decodes every system call (kernel/strace). */
  strace: Strace | null = null;
  readonly log: (msg: string) => void;
  /** Problems the person running the sandbox must see (stderr of the Sentry). */
  readonly warn: (msg: string) => void;
  hostname: string;
  domainname = '(none)';
  /** Live tasks allowed in this sandbox (each costs a host process). */
  maxTasks = 4096;
  readonly bootRealtimeNs: number;
  readonly bootMonotonicNs: number;
  private nextPid = 1;
  /** Kernel timers (a heap of records dispatched by kind: kernel/timers.ts). */
  readonly timers: TimerQueue;
  private readonly tickTimer = new KernelTimer('tick', this);
  /** Kernel.pause()/resume(): quiescence of every task (kernel/pause.ts). */
  readonly pauser = new PauseControl(this);
  private readonly hostWaiters = new Map<number, Array<{ events: number; fn: (ev: number) => void }>>();
  /** Exit status of the first process (wait status encoding) once it is gone. */
  initStatus: number | null = null;
  private readonly loggedOnce = new Set<string>();

  constructor(opts: KernelOptions) {
    this.platform = opts.platform;
    this.memfile = opts.platform.memfile;
    this.vfs = opts.vfs;
    this.hostInfo = opts.hostInfo;
    this.hostname = opts.hostname ?? 'tsvisor';
    this.log = opts.log ?? (() => {});
    this.warn = opts.warn ?? ((m) => this.log(m));
    this.timers = new TimerQueue(this, (d) => this.platform.setTimer(d));
    this.bootMonotonicNs = this.monotonicNs();
    this.bootRealtimeNs = this.realtimeNs();
  }

  logOnce(key: string, msg: string): void {
    if (this.loggedOnce.has(key)) return;
    this.loggedOnce.add(key);
    this.log(msg);
  }

  allocPid(): number {
    for (let i = 0; i < 1 << 22; i++) {
      const pid = this.nextPid;
      this.nextPid = this.nextPid >= 4194304 ? 2 : this.nextPid + 1;
      if (!this.tasks.has(pid) && !this.groups.has(pid)) return pid;
    }
    throw new Errno(E.EAGAIN);
  }

  monotonicNs(): number {
    return Number(process.hrtime.bigint());
  }

  /** The realtime clock in ns, to about 256 ns (a double's precision): for deadlines and conversions. */
  realtimeNs(): number {
    const [s, ns] = this.realtime();
    return s * 1e9 + ns;
  }

  /**
   * The realtime clock as [seconds, nanoseconds], exact: the host's, which
   * the application also reads through its vDSO (the sandbox's clock cannot
   * be set, see sys_admin.ts).
   */
  realtime(): [number, number] {
    return this.clock(0 /* CLOCK_REALTIME */);
  }

  /** A host clock as [seconds, nanoseconds] (Platform.clock). */
  clock(id: number): [number, number] {
    return this.platform.clock(id);
  }

  // ---- host fd readiness ----------------------------------------------------

  /** Resolve when the host fd has one of events (poll bits), waking through the platform's epoll. */
  waitHostFd(fd: number, events: number): Promise<number> {
    return new Promise((resolve) => {
      const list = this.hostWaiters.get(fd) ?? [];
      list.push({ events, fn: resolve });
      this.hostWaiters.set(fd, list);
      const all = list.reduce((m, w) => m | w.events, 0);
      this.platform.watchHostFd(fd, all);
    });
  }

  private onHostEvents(evs: Array<{ fd: number; events: number }>): void {
    for (const { fd, events } of evs) {
      if (fd === -1) {
        this.timers.runDue(this.monotonicNs());
        continue;
      }
      const list = this.hostWaiters.get(fd);
      if (!list) continue;
      this.hostWaiters.delete(fd);
      for (const w of list) w.fn(events);
      wakeCounter.pending++;
    }
    // Timers may also have expired while the waker slept on an fd.
    const next = this.timers.next;
    if (next && next <= this.monotonicNs()) this.timers.runDue(this.monotonicNs());
  }

  // ---- the loop -------------------------------------------------------------

  /**
   * Host signals for the sandbox (Ctrl-C, docker stop) reach Node's own
   * handlers, which only run when the loop yields to Node; a slow tick makes
   * sure it does even when every task sleeps in the application.
   */
  private tick(): void {
    this.timers.arm(this.tickTimer, this.monotonicNs() + 100e6);
  }

  /** The tick timer expired (the timer table's 'tick' entry). */
  onTick(): void {
    wakeCounter.pending++;
    if (this.tasks.size > 0) this.tick();
  }

  // ---- pause ----------------------------------------------------------------

  /** A pause is under way or in force: blocking calls unwind, no context goes back to the application. */
  get pausing(): boolean {
    return this.pauser.state !== 'running';
  }

  /**
   * Bring every task to a point where registers, FP state and kernel objects
   * are the whole truth: running contexts are interrupted, blocked handlers
   * unwind to their restart codes, and timers stop expiring. Resolves once no
   * task runs application code or is inside a handler.
   */
  pause(): Promise<void> {
    return this.pauser.pause();
  }

  /** Undo pause(): timers expire again (late, if their deadline passed) and every held task goes back to the application. */
  resume(): void {
    this.pauser.resume();
  }

  /** Deliver a host signal sent to the Sentry to pid 1 of the sandbox. */
  forwardSignal(sig: number): void {
    const init = this.groups.get(1);
    this.log(`host signal ${sig} forwarded to pid 1`);
    // From outside the namespace: si_pid is 0, and init still needs a handler (but for SIGKILL/SIGSTOP).
    if (init && !init.zombie) this.signals.sendToGroup(init, sig, { signo: sig, code: 0, pid: 0, uid: 0 }, true);
    wakeCounter.pending++;
  }

  /** Run until the first process exits; returns its wait status. */
  async run(): Promise<number> {
    this.tick();
    for (;;) {
      if (wakeCounter.pending > 0) {
        wakeCounter.pending = 0;
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      if (this.initStatus !== null && this.tasks.size === 0) break;
      // Quiescent under pause(): nothing may reach the application until resume().
      if (this.pauser.state !== 'running' && (await this.pauser.settle())) continue;
      // Expired timers arrive through the platform's timer (a host event).
      const ev = this.platform.wait();
      if (ev.kind === 'yield') {
        // Other sandboxes share the thread: let their loops (and timers) run.
        await new Promise<void>((r) => (ev.idle ? setTimeout(r, 1) : setImmediate(r)));
        continue;
      }
      if (ev.kind === 'host') this.onHostEvents(this.platform.takeHostEvents());
      else if (ev.kind === 'stop') {
        const t = ev.ctx.owner as Task | null;
        if (t) this.runner.onStop(t, ev.stop);
      } else if (this.tasks.size === 0) break;
    }
    this.pauser.loopEnded();
    this.log(`interrupted stops: ${this.runner.interrupts}`);
    return this.initStatus ?? 0;
  }

  exitGroup(tg: ThreadGroup, signal: number, code = 0): void {
    this.lifecycle.exitGroup(tg, signal, code);
  }
}
