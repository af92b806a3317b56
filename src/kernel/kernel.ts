// The kernel: the PID namespace, the scheduler loop and timers. Everything
// runs on the Sentry's main thread: the loop blocks in the platform's wait()
// when no JavaScript work is pending, serves one stop or dispatches host
// events (fd readiness through the platform's watches, the timer), and lets
// the continuations of woken tasks run (microtasks, no macrotask hop) until
// every one has resumed its context or blocked again.

import { CgroupTree } from './cgroup';
import { KcmpOrder } from './kcmp_order';
import { defaultNetSysctl, HostSocketBudget, LoopbackTable, type NetworkConfig } from './netinfo';
import { unmapPastEof } from './filemaps';
import { kernelAccessOom } from './oom';
import type { MemCharge } from '../platform/memcharge';
import type { MemoryFile } from '../platform/memfile';
import { HugePool } from '../mm/hugetlb';
import type { Platform } from '../platform/platform';
import type { HostInfo } from '../host/hostinfo';
import type { SyscallDef } from './syscall';
import type { VirtualFilesystem } from '../vfs/vfs';
import * as S from '../abi/signals';
import { SignalManager } from './signals';
import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import { FutexTable } from './futex';
import { HostScheduling } from './host_sched';
import { Lifecycle, LifecycleHooks } from './lifecycle';
import { TaskRunner } from './runner';
import { KernelLog } from './klog';
import { KeyManager } from './keys/keys';
import type { Strace } from './strace/strace';
import { TimerQueue } from './timers';
import { PauseControl } from './pause';
import { NsProxy } from './namespaces';
import { type Pid, PidNamespace } from './pid_ns';
import { UserNamespace } from '../auth/userns';
import { Ptrace } from './ptrace';
import { NodeTurns } from './node_turns';
import { PseudoFs } from '../vfs/numbering';
import { ShmNamespace } from './ipc/shm';
import { SemNamespace } from './ipc/sem';
import { MsgNamespace } from './ipc/msg';
import { VmSysctl } from '../mm/vm_sysctl';

/** Microtask rounds the loop waits for woken continuations before it takes a macrotask turn instead. */
const MAX_SETTLE_ROUNDS = 64;

export interface KernelOptions {
  platform: Platform;
  vfs: VirtualFilesystem;
  /** What the sandbox shows of the host machine (CPUs, HWCAP), captured once at boot. */
  hostInfo: HostInfo;
  hostname?: string;
  /** The network the application gets (default: sandbox mode, loopback only). */
  network?: NetworkConfig;
  log?: (msg: string) => void;
  warn?: (msg: string) => void;
  /** The huge page pool, when /sys (built before the kernel) shares it. */
  hugePool?: HugePool;
}

/** What the layers below net/ (procfs) ask of the sandbox's own network stack. */
export interface KernelNetStack {
  /** The text of /proc/net/{tcp,tcp6,udp,udp6}. */
  procNet(file: 'tcp' | 'tcp6' | 'udp' | 'udp6'): string;
  /** The sandbox ends: the host sockets behind the stack (the NAT's, the taken-over links') close, before the platform's event service goes. */
  shutdown(): void;
}

export class Kernel {
  readonly platform: Platform;
  readonly memfile: MemoryFile;
  readonly vfs: VirtualFilesystem;
  readonly hostInfo: HostInfo;
  /** The network mode and the interface table (kernel/netinfo.ts). */
  readonly network: NetworkConfig;
  readonly signals = new SignalManager(this);
  readonly lifecycle = new Lifecycle(this);
  /** The host threads' nice values and CPUs (kernel/host_sched.ts). */
  readonly hostSched = new HostScheduling(this);
  readonly runner = new TaskRunner(this);
  /** ptrace between sandboxed tasks (kernel/ptrace.ts). */
  readonly ptrace = new Ptrace(this);
  /** Futex wait queues of this sandbox (kernel/futex.ts). */
  readonly futexes = new FutexTable();
  /** Fork, exec and task-exit work of syscall families (registered from the table). */
  readonly hooks = new LifecycleHooks();
  /** The cgroup v2 hierarchy (kernel/cgroup.ts; its files are fsimpl/cgroupfs). */
  readonly cgroups: CgroupTree;
  readonly tasks = new Map<number, Task>();
  /** Events reserved by every AIO context of the sandbox (fs.aio-nr), at most AIO_MAX_NR. */
  aioNr = 0;
  /** kernel.core_pattern and kernel.core_uses_pid (/proc/sys, root may set them): where core dumps go. */
  corePattern = 'core';
  coreUsesPid = 0;
  /** vm.max_map_count (/proc/sys/vm, root may set it), obeyed by every address space of the sandbox. */
  readonly vmSysctl = new VmSysctl();
  /** The huge page pool (vm.nr_hugepages, MAP_HUGETLB), its pages frames of the memory file. */
  readonly hugePool: HugePool;
  /** How kcmp(2) orders kernel objects (a per-sandbox scrambling). */
  readonly kcmpOrder = new KcmpOrder();
  /** Keys and keyrings (add_key, request_key, keyctl), their quotas and kernel.keys.* (kernel/keys/). */
  readonly keys: KeyManager = new KeyManager(() => this.memfile.heap, () => [...this.tasks.values()].map((t) => t.creds));
  readonly groups = new Map<number, ThreadGroup>();
  /**
   * The sandbox's bound AF_UNIX names (socket/unix/names.ts), abstract or of
   * socket nodes, each to its socket (typed opaquely: sockets live above the kernel).
   */
  readonly unixNames = new Map<string, object>();
  /** Unix sockets with references in flight, for the collector of unreachable cycles. */
  readonly unixInFlight = new Set<object>();
  /** The initial network namespace's own stack (net/stack.ts) in sandbox and none modes, made by its first AF_INET/AF_INET6 socket. */
  get netstack(): KernelNetStack | null {
    return this.rootNs.net.stack;
  }
  private sockfsCache: PseudoFs | null = null;
  /** sockfs: st_dev and inode numbers of sockets. */
  get sockfs(): PseudoFs {
    return (this.sockfsCache ??= new PseudoFs(this.vfs.devs.take()));
  }
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
  /** The sandbox's initial namespaces (its initial user namespace is rootNs.mnt.owner). */
  readonly rootNs: NsProxy;
  /** Live tasks allowed in this sandbox (each costs a host process). */
  maxTasks = 4096;
  readonly bootRealtimeNs: number;
  readonly bootMonotonicNs: number;
  /** Kernel timers (a heap of records dispatched by kind: kernel/timers.ts). */
  readonly timers: TimerQueue;
  /** Kernel.pause()/resume(): quiescence of every task (kernel/pause.ts). */
  readonly pauser = new PauseControl(this);
  /** The earliest kernel timer (monotonic ns, 0: none); the host timer is set to it or to Node's next timer. */
  private kernelDeadline = 0;
  /** Yielding to Node's event loop (kernel/node_turns.ts). */
  private readonly nodeTurns: NodeTurns;
  /** Continuations made runnable (a task woken, a child to start) since the loop last let them run. */
  private wakes = 0;
  /** System calls whose handler returned a promise that has not settled yet. */
  private asyncCalls = 0;
  /** Tasks parked in Task.block (a subset of asyncCalls). */
  private blockedTasks = 0;
  /** Times continuations were still running after MAX_SETTLE_ROUNDS microtask rounds (a macrotask turn then). */
  settleFallbacks = 0;
  /** Exit status of the first process (wait status encoding) once it is gone. */
  initStatus: number | null = null;
  /** Called after the OOM killer killed a process, with the charge group it looked in (a pod container's; null: the sandbox's). The OCI runtime tells the host cgroup, see cli/cgroups.ts. */
  onOomKill: ((charge: MemCharge | null) => void) | null = null;
  private readonly loggedOnce = new Set<string>();

  constructor(opts: KernelOptions) {
    this.platform = opts.platform;
    this.memfile = opts.platform.memfile;
    this.hugePool = opts.hugePool ?? new HugePool(this.memfile);
    this.vfs = opts.vfs;
    this.vfs.onShrink = (inode, size) => unmapPastEof(this, inode.fs.dev, inode.ino, size);
    this.memfile.userOom = (mm) => kernelAccessOom(this, mm);
    this.hostInfo = opts.hostInfo;
    this.network = opts.network ?? { mode: 'sandbox', interfaces: new LoopbackTable(), hostSockets: new HostSocketBudget(0), netlinkPorts: new Set(), sysctl: defaultNetSysctl() };
    this.log = opts.log ?? (() => {});
    this.warn = opts.warn ?? ((m) => this.log(m));
    this.nodeTurns = new NodeTurns(this.platform, () => this.armHostTimer());
    // System V shared memory lives in IPC namespaces (kernel/ipc/shm.ts); this is the initial one's.
    this.rootNs = NsProxy.initial(UserNamespace.initial(), opts.vfs.rootMount, opts.hostname ?? 'tsvisor', new ShmNamespace(this.memfile, () => this.realtimeNs()), new SemNamespace(), new MsgNamespace(), this.network);
    this.timers = new TimerQueue(this, (d) => {
      this.kernelDeadline = d;
      this.armHostTimer();
    });
    // Boot is the host's, as a container on Linux sees it: uptime (sysinfo, /proc/uptime) is then
    // CLOCK_BOOTTIME, which the application also reads, and a time namespace's negative boot offset
    // keeps the two in step (a sandbox-relative uptime of a second or two went below 0: sysinfo03).
    const [bs, bns] = this.clock(7 /* CLOCK_BOOTTIME */);
    const sinceBoot = bs * 1e9 + bns;
    this.bootMonotonicNs = this.monotonicNs() - sinceBoot;
    const mf = this.memfile;
    this.cgroups = new CgroupTree({ groups: this.groups, tasks: this.tasks, charges: mf.charges, get limitPages() { return mf.limitPages; } });
    this.bootRealtimeNs = this.realtimeNs() - sinceBoot;
  }

  logOnce(key: string, msg: string): void {
    if (this.loggedOnce.has(key)) return;
    this.loggedOnce.add(key);
    this.log(msg);
  }

  /** A new pid in PID namespace ns and its ancestors (kernel/pid_ns.ts), with the innermost numbers chosen if asked (clone3's set_tid). */
  allocPid(ns: PidNamespace, chosen?: readonly number[], mayChoose?: (ns: PidNamespace) => boolean): Pid {
    return ns.alloc(chosen, mayChoose);
  }

  /**
   * Kernel-wide id g left Kernel.tasks or Kernel.groups, or stopped naming a
   * process group or session: once it is none of these, its numbers are free
   * in every namespace (Linux keeps a pid while a group or session has it).
   */
  releasePid(g: number): void {
    if (this.tasks.has(g) || this.groups.has(g)) return;
    for (const tg of this.groups.values()) if (tg.pgid === g || tg.sid === g) return;
    const p = this.rootNs.pid.byNr.get(g);
    if (p) PidNamespace.free(p);
  }

  /** monotonicNs, bound once (NodeTurns.due reads it only when it needs the time). */
  private readonly monotonicClock = (): number => this.monotonicNs();

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

  // ---- host events ------------------------------------------------------------

  /** Set the host timer (one-shot) to the earlier deadline; every call re-arms it, as the timer queue expects after an expiry. */
  private armHostTimer(): void {
    const k = this.kernelDeadline, r = this.nodeTurns.deadline;
    this.platform.setTimer(k && r ? Math.min(k, r) : k || r);
  }

  private onHostEvents(): void {
    const timerFired = this.platform.dispatchHostEvents();
    // Timers may also have expired while the waker slept on an fd.
    const now = this.monotonicNs();
    this.nodeTurns.checkTimer(now);
    const next = this.timers.next;
    if (timerFired || (next && next <= now)) this.timers.runDue(now);
  }

  // ---- the loop -------------------------------------------------------------

  /** A continuation became runnable (a blocked task woken, a child to start): the loop lets it run before blocking. */
  noteWake(): void {
    this.wakes++;
  }

  /** Bookkeeping of Task.block, so the loop knows when every continuation has come to rest. */
  taskBlocked(): void {
    this.blockedTasks++;
  }
  taskUnblocked(): void {
    this.blockedTasks--;
    this.wakes++;
  }

  /** The runner's bookkeeping of handlers that returned a promise. */
  asyncCallStarted(): void {
    this.asyncCalls++;
    this.wakes++;
  }
  asyncCallDone(): void {
    this.asyncCalls--;
  }

  /** Node has callbacks to run (host signals to forward, its own I/O): the loop yields to it once. */
  requestNodeTurn(): void {
    this.nodeTurns.request();
  }

  /** Continuations that may still be running: async calls not blocked. */
  private runnable(): number {
    return this.asyncCalls - this.blockedTasks;
  }

  /**
   * Let woken continuations run until each has resumed its context, blocked
   * again or finished: microtask rounds, no macrotask hop. A chain longer
   * than MAX_SETTLE_ROUNDS (or a continuation that waits for Node) gets one
   * macrotask turn, which runs every microtask there is.
   */
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

  private async settle(): Promise<void> {
    for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
      this.wakes = 0;
      await null;
      if (this.wakes === 0 && this.runnable() <= 0) return;
    }
    this.settleFallbacks++;
    this.wakes = 0;
    await new Promise<void>((r) => setImmediate(r));
  }

  /** Deliver a host signal sent to the Sentry to pid 1 of the sandbox. */
  forwardSignal(sig: number): void {
    const init = this.groups.get(1);
    this.log(`host signal ${sig} forwarded to pid 1`);
    if (init && !init.zombie) {
      // SIGTERM, SIGINT or SIGHUP for the sandbox itself (timeout, Ctrl-C, a
      // closed terminal) that init would drop, having no handler (Linux's
      // init rule): the sandbox ends as if init had died of it, as any other
      // command would, instead of running on unseen. An init that blocks it
      // (tini, waiting in sigtimedwait) gets it queued, as Linux queues it.
      const endsSandbox = (sig === S.SIGTERM || sig === S.SIGINT || sig === S.SIGHUP) && this.signals.initShielded(init, sig, true);
      if (endsSandbox) this.exitGroup(init, sig);
      // From outside the namespace: si_pid is 0, and init still needs a handler (but for SIGKILL/SIGSTOP).
      else this.signals.sendToGroup(init, sig, { signo: sig, code: 0, pid: 0, uid: 0 }, true);
    }
    this.noteWake();
  }

  /** Run until the first process exits; returns its wait status. */
  async run(): Promise<number> {
    for (;;) {
      if (this.wakes > 0) {
        await this.settle();
        this.nodeTurns.mayChange = true;
      }
      // Node's own callbacks (forwarded host signals above all) and timers
      // run only when the loop yields.
      if (this.nodeTurns.due(this.monotonicClock)) {
        await this.nodeTurns.turn();
        continue;
      }
      if (this.initStatus !== null && this.tasks.size === 0) break;
      // Quiescent under pause(): nothing may reach the application until resume().
      if (this.pauser.state !== 'running' && (await this.pauser.settle())) continue;
      // Expired timers arrive through the platform's timer (a host event).
      const ev = this.platform.wait();
      this.nodeTurns.waited();
      if (ev.kind === 'yield') {
        // Other sandboxes share the thread: let their loops (and timers) run.
        if (ev.idle) await new Promise<void>((r) => setTimeout(r, 1));
        else await this.nodeTurns.turn();
        this.nodeTurns.mayChange = true;
        continue;
      }
      if (ev.kind === 'host') this.onHostEvents();
      else if (ev.kind === 'stop') {
        const t = ev.ctx.owner as Task | null;
        if (t) this.runner.onStop(t, ev.stop);
      } else if (this.tasks.size === 0) break;
    }
    this.pauser.loopEnded();
    this.log(`interrupted stops: ${this.runner.interrupts}`);
    this.log(`settle fallbacks: ${this.settleFallbacks}`);
    return this.initStatus ?? 0;
  }

  exitGroup(tg: ThreadGroup, signal: number, code = 0): void {
    this.lifecycle.exitGroup(tg, signal, code);
  }
}
