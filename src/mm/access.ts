// The view of application memory that syscall handlers use. Every accessor checks
// the address range against the VMAs and throws Errno(EFAULT) for a bad pointer,
// so a hostile pointer can never crash the Sentry.
import type { MemCharge } from '../platform/memcharge';

export interface MemoryAccess {
  /** The memory charge group of this address space (a pod container's): what the kernel allocates for its writes goes to it. */
  readonly charge?: MemCharge | null;
  /** EFAULT unless [addr, addr+len) is mapped with that access; touches nothing. */
  checkRange(addr: number, len: number, write: boolean): void;
  /**
   * How many bytes from addr on (at most len) are mapped with that access:
   * what a copy that stops at the first fault moves. Touches nothing.
   */
  prefix(addr: number, len: number, write: boolean): number;
  /** Copy len bytes from the application into a new Buffer. */
  copyIn(addr: number, len: number): Buffer;
  /** Fill dst with dst.length bytes of the application's memory at addr (no Buffer in between). */
  copyInto(addr: number, dst: Uint8Array): void;
  /**
   * Let fill() write into the application's memory at addr piece by piece (a
   * host read straight into it); fill returns the bytes it put in the piece,
   * and a short piece ends it. Returns the total.
   */
  fillFrom(addr: number, len: number, fill: (dst: Buffer) => number): number;
  /**
   * Hand the application's bytes at addr to drain() piece by piece (runs of
   * consecutive frames, views of the memory file: a host write straight from
   * them), after one check of the whole range (EFAULT before any piece).
   */
  drainTo(addr: number, len: number, drain: (src: Buffer, done: number) => void): void;
  /** Copy bytes into the application. */
  copyOut(addr: number, data: Uint8Array): void;
  /** Read a NUL-terminated string of at most max bytes (ENAMETOOLONG beyond), as a byte string (latin1). */
  readCString(addr: number, max: number): string;
  readU32(addr: number): number;
  /** Atomic compare-and-exchange of an aligned 32-bit word (futex words); returns the value found. */
  cmpxchgU32(addr: number, expected: number, next: number): number;
  /** Atomic read-modify-write of an aligned 32-bit word (fn null: no change); returns the old value. */
  updateU32(addr: number, fn: (old: number) => number | null): number;
  readI32(addr: number): number;
  /** 64-bit value as a number; exact below 2^53 (addresses, sizes, offsets). */
  readU64(addr: number): number;
  readI64(addr: number): number;
  readBigU64(addr: number): bigint;
  writeU32(addr: number, v: number): void;
  writeI32(addr: number, v: number): void;
  writeU64(addr: number, v: number): void;
  writeI64(addr: number, v: number): void;
}
