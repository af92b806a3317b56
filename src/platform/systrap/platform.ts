// The systrap platform: application threads trap with seccomp (SIGSYS) and
// signals into a handler of the stub, which hands the trap to the Sentry
// through shared memory; no ptrace stop per system call. The master stub,
// the forking of stubs, mapping changes and thread creation are the ptrace
// platform's (PtracePlatform, StubProcess): they run in each stub's leader
// thread, which stays traced and never runs application code.
//
// The wait: poll the state word of every thread running application code,
// spin a little while traps keep coming, then sleep in one epoll_wait on a
// set that holds the eventfd the stubs write when the Sentry sleeps and the
// Sentry's own epoll set (host fds, the kernel's timerfd, the stubs' pidfds).

import * as fs from 'node:fs';
import * as libc from '../../host/libc';
import { type AddressSpace, HOST_IN, type HostWatch, type PlatformEvent, type Stop } from '../platform';
import { PtracePlatform } from '../ptrace/platform';
import { StubError } from '../ptrace/stub';
import { NO_REPORT, StubPool } from '../ptrace/stub_pool';
import { STUB_BASE, STUB_DATA, stubElf } from '../ptrace/stub_elf';
import { sentryThread } from '../thread';
import { filterPage } from './filters';
import { SystrapProcess } from './process';
import { type Placement, TrapPlacement } from './placement';
import { SpinBudget } from './spin';
import { RunningThreads } from './running';
import type { SystrapThread } from './thread';
import {
  AREAS_END, F_LEADER_MASK, F_SIGACTION, G_ONE, G_SLEEPING, G_SPIN, HANDLER_ADDR, RESTORER_ADDR, STUB_FILTER, STUB_GLOBAL, SYSTRAP_CODE,
} from './stub_code';

const SYS_MMAP = 9;
const SYS_MPROTECT = 10;
const SYS_RT_SIGACTION = 13;
const SYS_RT_SIGPROCMASK = 14;
const SYS_PRCTL = 157;
const SYS_SECCOMP = 317;
const SYS_PIDFD_OPEN = 434;
const PR_SET_NO_NEW_PRIVS = 38;
const RLIMIT_CORE = 4;
const MAP_SHARED_FIXED = 0x11;
const SA_SIGINFO = 4;
const SA_ONSTACK = 0x08000000;
const SA_RESTORER = 0x04000000;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
const EPOLL_CTL_ADD = 1;
const EPOLLIN = 1;
const EPOLLET = 1 << 31;
const WNOHANG = 1;
const WALL = 0x40000000;
/** Tokens in the blocking set: the stubs' eventfd, the Sentry's own set. */
const EVFD_TOKEN = 1;
const EPFD_TOKEN = 2;
/** Signals the leader never blocks: synchronous ones (blocking them would reset the handler when raised) and SIGTRAP (its injections end in int3). */
const LEADER_UNBLOCKED = [4, 5, 7, 8, 11, 31];
const SIGCHLD = 17;
/**
 * The Sentry's spin after its last trap (ns), adaptive between these (spin.ts), when the threads run apart
 * (placement.ts): a getpid's way back from the other CPU takes ~5 us here, a compiler's next call tens.
 */
const SENTRY_SPIN_MIN = 10_000;
const SENTRY_SPIN_MAX = 100_000;
/**
 * A stub's spin for its answer before it sleeps in futex, in iterations of `pause` (about 40 ns each on these
 * EPYC VMs), adaptive too, when apart: the Sentry's work per trap is ~1.2 us at the median, tens of us for a file's open.
 */
const STUB_SPIN_MIN = 100;
const STUB_SPIN_MAX = 2_000;
/** Spin only when the last trap is this recent (ns). */
const RECENT_NS = 1_000_000;
/** Nothing of ours for this long: a sandbox sharing the thread is idle (see Platform.wait). */
const IDLE_NS = 2_000_000;
/** Monotonic ns as a double (performance.now: no BigInt per trap, as process.hrtime.bigint would make). */
const nowNs = (): number => performance.now() * 1e6;
/** Emptied stubs kept for the next forks, as on ptrace: a shell's fork+exec+exit cycle needs one, a parallel make a few. */
const SPARE_STUBS = 4;
/**
 * Polls of a spin between two reads of the clock: a poll is a few ns, a read about 0.1 us and a number the
 * host's clock call allocates (~200 bytes of garbage per trap at 16).
 */
const SPIN_POLLS = 64;
/** Stops served between looks at host events while traps keep coming. */
const HOST_CHECK_EVERY = 64;

/**
 * Can this host run systrap stubs? (x86-64 Linux; seccomp itself is tried when the master starts.)
 * @public sandbox.ts requires this module only when systrap is asked for (knip does not follow require).
 */
export function systrapSupported(): string | null {
  if (process.arch !== 'x64' || process.platform !== 'linux') return 'not x86-64 Linux';
  return null;
}

/** @public (see systrapSupported) */
export class SystrapPlatform extends PtracePlatform {
  // Set while the base constructor starts the master (stubFd4, confineMaster): declared, never re-initialised.
  declare private evfd: number;
  declare private globalFrame: number;
  declare private global: Int32Array;
  /** Application threads running application code: what the poll looks at. */
  private readonly runningSet = new RunningThreads<SystrapThread>();
  private readonly procs = new Set<SystrapProcess>();
  /** Stubs of ended processes, emptied, for the next forks (SystrapProcess.retire). */
  private readonly spares = new StubPool<SystrapProcess>(SPARE_STUBS);
  /** Stops to report before anything else: threads of a process that died. */
  private readonly gone: Array<{ kind: 'stop'; ctx: SystrapThread; stop: Stop }> = [];
  private readonly pidWatches = new Map<SystrapProcess, HostWatch>();
  private readonly sleepEvents = Buffer.alloc(12 * 4);
  private readonly evBuf = Buffer.alloc(8);
  private readonly statusBuf = new Int32Array(1);
  private sinceHostCheck = 0;
  private evWakes = 0;
  private readonly sentrySpin = new SpinBudget(SENTRY_SPIN_MIN, SENTRY_SPIN_MAX, SENTRY_SPIN_MIN);
  /** The stubs' spin, which the Sentry adapts at each answer (the global page's G_SPIN). */
  readonly stubSpin = new SpinBudget(STUB_SPIN_MIN, STUB_SPIN_MAX, STUB_SPIN_MIN);
  /** Where the application threads run and whether the two sides spin (placement.ts). */
  readonly placement: TrapPlacement;
  /** The stubs' spin as last written to the global page's G_SPIN (only the Sentry writes it). */
  private stubSpinNow = 0;
  /** When the last trap was taken (monotonic ns): the poll spins only while traps are recent. */
  private lastTrapNs = 0;
  /** The clock as the wait last read it (monotonic ns): a trap's time, to within a spin's SPIN_POLLS polls. */
  private clockNs = 0;
  declare private sleepEpfd: number;
  /** A set holding the stubs' eventfd alone, level-triggered: a new thread's first report is awaited there. */
  declare private startEpfd: number;

  /** Whether system call sites are patched (patch.ts); TSVISOR_SYSTRAP_PATCH=0 turns it off. */
  private readonly patching = process.env.TSVISOR_SYSTRAP_PATCH !== '0';

  constructor() {
    super('systrap');
    const fixed = process.env.TSVISOR_SYSTRAP_PLACEMENT;
    this.placement = new TrapPlacement(this.cpus, this.stats, fixed === 'apart' || fixed === 'together' ? (fixed as Placement) : null);
    // Each decision of the placement on stderr, for a bench or a person looking at why it chose what it did.
    if (process.env.TSVISOR_SYSTRAP_PLACEMENT_TRACE === '1') this.placement.trace = (line) => fs.writeSync(2, `systrap placement: ${line}\n`);
    this.stubSpinNow = this.placement.apart ? Math.max(STUB_SPIN_MIN, this.stubSpin.next()) : 0;
    Atomics.store(this.global, G_SPIN / 4, this.stubSpinNow);
    // The master's own stub range reaches over the areas: nothing of the application may go there.
    for (const r of this.reserved) if (r.name === '[stub]') r.end = AREAS_END;
    this.sleepEpfd = libc.epoll_create1(EFD_CLOEXEC);
    // Edge-triggered: each stub write wakes the Sentry once; the counter is drained only now and then.
    this.addToSleepSet(this.evfd, EVFD_TOKEN, EPOLLET);
    this.addToSleepSet(this.epfd, EPFD_TOKEN, 0);
    this.startEpfd = libc.epoll_create1(EFD_CLOEXEC);
    const ev = Buffer.alloc(12);
    ev.writeUInt32LE(EPOLLIN, 0);
    if (libc.epoll_ctl(this.startEpfd, EPOLL_CTL_ADD, this.evfd, ev) !== 0) throw new Error(`epoll_ctl of the start set: errno ${libc.errno()}`);
  }

  private addToSleepSet(fd: number, token: number, flags: number): void {
    const ev = Buffer.alloc(12);
    ev.writeUInt32LE((EPOLLIN | flags) >>> 0, 0);
    ev.writeUInt32LE(token, 4);
    if (libc.epoll_ctl(this.sleepEpfd, EPOLL_CTL_ADD, fd, ev) !== 0) throw new Error(`epoll_ctl of the sleep set: errno ${libc.errno()}`);
  }

  protected override stubImage(): Buffer {
    return stubElf(SYSTRAP_CODE);
  }

  protected override stubFd4(): number {
    if (this.evfd === undefined) {
      this.evfd = libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (this.evfd < 0) throw new Error(`eventfd: errno ${libc.errno()}`);
    }
    return this.evfd;
  }

  /** The master's set-up: its shared pages, the handlers, the leader's mask, then the control filter. */
  protected override confineMaster(): void {
    const m = this.master;
    const frame = this.memfile.alloc(1);
    this.filterFrame = frame;
    const act = Buffer.alloc(32);
    act.writeBigUInt64LE(BigInt(HANDLER_ADDR), 0);
    act.writeBigUInt64LE(BigInt(SA_SIGINFO | SA_ONSTACK | SA_RESTORER), 8);
    act.writeBigUInt64LE(BigInt(RESTORER_ADDR), 16);
    act.writeBigUInt64LE(0xffffffffffffffffn, 24);
    let mask = 0xffffffffffffffffn;
    for (const s of LEADER_UNBLOCKED) mask &= ~(1n << BigInt(s - 1));
    const leaderMask = Buffer.alloc(8);
    leaderMask.writeBigUInt64LE(mask);
    const { ctlProg } = filterPage(this.memfile.bytes(frame), this.top, this.reserved, act, leaderMask);
    const check = (what: string, r: number, want: number): void => {
      if (r !== want) throw new StubError(`systrap stub setup: ${what} failed (${r})`);
    };
    check('mmap of the filter page', m.inject(SYS_MMAP, [STUB_FILTER, 4096, 1, MAP_SHARED_FIXED, 3, frame * 4096]), STUB_FILTER);
    this.globalFrame = this.memfile.alloc(1);
    const g = this.memfile.bytes(this.globalFrame);
    this.global = new Int32Array(g.buffer, g.byteOffset, 1024);
    g.writeBigUInt64LE(1n, G_ONE);
    g.writeInt32LE(0, G_SPIN);
    check('mmap of the global page', m.inject(SYS_MMAP, [STUB_GLOBAL, 4096, 3, MAP_SHARED_FIXED, 3, this.globalFrame * 4096]), STUB_GLOBAL);
    for (let sig = 1; sig < 32; sig++) {
      // SIGCHLD keeps the stub's SIG_IGN: a stub forked from the master is reaped by the host when it ends, never left a zombie.
      if (sig === 9 || sig === 19 || sig === SIGCHLD) continue;
      check(`rt_sigaction(${sig})`, m.inject(SYS_RT_SIGACTION, [sig, STUB_FILTER + F_SIGACTION, 0, 8]), 0);
    }
    check('rt_sigprocmask', m.inject(SYS_RT_SIGPROCMASK, [2, STUB_FILTER + F_LEADER_MASK, 0, 8]), 0);
    // A stub the host kills for a blocked trap (the application forged its own mask) leaves no core file on the host.
    if (libc.prlimit(m.pid, RLIMIT_CORE, Buffer.alloc(16), null) !== 0) throw new StubError(`prlimit(RLIMIT_CORE): errno ${libc.errno()}`);
    check('mprotect of the code', m.inject(SYS_MPROTECT, [STUB_BASE, STUB_DATA - STUB_BASE, 4 /* PROT_EXEC */]), 0);
    check('PR_SET_NO_NEW_PRIVS', m.inject(SYS_PRCTL, [PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0]), 0);
    check('seccomp', m.inject(SYS_SECCOMP, [1, 0, ctlProg]), 0);
  }

  override newAddressSpace(): AddressSpace {
    const spare = this.spares.take(this.leaderReports);
    if (spare) {
      this.stats.stubsReused = (this.stats.stubsReused ?? 0) + 1;
      return spare;
    }
    const leader = this.forkStub(null);
    this.stats.stubsForked = (this.stats.stubsForked ?? 0) + 1;
    const p = new SystrapProcess(leader, this.memfile, this.runningSet, this.stubSpinner, this.cpus, this.stats, this.patching);
    p.pool = this.spares;
    try {
      leader.attachControlPage(this.memfile);
      p.pidfd = libc.syscall3(SYS_PIDFD_OPEN, leader.pid, 0, 0);
      if (p.pidfd < 0) throw new StubError(`pidfd_open: errno ${libc.errno()}`);
      libc.fcntl(p.pidfd, 2 /* F_SETFD */, 1 /* FD_CLOEXEC */);
      this.pidWatches.set(p, this.watch(p.pidfd, HOST_IN, () => this.reap(p)));
    } catch (e) {
      leader.release();
      throw e;
    }
    p.onGone = (th) => this.gone.push({ kind: 'stop', ctx: th, stop: { kind: 'gone', status: 9 } });
    this.procs.add(p);
    return p;
  }

  /**
   * A retiring leader's report (its emptying batch's trap), for the pool:
   * systrap's wait never takes the leaders' reports (only injections do,
   * each waiting for its own), so the host has it, or nothing yet.
   */
  private readonly leaderReports = {
    reportOf: (tid: number): number | null => {
      const r = libc.waitpid(tid, this.statusBuf, WNOHANG | WALL);
      if (r === 0) return NO_REPORT;
      return r === tid ? this.statusBuf[0] : null;
    },
  };

  /** The stub process has ended (every thread): reap it, report threads the kernel still had, give back its areas. */
  private reap(p: SystrapProcess): void {
    const r = libc.waitpid(p.pid, this.statusBuf, WNOHANG | WALL);
    if (r === 0) return;
    const status = r === p.pid ? this.statusBuf[0] : 9;
    if (!p.dead) {
      for (const th of p.threads) this.gone.push({ kind: 'stop', ctx: th, stop: { kind: 'gone', status } });
      p.dead = true;
      for (const th of [...p.threads]) p.threadGone(th);
    }
    const w = this.pidWatches.get(p);
    if (w) this.unwatch(w);
    this.pidWatches.delete(p);
    libc.close(p.pidfd);
    p.pidfd = -1;
    p.freeAreas();
    this.procs.delete(p);
  }

  /**
   * The CPU policy looks at the threads running application code: a
   * compute-bound one may leave the Sentry's CPU (its traps then cross CPUs,
   * which the spins are for), one that traps often comes back.
   */
  protected override appThreads(): Iterable<SystrapThread> {
    return this.runningSet;
  }

  protected override stubPids(): number[] {
    const tids: number[] = [];
    // Each process's leader too: its batches and clones are ptrace round trips with the Sentry, and its new threads take its CPU.
    for (const p of this.procs) {
      tids.push(p.pid);
      for (const th of p.threads) tids.push(th.tid);
    }
    return [...super.stubPids(), ...tids];
  }

  override wait(): PlatformEvent {
    this.cpuUpkeep();
    const g = this.gone.shift();
    if (g) return g;
    const shared = sentryThread.shared;
    if (++this.sinceHostCheck >= HOST_CHECK_EVERY) {
      this.sinceHostCheck = 0;
      if (this.sleep(0)) return this.hostEvent();
    }
    // One clock read per wait: the traps this wait finds are stamped with it (to within a spin's clock reads below).
    const now = (this.clockNs = nowNs());
    let ev = this.poll();
    if (ev) return ev;
    // Spin while traps are recent and spinning has paid lately, then sleep.
    // Together on one CPU, a spin would only keep the stub it waits for off that CPU. Apart, never below the minimum:
    // a zero spin there is a futex wake-up across CPUs for every trap, worse than together, and the placement's to end.
    const budget = this.placement.apart && now - this.lastTrapNs < RECENT_NS ? Math.max(SENTRY_SPIN_MIN, this.sentrySpin.next()) : 0;
    if (budget > 0) {
      const until = now + budget;
      // The clock every SPIN_POLLS polls (a read costs about as much as a few polls): a trap is seen sooner.
      for (let i = 1; ; i++) {
        ev = this.poll();
        if (ev) {
          this.sentrySpin.hit();
          this.stats.spinHits++;
          return ev;
        }
        if (i % SPIN_POLLS === 0 && (this.clockNs = nowNs()) >= until) break;
      }
      this.sentrySpin.miss();
    }
    if (shared) return { kind: 'yield', idle: now - this.lastTrapNs > IDLE_NS };
    for (;;) {
      // Say so first, then look once more: a stub that trapped before it saw the flag wrote nothing.
      Atomics.store(this.global, G_SLEEPING / 4, 1);
      ev = this.poll();
      const host = ev ? false : this.sleep(-1);
      Atomics.store(this.global, G_SLEEPING / 4, 0);
      if (!ev) this.clockNs = nowNs();
      if (ev) return ev;
      this.stats.sleeps++;
      if (host) return this.hostEvent();
      ev = this.poll();
      if (ev) return ev;
    }
  }

  /** The first thread that has published a trap, as a stop (or a queued 'gone'); null if none. */
  private poll(): PlatformEvent | null {
    const running = this.runningSet.items;
    for (let i = 0; i < this.runningSet.size; i++) {
      const th = running[i]!;
      if (!th.trapped()) continue;
      const ev = this.report(th);
      if (ev) return ev;
      // Not reported (it ended): another thread took its slot, look at that one.
      i--;
    }
    return this.gone.shift() ?? null;
  }

  /** What a thread's answer tells of the stubs' spin: it slept (the spin ran out) or was still spinning. */
  private readonly stubSpinner = {
    answered: (slept: boolean, spun: number): void => {
      if (slept) this.stats.stubWakes = (this.stats.stubWakes ?? 0) + 1;
      if (spun > 0) {
        if (slept) this.stubSpin.miss();
        else this.stubSpin.hit();
      }
      // Written only when it changes: the stubs read this word at every trap, and each write takes its cache line from them.
      const spin = this.placement.apart ? Math.max(STUB_SPIN_MIN, this.stubSpin.next()) : 0;
      if (spin !== this.stubSpinNow) {
        this.stubSpinNow = spin;
        Atomics.store(this.global, G_SPIN / 4, spin);
      }
    },
    current: (): number => this.stubSpinNow,
    awaitTrap: (ready: () => boolean, timeoutMs: number): void => {
      // Drained first, the eventfd is readable only for a write from now on (a stub writes it when it traps while the Sentry sleeps).
      libc.read(this.evfd, this.evBuf, 8);
      Atomics.store(this.global, G_SLEEPING / 4, 1);
      if (!ready()) libc.epoll_wait(this.startEpfd, this.sleepEvents, 1, timeoutMs);
      Atomics.store(this.global, G_SLEEPING / 4, 0);
    },
  };

  private hostEvent(): PlatformEvent {
    this.stats.hostEvents++;
    return { kind: 'host' };
  }

  /** One epoll_wait on the sleep set; drains the eventfd; true when the Sentry's own set has events. */
  private sleep(timeout: number): boolean {
    const n = libc.epoll_wait(this.sleepEpfd, this.sleepEvents, 4, timeout);
    let host = false;
    for (let i = 0; i < n; i++) {
      const token = this.sleepEvents.readUInt32LE(i * 12 + 4);
      // The counter stays far from its limit (2^64 - 2) if read every 2^20 wake-ups.
      if (token === EVFD_TOKEN && (++this.evWakes & 0xfffff) === 0) libc.read(this.evfd, this.evBuf, 8);
      else if (token === EPFD_TOKEN) host = true;
    }
    return host;
  }

  /** Take a published trap; null when it is not to be reported (a doomed thread's end, a process ended for a bad frame). */
  private report(th: SystrapThread): PlatformEvent | null {
    this.runningSet.delete(th);
    this.lastTrapNs = this.clockNs;
    const stop = th.take();
    if (stop === null) {
      // The application wrote its own frame description: this thread cannot be resumed faithfully. End the process.
      th.proc.killForBadFrame();
      return this.gone.shift() ?? null;
    }
    if (th.doomed) {
      th.exitNow();
      return null;
    }
    this.cpus.noteStop(th.cpu, th);
    this.placement.noteTrap(this.lastTrapNs);
    this.placement.place(th);
    if (stop.kind === 'fault') this.stats.faultStops++;
    else if (stop.kind === 'syscall') this.stats.syscallStops++;
    // The thread's own event object, refilled: the kernel's loop reads it at once and keeps nothing of it.
    const ev = th.stopEvent;
    ev.stop = stop;
    return ev;
  }

  override shutdown(): void {
    this.spares.close();
    for (const p of [...this.procs]) {
      p.release();
      const w = this.pidWatches.get(p);
      if (w) this.unwatch(w);
      if (p.pidfd >= 0) libc.close(p.pidfd);
    }
    this.procs.clear();
    super.shutdown();
    libc.close(this.sleepEpfd);
    libc.close(this.startEpfd);
  }
}
