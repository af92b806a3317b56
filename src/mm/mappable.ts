// What mmap needs from a file: the frames of the memory file that hold its pages.
// tmpfs files hand out their own frames (so MAP_SHARED mappings and write()
// see the same bytes); host files fill a page cache of frames on first use.
import type { MemoryFile } from '../platform/memfile';

export interface Mappable {
  /**
   * The frame in the memory file holding page pageIndex of the file, allocated
   * (zero-filled or read from the backing store) if needed. write=true means the
   * caller will modify it through a shared mapping. The caller takes its own
   * reference with memfile.incRef(frame) if it keeps the frame.
   */
  frameFor(pageIndex: number, write: boolean): number;
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
