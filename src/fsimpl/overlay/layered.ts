// What both overlays (the root one, overlay.ts, and the application's
// mounts, stack.ts) do with a file's content: read from the layer that has
// the file now, copy the file up before any change and change the upper
// copy. Each overlay says which layer is on top and how it copies up.
import { Errno, E } from '../../abi/errno';
import { S_IFMT, S_IFREG, type SetAttr } from '../../abi/fs';
import type { Mappable } from '../../mm/mappable';
import type { MemoryAccess } from '../../mm/access';
import type { MemCharge } from '../../platform/memcharge';
import { Inode } from '../../vfs/inode';

export abstract class LayeredInode extends Inode {
  /** The layer file that answers for this one now (the upper copy once there is one). */
  protected abstract get top(): Inode;
  /** Make sure the file has an upper copy, and return it. */
  abstract copyUp(): Inode;

  override readlink(): string {
    return this.top.readlink(null);
  }
  override readAt(off: number, len: number): Buffer {
    return this.top.readAt(off, len);
  }
  override writeAt(off: number, data: Buffer, charge: MemCharge | null = null): number {
    return this.copyUp().writeAt(off, data, charge);
  }
  override readToUser(off: number, mem: MemoryAccess, addr: number, len: number): number {
    return this.top.readToUser(off, mem, addr, len);
  }
  override writeFromUser(off: number, mem: MemoryAccess, addr: number, len: number): number {
    return this.copyUp().writeFromUser(off, mem, addr, len);
  }
  override allocate(mode: number, off: number, len: number, charge: MemCharge | null = null): void {
    this.copyUp().allocate(mode, off, len, charge);
  }
  override seekData(off: number, hole: boolean): number {
    return this.top.seekData(off, hole);
  }
  override setattr(a: SetAttr): void {
    // A truncate to the current size of a lower file still copies up: the caller meant to write.
    this.copyUp().setattr(a);
  }
  /** The page cache of the layer that has the file now (Linux's overlay file maps the real file's pages). */
  override pageCacheIn(first: number, end: number): { cache: number; dirty: number } {
    return this.top.pageCacheIn(first, end);
  }
  override mappable(): Mappable | null {
    if ((this.mode & S_IFMT) !== S_IFREG) return null;
    return {
      frameFor: (pi, write, charge) => {
        const m = (write ? this.copyUp() : this.top).mappable();
        if (!m) throw new Errno(E.ENODEV);
        return m.frameFor(pi, write, charge);
      },
      size: () => this.attrs().size,
    };
  }
}
