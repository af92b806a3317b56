// One stub process: an application address space, and a host thread for each
// application thread that runs in it (StubThread). Host system calls run in it
// only by injection, always through one of its threads that is stopped now:
// set the registers for the call with rip on the stub's `syscall; int3`,
// continue, and wait for the int3.

import * as libc from '../../host/libc';
import { type AddressSpace, type Context, type PlatformStats, Reg, type Registers } from '../platform';
import * as P from './ptrace';
import { INTERRUPT_SIGNAL } from './stops';
import type { MemoryFile } from '../memfile';
import { StubError, StubThread } from './stub_thread';
import { STUB_THREAD_CLONE_FLAGS, vdsoRanges } from './seccomp';
import type { CpuPolicy } from './affinity';
import { NO_REPORT, type StopSource, type StubPool } from './stub_pool';
import { HostMappingBudget } from './stub_budget';
import { readTouched } from './host_layout';
import { BATCH_ADDR, BATCH_ENTRY, BATCH_MAX, INJECT_ADDR, STUB_BASE, STUB_CTRL, STUB_END } from './stub_elf';

const status = new Int32Array(1);
const eventMsg = new BigUint64Array(1);
const MEMFD_IN_STUB = 3;
const SYS_MMAP = 9;
const SYS_MPROTECT = 10;
const SYS_MUNMAP = 11;
const SYS_CLONE = 56;
const SYS_PRCTL = 157;
const PR_SET_TSC = 26, PR_TSC_ENABLE = 1, PR_TSC_SIGSEGV = 2;
const MAP_SHARED_FIXED = 0x11;
/** Parked host threads one stub keeps at most (a thread pool's churn; more is host memory for nothing). */
const PARK_MAX = 4;

/** Another syscall site of the stub's code for an injection, with registers besides the arguments (systrap's clone). */
export interface InjectSite {
  rip: number;
  regs: ReadonlyArray<[Reg, number]>;
}

/** Where the platform finds a thread by its host tid (its main wait's table). */
export interface ThreadRegistry {
  set(tid: number, th: StubThread): unknown;
  delete(tid: number): unknown;
}

export class StubProcess implements AddressSpace {
  /** The first thread (the host process's leader): the one a new image starts on. */
  main: StubThread;
  /** Where this stub goes when its process ends, to be taken by the next fork (null: killed). */
  pool: StubPool<StubProcess> | null = null;
  /** Live host threads by tid, the main one included while it lives. */
  readonly threads = new Map<number, StubThread>();
  dead = false;

  /** How many host mappings the application's pages may take here, and when to count them (stub_budget.ts). */
  private readonly budget: HostMappingBudget;

  constructor(
    readonly pid: number,
    readonly reserved: ReadonlyArray<{ start: number; end: number; name: string }>,
    readonly vdsoBase: number,
    readonly top: number,
    readonly maxMappings: number,
    private readonly stats: PlatformStats,
    private readonly registry: ThreadRegistry | null = null,
    private readonly cpus: CpuPolicy | null = null,
  ) {
    this.main = this.addThread(pid);
    this.budget = new HostMappingBudget(maxMappings, stats);
  }

  private addThread(tid: number, reused = false): StubThread {
    const th = new StubThread(this, tid, reused);
    th.cpu.policy = this.cpus;
    this.threads.set(tid, th);
    this.registry?.set(tid, th);
    return th;
  }

  /** A thread ended (released, or its host exit seen): no longer driven or reported. */
  threadGone(th: StubThread): void {
    th.dead = true;
    this.threads.delete(th.tid);
    this.registry?.delete(th.tid);
  }

  /**
   * Host threads kept after their application thread ended, held in a
   * ptrace stop (never resumed while parked, so they can run nothing): the
   * next thread of this process takes one instead of an injected clone, and
   * the ended one needed no injected exit. Every stub thread has the same
   * host signal mask and seccomp filter (the application's are the
   * Sentry's), so a parked one is as good as a new one.
   */
  private readonly parked: StubThread[] = [];

  /**
   * Park th (stopped, its application thread ended) if there is room: it
   * leaves the live threads but stays in the registry, so that the main
   * wait knows it and never resumes it. False: it must exit.
   */
  park(th: StubThread): boolean {
    if (this.dead || th === this.main || th.proc !== this || th.interruptSent || this.parked.length >= PARK_MAX) return false;
    th.dead = true;
    th.parked = true;
    this.threads.delete(th.tid);
    this.parked.push(th);
    this.stats.threadsParked = (this.stats.threadsParked ?? 0) + 1;
    return true;
  }

  /** A parked thread died (with its process): forget it. */
  parkedGone(th: StubThread): void {
    const i = this.parked.indexOf(th);
    if (i >= 0) this.parked.splice(i, 1);
    this.registry?.delete(th.tid);
    // A spare stub (its leader held like a parked thread) died where it waited.
    if (th === this.main) this.dead = true;
  }

  mainContext(): Context {
    return this.main;
  }

  /**
   * A new host thread in this process, made by injecting clone through via
   * (a thread of this process the kernel holds stopped now). It starts
   * stopped, with via's registers; the kernel sets its own before resuming it.
   */
  newContext(via: Context): Context {
    const from = this.own(via);
    const old = this.parked.pop();
    if (old) {
      // The new context owns the host thread from here: a fresh record for
      // the CPU policy (back on the tracer's CPU) and a CPU time counted from now.
      const th = this.addThread(old.tid, true);
      th.hostNice = old.hostNice;
      th.hostTsc = old.hostTsc;
      if (old.cpu.spread) this.cpus?.pin(th.cpu);
      th.loadRegs();
      this.stats.threadsReused = (this.stats.threadsReused ?? 0) + 1;
      return th;
    }
    let tid = -1;
    const r = this.run(from, INJECT_ADDR, SYS_CLONE, [STUB_THREAD_CLONE_FLAGS, 0, 0, 0, 0], (ev, msg) => {
      if (ev === P.PTRACE_EVENT_CLONE) tid = msg;
    });
    if (r < 0 || tid <= 0) throw new StubError(`cannot make a thread in stub ${this.pid}: ${r}`);
    // The new thread is traced from its first instruction and stops with SIGSTOP first.
    const w = libc.waitpid(tid, status, P.WALL);
    if (w !== tid || !P.stopped(status[0])) throw new StubError(`new stub thread ${tid} did not stop`);
    const th = this.addThread(tid);
    th.hostNice = from.hostNice;
    // The host copies the TSC flag into a clone: the kernel sets the task's own before it runs.
    th.hostTsc = from.hostTsc;
    // A clone runs where its creator may: one let run anywhere passed that on.
    if (from.cpu.spread) this.cpus?.pin(th.cpu);
    th.loadRegs();
    return th;
  }

  private own(c: Context): StubThread {
    const th = c as StubThread;
    if (!(th instanceof StubThread) || th.proc !== this || th.dead) throw new StubError('context of another address space');
    if (th.inApp) throw new StubError(`thread ${th.tid} is running: it cannot inject`);
    return th;
  }

  /** prctl(PR_SET_TSC) in th's host thread (stopped, held by the kernel): its rdtsc faults or not from its next resume. */
  setTsc(th: StubThread, sigsegv: boolean): void {
    const r = this.run(this.own(th), INJECT_ADDR, SYS_PRCTL, [PR_SET_TSC, sigsegv ? PR_TSC_SIGSEGV : PR_TSC_ENABLE, 0, 0, 0]);
    if (r !== 0) throw new StubError(`stub ${this.pid}: PR_SET_TSC refused (${r})`);
    th.hostTsc = sigsegv;
  }

  /** A thread the kernel holds stopped now (any will do for a mapping change), or null. */
  stoppedThread(): StubThread | null {
    for (const th of this.threads.values()) if (!th.inApp && !th.dead && !th.doomed) return th;
    return null;
  }

  /** The host's vDSO image (read once from the master stub; the same in every stub). */
  vdsoImage: Buffer | null = null;

  readVdso(addr: number, len: number): Buffer | null {
    const img = this.vdsoImage;
    if (!img || addr < this.vdsoBase || len < 0 || addr + len > this.vdsoBase + img.length) return null;
    return Buffer.from(img.subarray(addr - this.vdsoBase, addr - this.vdsoBase + len));
  }

  vdsoHidden = false;

  touchedPages(addr: number, pages: number): Uint8Array | null {
    return this.dead ? null : readTouched(this.pid, addr, pages);
  }

  hideVdso(): void {
    if (this.vdsoHidden) return;
    this.vdsoHidden = true;
    // Exactly the ranges the stub filter lets go (vdsoRanges): nothing else above top.
    for (const r of vdsoRanges(this.reserved)) this.pending.push([SYS_MUNMAP, [r.start, r.end - r.start]]);
  }

  /** A frame of the memory file mapped at STUB_CTRL: where batches of calls are written. */
  ctrlFrame = -1;
  private memfile: MemoryFile | null = null;
  /** R12 when the last injected run trapped: the batch's count of calls not done. */
  private lastR12 = 0;
  /** Mapping changes wait here and run as one batch before any thread of the process resumes. */
  private pending: Array<[number, number[]]> = [];

  /** Give the stub its control page (once, right after it is forked). */
  attachControlPage(memfile: MemoryFile): void {
    this.memfile = memfile;
    this.ctrlFrame = memfile.alloc(1);
    // Read-only in the stub: only the Sentry writes batches (through the memory file).
    const r = this.inject(SYS_MMAP, [STUB_CTRL, 4096, 1, MAP_SHARED_FIXED, MEMFD_IN_STUB, this.ctrlFrame * 4096]);
    if (r !== STUB_CTRL) throw new StubError(`cannot map the stub's control page: ${r}`);
  }

  /**
   * Run one host system call in the stub (through its main thread, which must
   * be stopped) and return its raw result. The application's registers are
   * saved and restored around it. onFork gets the pid of a forked child.
   */
  inject(nr: number, args: number[], onFork?: (childPid: number) => void, at?: InjectSite): number {
    return this.run(this.own(this.main), at?.rip ?? INJECT_ADDR, nr, args, (ev, msg) => {
      if (ev === P.PTRACE_EVENT_FORK) onFork?.(msg);
    }, at?.regs);
  }

  /** Waits only for via's tid, so other threads' and tracees' stops stay queued for the main wait. */
  private run(via: StubThread, rip: number, nr: number, args: number[], onEvent?: (ev: number, msg: number) => void, extra?: ReadonlyArray<[Reg, number]>): number {
    const tid = via.tid;
    const saved = this.launch(via, rip, nr, args, extra);
    for (;;) {
      const r = libc.waitpid(tid, status, P.WALL);
      if (r !== tid) throw this.lost(via);
      const s = status[0];
      if (!P.stopped(s)) throw this.lost(via);
      const ev = P.stopEvent(s);
      if (ev !== 0) {
        libc.ptraceBuf(P.PTRACE_GETEVENTMSG, tid, 0, eventMsg);
        onEvent?.(ev, Number(eventMsg[0]));
        if (libc.ptrace(P.PTRACE_CONT, tid, 0, 0) < 0) throw this.lost(via);
        continue;
      }
      if (P.stopSig(s) === P.SIGTRAP) break;
      // A fault of the stub itself means its code is gone: it cannot be driven any more.
      const got = P.stopSig(s);
      if (got === 11 || got === 7 || got === 4) {
        this.release();
        throw new StubError(`stub ${this.pid} faulted (signal ${got}) during an injected call`);
      }
      // Any other signal that reached the stub is not the application's: drop
      // it. An interrupt is done with too: the kernel holds this context now
      // and delivers whatever is pending before the application runs again.
      if (got === INTERRUPT_SIGNAL) via.interruptSent = false;
      if (libc.ptrace(P.PTRACE_CONT, tid, 0, 0) < 0) throw this.lost(via);
    }
    via.loadRegs();
    const ret = via.regs.get(Reg.RAX);
    this.lastR12 = via.regs.get(Reg.R12);
    // The host holds the injected run's registers until the thread's next
    // flush, which every resume makes: one SETREGS there, not one here and
    // another for the system call's result.
    via.regs.restore(saved);
    return ret;
  }

  /** Set via's registers for a call at rip and let it go; what the registers were is returned. */
  private launch(via: StubThread, rip: number, nr: number, args: number[], extra?: ReadonlyArray<[Reg, number]>): ReturnType<Registers['snapshot']> {
    if (this.dead) throw new StubError('stub is gone');
    if (rip === BATCH_ADDR) this.stats.batches++;
    else this.stats.injections++;
    const regs: Registers = via.regs;
    const saved = regs.snapshot();
    regs.set(Reg.RAX, nr);
    regs.set(Reg.ORIG_RAX, -1);
    // The application's trap flag (its own popf, or a tracer's single step) would stop a batch after one instruction.
    regs.set(Reg.EFLAGS, regs.get(Reg.EFLAGS) & ~0x100);
    for (let i = 0; i < args.length; i++) regs.set(ARG_REGS[i], args[i]);
    for (const [r, v] of extra ?? []) regs.set(r, v);
    regs.set(Reg.RIP, rip);
    libc.ptraceBuf(P.PTRACE_SETREGS, via.tid, 0, via.regs.buf);
    if (libc.ptrace(P.PTRACE_CONT, via.tid, 0, 0) < 0) throw this.lost(via);
    return saved;
  }

  /** Write ops (at most BATCH_MAX) into the control page for the stub's batch code. */
  private writeBatch(ops: Array<[number, number[]]>): void {
    const page = (this.memfile as MemoryFile).bytes(this.ctrlFrame);
    page.writeBigUInt64LE(BigInt(ops.length), 0);
    ops.forEach(([nr, args], i) => {
      const at = 8 + i * BATCH_ENTRY;
      page.writeBigInt64LE(BigInt(nr), at);
      for (let k = 0; k < 6; k++) page.writeBigInt64LE(BigInt(args[k] ?? 0), at + 8 + k * 8);
    });
  }

  /** Run the queued mapping changes through via (stopped), BATCH_MAX per stop. */
  flush(via: StubThread): void {
    while (this.pending.length > 0) {
      const ops = this.pending.splice(0, BATCH_MAX);
      if (!this.memfile || this.ctrlFrame < 0) {
        for (const [nr, args] of ops) check(nr, args, this.run(via, INJECT_ADDR, nr, args));
        continue;
      }
      this.writeBatch(ops);
      this.stats.batchCalls = (this.stats.batchCalls ?? 0) + ops.length;
      const r = this.run(via, BATCH_ADDR, 0, []);
      // The batch stops at the first failure: r is its result, lastR12 the calls left counting it.
      if (this.lastR12 === 0) continue;
      const failed = ops.length - this.lastR12;
      if (failed < 0 || failed >= ops.length) throw new StubError(`stub batch ended with ${this.lastR12} of ${ops.length} calls left`);
      const [nr, args] = ops[failed];
      check(nr, args, r);
      // A failure the platform tolerates: the rest of the batch still runs.
      this.pending.unshift(...ops.slice(failed + 1));
    }
  }

  private lost(via: StubThread): StubError {
    // The thread is gone (killed from outside, or its whole process): so is the address space.
    via.dead = true;
    this.dead = true;
    return new StubError(`stub ${this.pid} thread ${via.tid} died`);
  }

  /**
   * The application's mappings stay below top, under every reserved range:
   * a request beyond it would put application pages over the stub's code
   * (which then runs them as host calls). The memory manager never asks for
   * one; if it does, that is a Sentry bug, refused here rather than obeyed.
   */
  private guard(addr: number, len: number): void {
    if (!(Number.isSafeInteger(addr) && Number.isSafeInteger(len) && addr >= 0x1000 && len > 0 && addr + len <= this.top)) {
      throw new StubError(`mapping request outside the application's range: ${addr.toString(16)}+${len.toString(16)}`);
    }
  }

  mapFrames(addr: number, npages: number, frame: number, prot: number): void {
    const len = npages * 4096;
    this.guard(addr, len);
    this.roomForCall();
    const map: [number, number[]] = [SYS_MMAP, [addr, len, prot, MAP_SHARED_FIXED, MEMFD_IN_STUB, frame * 4096]];
    // A MAP_FIXED mapping replaces what was there: the munmap just queued
    // before it (the kernel replacing a mapping: ld.so's MAP_FIXED segments
    // over its reservation, 4 of a dynamic exec's 25 host calls) is not needed
    // for the range the mmap covers. The rest of the munmap's range, disjoint
    // from it, still runs after it, where the next run of the same
    // replacement may take its place again.
    const last = this.pending.length > 0 ? this.pending[this.pending.length - 1] : null;
    if (last !== null && last[0] === SYS_MUNMAP && last[1][0] === addr && last[1][1] >= len) {
      const rest = last[1][1] - len;
      this.pending[this.pending.length - 1] = map;
      if (rest > 0) this.pending.push([SYS_MUNMAP, [addr + len, rest]]);
      return;
    }
    this.pending.push(map);
  }

  unmap(addr: number, len: number): void {
    this.guard(addr, len);
    this.roomForCall();
    // Two munmaps in a row whose ranges touch or overlap are one host munmap
    // of their union: the kernel unmaps a range VMA by VMA, and an exec after
    // a fork empties the address space twice (the old image, then the new one's).
    const last = this.pending.length > 0 ? this.pending[this.pending.length - 1] : null;
    if (last !== null && last[0] === SYS_MUNMAP && addr <= last[1][0] + last[1][1] && addr + len >= last[1][0]) {
      const start = Math.min(addr, last[1][0]);
      last[1][1] = Math.max(addr + len, last[1][0] + last[1][1]) - start;
      last[1][0] = start;
      return;
    }
    this.pending.push([SYS_MUNMAP, [addr, len]]);
  }

  protect(addr: number, len: number, prot: number): void {
    this.guard(addr, len);
    this.roomForCall();
    this.pending.push([SYS_MPROTECT, [addr, len, prot]]);
  }

  reserveMappings(n: number): void {
    this.budget.reserve(n, this);
  }

  private roomForCall(): void {
    this.budget.forCall(this);
  }

  /** Queue the removal of every application mapping, outside the budget (the budget's own eviction). */
  queueDropAll(): void {
    this.pending.push([SYS_MUNMAP, [0x1000, this.top - 0x1000]]);
  }

  flushPending(): void {
    if (this.pending.length === 0) return;
    const via = this.stoppedThread();
    if (via) this.flush(via);
  }

  discardPending(): void {
    // A count taken meanwhile may have run some of them (a half-built
    // image): drop everything rather than guess; pages fault back in.
    this.pending = [];
    this.unmapAllUser();
  }

  unmapAllUser(): void {
    this.unmap(0x1000, this.top - 0x1000);
  }

  /** Kill the host process, every thread of it. */
  release(): void {
    if (this.pool?.keep(this)) return;
    this.kill();
  }

  /**
   * Empty this stub for another process (its own process ended): every
   * application mapping goes in one batch, and its leader is held like a
   * parked thread (in the registry, never resumed into the application)
   * until revive. Only a stub the kernel holds whole qualifies: one host
   * thread, stopped, no interrupt on its way, never reniced or let off the
   * tracer's CPU, rdtsc allowed (no PR_SET_TSC left behind), its vDSO in
   * place (hideVdso). False: it must be killed.
   *
   * The batch is not waited for: tearing down the ended program's page
   * tables costs the host 0.4-1 ms here (more than the rest of a fork+exec's
   * host calls), which a native exit pays in the exiting process, beside its
   * parent. So it runs while the Sentry serves the parent, on any CPU; its
   * end (the batch's trap) comes to retireStopped through the main wait,
   * or is polled when a fork looks for a spare (pollRetire).
   */
  retire(): boolean {
    const m = this.main;
    if (this.dead || this.threads.size !== 1 || this.parked.length > 0 || m.dead || m.inApp || m.interruptSent || m.doomed || m.hostNice !== 0 || m.cpu.spread || m.hostTsc || this.vdsoHidden) return false;
    if (!this.memfile || this.ctrlFrame < 0) return false;
    this.pending = [];
    this.writeBatch([[SYS_MUNMAP, [0x1000, this.top - 0x1000]]]);
    this.stats.batchCalls = (this.stats.batchCalls ?? 0) + 1;
    try {
      this.launch(m, BATCH_ADDR, 0, []);
    } catch {
      return false;
    }
    this.retiring = true;
    this.unpinned = this.cpus?.unpin(m.tid) ?? false;
    this.budget.reset();
    this.threads.delete(m.tid);
    m.dead = true;
    m.parked = true;
    return true;
  }

  /** Its emptying batch still runs (retire): not to be revived before it trapped. */
  retiring = false;
  /** Retired with its leader let run on every CPU. */
  private unpinned = false;

  /**
   * A wait report of the retiring leader: the batch's trap (emptied, or
   * killed if any call failed), a signal to drop, or its death.
   */
  retireStopped(s: number): void {
    const m = this.main;
    if (!P.stopped(s)) {
      this.retiring = false;
      this.parkedGone(m);
      return;
    }
    const sig = P.stopSig(s);
    if (P.stopEvent(s) === 0 && sig === P.SIGTRAP) {
      this.retiring = false;
      try {
        m.loadRegs();
      } catch {
        this.kill();
        return;
      }
      if (m.regs.get(Reg.R12) !== 0 || m.regs.get(Reg.RAX) !== 0) this.kill();
      return;
    }
    // Its code is gone, or it cannot be continued: no good for another process.
    if (sig === 11 || sig === 7 || sig === 4 || libc.ptrace(P.PTRACE_CONT, m.tid, 0, 0) < 0) {
      this.retiring = false;
      this.kill();
    }
  }

  /** Whether the emptying batch has ended (its report taken from the main wait's queue or the host), without waiting. */
  pollRetire(stops: StopSource): void {
    const s = stops.reportOf(this.main.tid);
    if (s === null) {
      this.retiring = false;
      this.kill();
    } else if (s !== NO_REPORT) this.retireStopped(s);
  }

  /**
   * Take a retired stub for a new process: a fresh context for its leader
   * (the ended process's Task may still hold the old one, dead now), with
   * its CPU time counted from here (unless counted is false: systrap's
   * leaders run no application code, so their baseline, two reads in /proc,
   * would never be used). The kernel sets every register and the FP state
   * before the new process runs. False if it died meanwhile.
   */
  revive(counted = true): boolean {
    if (this.dead || this.retiring) return false;
    const th = this.addThread(this.pid, counted);
    // It emptied itself on any CPU: back on the tracer's, as every new context starts.
    if (this.unpinned) this.cpus?.pin(th.cpu);
    this.unpinned = false;
    try {
      th.loadRegs();
    } catch {
      this.threadGone(th);
      this.dead = true;
      return false;
    }
    this.main = th;
    return true;
  }

  private kill(): void {
    // Never kill(0) or kill(-1): that would reach the Sentry's own group or every process.
    if (!this.dead && this.pid > 0) libc.kill(this.pid, P.SIGKILL);
    this.dead = true;
    // A retired leader is in no list but the registry.
    if (this.main.parked) this.registry?.delete(this.main.tid);
    for (const th of [...this.threads.values()]) this.threadGone(th);
    for (const th of [...this.parked]) this.parkedGone(th);
    this.pending = [];
    if (this.memfile && this.ctrlFrame >= 0) this.memfile.decRef(this.ctrlFrame);
    this.ctrlFrame = -1;
  }
}

const ARG_REGS = [Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8, Reg.R9];

/** A mapping change that failed on the host is a Sentry bug or host exhaustion, never ignored. */
function check(nr: number, args: number[], r: number): void {
  if (nr === SYS_MMAP && r !== args[0]) throw new StubError(`stub mmap at ${args[0].toString(16)} failed: ${r}`);
  if (nr === SYS_MPROTECT && r < 0 && r !== -12) throw new StubError(`stub mprotect failed: ${r}`);
}

export { STUB_BASE, STUB_END, StubError, StubThread };
