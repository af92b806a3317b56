// A tracee's registers as a tracer sees them: struct user_regs_struct, the
// user area of PEEKUSER/POKEUSER (struct user in sys/user.h), the FXSAVE
// image of GETFPREGS, and the rules Linux applies to what a tracer writes
// (segment selectors, eflags, fs/gs base), so that nothing reaches the host
// that Linux itself would refuse.

import { E, Errno } from '../abi/errno';
import * as P from '../abi/ptrace';
import { NREGS, Reg } from '../platform/platform';
import type { Task } from './task';
import type { MemoryManager } from '../mm/mm';
import { PROT_WRITE } from '../abi/mm';

function isSelector(r: number): boolean {
  return r === Reg.DS || r === Reg.ES || r === Reg.FS || r === Reg.GS || r === Reg.CS || r === Reg.SS;
}

/** user_regs_struct of a stopped tracee (216 bytes). */
export function getUserRegs(t: Task): Buffer {
  return t.ctx.regs.snapshot().subarray(0, P.USER_REGS_SIZE);
}

/**
 * One register write with Linux's checks (putreg): selectors are 16 bits and
 * either null or of privilege 3 (cs and ss never null); only the flags a
 * program may change itself (FLAG_MASK) change in eflags; fs/gs base stay
 * below the top of user space. EIO otherwise.
 */
export function putReg(t: Task, r: number, value: bigint): void {
  const regs = t.ctx.regs;
  const v = BigInt.asUintN(64, value);
  if (isSelector(r)) {
    const sel = Number(v & 0xffffn);
    if (sel !== 0 && (sel & 3) !== 3) throw new Errno(E.EIO);
    if ((r === Reg.CS || r === Reg.SS) && sel === 0) throw new Errno(E.EIO);
    regs.setU64(r, BigInt(sel));
    return;
  }
  if (r === Reg.EFLAGS) {
    const mask = BigInt(P.EFLAGS_USER_MASK);
    regs.setU64(r, (regs.getU64(r) & ~mask) | (v & mask));
    return;
  }
  if (r === Reg.FS_BASE || r === Reg.GS_BASE) {
    if (v >= BigInt(P.TASK_SIZE_MAX)) throw new Errno(E.EIO);
  }
  regs.setU64(r, v);
}

/** SETREGS / SETREGSET: each register in order, stopping at the first refused (as Linux does). */
export function setUserRegs(t: Task, b: Buffer): void {
  const n = Math.min(NREGS, Math.floor(b.length / 8));
  for (let r = 0; r < n; r++) {
    const v = b.readBigUInt64LE(r * 8);
    // Unchanged selectors and flags pass whatever they hold (a tracee's own cs is always valid).
    if (v === t.ctx.regs.getU64(r)) continue;
    putReg(t, r, v);
  }
}

/** The user area word at off (PEEKUSER): registers, the FXSAVE image, debug registers, zeros elsewhere. */
export function peekUser(t: Task, off: number, debugRegs: bigint[]): bigint {
  checkUserOffset(off);
  if (off < P.USER_REGS_SIZE) return t.ctx.regs.getU64(off / 8);
  if (off >= P.USER_FPREGS_OFFSET && off < P.USER_FPREGS_OFFSET + P.USER_FPREGS_SIZE) {
    return t.ctx.getFpState().readBigUInt64LE(off - P.USER_FPREGS_OFFSET);
  }
  if (off >= P.USER_DEBUGREG_OFFSET && off < P.USER_DEBUGREG_OFFSET + 64) return debugRegs[(off - P.USER_DEBUGREG_OFFSET) / 8];
  return 0n;
}

/**
 * POKEUSER: registers (with putReg's checks) and debug registers. There are
 * no hardware breakpoints: an address in dr0-dr3 below the top of user space
 * is kept, but enabling one in dr7 is EIO. The rest of the user area is
 * read-only (EIO), as on Linux.
 */
export function pokeUser(t: Task, off: number, v: bigint, debugRegs: bigint[]): void {
  checkUserOffset(off);
  if (off < P.USER_REGS_SIZE) {
    putReg(t, off / 8, v);
    return;
  }
  if (off >= P.USER_DEBUGREG_OFFSET && off < P.USER_DEBUGREG_OFFSET + 64) {
    const n = (off - P.USER_DEBUGREG_OFFSET) / 8;
    const u = BigInt.asUintN(64, v);
    if (n < 4 && u >= BigInt(P.TASK_SIZE_MAX)) throw new Errno(E.EIO);
    if (n === 4 || n === 5) throw new Errno(E.EIO);
    if (n === 7 && (u & 0xffn) !== 0n) throw new Errno(E.EIO);
    debugRegs[n] = u;
    return;
  }
  throw new Errno(E.EIO);
}

function checkUserOffset(off: number): void {
  if (!Number.isSafeInteger(off) || off < 0 || off % 8 !== 0 || off >= P.USER_SIZE) throw new Errno(E.EIO);
}

/** GETFPREGS: the 512-byte FXSAVE image. */
export function getFpRegs(t: Task): Buffer {
  return Buffer.from(t.ctx.getFpState().subarray(0, P.USER_FPREGS_SIZE));
}

/**
 * SETFPREGS: the FXSAVE image replaces the legacy area; MXCSR is masked with
 * the CPU's MXCSR mask (reserved bits would make the restore fault), and in
 * an XSAVE image the x87 and SSE components are marked present.
 */
export function setFpRegs(t: Task, img: Buffer): void {
  const cur = Buffer.from(t.ctx.getFpState());
  const mxcsrMask = cur.readUInt32LE(28) || 0xffbf;
  img.copy(cur, 0, 0, P.USER_FPREGS_SIZE);
  cur.writeUInt32LE(img.readUInt32LE(24) & mxcsrMask, 24);
  cur.writeUInt32LE(mxcsrMask, 28);
  if (cur.length >= 576) cur.writeBigUInt64LE(cur.readBigUInt64LE(512) | 3n, 512);
  t.ctx.setFpState(cur);
}

/**
 * A tracer's read of the tracee's memory (PEEKDATA, /proc/PID/mem): any
 * mapped page whatever its protection, as Linux's FOLL_FORCE, and the vDSO;
 * EIO where nothing is mapped or beyond the application's top (the stub).
 */
export function tracerRead(mm: MemoryManager, addr: number, len: number): Buffer {
  try {
    return mm.kernelRead(addr, len);
  } catch (e) {
    if (!(e instanceof Errno)) throw e;
    // The host's vDSO is the application's too (gdb reads its symbols).
    const v = mm.as.readVdso(addr, len);
    if (v) return v;
    throw new Errno(E.EIO);
  }
}

/**
 * A tracer's write (POKEDATA, /proc/PID/mem): private mappings are written
 * even when read-only (a breakpoint in code), copied first if their pages are
 * shared with a file or a fork; a shared mapping must be writable.
 */
export function tracerWrite(mm: MemoryManager, addr: number, data: Buffer): void {
  for (let a = addr; a < addr + data.length; ) {
    const v = mm.findVma(a);
    if (!v || (v.shared && !(v.prot & PROT_WRITE))) throw new Errno(E.EIO);
    a = v.end;
  }
  try {
    mm.kernelWrite(addr, data);
  } catch (e) {
    if (e instanceof Errno) throw new Errno(E.EIO);
    throw e;
  }
}
