// What mmap needs from a file: the frames of the memory file that hold its pages.
// tmpfs files hand out their own frames (so MAP_SHARED mappings and write()
// see the same bytes); host files fill a page cache of frames on first use.
import type { MemoryFile } from '../platform/memfile';
import type { MemCharge } from '../platform/memcharge';

export interface Mappable {
  /**
   * The frame in the memory file holding page pageIndex of the file, allocated
   * (zero-filled or read from the backing store) if needed. write=true means the
   * caller will modify it through a shared mapping. The caller takes its own
   * reference with memfile.incRef(frame) if it keeps the frame. charge: the
   * group of the faulting address space, which a file whose pages are
   * memory (tmpfs) charges a new frame to.
   */
  frameFor(pageIndex: number, write: boolean, charge?: MemCharge | null): number;
  /** Its page size when not the small page (a hugetlb object's 2 MiB: smaps, munmap/mprotect alignment). */
  readonly pageSize?: number;
  /** A huge page file: how many of its huge pages that hold small pages [from, to) have been taken (smaps' Private_Hugetlb). */
  pagesIn?(from: number, to: number): number;
  /** Current file size in bytes. */
  size(): number;
  /**
   * The frames the file holds for its pages in [from, to), by page index,
   * without allocating (a hole punch takes them out of the mappings).
   * Files whose pages cannot be punched leave it out.
   */
  framesIn?(from: number, to: number): Map<number, number>;
  /** fallocate(PUNCH_HOLE|KEEP_SIZE) of [off, off+len) (MADV_REMOVE); files without holes leave it out (EOPNOTSUPP). */
  punch?(off: number, len: number): void;
  /** Write what shared mappings changed to where the file lives (msync of a host file); files whose frames are the file leave it out. */
  writeback?(): void;
}

/** The part of MemoryFile that file systems use (tests can pass a fake without the limits). */
export type FrameSource = Pick<MemoryFile, 'alloc' | 'bytes' | 'incRef' | 'decRef'> & Partial<Pick<MemoryFile, 'limitPages' | 'heap' | 'write'>>;

/**
 * The frames of a pod container's own file systems (its root's upper layer
 * and page cache, its tmpfs mounts, its IPC namespace's shared memory),
 * charged to its group as Linux charges page cache and shmem to the
 * cgroup that first touched them (a tmpfs's default size stays half the
 * sandbox's memory: the charge group's limit is the one that bites).
 */
export function chargedFrames(memfile: MemoryFile, charge: MemCharge): FrameSource {
  return {
    // A writer of a pod container (c) is charged for what it allocates; the sandbox's own processes, the group of the file system.
    alloc: (n, c) => memfile.alloc(n, c ?? charge),
    bytes: (frame, n) => memfile.bytes(frame, n),
    incRef: (frame, n) => memfile.incRef(frame, n),
    decRef: (frame, n) => memfile.decRef(frame, n),
    write: (frame, off, src) => memfile.write(frame, off, src),
    limitPages: memfile.limitPages,
    heap: memfile.heap,
  };
}
