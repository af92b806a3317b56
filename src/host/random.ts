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

export function randomBytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  randomFill(b);
  return b;
}

/** A uniform integer in [lo, hi) (hi - lo below 2^32), without modulo bias. */
export function randomInt(lo: number, hi: number): number {
  const range = hi - lo;
  if (!(range > 0 && range <= 2 ** 32)) throw new RangeError(`randomInt range ${lo}..${hi}`);
  const limit = 2 ** 32 - (2 ** 32 % range);
  const b = Buffer.allocUnsafe(4);
  for (;;) {
    randomFill(b);
    const v = b.readUInt32LE(0);
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
