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
import { Lifecycle } from './lifecycle';
import { TaskRunner } from './runner';
import { KernelLog } from './klog';
import type { Strace } from './strace/strace';

export interface KernelOptions {
  platform: Platform;
  vfs: VirtualFilesystem;
  /** What the sandbox shows of the host machine (CPUs, HWCAP), captured once at boot. */
  hostInfo: HostInfo;
  hostname?: string;
  log?: (msg: string) => void;
  warn?: (msg: string) => void;
}

interface Timer {
  id: number;
  deadline: number;
  fn: () => void;
}

export class Kernel {
  readonly platform: Platform;
  readonly memfile: MemoryFile;
  readonly vfs: VirtualFilesystem;
  readonly hostInfo: HostInfo;
  readonly signals = new SignalManager(this);
  readonly lifecycle = new Lifecycle(this);
  readonly runner = new TaskRunner(this);
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
  private timers: Timer[] = [];
  private nextTimerId = 1;
  private armedDeadline = 0;
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
    this.bootMonotonicNs = this.monotonicNs();
    this.bootRealtimeNs = Date.now() * 1e6;
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

  realtimeNs(): number {
    return this.bootRealtimeNs + (this.monotonicNs() - this.bootMonotonicNs);
  }

  // ---- timers --------------------------------------------------------------

  addTimer(deadlineNs: number, fn: () => void): number {
    const t = { id: this.nextTimerId++, deadline: deadlineNs, fn };
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1].deadline > deadlineNs) i--;
    this.timers.splice(i, 0, t);
    this.armTimer();
    return t.id;
  }

  cancelTimer(id: number): void {
    const i = this.timers.findIndex((t) => t.id === id);
    if (i >= 0) this.timers.splice(i, 1);
  }

  private armTimer(): void {
    const d = this.timers.length ? this.timers[0].deadline : 0;
    if (d !== this.armedDeadline) {
      this.armedDeadline = d;
      this.platform.setTimer(d);
    }
  }

  private runTimers(): void {
    const now = this.monotonicNs();
    while (this.timers.length && this.timers[0].deadline <= now) {
      const t = this.timers.shift()!;
      t.fn();
    }
    this.armedDeadline = -1;
    this.armTimer();
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
        this.runTimers();
        continue;
      }
      const list = this.hostWaiters.get(fd);
      if (!list) continue;
      this.hostWaiters.delete(fd);
      for (const w of list) w.fn(events);
      wakeCounter.pending++;
    }
    // Timers may also have expired while the waker slept on an fd.
    if (this.timers.length && this.timers[0].deadline <= this.monotonicNs()) this.runTimers();
  }

  // ---- the loop -------------------------------------------------------------

  /**
   * Host signals for the sandbox (Ctrl-C, docker stop) reach Node's own
   * handlers, which only run when the loop yields to Node; a slow tick makes
   * sure it does even when every task sleeps in the application.
   */
  private tick(): void {
    this.addTimer(this.monotonicNs() + 100e6, () => {
      wakeCounter.pending++;
      if (this.tasks.size > 0) this.tick();
    });
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
      // Expired timers arrive through the platform's timer (a host event).
      const ev = this.platform.wait();
      if (ev.kind === 'host') this.onHostEvents(this.platform.takeHostEvents());
      else if (ev.kind === 'stop') {
        const t = ev.ctx.owner as Task | null;
        if (t) this.runner.onStop(t, ev.stop);
      } else if (this.tasks.size === 0) break;
    }
    this.log(`interrupted stops: ${this.runner.interrupts}`);
    return this.initStatus ?? 0;
  }

  exitGroup(tg: ThreadGroup, signal: number, code = 0): void {
    this.lifecycle.exitGroup(tg, signal, code);
  }
}
