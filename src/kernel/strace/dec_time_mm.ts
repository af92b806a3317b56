// Clocks, time structures and memory-mapping arguments as strace shows them.

import { E } from '../../abi/errno';
import { bitNames, enumName, failed, hex, inArg, outArg, struct, type Call, type Table } from './format';

const CLOCKS: Record<number, string> = {
  0: 'CLOCK_REALTIME', 1: 'CLOCK_MONOTONIC', 2: 'CLOCK_PROCESS_CPUTIME_ID', 3: 'CLOCK_THREAD_CPUTIME_ID',
  4: 'CLOCK_MONOTONIC_RAW', 5: 'CLOCK_REALTIME_COARSE', 6: 'CLOCK_MONOTONIC_COARSE', 7: 'CLOCK_BOOTTIME',
  8: 'CLOCK_REALTIME_ALARM', 9: 'CLOCK_BOOTTIME_ALARM', 11: 'CLOCK_TAI',
};

function timespec(b: Buffer, off = 0): string {
  return `{tv_sec=${b.readBigInt64LE(off)}, tv_nsec=${b.readBigInt64LE(off + 8)}}`;
}

function timeval(b: Buffer, off = 0): string {
  return `{tv_sec=${b.readBigInt64LE(off)}, tv_usec=${b.readBigInt64LE(off + 8)}}`;
}

function decodeAt(len: number, f: (b: Buffer) => string): (c: Call, v: number) => string | null {
  return (c, v) => {
    const b = struct(c.t, v, len);
    return b && f(b);
  };
}

const ts = decodeAt(16, (b) => timespec(b));
const tv = decodeAt(16, (b) => timeval(b));
const its = decodeAt(32, (b) => `{it_interval=${timespec(b, 0)}, it_value=${timespec(b, 16)}}`);
const itv = decodeAt(32, (b) => `{it_interval=${timeval(b, 0)}, it_value=${timeval(b, 16)}}`);

/** A sleep's remaining time: written only when a signal cut the sleep short. */
function interrupted(c: Call): boolean {
  return c.ret === -E.EINTR || c.ret === -516;
}

const PROT_BITS = [[1, 'PROT_READ'], [2, 'PROT_WRITE'], [4, 'PROT_EXEC'], [8, 'PROT_SEM'],
  [0x01000000, 'PROT_GROWSDOWN'], [0x02000000, 'PROT_GROWSUP']] as const;
const MAP_TYPES: Record<number, string> = { 1: 'MAP_SHARED', 2: 'MAP_PRIVATE', 3: 'MAP_SHARED_VALIDATE' };
const MAP_BITS = [
  [0x10, 'MAP_FIXED'], [0x20, 'MAP_ANONYMOUS'], [0x40, 'MAP_32BIT'], [0x100, 'MAP_GROWSDOWN'], [0x800, 'MAP_DENYWRITE'],
  [0x1000, 'MAP_EXECUTABLE'], [0x2000, 'MAP_LOCKED'], [0x4000, 'MAP_NORESERVE'], [0x8000, 'MAP_POPULATE'],
  [0x10000, 'MAP_NONBLOCK'], [0x20000, 'MAP_STACK'], [0x40000, 'MAP_HUGETLB'], [0x80000, 'MAP_SYNC'],
  [0x100000, 'MAP_FIXED_NOREPLACE'], [0x4000000, 'MAP_UNINITIALIZED'],
] as const;
const MADV: Record<number, string> = {
  0: 'MADV_NORMAL', 1: 'MADV_RANDOM', 2: 'MADV_SEQUENTIAL', 3: 'MADV_WILLNEED', 4: 'MADV_DONTNEED', 8: 'MADV_FREE',
  9: 'MADV_REMOVE', 10: 'MADV_DONTFORK', 11: 'MADV_DOFORK', 12: 'MADV_MERGEABLE', 13: 'MADV_UNMERGEABLE',
  14: 'MADV_HUGEPAGE', 15: 'MADV_NOHUGEPAGE', 16: 'MADV_DONTDUMP', 17: 'MADV_DODUMP', 18: 'MADV_WIPEONFORK',
  19: 'MADV_KEEPONFORK', 20: 'MADV_COLD', 21: 'MADV_PAGEOUT', 22: 'MADV_POPULATE_READ', 23: 'MADV_POPULATE_WRITE',
  100: 'MADV_HWPOISON',
};
const ITIMERS: Record<number, string> = { 0: 'ITIMER_REAL', 1: 'ITIMER_VIRTUAL', 2: 'ITIMER_PROF' };

function mapFlags(v: number): string {
  const type = MAP_TYPES[v & 3] ?? hex(v & 3);
  const rest = bitNames(v & ~3, MAP_BITS, '');
  return rest ? `${type}|${rest}` : type;
}

export const timeMmDecoders: Table = {
  clockid: { fmt: (c, i) => CLOCKS[c.args[i] | 0] ?? String(c.args[i] | 0) },
  timespec: inArg(ts),
  timespec_out: outArg(ts),
  /** nanosleep's remaining time. */
  timespec_rem: { out: true, fmt: (c, i) => {
    const v = c.args[i];
    if (v === 0) return 'NULL';
    return interrupted(c) ? ts(c, v) ?? hex(v) : hex(v);
  } },
  timeval: inArg(tv),
  timeval_out: outArg(tv),
  itimerspec: inArg(its),
  itimerspec_out: outArg(its),
  itimerval: inArg(itv),
  itimerval_out: outArg(itv),
  itimer_which: { fmt: (c, i) => enumName(c.args[i] >>> 0, ITIMERS, 'ITIMER_???') },
  timer_flags: { fmt: (c, i) => bitNames(c.args[i], [[1, 'TIMER_ABSTIME']], '0') },
  /** time(2)'s result slot: the seconds, also the return value. */
  time_out: outArg((c, v) => (failed(c) ? hex(v) : `[${c.ret}]`)),
  prot: { fmt: (c, i) => bitNames(c.args[i], PROT_BITS, 'PROT_NONE') },
  mapflags: { fmt: (c, i) => mapFlags(c.args[i]) },
  /** A file offset shown in hex (mmap): 0 stays 0. */
  offhex: { fmt: (c, i) => (c.args[i] === 0 ? '0' : hex(c.args[i])) },
  madvise: { fmt: (c, i) => enumName(c.args[i] >>> 0, MADV, 'MADV_???') },
  mremap_flags: { fmt: (c, i) => bitNames(c.args[i], [[1, 'MREMAP_MAYMOVE'], [2, 'MREMAP_FIXED'], [4, 'MREMAP_DONTUNMAP']], '0') },
  msync_flags: { fmt: (c, i) => bitNames(c.args[i], [[1, 'MS_ASYNC'], [2, 'MS_INVALIDATE'], [4, 'MS_SYNC']], '0') },
  memfd_flags: { fmt: (c, i) => bitNames(c.args[i], [[1, 'MFD_CLOEXEC'], [2, 'MFD_ALLOW_SEALING'], [4, 'MFD_HUGETLB'], [8, 'MFD_NOEXEC_SEAL'], [0x10, 'MFD_EXEC']], '0') },
  mlockall_flags: { fmt: (c, i) => bitNames(c.args[i], [[1, 'MCL_CURRENT'], [2, 'MCL_FUTURE'], [4, 'MCL_ONFAULT']], '0') },
};
