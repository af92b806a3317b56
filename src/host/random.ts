// Random bytes from the host's getrandom(2). node:crypto would do, but loading
// it costs several milliseconds of every sandbox's start-up for the few
// random bytes the kernel needs (AT_RANDOM, ASLR offsets, boot_id, /dev/urandom).

import * as libc from './libc';

const EINTR = 4;

/** Fill b[off, off+len) with random bytes. */
export function randomFill(b: Uint8Array, off = 0, len = b.length - off): void {
  let done = 0;
  while (done < len) {
    const n = Number(libc.getrandom(b.subarray(off + done, off + len), len - done, 0));
    if (n < 0) {
      if (libc.errno() === EINTR) continue;
      throw new Error(`getrandom failed: errno ${libc.errno()}`);
    }
    done += n;
  }
}

/**
 * Small requests (each exec's AT_RANDOM and address offsets) come from a
 * block of host randomness fetched 4 KiB at a time: a getrandom through the
 * FFI per request cost more than the rest of the computation. Bytes handed
 * out are wiped from the block. Host entropy, not kernel state: sandboxes in
 * one process share it and see no trace of each other's draws.
 */
const POOL_SIZE = 4096;
const POOL_MAX_REQUEST = 64;
const pool = { buf: Buffer.alloc(POOL_SIZE), off: POOL_SIZE };

export function randomBytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  if (n > POOL_MAX_REQUEST) {
    randomFill(b);
    return b;
  }
  if (pool.off + n > POOL_SIZE) {
    randomFill(pool.buf);
    pool.off = 0;
  }
  pool.buf.copy(b, 0, pool.off, pool.off + n);
  pool.buf.fill(0, pool.off, pool.off + n);
  pool.off += n;
  return b;
}

/** A uniform integer in [lo, hi) (hi - lo below 2^32), without modulo bias. */
export function randomInt(lo: number, hi: number): number {
  const range = hi - lo;
  if (!(range > 0 && range <= 2 ** 32)) throw new RangeError(`randomInt range ${lo}..${hi}`);
  const limit = 2 ** 32 - (2 ** 32 % range);
  for (;;) {
    const v = randomBytes(4).readUInt32LE(0);
    if (v < limit) return lo + (v % range);
  }
}

/** A random (version 4) UUID, as /proc/sys/kernel/random/uuid shows it. */
export function randomUUID(): string {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
