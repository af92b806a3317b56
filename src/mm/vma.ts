// A virtual memory area: a page-aligned range of an address space with one
// protection and one backing. Each page records the memory-file frame that
// backs it (-1 while none was needed yet). Whether a private page may be
// written in place follows from the frame's reference count: a frame shared
// with another address space or with a file cache is copied on write.

import type { Mappable } from './mappable';
import type { FrameTable } from './frame_table';
import { PAGE_SIZE as PAGE } from '../abi/mm';

export { PAGE };

export interface VmaFile {
  mappable: Mappable;
  /** For /proc/PID/maps. */
  name: string;
  dev: number;
  ino: number;
  /** Keeps the open file alive for as long as the mapping exists. */
  hold?: { incRef(): void; decRef(): void };
}

export class Vma {
  constructor(
    public start: number,
    public end: number,
    public prot: number,
    public shared: boolean,
    public frames: FrameTable,
    public file: VmaFile | null,
    /** File offset of `start`, in pages. */
    public pgoff: number,
    public growsDown = false,
    public name: string | null = null,
  ) {}

  get pages(): number {
    return (this.end - this.start) / PAGE;
  }

  pageIndex(addr: number): number {
    return Math.floor((addr - this.start) / PAGE);
  }

  /** Split at addr; this keeps [start, addr), the returned VMA is [addr, end). */
  splitAt(addr: number): Vma {
    const n = this.pageIndex(addr);
    const right = new Vma(addr, this.end, this.prot, this.shared, this.frames.slice(n, this.pages), this.file, this.pgoff + n, this.growsDown, this.name);
    this.frames = this.frames.slice(0, n);
    this.end = addr;
    right.file?.hold?.incRef();
    return right;
  }

  /** Whether `next` continues this VMA exactly (same attributes, adjacent), so the two can merge. */
  canMerge(next: Vma): boolean {
    return (
      this.end === next.start &&
      this.prot === next.prot &&
      this.shared === next.shared &&
      this.file === null &&
      next.file === null &&
      this.growsDown === next.growsDown &&
      this.name === next.name
    );
  }
}

export function pageAlignUp(x: number): number {
  return Math.ceil(x / PAGE) * PAGE;
}

export function pageAlignDown(x: number): number {
  return Math.floor(x / PAGE) * PAGE;
}
