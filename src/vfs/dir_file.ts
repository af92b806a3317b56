// Open directories: getdents over a snapshot of the entries, in both
// record layouts (linux_dirent64 and the old linux_dirent), and the seeks
// Linux allows on directories.
import { Errno, E } from '../abi/errno';
import type { VPath } from './dentry';
import type { Inode } from './inode';
import type { DirEntry } from '../abi/fs';
import { putI64 } from './abi';
import { O_NOATIME, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET, DT_DIR, PROC_MAGIC } from '../abi/fs';
import { FileDescription } from './file';

/** An open directory: entries are snapshotted at the first getdents after open/rewind. */
export class DirectoryFile extends FileDescription {
  private entries: DirEntry[] | null = null;
  constructor(path: VPath, inode: Inode, flags: number, private readonly ctx: unknown) {
    super(path, inode, flags);
  }
  override read(): Buffer {
    throw new Errno(E.EISDIR);
  }
  override write(): number {
    throw new Errno(E.EBADF);
  }
  override pread(): Buffer {
    throw new Errno(E.EISDIR);
  }
  override seek(off: number, whence: number): number {
    if (whence === SEEK_SET) {
      if (off < 0) throw new Errno(E.EINVAL);
    } else if (whence === SEEK_CUR) {
      off += this.offset;
      if (off < 0) throw new Errno(E.EINVAL);
    } else if (this.path && this.path.mount.fs.statfs().type === PROC_MAGIC) {
      // procfs directories seek as a file of size 0 (Linux's default_llseek).
      if ((whence === SEEK_DATA || whence === SEEK_HOLE) && off >= 0) throw new Errno(E.ENXIO);
      if (whence !== SEEK_END && whence !== SEEK_DATA && whence !== SEEK_HOLE) throw new Errno(E.EINVAL);
      if (off < 0) throw new Errno(E.EINVAL);
    } else throw new Errno(E.EINVAL);
    if (off === 0) this.entries = null; // rewinddir sees new entries
    this.offset = off;
    return off;
  }
  private snapshot(): DirEntry[] {
    if (this.entries) return this.entries;
    const p = this.path as VPath;
    const self = this.inode as Inode;
    const parent = p.dentry.parent ? p.dentry.parent.inode : (p.mount.mountpoint ? p.mount.mountpoint.inode : self);
    this.entries = [
      { name: '.', ino: self.ino, type: DT_DIR },
      { name: '..', ino: parent.ino, type: DT_DIR },
      ...self.readdir(this.ctx),
    ];
    return this.entries;
  }
  override getdents(size: number, dirent64: boolean, room = size): Buffer {
    // Linux's iterate_dir: a removed directory lists nothing, not even "." and "..".
    if ((this.inode as Inode).removedDir) throw new Errno(E.ENOENT);
    const ents = this.snapshot();
    const mf = this.path?.mount.flags;
    if (!(this.flags & O_NOATIME) && mf?.atime !== 'noatime' && !mf?.nodiratime) (this.inode as Inode).accessed();
    if (this.offset < ents.length && direntLen(ents[this.offset].name.length, dirent64) > size) throw new Errno(E.EINVAL);
    size = Math.min(size, room);
    // Measure first (names are byte strings: length is their size), then fill one buffer.
    let used = 0;
    let end = this.offset;
    while (end < ents.length) {
      const rec = direntLen(ents[end].name.length, dirent64);
      if (used + rec > size) break;
      used += rec;
      end++;
    }
    if (end === this.offset && end < ents.length) throw new Errno(E.EFAULT); // fits the count, not the mapped buffer
    const b = Buffer.alloc(used);
    let at = 0;
    for (; this.offset < end; this.offset++) at += writeDirent(b, at, ents[this.offset], this.offset + 1, dirent64);
    return b;
  }
}

function direntLen(nameLen: number, dirent64: boolean): number {
  return dirent64 ? (19 + nameLen + 1 + 7) & ~7 : (18 + nameLen + 2 + 7) & ~7;
}

/** linux_dirent64 {u64 ino; s64 off; u16 reclen; u8 type; char name[]} or the old linux_dirent (type in the last byte), at b[at]. */
function writeDirent(b: Buffer, at: number, e: DirEntry, nextOff: number, dirent64: boolean): number {
  const reclen = direntLen(e.name.length, dirent64);
  putI64(b, at, e.ino);
  putI64(b, at + 8, nextOff);
  b.writeUInt16LE(reclen, at + 16);
  if (dirent64) {
    b.writeUInt8(e.type, at + 18);
    b.write(e.name, at + 19, 'latin1');
  } else {
    b.write(e.name, at + 18, 'latin1');
    b.writeUInt8(e.type, at + reclen - 1);
  }
  return reclen;
}
