// A host thread's CPU time as the host accounts it, for the platforms'
// contexts (Context.cpuTime) and the CPU policy: user and system ticks from
// /proc/PID/task/TID/stat, and when asked for precision the exact total from
// its schedstat, split in the same ratio.

import * as libc from '../host/libc';
import type { CpuTime } from './platform';

const TICK_NS = 10_000_000; // USER_HZ = 100

/** A host thread's CPU counters: ticks of user and system time, and the exact total in ns (-1: not read). */
export interface HostCpu {
  ut: number;
  st: number;
  total: number;
}
export const NO_CPU: HostCpu = { ut: 0, st: 0, total: 0 };

/**
 * The host's counters of one of its threads: /proc/PID/task/TID/stat, and
 * with precise its schedstat. The host's /proc is the platform's to read:
 * these are its own processes. Null once the thread is gone.
 */
export function readHostCpu(pid: number, tid: number, precise: boolean): HostCpu | null {
  const dir = `/proc/${pid}/task/${tid}`;
  const stat = readProc(`${dir}/stat`);
  if (stat === null) return null;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ut = Number(f[11]);
  const st = Number(f[12]);
  if (!Number.isFinite(ut) || !Number.isFinite(st)) return null;
  let total = -1;
  if (precise) {
    total = Number((readProc(`${dir}/schedstat`) ?? '').split(' ')[0]);
    if (!Number.isFinite(total) || total < 0) total = -1;
  }
  return { ut, st, total };
}

const procScratch = Buffer.alloc(1024);
const O_RDONLY_CLOEXEC = 0o2000000;
const AT_FDCWD = -100;
/**
 * A small /proc file's text by one openat, read and close: Node's
 * readFileSync of a file /proc sizes as 0 cost about five times as much
 * (measured 130 against 27 us here), once per thread at every exit.
 */
export function readProc(path: string): string | null {
  const fd = libc.openat(AT_FDCWD, Buffer.from(`${path}\0`, 'latin1'), O_RDONLY_CLOEXEC);
  if (fd < 0) return null;
  try {
    const n = Number(libc.read(fd, procScratch, procScratch.length));
    return n > 0 ? procScratch.toString('latin1', 0, n) : null;
  } finally {
    libc.close(fd);
  }
}


/** What h ran since base (a host thread taken over: what it ran before), in ns; null when h is. */
export function cpuTimeSince(h: HostCpu | null, base: HostCpu, precise: boolean): CpuTime | null {
  if (!h) return null;
  const ut = Math.max(0, h.ut - base.ut);
  const st = Math.max(0, h.st - base.st);
  let userNs = ut * TICK_NS;
  let sysNs = st * TICK_NS;
  if (precise && h.total >= 0) {
    const total = Math.max(0, h.total - base.total);
    userNs = ut + st > 0 ? Math.round((total * ut) / (ut + st)) : total;
    sysNs = total - userNs;
  }
  return { userNs, sysNs };
}
