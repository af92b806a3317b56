// The host's wall clock, exact to the nanosecond: file times, IPC and
// socket stamps that the application compares with what its vDSO's
// clock_gettime(CLOCK_REALTIME) returns (the sandbox's realtime clock is
// the host's, kernel.ts). Date.now() has milliseconds only, and adding
// another clock's sub-millisecond part to it made stamps go backwards
// (CPython's test_touch_common: a touch 0.8 ms before the file's creation).

import * as libc from './libc';

const CLOCK_REALTIME = 0;
/** Scratch for the call's struct timespec: filled and read within one call, never kept. */
const TS = Buffer.alloc(16);

/** Wall-clock time in ns. */
export function nowNs(): bigint {
  if (libc.clock_gettime(CLOCK_REALTIME, TS) !== 0) return BigInt(Date.now()) * 1000000n;
  return TS.readBigInt64LE(0) * 1000000000n + TS.readBigInt64LE(8);
}
