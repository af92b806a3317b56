// A host thread's CPU time as the host accounts it, for the platforms'
// contexts (Context.cpuTime) and the CPU policy: user and system ticks from
// /proc/TID/task/TID/stat, and when asked for precision the exact total from
// its schedstat, split in the same ratio.
//
// Not /proc/PID/task/TID: the dentries a read leaves there hang under the
// process's own /proc directory, which the host walks to flush when the
// Sentry reaps the process, while the thread's own exit flushes them: a
// systrap stub (a leader and an application thread) killed after its
// thread's CPU time was read made the Sentry's waitpid spin in
// proc_invalidate_siblings_dcache until that exit ran, 4-30 ms per reap
// (perf; 25-150 ms of every make -j1 of 20 files), where ptrace's
// single-thread stubs paid nothing.

import * as libc from '../host/libc';
import type { CpuTime } from './platform';

const TICK_NS = 10_000_000; // USER_HZ = 100

/** A host thread's CPU counters: ticks of user and system time, the exact total in ns (-1: not read), its start (ticks after boot, -1: unknown). */
export interface HostCpu {
  ut: number;
  st: number;
  total: number;
  start: number;
}
export const NO_CPU: HostCpu = { ut: 0, st: 0, total: 0, start: -1 };

/**
 * The host's counters of one of its threads: /proc/TID/task/TID/stat, and
 * with precise its schedstat. The host's /proc is the platform's to read:
 * these are its own processes. Null once the thread is gone, or when the
 * thread found started at another time than start (the number is another
 * thread's now: a path by TID alone does not say whose).
 */
export function readHostCpu(tid: number, precise: boolean, start = -1): HostCpu | null {
  const dir = hostTaskDir(tid);
  const stat = readProc(`${dir}/stat`);
  if (stat === null) return null;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ut = Number(f[11]);
  const st = Number(f[12]);
  const began = Number(f[19]);
  if (!Number.isFinite(ut) || !Number.isFinite(st) || !Number.isFinite(began)) return null;
  if (start >= 0 && began !== start) return null;
  let total = -1;
  if (precise) {
    total = Number((readProc(`${dir}/schedstat`) ?? '').split(' ')[0]);
    if (!Number.isFinite(total) || total < 0) total = -1;
  }
  return { ut, st, total, start: began };
}

/** A host thread's /proc directory, by its TID alone (see the top of this file for why not under its process). */
export function hostTaskDir(tid: number): string {
  return `/proc/${tid}/task/${tid}`;
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
