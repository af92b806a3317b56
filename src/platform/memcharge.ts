// Memory charge groups: a pod container's share of the sandbox's memory file,
// as a Linux memory cgroup's usage and limit (memory.current, memory.max).
// Every frame records the group it was charged to when it was allocated and
// is uncharged from that group when it is freed, whoever holds it by then
// (Linux's rule: a page stays charged to the group that first touched it).
// A group's frames count against the sandbox's limit as well. Memory the
// Sentry holds for the application outside the memory file (unix socket
// queues) is charged in bytes (kernelBytes), as Linux charges kernel memory
// (kmem) to the cgroup of the task that allocated it, rounded up to pages.

import { PAGE_SIZE as PAGE } from '../abi/mm';

/** Frames record their group in a byte: group 0 is "none" (the sandbox's own). */
const MAX_GROUPS = 255;


/** Pages that bytes of kernel memory take (rounded up, as a page of slab is charged whole). */
export function kernelPages(bytes: number): number {
  return Math.ceil(bytes / PAGE);
}

export class MemCharge {
  usedPages = 0;
  /** Kernel memory held for the group outside the memory file (socket queues), in bytes. */
  kernelBytes = 0;
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
    return this.usedPages + kernelPages(this.kernelBytes) + npages <= this.limitPages;
  }

  /** memory.current: its frames and its kernel memory, in bytes. */
  usageBytes(): number {
    return this.usedPages * PAGE + this.kernelBytes;
  }

  notePeak(): void {
    const now = this.usedPages + kernelPages(this.kernelBytes);
    if (now > this.peakPages) this.peakPages = now;
  }
}

/** The groups by slot, and the frames' owner bytes. */
export class ChargeTable {
  private readonly groups: Array<MemCharge | null> = [null];
  owners = new Uint8Array(0);
  /** Kernel memory of the whole sandbox (every group's and the sandbox's own), in bytes. */
  kernelBytes = 0;

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
    this.freeIfDone(c);
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
    c.notePeak();
  }

  /** bytes of kernel memory taken (positive) or given back (negative) for c (null: the sandbox's own). */
  chargeKernel(bytes: number, c: MemCharge | null): void {
    this.kernelBytes += bytes;
    if (!c) return;
    c.kernelBytes += bytes;
    if (bytes > 0) c.notePeak();
    else this.freeIfDone(c);
  }

  private freeIfDone(c: MemCharge): void {
    if (c.released && c.usedPages === 0 && c.kernelBytes === 0 && this.groups[c.slot] === c) this.groups[c.slot] = null;
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
      if (c.released && c.usedPages === 0) this.freeIfDone(c);
    }
  }
}
