// user_regs_struct held in a Buffer that PTRACE_GETREGS/SETREGS read and write
// directly. Values are exposed as numbers (signed 64-bit, exact within +-2^53)
// because addresses and syscall arguments fit; getU64 gives the full value.

import { NREGS, Reg, type Registers } from '../platform';

export class PtraceRegs implements Registers {
  readonly buf = Buffer.alloc(NREGS * 8);
  private readonly w = new Int32Array(this.buf.buffer, this.buf.byteOffset, NREGS * 2);
  private readonly u = new Uint32Array(this.buf.buffer, this.buf.byteOffset, NREGS * 2);
  /** Set when the kernel changed a register other than RAX since the last load. */
  dirty = false;
  /** Set when only RAX changed (the common syscall return): one POKEUSER suffices. */
  raxDirty = false;

  get(r: Reg): number {
    return this.w[r * 2 + 1] * 4294967296 + this.u[r * 2];
  }

  set(r: Reg, v: number): void {
    const lo = v % 4294967296;
    const hi = Math.floor(v / 4294967296);
    this.u[r * 2] = lo < 0 ? lo + 4294967296 : lo;
    this.w[r * 2 + 1] = hi;
    if (r === Reg.RAX) this.raxDirty = true;
    else this.dirty = true;
  }

  getU64(r: Reg): bigint {
    return this.buf.readBigUInt64LE(r * 8);
  }

  setU64(r: Reg, v: bigint): void {
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), r * 8);
    this.dirty = true;
  }

  snapshot(): Buffer {
    return Buffer.from(this.buf);
  }

  restore(b: Buffer): void {
    b.copy(this.buf);
    this.dirty = true;
  }
}
