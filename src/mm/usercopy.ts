// Typed copy-in/copy-out of application memory on top of one primitive: walk
// a range page by page (MemoryManager.forEachPage), which checks every page
// against the VMAs and throws Errno(EFAULT) for a bad pointer. prefix() is
// what partial transfers use: a read or write whose buffer turns bad part-way
// moves the bytes before the fault, as Linux's copy_to_user/copy_from_user do.

import { E, Errno } from '../abi/errno';
import type { MemoryAccess } from './access';
import { PAGE } from './vma';
import { UserfaultPending } from './userfault';

/** Attempts of updateU32 against a word that keeps changing under it. */
const ATOMIC_TRIES = 1000;

export abstract class UserCopy implements MemoryAccess {
  protected abstract forEachPage(addr: number, len: number, write: boolean, fn: (bytes: Buffer, done: number) => void | boolean, force?: boolean): void;
  abstract checkRange(addr: number, len: number, write: boolean): void;

  prefix(addr: number, len: number, write: boolean): number {
    if (len <= 0) return 0;
    try {
      this.checkRange(addr, len, write);
      return len;
    } catch (e) {
      // A missing page of a userfaultfd's range is no bad page: the call waits for it, then restarts.
      if (!(e instanceof Errno) || e instanceof UserfaultPending) throw e;
    }
    // Rare (a buffer that ends in a hole): find the first bad page.
    let done = 0;
    while (done < len) {
      const n = Math.min(PAGE - ((addr + done) % PAGE), len - done);
      try {
        this.checkRange(addr + done, n, write);
      } catch (e) {
        if (e instanceof Errno) return done;
        throw e;
      }
      done += n;
    }
    return done;
  }

  copyIn(addr: number, len: number): Buffer {
    this.checkRange(addr, len, false);
    const out = Buffer.allocUnsafe(len);
    this.forEachPage(addr, len, false, (b, done) => {
      b.copy(out, done);
    });
    return out;
  }

  copyInto(addr: number, dst: Uint8Array): void {
    this.checkRange(addr, dst.length, false);
    this.forEachPage(addr, dst.length, false, (b, done) => dst.set(b, done));
  }

  drainTo(addr: number, len: number, drain: (src: Buffer, done: number) => void): void {
    this.checkRange(addr, len, false);
    this.forEachPage(addr, len, false, drain);
  }

  fillFrom(addr: number, len: number, fill: (dst: Buffer) => number): number {
    let total = 0;
    this.forEachPage(addr, len, true, (b) => {
      const n = fill(b);
      total += n;
      return n === b.length;
    });
    return total;
  }

  copyOut(addr: number, data: Uint8Array): void {
    this.forEachPage(addr, data.length, true, (b, done) => b.set(data.subarray(done, done + b.length)));
  }

  /** A write by the kernel itself, ignoring the VMA's protection (ELF .bss zeroing). */
  kernelWrite(addr: number, data: Uint8Array): void {
    this.forEachPage(addr, data.length, true, (b, done) => b.set(data.subarray(done, done + b.length)), true);
  }

  /** A read by the kernel itself, ignoring the VMA's protection (ptrace's PEEKDATA, as Linux's FOLL_FORCE). */
  kernelRead(addr: number, len: number): Buffer {
    const out = Buffer.alloc(len);
    this.forEachPage(addr, len, false, (b, done) => {
      b.copy(out, done);
    }, true);
    return out;
  }

  readCString(addr: number, max: number): string {
    // Page by page through the views of the application's memory: no copy of
    // a whole page to find a short path's end.
    let out = '';
    let total = 0;
    for (;;) {
      const room = PAGE - (addr % PAGE);
      let z = -1;
      this.forEachPage(addr, room, false, (b) => {
        z = b.indexOf(0);
        out += b.toString('latin1', 0, z >= 0 ? z : b.length);
      });
      total += z >= 0 ? z : room;
      if (total >= max) throw new Errno(E.ENAMETOOLONG);
      if (z >= 0) return out;
      addr += room;
    }
  }

  readU32(addr: number): number {
    return this.copyIn(addr, 4).readUInt32LE(0);
  }
  readI32(addr: number): number {
    return this.copyIn(addr, 4).readInt32LE(0);
  }
  readU64(addr: number): number {
    return Number(this.copyIn(addr, 8).readBigUInt64LE(0));
  }
  readI64(addr: number): number {
    return Number(this.copyIn(addr, 8).readBigInt64LE(0));
  }
  readBigU64(addr: number): bigint {
    return this.copyIn(addr, 8).readBigUInt64LE(0);
  }
  /**
   * Compare-and-exchange of the aligned 32-bit word at addr, atomic against
   * the application's threads, which may be running on another CPU while
   * the Sentry looks at it (Linux's futex_atomic_cmpxchg_inatomic): the word
   * becomes next only if it holds expected. Returns the value found. A plain
   * read and write would lose a CAS a thread makes in between (two owners of
   * one PI mutex). EFAULT unless the word is mapped writable.
   */
  cmpxchgU32(addr: number, expected: number, next: number): number {
    if (addr % 4 !== 0) throw new Errno(E.EINVAL);
    let old = 0;
    this.forEachPage(addr, 4, true, (b) => {
      old = Atomics.compareExchange(new Int32Array(b.buffer, b.byteOffset, 1), 0, expected | 0, next | 0) >>> 0;
    });
    return old;
  }

  /**
   * Replace the aligned word at addr by fn(its value), atomically (a
   * compare-and-exchange loop), and return the value it replaced; fn
   * returning null leaves the word alone. A word the application keeps
   * changing is retried a bounded number of times, then EAGAIN.
   */
  updateU32(addr: number, fn: (old: number) => number | null): number {
    let old = this.readU32(addr);
    for (let tries = 0; tries < ATOMIC_TRIES; tries++) {
      const next = fn(old);
      if (next === null) return old;
      const found = this.cmpxchgU32(addr, old, next >>> 0);
      if (found === old) return old;
      old = found;
    }
    throw new Errno(E.EAGAIN);
  }

  writeU32(addr: number, v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.copyOut(addr, b);
  }
  writeI32(addr: number, v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v | 0);
    this.copyOut(addr, b);
  }
  writeU64(addr: number, v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)));
    this.copyOut(addr, b);
  }
  writeI64(addr: number, v: number): void {
    const b = Buffer.alloc(8);
    // A value past 2^63 (an offset the application overflowed) wraps as in C, never throws.
    b.writeBigInt64LE(BigInt.asIntN(64, BigInt(Math.trunc(v))));
    this.copyOut(addr, b);
  }
}
