// One host thread of a stub process: an application thread's context (tid,
// registers, FPU state). The address space it runs in is its StubProcess; a
// process has one thread per application thread sharing its memory.

import * as os from 'node:os';
import * as libc from '../../host/libc';
import { type Context, type CpuTime, Reg } from '../platform';
import * as P from './ptrace';
import { PtraceRegs } from './regs';
import { INTERRUPT_SIGNAL } from './stops';
import { StubCpu } from './affinity';
import type { StubProcess } from './stub';
import { INJECT_ADDR } from './stub_elf';
import { cpuTimeSince, type HostCpu, NO_CPU, readHostCpu } from '../hostcpu';

const SYS_EXIT = 60;

export class StubError extends Error {}

/**
 * Weigh one host thread as nice (setpriority with PRIO_PROCESS and a tid:
 * that thread alone). False when the thread is gone or the host refuses (a
 * Sentry niced above it): it then runs as it was.
 */
export function reniceHostThread(tid: number, nice: number): boolean {
  try {
    os.setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}

export class StubThread implements Context {
  readonly regs = new PtraceRegs();
  owner: unknown = null;
  private fp: Buffer | null = null;
  /** Bytes of the host's XSAVE image (its ptrace regset), learnt at the first read; 0 before. */
  private xsaveSize = 0;
  /** Resumed into the application and no stop of it taken since (the main wait clears it). */
  inApp = false;
  /** An INTERRUPT_SIGNAL is on its way and its stop not seen yet: another would add nothing. */
  interruptSent = false;
  /** The host thread is gone or going (released, or its process killed). */
  dead = false;
  /**
   * Released while it ran application code: its next stop (the interrupt
   * asked for) ends it instead of being reported.
   */
  doomed = false;
  /**
   * Parked (stub.ts): the host thread outlives the application thread that
   * ended, held stopped for the next thread of its process. It never runs
   * until a new context takes it over; this object is done with.
   */
  parked = false;
  /** The host thread's nice (a new host thread has its creator's; stub.ts sets it). */
  hostNice = 0;
  /** The host thread's rdtsc faults (PR_TSC_SIGSEGV; a clone has its creator's, stub.ts sets it). */
  hostTsc = false;
  /** The CPU policy's record of this thread (affinity.ts). */
  readonly cpu: StubCpu;
  private lastCpu: CpuTime = { userNs: 0, sysNs: 0 };
  /**
   * What the host thread had run before this context took it over (a
   * parked one): its counters go on from the earlier thread's.
   */
  private readonly base: HostCpu;
  /** The host thread's start time as first read (hostcpu.ts): a later read of another thread by the same TID is none. */
  private hostStart = -1;

  constructor(
    readonly proc: StubProcess,
    readonly tid: number,
    reused = false,
  ) {
    this.cpu = new StubCpu(tid);
    const b = reused ? readHostCpu(tid, true) : null;
    this.base = b ? { ...b, total: Math.max(0, b.total) } : NO_CPU;
    this.hostStart = this.base.start;
  }

  get hostTid(): number {
    return this.tid;
  }

  /**
   * The thread's CPU time as the host accounts it: user and system ticks from
   * /proc/TID/task/TID/stat, and with precise the exact total from its
   * schedstat split in the same ratio; for a host thread taken over from a
   * parked one, what it ran since.
   */
  cpuTime(precise = false): CpuTime {
    const h = readHostCpu(this.tid, precise, this.hostStart);
    if (h) this.hostStart = h.start;
    const t = cpuTimeSince(h, this.base, precise);
    // The thread is gone: its last reading stands.
    if (t) this.lastCpu = t;
    return { ...this.lastCpu };
  }

  setHostNice(nice: number): void {
    if (nice === this.hostNice || this.dead) return;
    if (reniceHostThread(this.tid, nice)) this.hostNice = nice;
  }

  setAppCpus(cpus: number[] | null): void {
    if (!this.dead) this.cpu.policy?.setAppCpus(this.cpu, cpus);
  }

  setTsc(sigsegv: boolean): void {
    if (sigsegv !== this.hostTsc && !this.dead) this.proc.setTsc(this, sigsegv);
  }

  loadRegs(): void {
    if (libc.ptraceBuf(P.PTRACE_GETREGS, this.tid, 0, this.regs.buf) < 0) throw new StubError(`GETREGS ${libc.errno()}`);
    this.regs.dirty = false;
    this.regs.raxDirty = false;
  }

  flushRegs(): void {
    const r = this.regs;
    if (r.dirty) libc.ptraceBuf(P.PTRACE_SETREGS, this.tid, 0, r.buf);
    else if (r.raxDirty) libc.ptraceLong(P.PTRACE_POKEUSER, this.tid, Reg.RAX * 8, r.get(Reg.RAX));
    r.dirty = r.raxDirty = false;
  }

  resume(): void {
    if (this.dead) throw new StubError(`thread ${this.tid} is gone`);
    // Mapping changes reach the host before this thread returns to the
    // application: its siblings may be running and must not keep using a
    // mapping the call removed.
    this.proc.flush(this);
    this.flushRegs();
    if (this.fp) this.flushFp();
    libc.ptrace(P.PTRACE_SYSEMU, this.tid, 0, 0);
    this.inApp = true;
    const c = this.cpu;
    if (c.policy !== null) c.policy.checkWanted = true;
  }

  interrupt(): void {
    // A context the kernel holds needs nothing: the kernel looks for pending
    // work before it resumes it. A signal already on its way will do.
    if (!this.inApp || this.interruptSent || this.dead || this.proc.pid <= 0) return;
    if (libc.tgkill(this.proc.pid, this.tid, INTERRUPT_SIGNAL) === 0) this.interruptSent = true;
  }

  /**
   * End this host thread, the address space staying (an application thread's
   * exit while others live on). A stopped thread runs exit at once; one
   * running application code is interrupted and ends at that stop.
   */
  release(): void {
    if (this.dead || this.doomed) return;
    if (this.inApp) {
      this.doomed = true;
      this.interrupt();
      return;
    }
    if (this.proc.park(this)) return;
    this.exitNow();
  }

  /** Make the stopped thread run exit(0) and forget it: its exit report is dropped by the main wait. */
  exitNow(): void {
    this.dead = true;
    this.proc.threadGone(this);
    const r = this.regs;
    r.set(Reg.RAX, SYS_EXIT);
    r.set(Reg.RDI, 0);
    r.set(Reg.ORIG_RAX, -1);
    r.set(Reg.EFLAGS, r.get(Reg.EFLAGS) & ~0x100);
    r.set(Reg.RIP, INJECT_ADDR);
    libc.ptraceBuf(P.PTRACE_SETREGS, this.tid, 0, r.buf);
    libc.ptrace(P.PTRACE_CONT, this.tid, 0, 0);
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
      if (libc.ptraceBuf(P.PTRACE_GETREGSET, this.tid, P.NT_X86_XSTATE, x.iov) === 0) {
        this.xsaveSize = Number(x.iov.readBigUInt64LE(8));
        const img = Buffer.from(x.area.buf.subarray(0, this.xsaveSize));
        // ptrace leaves the software bytes zero; a signal frame's carry the
        // features the kernel offers, which the Sentry's frames need too.
        if (img.length >= 512) img.writeBigUInt64LE(userXfeatures(), SW_XFEATURES);
        return img;
      }
    }
    const b = Buffer.alloc(512);
    libc.ptraceBuf(P.PTRACE_GETFPREGS, this.tid, 0, b);
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
      if (libc.ptraceBuf(P.PTRACE_SETREGSET, this.tid, P.NT_X86_XSTATE, x.iov) === 0) return;
    }
    libc.ptraceBuf(P.PTRACE_SETFPREGS, this.tid, 0, fp.subarray(0, 512));
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
