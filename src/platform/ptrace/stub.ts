// One stub process: an application address space and (for now) its one thread.
// Host system calls run in it only by injection: set the registers for the call
// with rip on the stub's `syscall; int3`, continue, and wait for the int3.

import { StubCpu } from './affinity';
import * as fs from 'node:fs';
import * as libc from '../../host/libc';
import { type AddressSpace, type Context, type CpuTime, type PlatformStats, Reg, type Registers } from '../platform';
import * as P from './ptrace';
import { PtraceRegs } from './regs';
import { INTERRUPT_SIGNAL } from './stops';
import type { MemoryFile } from '../memfile';
import { BATCH_ADDR, BATCH_ENTRY, BATCH_MAX, INJECT_ADDR, STUB_BASE, STUB_CTRL, STUB_END } from './stub_elf';

const status = new Int32Array(1);
const TICK_NS = 10_000_000; // USER_HZ = 100
const MEMFD_IN_STUB = 3;
const SYS_MMAP = 9;
const SYS_MPROTECT = 10;
const SYS_MUNMAP = 11;
const MAP_SHARED_FIXED = 0x11;
/**
 * Host mappings one stub may hold: a quarter of what the host allows it.
 * Linux gives a process up to max_map_count VMAs; here pages of one VMA can
 * need several host mappings, so when a count finds more than half of this
 * in use the stub's host mappings are all dropped and fault back in (the
 * Sentry holds the frames, so nothing is lost). Programs with fewer than
 * this many pieces of touched memory never see it.
 */
const BUDGET_SHARE = 4;

export class StubError extends Error {}

export class StubContext implements Context {
  readonly regs = new PtraceRegs();
  owner: unknown = null;
  private fp: Buffer | null = null;
  /** Bytes of the host's XSAVE image (its ptrace regset), learnt at the first read; 0 before. */
  private xsaveSize = 0;
  /** Resumed into the application and no stop of it taken since (the main wait clears it). */
  inApp = false;
  /** An INTERRUPT_SIGNAL is on its way and its stop not seen yet: another would add nothing. */
  interruptSent = false;

  constructor(readonly stub: Stub) {}

  get hostTid(): number {
    return this.stub.pid;
  }

  private lastCpu: CpuTime = { userNs: 0, sysNs: 0 };

  /**
   * The stub's CPU time as the host accounts it: user and system ticks from
   * /proc/PID/stat, and with precise the exact total from /proc/PID/schedstat
   * split in the same ratio. The host's /proc is the platform's to read: these
   * are its own processes.
   */
  cpuTime(precise = false): CpuTime {
    try {
      const stat = fs.readFileSync(`/proc/${this.stub.pid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ut = Number(f[11]);
      const st = Number(f[12]);
      let userNs = ut * TICK_NS;
      let sysNs = st * TICK_NS;
      if (precise) {
        const total = Number(fs.readFileSync(`/proc/${this.stub.pid}/schedstat`, 'latin1').split(' ')[0]);
        if (Number.isFinite(total)) {
          userNs = ut + st > 0 ? Math.round((total * ut) / (ut + st)) : total;
          sysNs = total - userNs;
        }
      }
      if (Number.isFinite(userNs) && Number.isFinite(sysNs)) this.lastCpu = { userNs, sysNs };
    } catch {
      // The stub is gone: its last reading stands.
    }
    return { ...this.lastCpu };
  }

  loadRegs(): void {
    if (libc.ptraceBuf(P.PTRACE_GETREGS, this.stub.pid, 0, this.regs.buf) < 0) throw new StubError(`GETREGS ${libc.errno()}`);
    this.regs.dirty = false;
    this.regs.raxDirty = false;
  }

  flushRegs(): void {
    const r = this.regs;
    if (r.dirty) libc.ptraceBuf(P.PTRACE_SETREGS, this.stub.pid, 0, r.buf);
    else if (r.raxDirty) libc.ptraceLong(P.PTRACE_POKEUSER, this.stub.pid, Reg.RAX * 8, r.get(Reg.RAX));
    r.dirty = r.raxDirty = false;
  }

  resume(): void {
    this.stub.flush();
    this.flushRegs();
    if (this.fp) this.flushFp();
    libc.ptrace(P.PTRACE_SYSEMU, this.stub.pid, 0, 0);
    this.inApp = true;
  }

  interrupt(): void {
    // A context the kernel holds needs nothing: the kernel looks for pending
    // work before it resumes it. A signal already on its way will do.
    if (!this.inApp || this.interruptSent || this.stub.dead || this.stub.pid <= 0) return;
    if (libc.tgkill(this.stub.pid, this.stub.pid, INTERRUPT_SIGNAL) === 0) this.interruptSent = true;
  }

  /**
   * The full XSAVE image (x87, SSE, AVX and beyond), its software bytes
   * naming the host's user XSAVE features; FXSAVE's 512 bytes where XSAVE is
   * missing.
   */
  getFpState(): Buffer {
    if (this.fp) return Buffer.from(this.fp);
    const x = xstate();
    if (x) {
      x.iov.writeBigUInt64LE(BigInt(XSTATE_MAX), 8);
      if (libc.ptraceBuf(P.PTRACE_GETREGSET, this.stub.pid, P.NT_X86_XSTATE, x.iov) === 0) {
        this.xsaveSize = Number(x.iov.readBigUInt64LE(8));
        const img = Buffer.from(x.area.buf.subarray(0, this.xsaveSize));
        // ptrace leaves the software bytes zero; a signal frame's carry the
        // features the kernel offers, which the Sentry's frames need too.
        if (img.length >= 512) img.writeBigUInt64LE(userXfeatures(), SW_XFEATURES);
        return img;
      }
    }
    const b = Buffer.alloc(512);
    libc.ptraceBuf(P.PTRACE_GETFPREGS, this.stub.pid, 0, b);
    return b;
  }

  setFpState(b: Buffer): void {
    this.fp = Buffer.from(b);
  }

  /** Write a pending FPU state: XSAVE images with SETREGSET, FXSAVE ones with SETFPREGS. */
  private flushFp(): void {
    const fp = this.fp;
    this.fp = null;
    if (!fp) return;
    const x = xstate();
    if (fp.length > 512 && x && fp.length <= XSTATE_MAX) {
      // The host takes only whole images: a shorter one (a signal frame's,
      // which leaves out components the process may not use) is padded
      // with zeros, components whose XSTATE_BV bit the image clears.
      const len = Math.max(fp.length, this.xsaveSize);
      x.area.buf.fill(0, 0, len);
      fp.copy(x.area.buf);
      x.iov.writeBigUInt64LE(BigInt(len), 8);
      if (libc.ptraceBuf(P.PTRACE_SETREGSET, this.stub.pid, P.NT_X86_XSTATE, x.iov) === 0) return;
    }
    libc.ptraceBuf(P.PTRACE_SETFPREGS, this.stub.pid, 0, fp.subarray(0, 512));
  }
}

const XSTATE_MAX = 16384;
const ARCH_GET_XCOMP_SUPP = 0x1021;
/** Offset of xfeatures in the FXSAVE area's software-reserved bytes (struct _fpx_sw_bytes). */
const SW_XFEATURES = 472;
let supportedXfeatures: bigint | undefined;
/** The XSAVE features the host kernel offers processes (Linux's user max features; 0 if it cannot tell). */
function userXfeatures(): bigint {
  if (supportedXfeatures === undefined) {
    const b = Buffer.alloc(8);
    supportedXfeatures = libc.arch_prctl(ARCH_GET_XCOMP_SUPP, b) === 0 ? b.readBigUInt64LE(0) : 0n;
  }
  return supportedXfeatures;
}

let xs: { area: { buf: Buffer; addr: bigint }; iov: Buffer } | null | undefined;
function xstate(): { area: { buf: Buffer; addr: bigint }; iov: Buffer } | null {
  if (xs !== undefined) return xs;
  const area = libc.allocPinned(XSTATE_MAX);
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(area.addr, 0);
  xs = { area, iov };
  return xs;
}

export class Stub implements AddressSpace {
  readonly ctx: StubContext;
  dead = false;
  onRelease: ((s: Stub) => void) | null = null;
  /** The CPU policy's record of this stub (affinity.ts). */
  readonly cpu: StubCpu;

  /**
   * An upper bound of the host mappings the application's pages take once
   * the queued calls have run: the last count read from the host, plus two
   * for every call since (one call splits at most one mapping into three).
   */
  private mappingBound = 0;
  /** Of the bound, what a reservation has paid for calls still to come. */
  private credit = 0;
  /** Most host mappings the application's pages may take in this stub (see BUDGET_SHARE). */
  readonly mappingBudget: number;

  constructor(
    readonly pid: number,
    readonly reserved: ReadonlyArray<{ start: number; end: number; name: string }>,
    readonly vdsoBase: number,
    readonly top: number,
    readonly maxMappings: number,
    private readonly stats: PlatformStats,
  ) {
    this.ctx = new StubContext(this);
    this.cpu = new StubCpu(pid);
    this.mappingBudget = Math.max(64, Math.floor(maxMappings / BUDGET_SHARE));
  }

  mainContext(): Context {
    return this.ctx;
  }

  /** The host's vDSO image (read once from the master stub; the same in every stub). */
  vdsoImage: Buffer | null = null;

  readVdso(addr: number, len: number): Buffer | null {
    const img = this.vdsoImage;
    if (!img || addr < this.vdsoBase || len < 0 || addr + len > this.vdsoBase + img.length) return null;
    return Buffer.from(img.subarray(addr - this.vdsoBase, addr - this.vdsoBase + len));
  }

  /** A frame of the memory file mapped at STUB_CTRL: where batches of calls are written. */
  ctrlFrame = -1;
  private memfile: MemoryFile | null = null;
  /** R12 when the last injected run trapped: the batch's count of calls not done. */
  private lastR12 = 0;
  /** Mapping changes wait here and run as one batch before the application resumes. */
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
   * Run one host system call in the stub and return its raw result. The
   * application's registers are saved and restored around it. Waits only for
   * this pid, so other tracees' stops stay queued for the main wait.
   */
  inject(nr: number, args: number[], onFork?: (childPid: number) => void): number {
    return this.run(INJECT_ADDR, nr, args, onFork);
  }

  private run(rip: number, nr: number, args: number[], onFork?: (childPid: number) => void): number {
    if (this.dead) throw new StubError('stub is gone');
    if (rip === BATCH_ADDR) this.stats.batches++;
    else this.stats.injections++;
    const regs: Registers = this.ctx.regs;
    const saved = regs.snapshot();
    const savedFlags = (this.ctx.regs.dirty ? 1 : 0) | (this.ctx.regs.raxDirty ? 2 : 0);
    regs.set(Reg.RAX, nr);
    regs.set(Reg.ORIG_RAX, -1);
    // The application's trap flag (its own popf, or a tracer's single step) would stop a batch after one instruction.
    regs.set(Reg.EFLAGS, regs.get(Reg.EFLAGS) & ~0x100);
    for (let i = 0; i < args.length; i++) regs.set(ARG_REGS[i], args[i]);
    regs.set(Reg.RIP, rip);
    libc.ptraceBuf(P.PTRACE_SETREGS, this.pid, 0, this.ctx.regs.buf);
    let sig = 0;
    for (;;) {
      if (libc.ptrace(P.PTRACE_CONT, this.pid, 0, sig) < 0) throw this.lost();
      sig = 0;
      const r = libc.waitpid(this.pid, status, P.WALL);
      if (r !== this.pid) throw this.lost();
      const s = status[0];
      if (!P.stopped(s)) throw this.lost();
      const ev = P.stopEvent(s);
      if (ev === P.PTRACE_EVENT_FORK) {
        const msg = new BigUint64Array(1);
        libc.ptraceBuf(P.PTRACE_GETEVENTMSG, this.pid, 0, msg);
        onFork?.(Number(msg[0]));
        continue;
      }
      if (P.stopSig(s) === P.SIGTRAP && ev === 0) break;
      // A fault of the stub itself means its code is gone: it cannot be driven any more.
      const got = P.stopSig(s);
      if (got === 11 || got === 7 || got === 4) {
        this.release();
        throw new StubError(`stub ${this.pid} faulted (signal ${got}) during an injected call`);
      }
      // Any other signal that reached the stub is not the application's: drop
      // it. An interrupt is done with too: the kernel holds this context now
      // and delivers whatever is pending before the application runs again.
      if (got === INTERRUPT_SIGNAL) this.ctx.interruptSent = false;
    }
    this.ctx.loadRegs();
    const ret = this.ctx.regs.get(Reg.RAX);
    this.lastR12 = this.ctx.regs.get(Reg.R12);
    this.ctx.regs.restore(saved);
    libc.ptraceBuf(P.PTRACE_SETREGS, this.pid, 0, this.ctx.regs.buf);
    this.ctx.regs.dirty = (savedFlags & 1) !== 0;
    this.ctx.regs.raxDirty = (savedFlags & 2) !== 0;
    return ret;
  }

  /** Run the queued mapping changes, BATCH_MAX per stop. */
  flush(): void {
    while (this.pending.length > 0) {
      const ops = this.pending.splice(0, BATCH_MAX);
      if (!this.memfile || this.ctrlFrame < 0) {
        for (const [nr, args] of ops) check(nr, args, this.inject(nr, args));
        continue;
      }
      const page = this.memfile.bytes(this.ctrlFrame);
      page.writeBigUInt64LE(BigInt(ops.length), 0);
      ops.forEach(([nr, args], i) => {
        const at = 8 + i * BATCH_ENTRY;
        page.writeBigInt64LE(BigInt(nr), at);
        for (let k = 0; k < 6; k++) page.writeBigInt64LE(BigInt(args[k] ?? 0), at + 8 + k * 8);
      });
      const r = this.run(BATCH_ADDR, 0, []);
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

  private lost(): StubError {
    this.dead = true;
    return new StubError(`stub ${this.pid} died`);
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
    this.guard(addr, npages * 4096);
    this.roomForCall();
    this.pending.push([SYS_MMAP, [addr, npages * 4096, prot, MAP_SHARED_FIXED, MEMFD_IN_STUB, frame * 4096]]);
  }

  unmap(addr: number, len: number): void {
    this.guard(addr, len);
    this.roomForCall();
    this.pending.push([SYS_MUNMAP, [addr, len]]);
  }

  protect(addr: number, len: number, prot: number): void {
    this.guard(addr, len);
    this.roomForCall();
    this.pending.push([SYS_MPROTECT, [addr, len, prot]]);
  }

  /**
   * Room for calls that may add n host mappings. The bound only grows
   * between counts, so the host is asked (its /proc/PID/maps, after the
   * queued calls have run) only once the bound would pass the budget. If
   * more than half the budget is really in use, every application mapping
   * is dropped (queued, in order with what came before): pages the Sentry
   * has given frames fault back in as SEGV_MAPERR faults, a chunk at a time.
   * Counting at most once per quarter budget of calls keeps this off the
   * hot path; a program that does not fragment its memory never reaches it.
   */
  reserveMappings(n: number): void {
    // What the last reservation did not use goes back first.
    this.mappingBound -= this.credit;
    this.credit = 0;
    this.room(n);
    this.credit = n;
  }

  /** One call: paid from a reservation, or room for the two mappings it may add. */
  private roomForCall(): void {
    if (this.credit >= 2) this.credit -= 2;
    else this.room(2);
  }

  private room(n: number): void {
    // A stub running application code cannot run calls now: the count waits
    // for its next stop (the budget leaves the host three quarters spare).
    if (this.mappingBound + n <= this.mappingBudget || this.dead || this.ctx.inApp) {
      this.mappingBound += n;
      return;
    }
    try {
      this.flush();
    } catch (e) {
      // A stub that died meanwhile: the task's next resume reports it.
      if (!(e instanceof StubError && this.dead)) throw e;
      return;
    }
    const real = this.countHostMappings();
    this.stats.hostMappingCounts++;
    if (real > this.stats.hostMappingsPeak) this.stats.hostMappingsPeak = real;
    if (real + n > this.mappingBudget / 2) {
      this.pending.push([SYS_MUNMAP, [0x1000, this.top - 0x1000]]);
      this.stats.hostEvictions++;
      this.mappingBound = n;
    } else {
      this.mappingBound = real + n;
    }
  }

  /** The host's count of the application's mappings in this stub (those below top). */
  private countHostMappings(): number {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${this.pid}/maps`, 'latin1');
    } catch {
      return this.mappingBudget; // gone: a drop costs nothing then
    }
    let n = 0;
    for (let at = 0; at < text.length; ) {
      const nl = text.indexOf('\n', at);
      const dash = text.indexOf('-', at);
      if (dash > at && parseInt(text.slice(at, dash), 16) < this.top) n++;
      if (nl < 0) break;
      at = nl + 1;
    }
    return n;
  }

  flushPending(): void {
    this.flush();
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

  release(): void {
    // Never kill(0) or kill(-1): that would reach the Sentry's own group or every process.
    if (!this.dead && this.pid > 0) libc.kill(this.pid, P.SIGKILL);
    this.dead = true;
    this.pending = [];
    if (this.memfile && this.ctrlFrame >= 0) this.memfile.decRef(this.ctrlFrame);
    this.ctrlFrame = -1;
    this.onRelease?.(this);
  }
}

const ARG_REGS = [Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8, Reg.R9];

/** A mapping change that failed on the host is a Sentry bug or host exhaustion, never ignored. */
function check(nr: number, args: number[], r: number): void {
  if (nr === SYS_MMAP && r !== args[0]) throw new StubError(`stub mmap at ${args[0].toString(16)} failed: ${r}`);
  if (nr === SYS_MPROTECT && r < 0 && r !== -12) throw new StubError(`stub mprotect failed: ${r}`);
}

export { STUB_BASE, STUB_END };
