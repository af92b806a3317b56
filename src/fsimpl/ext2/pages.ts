// The page cache of an ext2 file that is mapped (mmap): frames of the memory
// file filled from the disk at the first fault. write() updates cached pages
// as well as the disk; pages handed to shared writable mappings are written
// back to the disk at msync, fsync, before reads, and at the last close.
import type { FrameSource, Mappable } from '../../mm/mappable';
import { PAGE_SIZE as PAGE } from '../../abi/mm';

/** What the cache needs from its file: the bytes on disk and the size. */
export interface PagedFile {
  readData(off: number, len: number): Buffer;
  writeData(off: number, data: Buffer): number;
  readonly size: number;
}

export class MappedPages {
  private readonly cache = new Map<number, number>();
  private readonly dirty = new Set<number>();

  constructor(private readonly frames: FrameSource, private readonly file: PagedFile) {}

  mappable(): Mappable {
    return {
      frameFor: (pi, write, charge) => {
        let f = this.cache.get(pi);
        if (f === undefined) {
          f = this.frames.alloc(1, charge ?? undefined);
          const data = this.file.readData(pi * PAGE, PAGE);
          data.copy(this.frames.bytes(f, 1));
          this.cache.set(pi, f);
        }
        if (write) this.dirty.add(pi);
        return f;
      },
      size: () => this.file.size,
      writeback: () => this.flush(),
    };
  }

  /** Write the pages shared mappings may have changed (within the file's size) to the disk. */
  flush(): void {
    const size = this.file.size;
    for (const pi of this.dirty) {
      const f = this.cache.get(pi);
      const n = Math.min(PAGE, size - pi * PAGE);
      if (f === undefined || n <= 0) continue;
      this.file.writeData(pi * PAGE, Buffer.from(this.frames.bytes(f, 1).subarray(0, n)));
    }
  }

  /** A write reached the disk: the cached pages it covers see it too. */
  wrote(off: number, data: Buffer): void {
    if (this.cache.size === 0) return;
    for (let pi = Math.floor(off / PAGE); pi * PAGE < off + data.length; pi++) {
      const f = this.cache.get(pi);
      if (f === undefined) continue;
      const from = Math.max(off, pi * PAGE);
      const to = Math.min(off + data.length, (pi + 1) * PAGE);
      data.copy(this.frames.bytes(f, 1), from - pi * PAGE, from - off, to - off);
    }
  }

  /** The file shrank to size: pages past it leave the cache, the rest of the last one reads zeros. */
  truncated(size: number): void {
    for (const [pi, f] of this.cache) {
      if (pi * PAGE >= size) {
        this.cache.delete(pi);
        this.dirty.delete(pi);
        this.frames.decRef(f, 1);
      } else if ((pi + 1) * PAGE > size) {
        this.frames.bytes(f, 1).fill(0, size - pi * PAGE);
      }
    }
  }

  /** The file is gone or closed for the last time: the frames go back (mappings hold their own references). */
  drop(): void {
    for (const f of this.cache.values()) this.frames.decRef(f, 1);
    this.cache.clear();
    this.dirty.clear();
  }
}
