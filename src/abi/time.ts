// struct timespec and struct timeval as the x86-64 ABI lays them out
// ({i64 tv_sec; i64 tv_nsec|tv_usec}), decoded to nanoseconds once, here.
// Nanoseconds are a double: exact up to 2^53 ns (104 days), and larger
// values (a timeout of years) still compare and add correctly enough to
// mean "far in the future".

import { E, Errno } from './errno';

export const NSEC_PER_SEC = 1_000_000_000;
export const TIMESPEC_SIZE = 16;

/** A struct timespec at off; EINVAL unless tv_sec >= 0 and 0 <= tv_nsec < 1e9 (as timespec64_valid plus the sign checks of the callers). */
export function decodeTimespec(b: Buffer, off = 0): number {
  const sec = b.readBigInt64LE(off);
  const nsec = b.readBigInt64LE(off + 8);
  if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) throw new Errno(E.EINVAL);
  return Number(sec) * NSEC_PER_SEC + Number(nsec);
}

/** A struct timeval at off; EINVAL unless tv_sec >= 0 and 0 <= tv_usec < 1e6. */
export function decodeTimeval(b: Buffer, off = 0): number {
  const sec = b.readBigInt64LE(off);
  const usec = b.readBigInt64LE(off + 8);
  if (sec < 0n || usec < 0n || usec >= 1_000_000n) throw new Errno(E.EINVAL);
  return Number(sec) * NSEC_PER_SEC + Number(usec) * 1000;
}

/** Encode a non-negative ns count as a struct timespec at off. */
export function encodeTimespec(b: Buffer, off: number, ns: number): void {
  const big = BigInt(Math.max(0, Math.trunc(ns)));
  b.writeBigInt64LE(big / 1_000_000_000n, off);
  b.writeBigInt64LE(big % 1_000_000_000n, off + 8);
}

/** Encode a non-negative ns count as a struct timeval at off (truncated to microseconds). */
export function encodeTimeval(b: Buffer, off: number, ns: number): void {
  const big = BigInt(Math.max(0, Math.trunc(ns)));
  b.writeBigInt64LE(big / 1_000_000_000n, off);
  b.writeBigInt64LE((big % 1_000_000_000n) / 1000n, off + 8);
}
