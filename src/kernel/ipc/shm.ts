// System V shared memory segments (man 2 shmget, shmat, shmctl). A segment
// is a run of memory-file frames handed out page by page to shared mappings
// (it is a Mappable, like a tmpfs file); each attached VMA holds it, which is
// shm_nattch. IPC_RMID of an attached segment only takes its key away; the
// frames go when the last mapping does.

import { IpcSet, type IpcObject, type IpcPerm } from './ipc';
import type { Mappable, FrameSource } from '../../mm/mappable';
import type { MemCharge } from '../../platform/memcharge';
import { PAGE_SIZE as PAGE } from '../../abi/mm';

/** Linux's defaults (ipc/shm.c, include/uapi/linux/shm.h). */
export const SHMMIN = 1;
export const SHMMNI_DEFAULT = 4096;
export const SHMMAX_DEFAULT = 0xffffffffffffffffn - (1n << 24n);
export const SHMALL_DEFAULT = 0xffffffffffffffffn - (1n << 24n);

export class ShmSegment implements IpcObject, Mappable {
  id = 0;
  nattch = 0;
  atimeNs = 0;
  dtimeNs = 0;
  ctimeNs: number;
  lpid = 0;
  /** IPC_RMID came: freed when nattch drops to 0. */
  removed = false;
  locked = false;
  private readonly frames: number[] = [];
  /** SHM_HUGETLB: the huge pages of a file of the internal hugetlbfs mount, and its release (null: small pages of its own). */
  private huge: { mappable: Mappable; release(): void } | null = null;

  constructor(
    private readonly ns: ShmNamespace,
    readonly perm: IpcPerm,
    /** shm_segsz: the size asked for. */
    readonly segsz: number,
    readonly cpid: number,
    nowNs: number,
  ) {
    this.ctimeNs = nowNs;
  }

  get pages(): number {
    return Math.ceil(this.segsz / PAGE);
  }

  /** A SHM_HUGETLB segment's huge page size: attach addresses and unmaps align to it. */
  get pageSize(): number | undefined {
    return this.huge?.mappable.pageSize;
  }

  /** Pages that hold memory now (shm_rss). */
  get resident(): number {
    if (this.huge) return this.huge.mappable.framesIn!(0, this.size() / PAGE).size;
    let n = 0;
    for (const f of this.frames) if (f !== undefined) n++;
    return n;
  }

  /** charge: the faulting address space's group, which a new page is charged to (Linux charges shmem to the faulting task's memory cgroup); else the namespace's. */
  frameFor(pageIndex: number, _write = false, charge: MemCharge | null = null): number {
    if (this.huge) return this.huge.mappable.frameFor(pageIndex, _write, charge);
    let f = this.frames[pageIndex];
    if (f === undefined) {
      f = this.ns.memory.alloc(1, charge);
      this.frames[pageIndex] = f;
    }
    return f;
  }

  /** What a mapping sees: whole pages (Linux maps the segment rounded up). */
  size(): number {
    return this.huge ? this.huge.mappable.size() : this.pages * PAGE;
  }

  /** A huge segment's pages present, by small page index: only those are mapped at attach, the others at their touch. */
  framesIn?: (from: number, to: number) => Map<number, number>;

  /** Make it a SHM_HUGETLB segment over the huge pages of backing. */
  setHuge(backing: { mappable: Mappable; release(): void }): void {
    this.huge = backing;
    const m = backing.mappable;
    this.framesIn = (from, to) => m.framesIn!(from, to);
  }

  /** A mapping of it was made (shmat, fork, a VMA split). */
  incRef(): void {
    this.nattch++;
  }

  /** A mapping of it went (shmdt, munmap, exit, exec). */
  decRef(): void {
    this.nattch--;
    this.dtimeNs = this.ns.now();
    if (this.nattch === 0 && this.removed) this.ns.destroy(this);
  }

  freeFrames(): void {
    this.huge?.release();
    this.huge = null;
    for (const f of this.frames) if (f !== undefined) this.ns.memory.decRef(f);
    this.frames.length = 0;
  }
}

/** The shared memory part of an IPC namespace, with its sysctl limits. */
export class ShmNamespace {
  shmmax = SHMMAX_DEFAULT;
  shmall = SHMALL_DEFAULT;
  shmmni = SHMMNI_DEFAULT;
  readonly set = new IpcSet<ShmSegment>(() => this.shmmni);
  /** Pages of all segments (against shmall). */
  totalPages = 0;

  constructor(readonly memory: FrameSource, readonly now: () => number) {}

  destroy(s: ShmSegment): void {
    this.set.remove(s);
    this.totalPages -= s.pages;
    s.freeFrames();
  }

  /** IPC_RMID: gone now if nothing maps it, else when the last mapping goes. */
  remove(s: ShmSegment): void {
    s.removed = true;
    s.perm.mode |= 0o1000; // SHM_DEST, as IPC_STAT shows it
    if (s.nattch === 0) this.destroy(s);
    else this.set.unkey(s);
  }
}
