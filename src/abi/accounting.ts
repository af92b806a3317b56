// What one sandbox may make the Sentry hold. Application memory (anonymous
// pages, tmpfs data, page cache) lives in frames of the memory file and is
// bounded by the sandbox memory limit; kernel objects an application can
// create without bound (inodes, directory entries, symlink targets, xattrs,
// pipe buffers) live in the Sentry's JavaScript heap and are charged here, so
// that the application gets an errno long before Node runs out of heap.

import type * as V8 from 'node:v8';
import { Errno } from './errno';

const MiB = 1024 * 1024;

/** "512m", "2g", "65536k", "1048576" (bytes) -> bytes, or null when malformed. */
export function parseSize(s: string): number | null {
  const m = /^(\d+)([kmgt]?)(i?b)?$/i.exec(s.trim());
  if (!m) return null;
  const mult: Record<string, number> = { '': 1, k: 1024, m: MiB, g: 1024 * MiB, t: 1024 * 1024 * MiB };
  const n = Number(m[1]) * mult[m[2].toLowerCase()];
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * The Sentry's heap budget for objects applications create: a quarter of the
 * memory limit, and never more than a quarter of Node's heap limit, so that the
 * charged objects (whose real cost is estimated per object) stay well inside
 * the heap even if the estimates are off by a factor of two.
 */
function heapBudgetFor(limitBytes: number): number {
  // node:v8 loads Node's stream modules with it (a few ms of every start): asked only when a budget's bound is needed (HeapBudget).
  const heapLimit = (require('node:v8') as typeof V8).getHeapStatistics().heap_size_limit;
  return Math.max(MIN_BUDGET, Math.floor(Math.min(limitBytes / 4, heapLimit / 4)));
}

/** The least heapBudgetFor gives, known without asking Node. */
const MIN_BUDGET = 4 * MiB;

/** Estimated JavaScript heap cost of kernel objects, measured with bench/heap_cost.js (charged a little above). */
export const HEAP_COST = {
  /** A tmpfs inode with its attributes (measured about 1 KB for an empty file). */
  inode: 1024,
  /** A directory entry, plus the bytes of its name. */
  dirent: 96,
  /**
   * A cached directory entry with the file system's objects behind it (for a
   * host file: dentry, overlay inode, host inode with its attributes, host
   * node); estimated, not measured.
   */
  cachedDentry: 1536,
  /** An extended attribute, plus its name and value. */
  xattr: 160,
} as const;

export class HeapBudget {
  used = 0;
  /** Highest use seen, for tests and the debug log. */
  peak = 0;

  /** Gives back what an object still held when it is collected (for owners with no explicit end). */
  private readonly collector = new FinalizationRegistry<{ bytes: number }>((held) => {
    this.uncharge(held.bytes);
    held.bytes = 0;
  });

  /** The bound, or null until it is first needed when it follows a memory limit (heapBudgetFor of memoryBytes). */
  private bound: number | null;
  private memoryBytes = 0;

  constructor(limit: number) {
    this.bound = limit;
  }

  /** A budget that follows a memory limit of bytes (heapBudgetFor), worked out when first needed: a sandbox whose objects stay under MIN_BUDGET never asks node:v8. */
  static forMemory(bytes: number): HeapBudget {
    const b = new HeapBudget(0);
    b.followMemory(bytes);
    return b;
  }

  followMemory(bytes: number): void {
    this.bound = null;
    this.memoryBytes = bytes;
  }

  get limit(): number {
    return (this.bound ??= heapBudgetFor(this.memoryBytes));
  }
  set limit(bytes: number) {
    this.bound = bytes;
  }

  /** Whether total bytes are over the bound (below MIN_BUDGET a bound not yet worked out cannot be). */
  private over(total: number): boolean {
    return total > (this.bound ?? MIN_BUDGET) && total > this.limit;
  }

  track(owner: object, held: { bytes: number }): void {
    this.collector.register(owner, held);
  }

  /** Take bytes from the budget or throw errno (the one Linux gives for that kind of object). */
  charge(bytes: number, errno: number): void {
    if (this.over(this.used + bytes)) throw new Errno(errno, 'sandbox kernel memory budget exhausted');
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
  }

  /** Take bytes if the budget has them; false otherwise (for caches, which shrink rather than fail). */
  tryCharge(bytes: number): boolean {
    if (this.over(this.used + bytes)) return false;
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
    return true;
  }

  uncharge(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}
