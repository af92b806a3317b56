// Open regular files: the data the inode serves through readAt/writeAt, the
// description's offset, O_APPEND and atime on reads.
import { Errno, E } from '../abi/errno';
import type { FileCtx } from './ctx';
import type { VPath } from './dentry';
import type { Inode } from './inode';
import type { Mappable } from '../mm/mappable';
import type { MemoryAccess } from '../mm/access';
import { O_APPEND, O_NOATIME, TMPFS_MAGIC } from '../abi/fs';
import { FileDescription, seekPosition, userRoom } from './file';

/** A regular file whose data the inode serves through readAt/writeAt. */
export class RegularFile extends FileDescription {
  constructor(path: VPath, inode: Inode, flags: number) {
    super(path, inode, flags);
  }
  private get ino(): Inode {
    return this.inode as Inode;
  }
  override read(_t: FileCtx, len: number): Buffer {
    const b = this.ino.readAt(this.offset, len);
    this.offset += b.length;
    this.accessed(len);
    return b;
  }
  /** A read of len bytes happened (even one at the end of the file): atime, unless O_NOATIME. */
  private accessed(len: number): void {
    if (len > 0 && !(this.flags & O_NOATIME) && this.path?.mount.flags.atime !== 'noatime') this.ino.accessed();
  }
  override readToUser(_t: FileCtx, mem: MemoryAccess, addr: number, len: number): number {
    const room = len ? mem.prefix(addr, len, true) : 0;
    if (len && room === 0) {
      // At the end of the file nothing is copied: a bad buffer is no error there.
      if (this.offset < this.ino.attrs().size) throw new Errno(E.EFAULT);
      this.accessed(len);
      return 0;
    }
    const n = this.ino.readToUser(this.offset, mem, addr, room);
    this.accessed(len);
    this.offset += n;
    return n;
  }
  // The offset moves only by what was written: a failed O_APPEND write leaves it where it was.
  override write(t: FileCtx, data: Buffer): number {
    const at = this.flags & O_APPEND ? this.ino.attrs().size : this.offset;
    const n = this.ino.writeAt(at, data, t.memCharge ?? null);
    this.offset = at + n;
    return n;
  }
  override writeFromUser(_t: FileCtx, mem: MemoryAccess, addr: number, len: number): number {
    const at = this.flags & O_APPEND ? this.ino.attrs().size : this.offset;
    const n = this.ino.writeFromUser(at, mem, addr, userRoom(mem, addr, len, false));
    this.offset = at + n;
    return n;
  }
  override pread(_t: FileCtx, len: number, off: number): Buffer {
    const b = this.ino.readAt(off, len);
    this.accessed(len);
    return b;
  }
  override pwrite(t: FileCtx, data: Buffer, off: number): number {
    // Linux quirk kept: with O_APPEND, pwrite appends regardless of off.
    if (this.flags & O_APPEND) off = this.ino.attrs().size;
    return this.ino.writeAt(off, data, t.memCharge ?? null);
  }
  override seek(off: number, whence: number): number {
    this.offset = seekPosition(this.offset, this.ino, off, whence);
    return this.offset;
  }
  /**
   * Data is in memory: a read never waits. Linux refuses NOWAIT for buffered
   * writes, and tmpfs refuses it for reads too.
   */
  override supportsNowait(write: boolean): boolean {
    if (write) return false;
    return !this.path || this.path.mount.fs.statfs().type !== TMPFS_MAGIC;
  }
  override positionedWrite(t: FileCtx, data: Buffer, off: number | null): number {
    const at = off ?? this.offset;
    const n = this.ino.writeAt(at, data, t.memCharge ?? null);
    if (off === null) this.offset = at + n;
    return n;
  }
  /** tmpfs refuses it, like its NOWAIT reads. */
  override takesDontcache(): boolean {
    return !this.path || this.path.mount.fs.statfs().type !== TMPFS_MAGIC;
  }
  override appendWrite(t: FileCtx, data: Buffer, off: number | null): number {
    const at = this.ino.attrs().size;
    const n = this.ino.writeAt(at, data, t.memCharge ?? null);
    if (off === null) this.offset = at + n;
    return n;
  }
  override mappable(): Mappable | null {
    return this.ino.mappable();
  }
  override available(): number {
    return Math.max(0, this.ino.attrs().size - this.offset);
  }
}
