// One application thread on the systrap platform: a host thread of a stub
// process that runs application code untraced, under the application filter,
// and traps into the stub's handler for every system call and fault. Its
// shared area (a run of memory-file frames, mapped in the stub and read by
// the Sentry through its own mapping) holds the state word and, on the
// alternate stack, the signal frame the host kernel wrote: the complete
// register and FPU state. The Sentry copies what it needs once per trap into
// its own Registers, and writes the answer back into the frame just before
// it releases the thread. Everything in the area is hostile input: other
// application threads can write it at any time.

import * as libc from '../../host/libc';
import { type Context, type CpuTime, NREGS, Reg, type Stop } from '../platform';
import { PtraceRegs } from '../ptrace/regs';
import { isVsyscallEntry } from '../ptrace/stops';
import { reniceHostThread, StubError } from '../ptrace/stub_thread';
import { StubCpu } from '../ptrace/affinity';
import { cpuTimeSince, type HostCpu, NO_CPU, readHostCpu } from '../hostcpu';
import type { SystrapProcess } from './process';
import {
  A_FS_BASE, A_FS_SET, A_TSC, A_FUTEX_WAITING, A_GS_BASE, A_GS_SET, A_PFP, A_PSI, A_PUC, A_SELF, A_SIGINFO, A_SIGNO, A_STATE, A_UCONTEXT, A_VIA,
  ALTSTACK_OFF, AREA_SIZE, PATCH_GS_LOAD_ADDR, ST_EXIT, ST_RESUME, ST_TRAPPED,
} from './stub_code';

const SYS_FUTEX = 202;
const FUTEX_WAKE = 1;
/**
 * The host signal Context.interrupt() sends (SIGURG); the handler reports it
 * like any signal sent from outside. Not SIGCHLD: that one stays ignored in
 * the stubs, so that the host reaps the stubs forked from the master.
 */
const INTERRUPT_SIGNAL = 23;
const SIGSYS = 31;
const SIGSEGV = 11;
const SYS_SECCOMP = 1;
const SEGV_MAPERR = 1;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const ENOSYS = 38;
/** struct ucontext: uc_flags, uc_link, uc_stack (ss_sp, ss_flags, ss_size), then the sigcontext, then the mask. */
const UC_STACK = 16;
const UC_MCONTEXT = 40;
const UC_SIGMASK = 40 + 256;
const UC_SIZE = UC_SIGMASK + 8;
const SC_CS = 144;
const SC_FPSTATE = 184;
const SIGINFO_SIZE = 128;
/** Where each register of user_regs_struct lives in the sigcontext (-1: not there). */
const SC_OFFSET: number[] = [];
{
  const m: Array<[Reg, number]> = [
    [Reg.R8, 0], [Reg.R9, 8], [Reg.R10, 16], [Reg.R11, 24], [Reg.R12, 32], [Reg.R13, 40], [Reg.R14, 48], [Reg.R15, 56],
    [Reg.RDI, 64], [Reg.RSI, 72], [Reg.RBP, 80], [Reg.RBX, 88], [Reg.RDX, 96], [Reg.RAX, 104], [Reg.RCX, 112], [Reg.RSP, 120],
    [Reg.RIP, 128], [Reg.EFLAGS, 136],
  ];
  for (const [r, off] of m) SC_OFFSET[r] = off;
}
/** Pairs of 32-bit word indexes, each register's low word: in user_regs_struct, and in the sigcontext (from its start). */
const GREG_WORDS = Int32Array.from(SC_OFFSET.flatMap((off, r) => [r * 2, off / 4]));
const RAX_SC_WORD = SC_OFFSET[Reg.RAX] / 4;
const USER_CS = 0x33;
const USER_SS = 0x2b;
/** struct _fpx_sw_bytes in the FXSAVE area's reserved bytes: magic1, extended_size, xfeatures (u64), xstate_size. */
const SW_BYTES = 464;
const FP_XSTATE_MAGIC1 = 0x46505853;
const FP_XSTATE_MAGIC2 = 0x46505845;
/** XSAVE's header follows the legacy area: XSTATE_BV first. x87 and SSE are its bits 0 and 1; PKRU is bit 9. */
const XSTATE_BV = 512;
const XFEATURE_PKRU = 1n << 9n;
/** EFLAGS' trap flag: a single-stepped thread. */
const EFLAGS_TF = 0x100;

/** See SystrapThread.frameTemplate. */
export interface FrameTemplate {
  shape: string;
  ucFlags: bigint;
  sw: Buffer;
}

/** Make a word of the area hold v, writing it only if it holds something else (see resume). */
function keep(words: Uint32Array, i: number, v: number): void {
  if (words[i] !== v >>> 0) words[i] = v;
}

/** keep() for a 64-bit value at a byte offset. */
function keep64(words: Uint32Array, off: number, v: number): void {
  keep(words, off / 4, v % 4294967296);
  keep(words, off / 4 + 1, Math.floor(v / 4294967296));
}

const SYSCALL_STOP: Stop = { kind: 'syscall' };
const SYSCALL32_STOP: Stop = { kind: 'syscall32' };
const INTERRUPTED_STOP: Stop = { kind: 'interrupted' };

export class SystrapThread implements Context {
  readonly regs = new PtraceRegs();
  owner: unknown = null;
  /** The area as the Sentry sees it: bytes, and 32-bit words for atomics and register copies. */
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  /** The registers' buffer as 32-bit words. */
  private readonly r32: Uint32Array;
  /** The area's address in the stub. */
  private readonly base: number;
  /** Resumed into the application and no trap of it taken since. */
  inApp = false;
  /** Its index among the threads the wait polls (RunningThreads), -1 when not there. */
  runIdx = -1;
  /** The event the platform's wait returns for this thread's traps (one object, refilled: nothing allocated per trap). */
  readonly stopEvent: { kind: 'stop'; ctx: SystrapThread; stop: Stop } = { kind: 'stop', ctx: this, stop: SYSCALL_STOP };
  /** The CPU policy's record of this host thread (ptrace/affinity.ts). */
  readonly cpu: StubCpu;
  /**
   * The host thread's nice: 0 for a new one (cloned from the stub's leader,
   * which is never reniced); a stub whose thread was reniced is not retired
   * for reuse (process.ts), so a revived one is at 0 too.
   */
  hostNice = 0;
  /** The mask the placement last gave it (placement.ts). */
  placedKey = -2;
  interruptSent = false;
  dead = false;
  /** Released while it ran application code: its next trap ends it. */
  doomed = false;
  /** Where the frame of the trap being served lies (area offsets, checked): ucontext, FPU state and its size (0: not read yet, fpBytes). */
  private uc = 0;
  private siOff = 0;
  private fpOff = 0;
  /**
   * The application's gs base (Reg.GS_BASE): with patching on, the host's is
   * the area (the patched calls' entry finds it there) while the application's
   * own is 0; one of its own turns patching off for the address space.
   */
  private appGs = 0;
  private fpSize = 0;
  /** The signal number of the trap being served. */
  signo = 0;
  /** An FPU image the kernel set, written into the frame at resume. */
  private fp: Buffer | null = null;
  private lastCpu: CpuTime = { userNs: 0, sysNs: 0 };
  /**
   * The next resume writes every register into the frame, not only those the
   * kernel changed: a new context's first, whose frame is another's.
   */
  private writeAll = true;
  /** The stubs' spin when this trap was taken. */
  private spunWith = 0;
  /** The host thread's CPU counters when this context took it (a spare stub's thread ran another process before). */
  private cpuBase: HostCpu = NO_CPU;
  /** The host thread's start time as first read (hostcpu.ts): a later read of another thread by the same TID is none. */
  private hostStart = -1;

  constructor(
    readonly proc: SystrapProcess,
    /** The slot of the thread's area in the stub (its address: AREAS_BASE + slot * AREA_SIZE). */
    readonly slot: number,
    /** The area's bytes in the Sentry's mapping of the memory file. */
    readonly area: Buffer,
    public tid: number,
  ) {
    this.u32 = new Uint32Array(area.buffer, area.byteOffset, AREA_SIZE / 4);
    this.r32 = new Uint32Array(this.regs.buf.buffer, this.regs.buf.byteOffset, this.regs.buf.length / 4);
    this.base = proc.areaAddr(slot);
    this.i32 = new Int32Array(area.buffer, area.byteOffset, AREA_SIZE / 4);
    this.cpu = new StubCpu(tid);
  }

  /**
   * The same host thread, held in its handler, as a fresh context for the
   * next process of a revived stub (see scrubForReuse): the frame's place,
   * and CPU time counted from now. The kernel sets every register and the
   * FPU state before it runs.
   */
  static revived(old: SystrapThread): SystrapThread {
    const th = new SystrapThread(old.proc, old.slot, old.area, old.tid);
    th.uc = old.uc;
    th.siOff = old.siOff;
    th.fpOff = old.fpOff;
    th.fpSize = old.fpBytes();
    // The host thread keeps the mask the placement gave it (a retired thread was never spread); one the application
    // restricted is set again, as the new CPU record starts with no application mask.
    if (old.cpu.appCpus === null && !old.cpu.spread) th.placedKey = old.placedKey;
    const b = readHostCpu(old.tid, true, old.hostStart);
    th.cpuBase = b ? { ...b, total: Math.max(0, b.total) } : NO_CPU;
    th.hostStart = b ? b.start : -1;
    return th;
  }

  /**
   * What the host wrote of the frame just taken that rt_sigreturn checks:
   * its place (frameShape), uc_flags and the FPU image's software bytes.
   * Taken from a new thread's first report, before any application code
   * ran in it: what a retired stub's frame is rebuilt from (scrubForReuse).
   */
  frameTemplate(): FrameTemplate {
    return { shape: this.frameShape(), ucFlags: this.area.readBigUInt64LE(this.uc), sw: Buffer.from(this.area.subarray(this.fpOff + SW_BYTES, this.fpOff + 512)) };
  }

  /**
   * Empty the area of this held thread for another process: everything but
   * the state words becomes zero and the frame is rebuilt from the template
   * (uc_flags, the FPU image's software bytes and end magic), the FPU image
   * a valid x87+SSE-only one (every other component in its initial state),
   * so the next process, which can read its area, finds nothing of this
   * one. The next resume writes every register, the mask and the alternate
   * stack. False (the stub must go) when the frame is not where the
   * template says, or holds PKRU (its offset in the image is CPUID's).
   */
  scrubForReuse(tpl: FrameTemplate): boolean {
    const a = this.area;
    const uc = this.uc, at = this.fpOff, size = this.fpBytes();
    if (uc === 0 || this.frameShape() !== tpl.shape || !this.trapped()) return false;
    if ((tpl.sw.readBigUInt64LE(8) & XFEATURE_PKRU) !== 0n) return false;
    a.fill(0, A_SIGNO, AREA_SIZE);
    // It sleeps in its futex wait (the caller checked): the next answer must wake it.
    Atomics.store(this.i32, A_FUTEX_WAITING / 4, 1);
    // Without FSGSBASE the handler sets a base only when it differs from the one it last set: a value no base can have makes the first resume set both.
    a.writeBigInt64LE(-1n, A_FS_SET);
    a.writeBigInt64LE(-1n, A_GS_SET);
    a.writeBigUInt64LE(tpl.ucFlags, uc);
    a.writeUInt16LE(0x37f, at); // FCW
    a.writeUInt32LE(0x1f80, at + 24); // MXCSR
    tpl.sw.copy(a, at + SW_BYTES);
    if (size > 512) {
      a.writeBigUInt64LE(3n, at + XSTATE_BV);
      a.writeUInt32LE(FP_XSTATE_MAGIC2, at + size);
    }
    this.fp = null;
    return true;
  }

  /** Where the frame of the trap being served lies (area offsets), as one string to compare. */
  frameShape(): string {
    return `${this.uc}/${this.fpOff}/${this.fpBytes()}`;
  }

  /** PR_SET_TSC's mode for the host thread (1 allow, 2 SIGSEGV): the handler sets it on the host before it returns to the application. */
  private tscMode = 1;

  setTsc(sigsegv: boolean): void {
    this.tscMode = sigsegv ? 2 : 1;
  }

  setHostNice(nice: number): void {
    if (nice === this.hostNice || this.dead) return;
    if (reniceHostThread(this.tid, nice)) this.hostNice = nice;
  }

  setAppCpus(cpus: number[] | null): void {
    const before = this.cpu.appCpus;
    this.cpu.policy?.setAppCpus(this.cpu, cpus);
    // The policy set a new mask (the application's changed): the placement gives the thread its own again at its next trap.
    // (Unchanged, as at most forks and execs, nothing was set: no host call.)
    if (this.cpu.appCpus !== before) this.placedKey = -2;
  }

  get hostTid(): number {
    return this.tid;
  }

  /** Has the thread published a trap? (The main wait's poll: one atomic load.) */
  trapped(): boolean {
    return Atomics.load(this.i32, A_STATE / 4) === ST_TRAPPED;
  }

  private u64(off: number): number {
    return this.u32[(off >> 2) + 1] * 4294967296 + this.u32[off >> 2];
  }

  /**
   * Take the trap the thread published: check where its frame lies, copy the
   * registers out of it and classify it. Null when the area does not describe
   * a frame of this thread (written by the application): the caller ends the
   * address space, since this thread can no longer be resumed correctly.
   */
  take(): Stop | null {
    this.inApp = false;
    this.spunWith = this.proc.spinner.current();
    const base = this.base;
    const src = this.u32;
    const signo = src[A_SIGNO / 4];
    const uc = this.u64(A_UCONTEXT) - base;
    const si = this.u64(A_SIGINFO) - base;
    if (!(uc >= ALTSTACK_OFF && uc + UC_SIZE <= AREA_SIZE && uc % 8 === 0)) return null;
    if (!(si >= ALTSTACK_OFF && si + SIGINFO_SIZE <= AREA_SIZE && si % 8 === 0)) return null;
    const fpOff = this.u64(uc + UC_MCONTEXT + SC_FPSTATE) - base;
    if (!(fpOff >= ALTSTACK_OFF && fpOff + 512 <= AREA_SIZE && fpOff % 64 === 0)) return null;
    this.signo = signo;
    this.uc = uc;
    this.siOff = si;
    this.fpOff = fpOff;
    // The image's size is read when the FPU state is asked for (fpBytes): a system call seldom does, and the
    // cache line of its software bytes is one less to take from the stub's CPU per trap.
    this.fpSize = 0;
    this.fp = null;
    // The registers, from the sigcontext into user_regs_struct order, word by word (no BigInt, no allocation).
    const dst = this.r32;
    const sc = (uc + UC_MCONTEXT) >> 2;
    for (let i = 0; i < GREG_WORDS.length; i += 2) {
      const d = GREG_WORDS[i], o = sc + GREG_WORDS[i + 1];
      dst[d] = src[o];
      dst[d + 1] = src[o + 1];
    }
    // cs and ss (16 bits each, in the words of cs|gs and fs|ss); the other selectors are 0 in 64-bit mode.
    dst[Reg.CS * 2] = src[sc + SC_CS / 4] & 0xffff;
    dst[Reg.SS * 2] = src[sc + SC_CS / 4 + 1] >>> 16;
    dst[Reg.CS * 2 + 1] = dst[Reg.SS * 2 + 1] = 0;
    for (let i = Reg.DS * 2; i < NREGS * 2; i++) dst[i] = 0;
    dst[Reg.FS_BASE * 2] = src[A_FS_BASE / 4];
    dst[Reg.FS_BASE * 2 + 1] = src[A_FS_BASE / 4 + 1];
    // The host's gs base is the area while patching is on: the application's own is the Sentry's record.
    const gs = this.u64(A_GS_BASE);
    if (gs === base) this.regs.set(Reg.GS_BASE, this.appGs);
    else {
      dst[Reg.GS_BASE * 2] = src[A_GS_BASE / 4];
      dst[Reg.GS_BASE * 2 + 1] = src[A_GS_BASE / 4 + 1];
    }
    dst[Reg.ORIG_RAX * 2] = dst[Reg.ORIG_RAX * 2 + 1] = 0xffffffff;
    const r = this.regs;
    r.dirty = false;
    r.raxDirty = false;
    const stop = this.classify(signo, si);
    const patcher = this.proc.patcher;
    if (patcher !== null && stop === SYSCALL_STOP) {
      // Through a patched site (the entry says so in the area: only statistics depend on it), or a site to patch.
      if (src[A_VIA / 4] !== 0) {
        src[A_VIA / 4] = 0;
        this.proc.stats.patchedCalls = (this.proc.stats.patchedCalls ?? 0) + 1;
      } else {
        patcher.noteTrap(r.get(Reg.RIP));
      }
    }
    return stop;
  }

  /** The 64-bit signed value at an 8-aligned offset of the area, as a number (exact within +-2^53). */
  private s64(off: number): number {
    return this.i32[(off >> 2) + 1] * 4294967296 + this.u32[off >> 2];
  }

  private classify(signo: number, si: number): Stop {
    const code = this.i32[(si + 8) >> 2];
    if (signo === INTERRUPT_SIGNAL) this.interruptSent = false;
    // si_code <= 0: sent by a process (the platform's interrupt, or from outside), not raised by the CPU or seccomp.
    if (code <= 0) return INTERRUPTED_STOP;
    const r = this.regs;
    if (signo === SIGSYS) {
      if (code !== SYS_SECCOMP) return INTERRUPTED_STOP;
      const callAddr = this.s64(si + 16);
      const nr = this.i32[(si + 24) >> 2];
      const arch = this.u32[(si + 28) >> 2];
      if (isVsyscallEntry(callAddr)) {
        // The host emulated the `ret` already (rip = caller, rsp + 8): undo it, as on ptrace.
        // (Left dirty: the frame has the host's rip and rsp.)
        r.set(Reg.RIP, callAddr);
        r.set(Reg.RSP, r.get(Reg.RSP) - 8);
        return { kind: 'fault', signo: SIGSEGV, code: SEGV_MAPERR, addr: callAddr };
      }
      // As a ptrace syscall stop shows it: the number in orig_rax, -ENOSYS in rax (not changes of the kernel's: not dirty).
      const w = this.r32;
      w[Reg.ORIG_RAX * 2] = nr;
      w[Reg.ORIG_RAX * 2 + 1] = nr < 0 ? 0xffffffff : 0;
      w[Reg.RAX * 2] = -ENOSYS;
      w[Reg.RAX * 2 + 1] = 0xffffffff;
      return arch === AUDIT_ARCH_X86_64 ? SYSCALL_STOP : SYSCALL32_STOP;
    }
    if (signo === SIGSEGV && r.get(Reg.RIP) === PATCH_GS_LOAD_ADDR) {
      // A patched site run by a thread whose gs base is not its area yet (a thread made before the patch, a fork's
      // child): run the site's own syscall instruction instead, two bytes before the return address the trampoline
      // put in rcx. (A program that jumped here with another rcx goes where it asked.)
      r.set(Reg.RIP, r.get(Reg.RCX) - 2);
      this.proc.stats.patchFallbacks = (this.proc.stats.patchFallbacks ?? 0) + 1;
      return INTERRUPTED_STOP;
    }
    if (signo === 11 || signo === 7 || signo === 8 || signo === 4 || signo === 5) {
      return { kind: 'fault', signo, code, addr: this.s64(si + 16) };
    }
    return INTERRUPTED_STOP;
  }

  /** Write the registers (and a new FPU state) into the frame and let the thread return to them. */
  resume(): void {
    if (this.dead) throw new StubError(`thread ${this.tid} is gone`);
    if (this.proc.dead) {
      // Its process died while the kernel held it: the next wait reports that.
      this.proc.onGone(this);
      return;
    }
    this.proc.flushPending();
    const r = this.regs;
    const src = this.r32;
    const uc = this.uc;
    const sc = (uc + UC_MCONTEXT) >> 2;
    const dst = this.u32;
    if (r.dirty || this.writeAll) {
      for (let i = 0; i < GREG_WORDS.length; i += 2) {
        const o = sc + GREG_WORDS[i + 1], d = GREG_WORDS[i];
        dst[o] = src[d];
        dst[o + 1] = src[d + 1];
      }
      this.writeAll = false;
    } else {
      // The common return of a system call: only rax differs from the frame as taken (a syscall stop shows -ENOSYS
      // there until the kernel sets the result). What the application wrote meanwhile into the frame's other
      // registers is its own registers' worth: the host's rt_sigreturn checks the selectors, written below.
      dst[sc + RAX_SC_WORD] = src[Reg.RAX * 2];
      dst[sc + RAX_SC_WORD + 1] = src[Reg.RAX * 2 + 1];
    }
    // The selectors are always the 64-bit user ones (another cs would make sigreturn fault), and the application's
    // mask and alternate stack are the Sentry's bookkeeping: the host's are fixed. Each word is written only when the
    // frame holds another value (as the host wrote it, it holds these): a cache line the Sentry only read stays in
    // the stub's CPU's cache too, where its rt_sigreturn reads it, instead of coming back from the Sentry's.
    const cs = sc + SC_CS / 4;
    keep(dst, cs, (dst[cs] & 0xffff0000) | USER_CS);
    keep(dst, cs + 1, (dst[cs + 1] & 0xffff) | (USER_SS << 16));
    const fpAddr = this.base + this.fpOff;
    keep(dst, sc + SC_FPSTATE / 4, fpAddr % 4294967296);
    keep(dst, sc + SC_FPSTATE / 4 + 1, Math.floor(fpAddr / 4294967296));
    const w = uc >> 2;
    keep(dst, w + UC_SIGMASK / 4, 0);
    keep(dst, w + UC_SIGMASK / 4 + 1, 0);
    const ss = this.base + ALTSTACK_OFF;
    keep(dst, w + UC_STACK / 4, ss % 4294967296);
    keep(dst, w + UC_STACK / 4 + 1, Math.floor(ss / 4294967296));
    keep(dst, w + UC_STACK / 4 + 2, 0);
    keep(dst, w + UC_STACK / 4 + 3, 0);
    keep(dst, w + UC_STACK / 4 + 4, AREA_SIZE - ALTSTACK_OFF);
    keep(dst, w + UC_STACK / 4 + 5, 0);
    this.u32[A_FS_BASE / 4] = src[Reg.FS_BASE * 2];
    this.u32[A_FS_BASE / 4 + 1] = src[Reg.FS_BASE * 2 + 1];
    this.hostGs(r);
    // Every resume: the handler makes the host call only when the mode it last set differs.
    this.u32[A_TSC / 4] = this.tscMode;
    this.u32[A_TSC / 4 + 1] = 0;
    if (this.fp) this.writeFp(this.fp);
    this.fp = null;
    r.dirty = r.raxDirty = false;
    this.inApp = true;
    this.proc.running(this);
    const c = this.cpu;
    if (c.policy !== null) c.policy.checkWanted = true;
    const slept = this.answer(ST_RESUME);
    this.proc.spinner.answered(slept, this.spunWith);
  }

  /**
   * The host gs base for the thread's return: its area while the address
   * space's calls may be patched (and the words the entry reads), else the
   * application's own. A gs base of its own or a single step (the trap flag)
   * puts every patched site back for good (patch.ts).
   */
  private hostGs(r: PtraceRegs): void {
    const dst = this.u32;
    const src = this.r32;
    const p = this.proc.patcher;
    this.appGs = r.get(Reg.GS_BASE);
    if (p !== null && p.on && (this.appGs !== 0 || (r.get(Reg.EFLAGS) & EFLAGS_TF) !== 0 || !this.xsaveFrame())) p.unpatchAll();
    // (A frame's place not known yet: the entry would have nowhere to write. Its patched calls fall back to the trap.)
    if (p === null || !p.on || this.uc === 0 || this.siOff === 0) {
      dst[A_GS_BASE / 4] = src[Reg.GS_BASE * 2];
      dst[A_GS_BASE / 4 + 1] = src[Reg.GS_BASE * 2 + 1];
      return;
    }
    const base = this.base;
    keep64(dst, A_GS_BASE, base);
    keep64(dst, A_SELF, base);
    keep64(dst, A_PUC, base + this.uc);
    keep64(dst, A_PSI, base + this.siOff);
    keep64(dst, A_PFP, base + this.fpOff);
  }

  /** 0 not known yet, 1 the thread's frames hold an XSAVE image (the entry writes one), 2 they do not. */
  private xsave = 0;

  private xsaveFrame(): boolean {
    if (this.xsave === 0) this.xsave = this.fpBytes() > 512 ? 1 : 2;
    return this.xsave === 1;
  }

  /** Set the state word and wake the handler if it sleeps in its futex (then true). */
  private answer(state: number): boolean {
    Atomics.store(this.i32, A_STATE / 4, state);
    if (Atomics.load(this.i32, A_FUTEX_WAITING / 4) === 0) return false;
    libc.futexBuf(SYS_FUTEX, this.area, FUTEX_WAKE, 1, 0, 0, 0);
    return true;
  }

  interrupt(): void {
    if (!this.inApp || this.interruptSent || this.dead) return;
    if (libc.tgkill(this.proc.pid, this.tid, INTERRUPT_SIGNAL) === 0) this.interruptSent = true;
  }

  release(): void {
    if (this.dead || this.doomed) return;
    if (this.inApp) {
      this.doomed = true;
      this.interrupt();
      return;
    }
    this.exitNow();
  }

  /** The thread is held in its handler: tell it to exit, and forget it. */
  exitNow(): void {
    this.dead = true;
    this.inApp = false;
    this.proc.threadGone(this);
    this.answer(ST_EXIT);
  }

  cpuTime(precise = false): CpuTime {
    const h = readHostCpu(this.tid, precise, this.hostStart);
    if (h) this.hostStart = h.start;
    const t = cpuTimeSince(h, this.cpuBase, precise);
    // The thread is gone: its last reading stands.
    if (t) this.lastCpu = t;
    return { ...this.lastCpu };
  }

  /**
   * The size of the frame's FPU image: the XSAVE size its software bytes give
   * (checked to fit in the area), else FXSAVE's 512. Read once per trap, when
   * first needed.
   */
  private fpBytes(): number {
    if (this.fpSize === 0) {
      const at = this.fpOff;
      let size = 512;
      if (this.u32[(at + SW_BYTES) >> 2] === FP_XSTATE_MAGIC1) {
        const xsize = this.u32[(at + SW_BYTES + 16) >> 2];
        if (xsize > 512 && at + xsize + 4 <= AREA_SIZE) size = xsize;
      }
      this.fpSize = size;
    }
    return this.fpSize;
  }

  /** The FPU image of the frame (XSAVE layout with its software bytes, or FXSAVE's 512 bytes). */
  getFpState(): Buffer {
    if (this.fp) return Buffer.from(this.fp);
    return Buffer.from(this.area.subarray(this.fpOff, this.fpOff + this.fpBytes()));
  }

  setFpState(b: Buffer): void {
    this.fp = Buffer.from(b);
  }

  /**
   * Put an image into the frame in the layout the host's sigreturn checks: the
   * software bytes and the second magic stay the host's (they describe this
   * frame); what the image lacks is zero (components its XSTATE_BV marks as
   * unused).
   */
  private writeFp(img: Buffer): void {
    const at = this.fpOff;
    const size = this.fpBytes();
    if (img.length <= 512) {
      // An FXSAVE image sets x87 and SSE only, as ptrace's SETFPREGS does: the
      // other components (the upper halves, PKRU with the stub code's
      // execute-only key) stay as the frame has them.
      img.copy(this.area, at, 0, SW_BYTES);
      if (size > 512) this.area.writeBigUInt64LE(this.area.readBigUInt64LE(at + 512) | 3n, at + 512);
      return;
    }
    const sw = Buffer.from(this.area.subarray(at + SW_BYTES, at + 512));
    const dst = this.area.subarray(at, at + size);
    dst.fill(0);
    img.copy(dst, 0, 0, Math.min(img.length, size));
    sw.copy(dst, SW_BYTES);
    if (size > 512) this.area.writeUInt32LE(FP_XSTATE_MAGIC2, at + size);
  }
}
