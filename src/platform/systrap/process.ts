// A systrap address space: one stub process. Its leader thread stays under
// ptrace and never runs application code: the Sentry injects into it the
// mapping changes (the ptrace platform's batches, StubProcess) and the clone
// of each application thread. Application threads are host threads of the
// same process made by that clone, untraced, each with its shared area.

import * as fs from 'node:fs';
import * as libc from '../../host/libc';
import type { AddressSpace, AppText, Context, PlatformStats } from '../platform';
import { SitePatcher } from './patch';
import { Reg } from '../platform';
import type { MemoryFile } from '../memfile';
import { StubError, type StubProcess } from '../ptrace/stub';
import type { CpuPolicy } from '../ptrace/affinity';
import type { StopSource, StubPool } from '../ptrace/stub_pool';
import { STUB_THREAD_CLONE_FLAGS } from '../ptrace/seccomp';
import { type FrameTemplate, SystrapThread } from './thread';
import { hostTaskDir, readProc } from '../hostcpu';
import { A_STATE, AREA_SIZE, AREAS_BASE, CLONE_SITE, FIRST_TRAP_ADDR, FUTEX_RET_ADDR, MAX_SLOTS, ST_RESUME, ST_TRAPPED } from './stub_code';

const SYS_MMAP = 9;
const SYS_CLONE = 56;
const SYS_SCHED_YIELD = 24;
const SYS_FUTEX = 202;
/** Looks at a retiring stub's thread before it is given up (it spins up to ~50 us before its futex wait). */
const HELD_TRIES = 20;
const MAP_SHARED_FIXED = 0x11;
const MEMFD_IN_STUB = 3;
const AREA_PAGES = AREA_SIZE / 4096;
const SIGILL = 4;
/** How long a new thread may take to report (it runs a few instructions). */
const START_TIMEOUT_MS = 10_000;
/** Each sleep for the new thread's report: it wakes the Sentry by the eventfd; this bounds a wake-up lost anyway. */
const START_SLEEP_MS = 10;

/** What the platform keeps of every address space: threads running application code, for its poll. */
export interface ThreadSet {
  add(th: SystrapThread): unknown;
  delete(th: SystrapThread): unknown;
}

/** The platform's adaptive spin of the stubs (platform.ts). */
export interface StubSpinner {
  /** The spin a trap taken now was made with. */
  current(): number;
  /** A thread was answered: had it gone to sleep, after spinning spun iterations? */
  answered(slept: boolean, spun: number): void;
  /** Sleep until a stub traps (any: the caller looks at its own thread), ready() says one has, or timeoutMs passes. */
  awaitTrap(ready: () => boolean, timeoutMs: number): void;
}

export class SystrapProcess implements AddressSpace {
  readonly threads = new Set<SystrapThread>();
  private main: SystrapThread | null = null;
  /** Area slots: frames of the memory file (first frame) by slot, kept for the life of the process. */
  private readonly slotFrames: number[] = [];
  /** Slots whose host thread was told to exit, with its tid (reused once the host thread is gone). */
  private readonly freed: Array<{ slot: number; tid: number }> = [];
  dead = false;
  /** The process's pidfd (readable once every thread is gone), or -1. */
  pidfd = -1;
  /** Report a thread as gone (its process died under it) at the platform's next wait. */
  onGone: (th: SystrapThread) => void = () => {};
  /** Where this stub goes when its process ends, to be taken by the next fork (null: killed). */
  pool: StubPool<SystrapProcess> | null = null;
  /** A retired stub's one application thread, held in its handler with its area emptied, for revive. */
  private spare: SystrapThread | null = null;
  /**
   * Where the host puts a trap's frame on an alternate stack (the same for
   * every trap: fixed sizes, a fixed stack) and what rt_sigreturn checks of
   * it, as the first report of a new thread showed them, before any
   * application code ran in it.
   */
  private frame: FrameTemplate | null = null;
  /** Instruction patching of this address space's current image (patch.ts), when the platform does it. */
  patcher: SitePatcher | null = null;

  constructor(
    readonly leader: StubProcess,
    private readonly memfile: MemoryFile,
    private readonly runningSet: ThreadSet,
    readonly spinner: StubSpinner,
    /** The platform's CPU policy, which each thread is judged by. */
    private readonly cpus: CpuPolicy,
    readonly stats: PlatformStats,
    /** Whether system call sites are patched (TSVISOR_SYSTRAP_PATCH). */
    private readonly patching: boolean,
  ) {}

  /** A new memory manager for this address space (a new one, a fork's child, an execve): patching starts afresh. */
  attachText(text: AppText): void {
    this.patcher = this.patching ? new SitePatcher(text, this.stats) : null;
  }

  get pid(): number {
    return this.leader.pid;
  }
  get reserved(): ReadonlyArray<{ start: number; end: number; name: string }> {
    return this.leader.reserved;
  }
  get top(): number {
    return this.leader.top;
  }
  get maxMappings(): number {
    return this.leader.maxMappings;
  }
  get vdsoBase(): number {
    return this.leader.vdsoBase;
  }

  areaAddr(slot: number): number {
    return AREAS_BASE + slot * AREA_SIZE;
  }

  /** The thread was resumed: the platform's poll looks at it. */
  running(th: SystrapThread): void {
    this.runningSet.add(th);
  }

  threadGone(th: SystrapThread): void {
    th.dead = true;
    this.threads.delete(th);
    this.runningSet.delete(th);
    this.freed.push({ slot: th.slot, tid: th.tid });
  }

  mainContext(): Context {
    if (!this.main) this.main = this.newThread();
    return this.main;
  }

  newContext(via: Context): Context {
    const from = via as SystrapThread;
    if (!(from instanceof SystrapThread) || from.proc !== this || from.dead) throw new StubError('context of another address space');
    const th = this.newThread();
    th.regs.restore(from.regs.snapshot());
    return th;
  }

  /** A slot for a new thread's area: one whose previous host thread is gone, or a fresh one. */
  private takeSlot(): number {
    for (let i = 0; i < this.freed.length; i++) {
      const f = this.freed[i];
      // Gone, or its TID taken by another host thread since (then the slot waits: the conservative side).
      if (!fs.existsSync(hostTaskDir(f.tid))) {
        this.freed.splice(i, 1);
        return f.slot;
      }
    }
    const slot = this.slotFrames.length;
    if (slot >= MAX_SLOTS) throw new StubError(`stub ${this.pid}: no room for another thread`);
    const frame = this.memfile.alloc(AREA_PAGES);
    this.slotFrames.push(frame);
    this.leader.flushPending();
    const r = this.leader.inject(SYS_MMAP, [this.areaAddr(slot), AREA_SIZE, 3, MAP_SHARED_FIXED, MEMFD_IN_STUB, frame * 4096]);
    if (r !== this.areaAddr(slot)) throw new StubError(`stub ${this.pid}: cannot map a thread area (${r})`);
    return slot;
  }

  /** Clone a host thread in the leader and wait for its first report (its ud2, after it installed the application filter). */
  private newThread(): SystrapThread {
    if (this.dead) throw new StubError('stub is gone');
    const slot = this.takeSlot();
    const area = this.memfile.bytes(this.slotFrames[slot], AREA_PAGES);
    area.fill(0, 0, 4096);
    const tid = this.leader.inject(SYS_CLONE, [STUB_THREAD_CLONE_FLAGS, 0, 0, 0, 0], undefined, {
      rip: CLONE_SITE, regs: [[Reg.R12, this.areaAddr(slot)]],
    });
    if (tid <= 0) throw new StubError(`cannot make a thread in stub ${this.pid}: ${tid}`);
    const th = new SystrapThread(this, slot, area, tid);
    th.cpu.policy = this.cpus;
    this.threads.add(th);
    const state = new Int32Array(area.buffer, area.byteOffset, 1);
    const until = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      // A signal that reached it before its filter was in place comes first: let it go on.
      const reported = (): boolean => Atomics.load(state, A_STATE / 4) === ST_TRAPPED;
      while (!reported()) {
        // The new thread shares the Sentry's CPU (it inherits the leader's pin): a spin would keep it off that CPU until the
        // host preempts us (~4 ms here), a yield lets other host processes run first on a busy machine. Sleep until it traps.
        this.spinner.awaitTrap(reported, START_SLEEP_MS);
        if (Date.now() > until) {
          this.release();
          throw new StubError(`new thread ${tid} of stub ${this.pid} did not start`);
        }
      }
      if (th.take() === null) throw new StubError(`new thread ${tid} of stub ${this.pid}: bad frame`);
      if (th.signo === SIGILL && th.regs.get(Reg.RIP) === FIRST_TRAP_ADDR) {
        this.frame ??= th.frameTemplate();
        break;
      }
      Atomics.store(state, A_STATE / 4, ST_RESUME);
      libc.futexBuf(202, area, 1, 1, 0, 0, 0);
    }
    return th;
  }

  mapFrames(addr: number, npages: number, frame: number, prot: number): void {
    this.leader.mapFrames(addr, npages, frame, prot);
  }
  unmap(addr: number, len: number): void {
    this.leader.unmap(addr, len);
  }
  protect(addr: number, len: number, prot: number): void {
    this.leader.protect(addr, len, prot);
  }
  /** Every thread shares the leader's memory. */
  touchedPages(addr: number, pages: number): Uint8Array | null {
    return this.leader.touchedPages(addr, pages);
  }

  get vdsoHidden(): boolean {
    return this.leader.vdsoHidden;
  }

  /** The leader runs the munmaps in its next batch: the vDSO is the whole process's. */
  hideVdso(): void {
    this.leader.hideVdso();
  }

  readVdso(addr: number, len: number): Buffer | null {
    return this.leader.readVdso(addr, len);
  }
  reserveMappings(n: number): void {
    this.leader.reserveMappings(n);
  }
  flushPending(): void {
    if (!this.dead) this.leader.flushPending();
  }
  discardPending(): void {
    this.leader.discardPending();
  }
  unmapAllUser(): void {
    this.leader.unmapAllUser();
  }

  /** Kept for the next fork (StubPool) or killed. */
  release(): void {
    if (this.dead) return;
    if (this.pool?.keep(this)) return;
    this.kill();
  }

  /** Kill the host process; its areas go back to the memory file once it is reaped (the platform's pidfd watch). */
  private kill(): void {
    if (this.dead) return;
    this.dead = true;
    for (const th of [...this.threads]) this.threadGone(th);
    if (this.spare) this.threadGone(this.spare);
    this.spare = null;
    this.leader.release();
  }

  /**
   * Empty this stub for another process (its own ended), as the ptrace
   * platform's StubProcess.retire does, keeping its one application thread
   * held in its handler: the next process then needs no fork of the master,
   * control page, pidfd, area mapping, clone or thread start. Only a stub
   * the kernel holds whole qualifies: one application thread, taken (no
   * interrupt on its way, never let off the tracer's CPU, never reniced). Every
   * application mapping goes now, in one batch; the thread and the areas
   * are checked and emptied when the stub is taken (revive), by when the
   * thread has long reached its futex wait. False: it must be killed.
   */
  retire(): boolean {
    if (this.dead || this.threads.size !== 1 || this.spare) return false;
    const [th] = this.threads;
    if (th.dead || th.inApp || th.doomed || th.interruptSent || th.cpu.spread || th.hostNice !== 0) return false;
    if (!this.leader.retire()) return false;
    th.dead = true;
    this.threads.delete(th);
    this.main = null;
    this.spare = th;
    return true;
  }

  /**
   * Is th's host thread asleep in its handler's futex wait, on its own
   * area, with the stack pointer on the frame the Sentry took? The state
   * word is the application's to write: a trap it forged while its thread
   * ran on would leave that thread running (or parked where it chose) into
   * the next process. The host's own record of the thread
   * (/proc/PID/task/TID/syscall: number, arguments, sp, pc) says where it
   * really is. An application that jumped onto the handler's wait with the
   * same arguments and sp is then in the handler's state: after the wait
   * the handler takes its area from sp again, not from a register, and
   * returns through the frame at sp, which the next process's first resume
   * writes whole. A thread still spinning gets the CPU a few times
   * first (it shares the Sentry's).
   */
  private heldInHandler(th: SystrapThread): boolean {
    const sp = this.areaAddr(th.slot) + th.frameShape().split('/').map(Number)[0] - 8;
    const area = `0x${this.areaAddr(th.slot).toString(16)}`;
    for (let i = 0; i < HELD_TRIES; i++) {
      // By TID alone (hostcpu.ts: no dentry under the stub's own directory); the futex address, sp and pc are this stub's.
      const text = readProc(`${hostTaskDir(th.tid)}/syscall`);
      if (text === null) return false;
      const f = text.trim().split(' ');
      if (f[0] !== 'running') {
        return f.length === 9 && Number(f[0]) === SYS_FUTEX && f[1] === area && Number(f[7]) === sp && Number(f[8]) === FUTEX_RET_ADDR;
      }
      libc.syscall3(SYS_SCHED_YIELD, 0, 0, 0);
    }
    return false;
  }

  /** The leader's emptying batch still runs (StubProcess.retire does not wait for it). */
  get retiring(): boolean {
    return this.leader.retiring;
  }

  pollRetire(stops: StopSource): void {
    this.leader.pollRetire(stops);
  }

  /**
   * Take a retired stub for a new process: its leader and held thread as
   * fresh contexts. First the checks: every other host thread it had is
   * gone (one told to exit may still run its last instructions in its
   * area), and the held thread is where the frame the Sentry took says
   * (heldInHandler); then every area is emptied (scrubForReuse for the held
   * thread's). False (it must be killed) if one fails or it died meanwhile.
   */
  revive(): boolean {
    const old = this.spare;
    if (this.dead || this.leader.dead || this.leader.retiring || !old || !this.frame || old.frameShape() !== this.frame.shape) return false;
    for (const f of this.freed) if (fs.existsSync(hostTaskDir(f.tid))) return false;
    if (!this.heldInHandler(old) || !old.scrubForReuse(this.frame)) return false;
    for (let slot = 0; slot < this.slotFrames.length; slot++) {
      if (slot !== old.slot) this.memfile.bytes(this.slotFrames[slot], AREA_PAGES).fill(0);
    }
    // The leader's CPU time is no application thread's: no baseline to read (SystrapThread.revived reads the thread's).
    if (!this.leader.revive(false)) return false;
    this.spare = null;
    const th = SystrapThread.revived(old);
    th.cpu.policy = this.cpus;
    this.threads.add(th);
    this.main = th;
    return true;
  }

  /**
   * A thread's area no longer describes a frame of it (the application wrote
   * it): the process cannot go on faithfully. Every thread the kernel knows
   * is reported gone, as if the process had been killed from outside.
   */
  killForBadFrame(): void {
    for (const th of this.threads) this.onGone(th);
    this.kill();
  }

  /** After the host process is reaped: nothing can write the areas any more. */
  freeAreas(): void {
    for (const f of this.slotFrames) this.memfile.decRef(f, AREA_PAGES);
    this.slotFrames.length = 0;
  }
}
