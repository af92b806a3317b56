// The bounded part of the dentry cache. Directories find their cached
// children through WeakNames (weak_names.ts): what keeps a dentry alive is
// whoever uses it (open files, working directories, mounts, cached children)
// and this list of the most recently used ones. Past its limit the least
// recently used entry is let go; the Sentry then holds no more of a huge tree
// than the limit (plus the parents of what it holds), however much of it a
// program walks. Each entry is charged to the sandbox's heap budget: when the
// budget is short the cache shrinks instead of failing anything.
import type { HeapBudget } from '../abi/accounting';
import { HEAP_COST } from '../abi/accounting';
import type { Dentry } from './dentry';
import { LruList } from './lru';
import { Reaper, WeakNames } from './weak_names';

/** Default number of recently used dentries kept (TSVISOR_DENTRY_CACHE overrides). */
export const DEFAULT_DENTRY_CACHE = 16384;

export class DentryCache {
  private readonly lru = new LruList<Dentry>();
  readonly reaper = new Reaper();
  /** Highest number of entries held at once (tests check the bound with it). */
  peak = 0;
  private budget: HeapBudget | null = null;

  readonly limit: number;

  constructor(limit = DEFAULT_DENTRY_CACHE) {
    this.limit = Number.isSafeInteger(limit) && limit >= 0 ? limit : DEFAULT_DENTRY_CACHE;
  }

  /** Charge the entries to the sandbox's heap budget from now on (those already held included). */
  setBudget(b: HeapBudget): void {
    const held = this.lru.toArray();
    for (const d of held) this.lru.remove(d);
    this.budget = b;
    for (const d of held) if (this.charge()) this.lru.push(d);
  }

  /** A new children map for a directory dentry. */
  names(): WeakNames<Dentry> {
    return new WeakNames<Dentry>(this.reaper);
  }

  /** d was just used: keep it, as the most recent. */
  touch(d: Dentry): void {
    if (this.lru.has(d)) {
      this.lru.touch(d);
      return;
    }
    if (this.limit <= 0) return;
    while (this.lru.size >= this.limit) this.evictOldest();
    if (!this.charge()) return;
    this.lru.push(d);
    if (this.lru.size > this.peak) this.peak = this.lru.size;
  }

  /** d is gone (unlinked, replaced): nothing to keep. */
  forget(d: Dentry): void {
    if (!this.lru.has(d)) return;
    this.lru.remove(d);
    this.budget?.uncharge(HEAP_COST.cachedDentry);
  }

  get size(): number {
    return this.lru.size;
  }

  private charge(): boolean {
    if (!this.budget) return true;
    for (;;) {
      if (this.budget.tryCharge(HEAP_COST.cachedDentry)) return true;
      if (this.lru.size === 0) return false;
      this.evictOldest();
    }
  }

  private evictOldest(): void {
    if (this.lru.shift()) this.budget?.uncharge(HEAP_COST.cachedDentry);
  }
}
