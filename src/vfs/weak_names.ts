// Name caches that do not keep what they name alive. A directory's cached
// children (VFS dentries, overlay inodes) are found by name as long as
// something else holds them: an open file, a working directory, a mount, a
// cached child (through its parent pointer), or the bounded list of recently
// used entries (DentryCache). So a held object keeps its identity (a rename
// moves the very dentry a cwd points to), while a walk over a huge tree leaves
// behind only what the bounded list keeps. An entry whose object was collected
// is removed by the owner's Reaper, or found empty and dropped on lookup.
// (A WeakRef keeps its object until the current JavaScript job ends; the
// kernel's loop yields to Node at least every 100 ms, so that bounds what a
// walk keeps alive in between.)

interface Entry {
  readonly ref: WeakRef<object>;
  readonly map: Map<string, Entry>;
  readonly name: string;
}

/** Removes the entries of collected objects; one per file system or VFS. */
export class Reaper {
  private readonly registry = new FinalizationRegistry<Entry>((e) => {
    if (e.map.get(e.name) === e) e.map.delete(e.name);
  });

  watch(target: object, e: Entry): void {
    this.registry.register(target, e, e);
  }

  unwatch(e: Entry): void {
    this.registry.unregister(e);
  }
}

export class WeakNames<T extends object> {
  /** Made at the first entry: most inodes (files) never get one. */
  private m: Map<string, Entry> | null = null;

  constructor(private readonly reaper: Reaper) {}

  get(name: string): T | undefined {
    const e = this.m?.get(name);
    if (!e) return undefined;
    const v = e.ref.deref() as T | undefined;
    if (v === undefined) this.delete(name);
    return v;
  }

  set(name: string, v: T): void {
    this.delete(name);
    if (!this.m) this.m = new Map();
    const e: Entry = { ref: new WeakRef(v), map: this.m, name };
    this.m.set(name, e);
    this.reaper.watch(v, e);
  }

  delete(name: string): void {
    const e = this.m?.get(name);
    if (!e) return;
    e.map.delete(name);
    this.reaper.unwatch(e);
  }

  /** The objects still alive. */
  *values(): IterableIterator<T> {
    if (!this.m) return;
    for (const e of this.m.values()) {
      const v = e.ref.deref() as T | undefined;
      if (v !== undefined) yield v;
    }
  }

  /** Entries held, including ones whose object was collected but not yet reaped. */
  get size(): number {
    return this.m ? this.m.size : 0;
  }
}
