// Memory charge groups: a pod container's share of the sandbox's memory file,
// as a Linux memory cgroup's usage and limit (memory.current, memory.max).
// Every frame records the group it was charged to when it was allocated and
// is uncharged from that group when it is freed, whoever holds it by then
// (Linux's rule: a page stays charged to the group that first touched it).
// A group's frames count against the sandbox's limit as well.

/** Frames record their group in a byte: group 0 is "none" (the sandbox's own). */
const MAX_GROUPS = 255;

export class MemCharge {
  usedPages = 0;
  /** Highest usedPages so far. */
  peakPages = 0;
  /** Allocations refused at the group's limit (memory.failcnt). */
  failures = 0;
  /** Processes the OOM killer chose within the group. */
  oomKills = 0;
  /** Its container is gone: the slot is free again once nothing is charged. */
  released = false;

  constructor(
    /** Its number in the frames' owner bytes (1 to 255). */
    readonly slot: number,
    /** The limit in frames. */
    public limitPages: number,
  ) {}

  fits(npages: number): boolean {
    return this.usedPages + npages <= this.limitPages;
  }
}

/** The groups by slot, and the frames' owner bytes. */
export class ChargeTable {
  private readonly groups: Array<MemCharge | null> = [null];
  owners = new Uint8Array(0);

  /** A new group limited to limitPages; an error when every slot holds one (bounded: the frames keep a byte each). */
  add(limitPages: number): MemCharge {
    let slot = this.groups.indexOf(null, 1);
    if (slot < 0) {
      if (this.groups.length > MAX_GROUPS) throw new Error(`at most ${MAX_GROUPS} memory charge groups per sandbox (frames of removed containers still charged hold theirs)`);
      slot = this.groups.length;
      this.groups.push(null);
    }
    const c = new MemCharge(slot, limitPages);
    this.groups[slot] = c;
    return c;
  }

  /** Its container is gone: its slot is reused once its last frame is freed. */
  release(c: MemCharge): void {
    c.released = true;
    if (c.usedPages === 0 && this.groups[c.slot] === c) this.groups[c.slot] = null;
  }

  /** Make room for owner bytes of frames below n (the memory file's reference counts grew to len). */
  grow(len: number): void {
    if (len <= this.owners.length) return;
    const o = new Uint8Array(len);
    o.set(this.owners);
    this.owners = o;
  }

  /** Frames [first, first+n) were handed out to c (null: to no group). */
  charge(first: number, n: number, c: MemCharge | null): void {
    if (!c) return;
    this.grow(first + n);
    this.owners.fill(c.slot, first, first + n);
    c.usedPages += n;
    if (c.usedPages > c.peakPages) c.peakPages = c.usedPages;
  }

  /** Frames [first, first+n) were freed: each is uncharged from its group. */
  uncharge(first: number, n: number): void {
    const end = Math.min(first + n, this.owners.length);
    for (let i = first; i < end; i++) {
      const slot = this.owners[i];
      if (slot === 0) continue;
      this.owners[i] = 0;
      const c = this.groups[slot]!;
      c.usedPages--;
      if (c.released && c.usedPages === 0) this.groups[slot] = null;
    }
  }
}
