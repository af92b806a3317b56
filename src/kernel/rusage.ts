// Resource usage (getrusage, wait4 and waitid's rusage): CPU times and the
// peak resident size of a process, of its reaped descendants, or both.
// A reaped child's own figures and those of the children it reaped go to its
// parent (wait's accounting in Lifecycle); ru_maxrss of children is the
// largest peak among them, as on Linux, not a sum.

import type { MemoryManager } from '../mm/mm';
import type { ThreadGroup } from './thread_group';

export interface Rusage {
  userNs: number;
  sysNs: number;
  maxRssKb: number;
}

/**
 * Raise the process's peak resident size to what mm holds now. The Sentry
 * never sees pages being touched, so the peak is sampled where it is asked
 * for or about to go (getrusage, exec, exit): a peak freed in between is missed.
 */
export function sampleRss(tg: ThreadGroup, mm: MemoryManager): void {
  const kb = Math.floor(mm.usage().rss / 1024);
  if (kb > tg.maxRssKb) tg.maxRssKb = kb;
}

/** The process's own usage (live threads sampled now), its reaped children's, or both (wait's RUSAGE_BOTH). */
export function rusageOf(tg: ThreadGroup, who: 'self' | 'children' | 'both'): Rusage {
  const self = { userNs: 0, sysNs: 0, maxRssKb: 0 };
  if (who !== 'children') {
    if (!tg.zombie) for (const t of tg.tasks) if (t.state !== 'dead') sampleRss(tg, t.mm);
    const c = tg.cpuTime();
    Object.assign(self, { userNs: c.userNs, sysNs: c.sysNs, maxRssKb: tg.maxRssKb });
    if (who === 'self') return self;
  }
  return {
    userNs: self.userNs + tg.childUserNs,
    sysNs: self.sysNs + tg.childSysNs,
    maxRssKb: Math.max(self.maxRssKb, tg.childMaxRssKb),
  };
}

/** What the parent takes over when it reaps a child (Linux's __exit_signal/wait_task_zombie accounting). */
export function accountReaped(parent: ThreadGroup, child: ThreadGroup): void {
  parent.childUserNs += child.finalUserNs + child.childUserNs;
  parent.childSysNs += child.finalSysNs + child.childSysNs;
  parent.childMaxRssKb = Math.max(parent.childMaxRssKb, child.maxRssKb, child.childMaxRssKb);
}

function timeval(b: Buffer, off: number, ns: number): void {
  const big = BigInt(Math.max(0, Math.trunc(ns)));
  b.writeBigInt64LE(big / 1_000_000_000n, off);
  b.writeBigInt64LE((big % 1_000_000_000n) / 1000n, off + 8);
}

/** struct rusage (144 bytes): times and ru_maxrss (KiB); the other counters are 0. */
export function encodeRusage(r: Rusage): Buffer {
  const b = Buffer.alloc(144);
  timeval(b, 0, r.userNs);
  timeval(b, 16, r.sysNs);
  b.writeBigInt64LE(BigInt(r.maxRssKb), 32);
  return b;
}
