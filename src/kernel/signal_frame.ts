// The x86-64 signal frame (struct rt_sigframe): what the application's handler
// sees and what rt_sigreturn restores. Layout from the kernel's uapi headers:
// pretcode, ucontext (flags, link, stack_t, sigcontext, sigmask), siginfo, then
// the FXSAVE area the sigcontext's fpstate points to.

import { Errno, E } from '../abi/errno';
import type { MemoryAccess } from '../mm/access';
import { Reg, type Registers } from '../platform/platform';

const UC_FP_XSTATE = 1;
const UC_SIGCONTEXT_SS = 2;
const UC_STRICT_RESTORE_SS = 4;
const FRAME_SIZE = 8 + 304 + 128; // pretcode + ucontext + siginfo
const UC = 8;
const MCTX = UC + 40;
const SIGMASK = MCTX + 256;
const INFO = UC + 304;
export const SS_ONSTACK = 1;
export const SS_DISABLE = 2;

// sigcontext order of general registers.
const SC_REGS = [Reg.R8, Reg.R9, Reg.R10, Reg.R11, Reg.R12, Reg.R13, Reg.R14, Reg.R15, Reg.RDI, Reg.RSI, Reg.RBP, Reg.RBX, Reg.RDX, Reg.RAX, Reg.RCX, Reg.RSP, Reg.RIP, Reg.EFLAGS];

// The software-reserved bytes of the FXSAVE area describe an XSAVE image that
// follows it (struct _fpx_sw_bytes), and a second magic word marks its end.
const FP_XSTATE_MAGIC1 = 0x46505853;
const FP_XSTATE_MAGIC2 = 0x46505845;
const SW_MAGIC1 = 464;
const SW_EXTENDED_SIZE = 468;
const SW_XFEATURES = 472;
const SW_XSTATE_SIZE = 480;

/** The FXSAVE image a program starts with after execve: x87 control word 0x37f (all exceptions masked), MXCSR 0x1f80 and its mask. */
export function initialFxsave(): Buffer {
  const b = Buffer.alloc(512);
  b.writeUInt16LE(0x37f, 0); // FCW
  b.writeUInt32LE(0x1f80, 24); // MXCSR
  b.writeUInt32LE(0xffff, 28); // MXCSR_MASK
  return b;
}

/**
 * The FPU state a signal handler starts with, as Linux gives it: everything
 * in its initial state (x87 control word 0x37f, MXCSR 0x1f80, registers
 * zero); an XSAVE image of cur's size whose header marks only x87 and SSE as
 * present, so AVX and later state are reset too.
 */
export function initFpState(cur: Buffer): Buffer {
  const b = Buffer.alloc(cur.length);
  b.writeUInt16LE(0x37f, 0); // FCW
  b.writeUInt32LE(0x1f80, 24); // MXCSR
  b.writeUInt32LE(cur.readUInt32LE(28), 28); // MXCSR_MASK, the CPU's
  if (cur.length > 512) b.writeBigUInt64LE(3n, 512); // XSTATE_BV: x87 | SSE
  return b;
}

/**
 * AMX tile data (XSAVE component 18, 8 KiB, the last of the standard
 * format) is Linux's one dynamic feature: a process has it only after
 * ARCH_REQ_XCOMP_PERM, which the sandbox refuses, and Linux leaves it out of
 * the signal frames of the others. The host's XSAVE image (ptrace's) has
 * room for it all the same; the frame drops it, or a handler on an 8 KiB
 * (SIGSTKSZ) alternate stack would get an 11 KiB frame written past the
 * stack's bottom (LTP sigaltstack01).
 */
const XFEATURE_MASK_XTILEDATA = 1n << 18n;
const XTILEDATA_SIZE = 8192;
const XSAVE_HEADER_END = 576;

/** The XSAVE image as a process without AMX permission has it: without the tile data, while it is unused. */
function withoutTileData(fp: Buffer): Buffer {
  if (fp.length < XSAVE_HEADER_END + XTILEDATA_SIZE) return fp;
  const supported = fp.readBigUInt64LE(SW_XFEATURES); // ptrace fills the sw bytes with the host's user features
  const inUse = fp.readBigUInt64LE(512); // XSTATE_BV of the header
  if (!(supported & XFEATURE_MASK_XTILEDATA) || inUse & XFEATURE_MASK_XTILEDATA) return fp;
  return fp.subarray(0, fp.length - XTILEDATA_SIZE);
}

/** The bytes of the FPU area in the frame: FXSAVE as is, or XSAVE with the sw bytes and the end magic. */
function fpForFrame(full: Buffer): Buffer {
  if (full.length <= 512) return full.subarray(0, 512);
  const fp = withoutTileData(full);
  const features = full.readBigUInt64LE(SW_XFEATURES) & (fp === full ? ~0n : ~XFEATURE_MASK_XTILEDATA);
  const img = Buffer.alloc(fp.length + 4);
  fp.copy(img);
  img.writeUInt32LE(FP_XSTATE_MAGIC1, SW_MAGIC1);
  img.writeUInt32LE(fp.length + 4, SW_EXTENDED_SIZE);
  img.writeBigUInt64LE(features || fp.readBigUInt64LE(512), SW_XFEATURES);
  img.writeUInt32LE(fp.length, SW_XSTATE_SIZE);
  img.writeUInt32LE(FP_XSTATE_MAGIC2, fp.length);
  return img;
}

export interface AltStack {
  sp: number;
  size: number;
  flags: number;
}

/**
 * Build the frame below sp and point the registers at the handler.
 * Returns nothing; throws Errno(EFAULT) when the stack is not writable (the
 * caller then kills the process with SIGSEGV, as Linux does).
 */
export function setupFrame(
  mm: MemoryAccess,
  regs: Registers,
  fp: Buffer,
  sig: number,
  info: Buffer,
  handler: number,
  restorer: number,
  blockedBefore: bigint,
  alt: AltStack,
  useAlt: boolean,
): void {
  let sp = regs.get(Reg.RSP);
  const onAlt = onAltStack(alt, sp);
  if (useAlt && !(alt.flags & SS_DISABLE) && !onAlt) sp = alt.sp + alt.size;
  else sp -= 128; // red zone
  const fpImage = fpForFrame(fp);
  sp = Math.floor((sp - fpImage.length) / 64) * 64;
  const fpAddr = sp;
  sp -= FRAME_SIZE;
  sp = Math.floor(sp / 16) * 16 - 8; // as if the handler had been called
  const f = Buffer.alloc(FRAME_SIZE);
  f.writeBigInt64LE(i64(restorer), 0);
  f.writeBigUInt64LE(BigInt(UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS | (fp.length > 512 ? UC_FP_XSTATE : 0)), UC);
  f.writeBigInt64LE(i64(alt.sp), UC + 16);
  f.writeInt32LE(alt.size === 0 ? SS_DISABLE : onAlt ? SS_ONSTACK : 0, UC + 24);
  f.writeBigUInt64LE(u64(alt.size), UC + 32);
  SC_REGS.forEach((r, i) => f.writeBigUInt64LE(regs.getU64(r), MCTX + i * 8));
  const segs = (regs.getU64(Reg.CS) & 0xffffn) | ((regs.getU64(Reg.GS) & 0xffffn) << 16n) | ((regs.getU64(Reg.FS) & 0xffffn) << 32n) | ((regs.getU64(Reg.SS) & 0xffffn) << 48n);
  f.writeBigUInt64LE(segs, MCTX + 18 * 8);
  f.writeBigUInt64LE(BigInt(fpAddr), MCTX + 24 * 8);
  f.writeBigUInt64LE(BigInt.asUintN(64, blockedBefore), SIGMASK);
  info.copy(f, INFO);
  mm.copyOut(fpAddr, fpImage);
  mm.copyOut(sp, f);
  regs.set(Reg.RSP, sp);
  regs.set(Reg.RIP, handler);
  regs.set(Reg.RDI, sig);
  regs.set(Reg.RSI, sp + INFO);
  regs.set(Reg.RDX, sp + UC);
  regs.set(Reg.RAX, 0);
  // Handlers start with the direction flag and trap flag clear.
  regs.set(Reg.EFLAGS, regs.get(Reg.EFLAGS) & ~(0x400 | 0x100));
}

/** rt_sigreturn: restore registers and FPU state; returns the signal mask to restore and the saved alt stack. */
export function restoreFrame(mm: MemoryAccess, regs: Registers): { mask: bigint; fp: Buffer | null; alt: AltStack } {
  const sp = regs.get(Reg.RSP) - 8;
  const f = mm.copyIn(sp, FRAME_SIZE);
  const cs = regs.getU64(Reg.CS);
  const ss = regs.getU64(Reg.SS);
  SC_REGS.forEach((r, i) => regs.setU64(r, f.readBigUInt64LE(MCTX + i * 8)));
  // Never let the application choose its segments.
  regs.setU64(Reg.CS, cs);
  regs.setU64(Reg.SS, ss);
  regs.setU64(Reg.EFLAGS, (regs.getU64(Reg.EFLAGS) & 0x254dd5n) | 0x202n);
  regs.set(Reg.ORIG_RAX, -1);
  const fpAddr = Number(f.readBigUInt64LE(MCTX + 24 * 8));
  let fp: Buffer | null = null;
  if (fpAddr !== 0) {
    if (fpAddr % 16 !== 0) throw new Errno(E.EFAULT);
    fp = mm.copyIn(fpAddr, 512);
    // An XSAVE image announces itself in the software-reserved bytes.
    if (fp.readUInt32LE(SW_MAGIC1) === FP_XSTATE_MAGIC1) {
      const size = fp.readUInt32LE(SW_XSTATE_SIZE);
      if (size > 512 && size <= 16384 && mm.readU32(fpAddr + size) === FP_XSTATE_MAGIC2) fp = mm.copyIn(fpAddr, size);
      // No tile data comes back: the process may not use AMX (see withoutTileData); the platform pads the image.
      if (fp.length >= XSAVE_HEADER_END) fp.writeBigUInt64LE(fp.readBigUInt64LE(512) & ~XFEATURE_MASK_XTILEDATA, 512);
    }
    // MXCSR reserved bits set would make the restore fault on the host.
    fp.writeUInt32LE(fp.readUInt32LE(24) & 0xffff, 24);
  }
  const alt: AltStack = {
    sp: Number(f.readBigUInt64LE(UC + 16)),
    flags: f.readInt32LE(UC + 24),
    size: Number(f.readBigUInt64LE(UC + 32)),
  };
  return { mask: f.readBigUInt64LE(SIGMASK), fp, alt };
}

export { UC_FP_XSTATE };

/** A size held as a number (rounded above 2^53) back to 64 bits, without overflowing at 2^64. */
export function u64(n: number): bigint {
  return n >= 2 ** 64 ? 0xffffffffffffffffn : BigInt(n);
}

/** A signed 64-bit value held as a number back to 64 bits, without overflowing near 2^63. */
export function i64(n: number): bigint {
  return n >= 2 ** 63 ? 0x7fffffffffffffffn : BigInt(n);
}

/** Linux's on_sig_stack: unsigned arithmetic, so a stack base near 2^64 holds no ordinary sp. */
export function onAltStack(alt: AltStack, sp: number): boolean {
  const base = alt.sp < 0 ? alt.sp + 2 ** 64 : alt.sp;
  return alt.size > 0 && sp > base && sp - base <= alt.size;
}
