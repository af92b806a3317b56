// The ptrace platform. The Sentry's main thread is the tracer of every stub. A
// "master" stub is started once with posix_spawn (in its own process group, on
// the tracer's CPU); new address spaces are forked from it by injection, so they
// are traced automatically and inherit its CPU and group. One more forked stub,
// the waker, sits in a host epoll_wait on a second epoll set that holds only the
// Sentry's (level-triggered): when a host fd the kernel watches becomes ready or
// the timer fires, it stops, and the single blocking waitpid() of the main loop
// sees it like any other stop. The waker never takes events out of the
// Sentry's set (edge-triggered ones would be lost): only the Sentry does. That epoll
// set is the host event service (HostEvents): persistent watches, each epoll
// entry tagged with a token that is never reused, so a report for a watch
// that is gone is recognised and dropped.

import * as fs from 'node:fs';
import * as libc from '../../host/libc';
import { HostFdWatches } from '../host_watches';
import { MemoryFile } from '../memfile';
import {
  type AddressSpace, type CpuTime, newPlatformStats, type HostWatch, type Platform, type PlatformEvent, type PlatformStats, Reg,
  type WatchOptions,
} from '../platform';
import * as P from './ptrace';
import { StubProcess } from './stub';
import { StubPool } from './stub_pool';
import { WaitReports } from './wait_reports';
import { StubError, StubThread } from './stub_thread';
import { sentryThread } from '../thread';
import { stubFilter } from './seccomp';
import { CpuPolicy, type StubCpu } from './affinity';
import { readHostLayout, readVdsoImage } from './host_layout';
import { signalStop, syscallStop } from './stops';
import { INJECT_ADDR, STUB_BASE, STUB_CTRL, STUB_DATA, stubElf } from './stub_elf';
import { FD_CLOEXEC } from '../../abi/fs';

/** Emptied stubs kept for the next forks: a shell's fork+exec+exit cycle needs one; a parallel make a few. */
const SPARE_STUBS = 4;
const EPOLL_CTL_ADD = 1;
const EPOLLIN = 1;
/** The epoll token of the timerfd; watches get tokens from 1 up. */
export const TIMER_TOKEN = 0;
const SYS_CLONE = 56;
const SYS_MMAP = 9;
const SYS_MPROTECT = 10;
const SYS_MUNMAP = 11;
const SYS_EPOLL_WAIT = 232;
const SYS_PRCTL = 157;
const SYS_SECCOMP = 317;
const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_SET_MODE_FILTER = 1;
const WAKER_SET_IN_STUB = 4;
const SIGCHLD = 17;
const F_SETFD = 2;
/** Host mappings a stub has besides the application's (code, scratch, control page, vDSO, vvar...), with room to spare. */
const STUB_OWN_MAPPINGS = 16;
/** How soon to ask Node's loop again when it has timers but reports pending work instead of a deadline (one HZ=250 tick). */
const RUNTIME_RECHECK_NS = 4_000_000;

/** The stub's fds: 3 = the memory file, 4 = the waker's epoll set. Nothing else may reach it. */
const STUB_FDS = 5;
/** Stops one sandbox serves in a row before the others on the thread get a turn. */
const FAIR_RUN = 8;
/**
 * With the thread shared, how long a poll keeps asking before it gives the
 * turn away: a resumed stub's next system call is back within this (a ptrace
 * round trip), so a busy sandbox does not pay a turn of the loop per call.
 */
const SPIN_NS = 50_000;
/** Nothing of ours for this long: the loop sleeps a millisecond between polls instead of spinning. */
const IDLE_NS = 2_000_000;

export class PtracePlatform implements Platform {
  readonly memfile = new MemoryFile();
  readonly stats: PlatformStats = newPlatformStats();
  /** The Sentry's epoll set: the timerfd and every watched host fd. */
  protected readonly epfd: number;
  /** The waker's epoll set: the Sentry's set alone (the stubs' fd 4). */
  protected readonly wakeEpfd: number;
  protected readonly timerfd: number;
  protected master!: StubProcess;
  /** The stubs' wait reports (waitpid over the master's process group). */
  private reports!: WaitReports;
  private waker: StubProcess | null = null;
  /** Every application thread's host thread, by tid: what the main wait reports stops of. */
  private readonly byTid = new Map<number, StubThread>();
  /** Stubs of ended processes, emptied, for the next forks (stub.ts, StubPool). */
  private readonly stubPool = new StubPool<StubProcess>(SPARE_STUBS);
  private readonly status = new Int32Array(1);
  protected readonly events = Buffer.alloc(12 * 64);
  /** The epoll registration of each watched host fd, by fd number and by token. */
  /** Every watch() on a host fd: one epoll entry per fd in the Sentry's set. */
  private readonly watches = new HostFdWatches((op, fd, events, token) => this.epollCtl(op, fd, events, token), TIMER_TOKEN + 1);
  protected reserved: Array<{ start: number; end: number; name: string }> = [];
  protected vdsoBase = 0;
  /** The end of every application's address space: below the stub and the host's vDSO (see readLayout). */
  protected top = 0;
  protected maxMappings = 0;
  /** The frame holding the seccomp program, still mapped in the master (stubs map their control page over it). */
  protected filterFrame = -1;
  /** At process exit (a Sentry crash included) nothing of the stubs' group may survive. */
  protected readonly killGroupAtExit = (): void => this.killGroup();
  /** Where the tracer and the stubs run (see affinity.ts): pinned together at the first wait, compute-bound stubs spread. */
  readonly cpus: CpuPolicy;
  protected onThread = false;
  /** Events served in a row while the thread is shared (a turn is handed on every FAIR_RUN). */
  private run = 0;
  /** When the last event came, while the thread is shared (monotonic ns). */
  private lastEventNs = 0;

  /** mode: 'systrap' builds a subclass's platform on the same master stub, with no waker (see platform/systrap). */
  constructor(protected readonly mode: 'ptrace' | 'systrap' = 'ptrace') {
    this.cpus = new CpuPolicy(this.stats, () => this.appThreads());
    this.epfd = libc.epoll_create1(0);
    this.wakeEpfd = libc.epoll_create1(0);
    this.timerfd = libc.timerfd_create(1 /* CLOCK_MONOTONIC */, 0o4000 /* TFD_NONBLOCK */);
    this.epollCtl(EPOLL_CTL_ADD, this.timerfd, EPOLLIN, TIMER_TOKEN);
    libc.fcntl(this.epfd, F_SETFD, FD_CLOEXEC);
    libc.fcntl(this.wakeEpfd, F_SETFD, FD_CLOEXEC);
    const ev = Buffer.alloc(12);
    ev.writeUInt32LE(EPOLLIN, 0);
    if (libc.epoll_ctl(this.wakeEpfd, EPOLL_CTL_ADD, this.epfd, ev) !== 0) throw new Error(`epoll_ctl of the waker's set: errno ${libc.errno()}`);
    libc.fcntl(this.timerfd, F_SETFD, FD_CLOEXEC);
    libc.fcntl(this.memfile.fd, F_SETFD, FD_CLOEXEC);
    this.startMaster();
    process.once('exit', this.killGroupAtExit);
    if (mode === 'ptrace') {
      this.waker = this.forkStub(null);
      this.armWaker();
    }
    sentryThread.join();
    this.onThread = true;
  }

  /** epoll_ctl on the Sentry's set; the event's data is a token (struct epoll_event is packed: u32 events, u64 data). Returns 0 or the errno. */
  protected epollCtl(op: number, fd: number, events: number, token: number): number {
    const ev = this.ctlBuf;
    ev.writeUInt32LE(events >>> 0, 0);
    ev.writeUInt32LE(token, 4);
    ev.writeUInt32LE(0, 8);
    return libc.epoll_ctl(this.epfd, op, fd, ev) === 0 ? 0 : libc.errno();
  }
  private readonly ctlBuf = Buffer.alloc(12);

  private startMaster(): void {
    const img = this.stubImage();
    const fd = libc.memfd_create('tsvisor-stub', 1 /* MFD_CLOEXEC */);
    libc.write(fd, img, img.length);
    const fa = Buffer.alloc(256);
    const attr = Buffer.alloc(512);
    libc.posix_spawn_file_actions_init(fa);
    // Two steps so the targets never equal the sources (dup2 onto itself keeps CLOEXEC).
    libc.posix_spawn_file_actions_adddup2(fa, this.memfile.fd, 1000);
    libc.posix_spawn_file_actions_adddup2(fa, this.stubFd4(), 1001);
    for (const f of [0, 1, 2, 3, 4]) libc.posix_spawn_file_actions_addclose(fa, f);
    libc.posix_spawn_file_actions_adddup2(fa, 1000, 3);
    libc.posix_spawn_file_actions_adddup2(fa, 1001, 4);
    // Node marks only its own fds close-on-exec: whatever else the caller left
    // open (a shell's 3<>file, a CI runner's sockets) would reach every stub.
    this.closeOthers(fa);
    libc.posix_spawnattr_init(attr);
    libc.posix_spawnattr_setflags(attr, 0x02 /* POSIX_SPAWN_SETPGROUP */ | 0x08 /* SETSIGMASK */);
    libc.posix_spawnattr_setpgroup(attr, 0);
    libc.posix_spawnattr_setsigmask(attr, Buffer.alloc(128));
    const out = [0];
    const path = `/proc/${process.pid}/fd/${fd}`;
    const rc = libc.posix_spawn(out, path, fa, attr, ['tsvisor-stub', null], [null]);
    libc.close(fd);
    if (rc !== 0) throw new Error(`cannot start the stub process: errno ${rc}`);
    const pid = out[0];
    if (libc.waitpid(pid, this.status, P.WALL) !== pid || !P.stopped(this.status[0])) {
      throw new Error(`stub process did not stop (status ${this.status[0].toString(16)})`);
    }
    // Inherited by every stub forked from the master and every thread made in one.
    // Systrap's application threads run untraced: no TRACECLONE there.
    const opts = P.PTRACE_O_TRACESYSGOOD | P.PTRACE_O_TRACEFORK | (this.mode === 'ptrace' ? P.PTRACE_O_TRACECLONE : 0) | P.PTRACE_O_EXITKILL;
    if (libc.ptrace(P.PTRACE_SETOPTIONS, pid, 0, opts) < 0) throw new Error(`PTRACE_SETOPTIONS: errno ${libc.errno()}`);
    const layout = readHostLayout(pid);
    this.reserved = layout.reserved;
    this.vdsoBase = layout.vdsoBase;
    this.top = layout.top;
    this.maxMappings = Math.max(0, layout.hostMaxMappings - STUB_OWN_MAPPINGS);
    this.master = new StubProcess(pid, this.reserved, this.vdsoBase, this.top, this.maxMappings, this.stats);
    this.reports = new WaitReports(pid);
    this.master.vdsoImage = readVdsoImage(pid, this.reserved);
    this.master.main.loadRegs();
    // The host's stack of the stub would sit where applications put theirs.
    for (const m of layout.hostStack) this.master.inject(SYS_MUNMAP, [m.start, m.end - m.start]);
    this.confineMaster();
  }

  /** Close every fd of the spawned stub from STUB_FDS up (closefrom, or each open fd where glibc lacks it). */
  private closeOthers(fa: Buffer): void {
    if (libc.posix_spawn_file_actions_addclosefrom_np) {
      if (libc.posix_spawn_file_actions_addclosefrom_np(fa, STUB_FDS) === 0) return;
    }
    for (const name of fs.readdirSync('/proc/self/fd')) {
      const fd = Number(name);
      // Skip the directory's own fd, closed by now: closing a closed fd fails the spawn.
      if (fd >= STUB_FDS && libc.fcntl(fd, 1 /* F_GETFD */, 0) >= 0) libc.posix_spawn_file_actions_addclose(fa, fd);
    }
  }

  /** The stub's image (the systrap platform appends its handlers). */
  protected stubImage(): Buffer {
    return stubElf();
  }

  /** The stub's fd 4: the waker's epoll set here. */
  protected stubFd4(): number {
    return this.wakeEpfd;
  }

  /** Put the master (and so every stub forked from it) under the stub seccomp filter. */
  protected confineMaster(): void {
    const m = this.master;
    // Execute-only stub code where the host can (x86 protection keys): the
    // application cannot read it. It could never write it (read-execute, and
    // its mprotect calls are the Sentry's). Without pkeys this stays r-x.
    const r0 = m.inject(SYS_MPROTECT, [STUB_BASE, STUB_DATA - STUB_BASE, 4 /* PROT_EXEC */]);
    if (r0 !== 0) throw new Error(`stub setup: mprotect of the stub's code failed (${r0})`);
    const frame = this.memfile.alloc(1);
    this.filterFrame = frame;
    const page = this.memfile.bytes(frame);
    const filter = stubFilter({ top: this.top, reserved: this.reserved });
    filter.copy(page, 64);
    page.writeUInt16LE(filter.length / 8, 0); // struct sock_fprog { len; filter }
    page.writeBigUInt64LE(BigInt(STUB_CTRL + 64), 8);
    let r = m.inject(SYS_MMAP, [STUB_CTRL, 4096, 1, 0x11, 3, frame * 4096]);
    if (r !== STUB_CTRL) throw new Error(`stub setup: mmap failed (${r})`);
    r = m.inject(SYS_PRCTL, [PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0]);
    if (r !== 0) throw new Error(`stub setup: PR_SET_NO_NEW_PRIVS failed (${r})`);
    r = m.inject(SYS_SECCOMP, [SECCOMP_SET_MODE_FILTER, 0, STUB_CTRL]);
    if (r !== 0) throw new Error(`stub setup: seccomp filter refused (${r})`);
    // The page stays: the filter allows no munmap above top. Stubs forked
    // from here map their own control page over it.
  }

  /** Fork a fresh, empty stub from the master. */
  protected forkStub(registry: Map<number, StubThread> | null): StubProcess {
    let child = -1;
    const r = this.master.inject(SYS_CLONE, [SIGCHLD, 0, 0, 0, 0], (pid) => (child = pid));
    if (r < 0 || child < 0) throw new StubError(`cannot fork a stub: ${r}`);
    // The child starts auto-attached with a SIGSTOP.
    const w = libc.waitpid(child, this.status, P.WALL);
    if (w !== child || !P.stopped(this.status[0])) throw new StubError('forked stub did not stop');
    const s = new StubProcess(child, this.reserved, this.vdsoBase, this.top, this.maxMappings, this.stats, registry, registry ? this.cpus : null);
    s.vdsoImage = this.master.vdsoImage;
    s.main.loadRegs();
    return s;
  }

  newAddressSpace(): AddressSpace {
    const spare = this.stubPool.take(this.reports);
    if (spare) {
      this.stats.stubsReused = (this.stats.stubsReused ?? 0) + 1;
      return spare;
    }
    const s = this.forkStub(this.byTid);
    this.stats.stubsForked = (this.stats.stubsForked ?? 0) + 1;
    s.pool = this.stubPool;
    try {
      s.attachControlPage(this.memfile);
    } catch (e) {
      s.release();
      throw e;
    }
    return s;
  }

  private armWaker(): void {
    if (!this.waker) return;
    const c = this.waker.main;
    c.regs.set(Reg.RAX, SYS_EPOLL_WAIT);
    c.regs.set(Reg.ORIG_RAX, -1);
    c.regs.set(Reg.RDI, WAKER_SET_IN_STUB);
    c.regs.set(Reg.RSI, STUB_BASE + 0x1000);
    c.regs.set(Reg.RDX, 1);
    c.regs.set(Reg.R10, -1);
    c.regs.set(Reg.RIP, INJECT_ADDR);
    c.flushRegs();
    libc.ptrace(P.PTRACE_CONT, this.waker.pid, 0, 0);
  }

  /** The CPU policy's upkeep at every wait: settle the tracer's CPU once, and time the next look at running threads. */
  protected cpuUpkeep(): void {
    if (!this.cpus.settled) this.cpus.settle(this.stubPids());
    if (this.cpus.checkWanted && this.cpuCheckAt === 0) {
      this.cpuCheckAt = Number(process.hrtime.bigint()) + this.cpus.nextCheckNs;
      this.armTimer();
    }
  }

  /** The application threads the CPU policy looks at when its timer fires. */
  protected appThreads(): Iterable<{ cpu: StubCpu; inApp: boolean; cpuTime(): CpuTime }> {
    return this.byTid.values();
  }

  wait(): PlatformEvent {
    this.cpuUpkeep();
    const shared = sentryThread.shared;
    if (!shared) this.run = 0;
    else if (++this.run > FAIR_RUN) {
      this.run = 0;
      return { kind: 'yield', idle: false };
    }
    let spinUntil = 0;
    for (;;) {
      const pid = this.reports.next(shared, this.byTid.size > 1);
      if (pid === 0) {
        const now = Number(process.hrtime.bigint());
        if (spinUntil === 0) spinUntil = now + SPIN_NS;
        if (now < spinUntil) continue;
        this.run = 0;
        return { kind: 'yield', idle: now - this.lastEventNs > IDLE_NS };
      }
      if (shared && pid > 0) this.lastEventNs = Number(process.hrtime.bigint());
      if (pid < 0) {
        const e = libc.errno();
        if (e === 4) continue; // EINTR
        return { kind: 'none' };
      }
      const s = this.reports.status;
      if (pid === this.waker?.pid) {
        if (!P.stopped(s)) throw new Error('the waker stub died');
        this.stats.hostEvents++;
        this.waker?.main.loadRegs();
        return { kind: 'host' };
      }
      const th = this.byTid.get(pid);
      if (!th) {
        // A released thread that stopped on its way to exit (a signal that was
        // already pending): let it go on to its exit call.
        if (P.stopped(s)) libc.ptrace(P.PTRACE_CONT, pid, 0, 0);
        continue;
      }
      if (th.parked) {
        // A spare stub's leader ends its emptying batch; any other parked
        // thread reports only its death (with its process): never resumed here.
        if (th.proc.retiring && th === th.proc.main) th.proc.retireStopped(s);
        else if (!P.stopped(s)) th.proc.parkedGone(th);
        continue;
      }
      if (!P.stopped(s)) {
        // A thread dies on its own only with its whole process (killed from outside, OOM).
        th.proc.dead = true;
        th.proc.threadGone(th);
        return { kind: 'stop', ctx: th, stop: { kind: 'gone', status: s } };
      }
      const sig = P.stopSig(s);
      th.inApp = false;
      if (th.doomed) {
        // Released while it ran: this stop (its interrupt, or a call it made meanwhile) is its end.
        th.exitNow();
        continue;
      }
      this.cpus.noteStop(th.cpu, th);
      if (sig === (P.SIGTRAP | 0x80)) {
        this.stats.syscallStops++;
        th.loadRegs();
        return { kind: 'stop', ctx: th, stop: syscallStop(th, pid) };
      }
      if (P.stopEvent(s) === 0) {
        th.loadRegs();
        const stop = signalStop(th, pid, sig);
        if (stop.kind === 'fault') this.stats.faultStops++;
        return { kind: 'stop', ctx: th, stop };
      }
      // An event stop an application thread never causes (it forks nothing): carry on.
      libc.ptrace(P.PTRACE_SYSEMU, pid, 0, 0);
      th.inApp = true;
    }
  }


  protected stubPids(): number[] {
    return [this.master.pid, ...(this.waker ? [this.waker.pid] : []), ...this.byTid.keys()];
  }

  dispatchHostEvents(): boolean {
    let timer = false;
    try {
      const n = libc.epoll_wait(this.epfd, this.events, 64, 0);
      for (let i = 0; i < n; i++) {
        const revents = this.events.readUInt32LE(i * 12);
        const token = this.events.readUInt32LE(i * 12 + 4);
        if (token === TIMER_TOKEN) {
          libc.read(this.timerfd, this.timerBuf, 8);
          timer = true;
          this.armed = 0;
          if (this.cpuCheckAt !== 0 && Number(process.hrtime.bigint()) >= this.cpuCheckAt) {
            this.cpuCheckAt = 0;
            this.cpus.checkRunning(this.appThreads());
          }
          continue;
        }
        // Gone since epoll_wait (unwatched by an earlier callback): dropped.
        this.watches.dispatch(token, revents);
      }
    } finally {
      this.armWaker();
    }
    return timer;
  }
  private readonly timerBuf = Buffer.alloc(8);

  watch(fd: number, events: number, cb: (revents: number) => void, opts?: WatchOptions): HostWatch {
    return this.watches.watch(fd, events, cb, opts);
  }

  watchRuntime(cb: () => void): HostWatch {
    // libuv's epoll fd is readable while Node has I/O to handle.
    return this.watch(libc.nodeLoopFd(), EPOLLIN, cb, { edge: true });
  }

  runtimeDeadline(): number {
    const [now, timeout] = libc.nodeLoopTimeout();
    if (timeout < 0) return 0;
    if (timeout > 0) return (now + timeout) * 1e6;
    // libuv says 0 for any pending work, timers or not (the kernel runs
    // inside an immediate after each of its turns): with a timer of Node's
    // referenced, look again soon; without, there is nothing to wait for.
    if (!process.getActiveResourcesInfo().includes('Timeout')) return 0;
    return Number(process.hrtime.bigint()) + RUNTIME_RECHECK_NS;
  }

  unwatch(h: HostWatch): void {
    this.watches.unwatch(h);
  }

  private readonly ts = Buffer.alloc(16);

  clock(id: number): [number, number] {
    if (libc.clock_gettime(id, this.ts) !== 0) throw new Error(`host clock_gettime(${id}) failed`);
    return [Number(this.ts.readBigInt64LE(0)), Number(this.ts.readBigInt64LE(8))];
  }

  setTimer(deadlineNs: number): void {
    this.kernelDeadline = deadlineNs;
    this.armTimer();
  }

  /** The kernel's deadline, or the CPU policy's look at running threads if earlier. */
  private kernelDeadline = 0;
  /** When the CPU policy next looks at threads running application code (monotonic ns; 0: not wanted). */
  private cpuCheckAt = 0;
  /** The deadline the host timer holds (0: disarmed). */
  private armed = 0;

  protected armTimer(): void {
    const k = this.kernelDeadline, c = this.cpuCheckAt;
    const deadlineNs = k && c ? Math.min(k, c) : k || c;
    if (deadlineNs === this.armed) return;
    this.armed = deadlineNs;
    const its = Buffer.alloc(32);
    if (deadlineNs > 0) {
      its.writeBigInt64LE(BigInt(Math.floor(deadlineNs / 1e9)), 16);
      its.writeBigInt64LE(BigInt(Math.max(1, Math.floor(deadlineNs % 1e9))), 24);
    }
    libc.timerfd_settime(this.timerfd, 1 /* TFD_TIMER_ABSTIME */, its, null);
  }

  shutdown(): void {
    this.stubPool.close();
    for (const th of [...this.byTid.values()]) th.proc.release();
    this.waker?.release();
    this.master.release();
    this.killGroup();
    process.off('exit', this.killGroupAtExit);
    if (this.onThread) sentryThread.leave();
    this.onThread = false;
  }

  /**
   * SIGKILL the stubs' whole process group (the master's pid is its id):
   * PTRACE_O_EXITKILL only reaches tracees, and a process that escaped
   * tracing must not outlive the Sentry either.
   */
  protected killGroup(): void {
    // Never kill(0) or kill(-1): that would reach the Sentry's own group or every process.
    const pgid = this.master?.pid ?? 0;
    if (pgid > 1) libc.kill(-pgid, P.SIGKILL);
  }
}
