// Building blocks of procfs (and of sysfs, which shares them): inodes for
// generated files, symlinks (plain and magic) and directories whose entries
// are computed at each lookup/readdir, plus the open file description that
// serves generated content (regenerated whenever a read starts at offset 0,
// like a seq_file).
import { Errno, E } from '../../abi/errno';
import type { FileCtx } from '../../vfs/ctx';
import type { VPath } from '../../vfs/dentry';
import { FileDescription, seekPosition, type MaybePromise } from '../../vfs/file';
import { Inode, type CreateSpec, type FilesystemImpl } from '../../vfs/inode';
import {
  dtype, O_ACCMODE, O_RDONLY, O_WRONLY, SEEK_CUR, SEEK_SET, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
  type DirEntry, type InodeAttrs,
} from '../../abi/fs';
import type { ThreadGroup } from '../../kernel/thread_group';
import type { ProcFs } from './procfs';

export interface Owner {
  uid: number;
  gid: number;
}
export type OwnerFn = () => Owner;
export const rootOwner: OwnerFn = () => ({ uid: 0, gid: 0 });

/** A stable inode number for a procfs or sysfs path (48-bit hash, never 0 or 1: 1 is the root). */
export function inoOf(key: string): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
  }
  return (b & 0xffff) * 0x100000000 + a + 2;
}

export abstract class ProcInode extends Inode {
  constructor(
    readonly fs: FilesystemImpl,
    readonly ino: number,
    private readonly fullMode: number,
    protected readonly owner: OwnerFn,
    protected readonly timeNs: bigint,
  ) {
    super();
  }
  override get mode(): number {
    return this.fullMode;
  }
  protected linkCount(): number {
    return 1;
  }
  protected byteSize(): number {
    return 0;
  }
  attrs(): InodeAttrs {
    const o = this.owner();
    const t = this.timeNs;
    return {
      mode: this.fullMode, uid: o.uid, gid: o.gid, nlink: this.linkCount(), size: this.byteSize(), blocks: 0, blksize: 1024,
      rdev: 0, atimeNs: t, mtimeNs: t, ctimeNs: t, btimeNs: t,
    };
  }
  // procfs and sysfs have no name operations: Linux answers EACCES to O_CREAT and EPERM to the rest.
  override create(_name: string, spec: CreateSpec): Inode {
    throw new Errno(spec.type === S_IFREG ? E.EACCES : E.EPERM);
  }
  override get removesEntries(): boolean {
    return false;
  }
  override link(): void {
    throw new Errno(E.EPERM);
  }
  override unlink(): void {
    throw new Errno(E.EPERM);
  }
  override rename(): void {
    throw new Errno(E.EPERM);
  }
  override setattr(): void {
    throw new Errno(E.EPERM);
  }
}

export interface FileSpec {
  /** Produce the whole content. May throw (ESRCH once the process is gone). */
  read: (ctx: unknown) => string | Buffer;
  /** Accept a write (the whole buffer of one write call; ctx the writer, opener who opened the file), returning the bytes consumed (default: all); absent: read-only. */
  write?: (data: Buffer, ctx: unknown, opener?: unknown) => number | void;
  /** Error for opening a read-only file for writing (after the permission check). */
  roErr?: E;
  /** A write-only sysctl (vm.drop_caches): opening it for reading is EACCES even to root, as Linux's sysctl permission check. */
  writeOnly?: boolean;
  /** The file's ioctls (absent: ENOTTY for all); null from it: not one of them. */
  ioctl?: (t: FileCtx, cmd: number, arg: number) => number | null;
}

export class ProcFileNode extends ProcInode {
  constructor(fs: FilesystemImpl, ino: number, perm: number, owner: OwnerFn, timeNs: bigint, readonly spec: FileSpec) {
    super(fs, ino, S_IFREG | perm, owner, timeNs);
  }
  generate(ctx: unknown): Buffer {
    const c = this.spec.read(ctx);
    return typeof c === 'string' ? Buffer.from(c, 'latin1') : c;
  }
  override readAt(off: number, len: number): Buffer {
    return Buffer.from(this.generate(null).subarray(off, off + len));
  }
  override writeAt(_off: number, data: Buffer): number {
    if (!this.spec.write) throw new Errno(this.spec.roErr ?? E.EACCES);
    return this.spec.write(data, null) ?? data.length;
  }
  override open(ctx: unknown, path: VPath, flags: number): FileDescription {
    if ((flags & O_ACCMODE) !== O_RDONLY && !this.spec.write) throw new Errno(this.spec.roErr ?? E.EACCES);
    if (this.spec.writeOnly && (flags & O_ACCMODE) !== O_WRONLY) throw new Errno(E.EACCES);
    return new ProcFileDescription(path, this, flags, ctx);
  }
}

/** An open procfs file: content is produced at the first read and again at every read from offset 0. */
export class ProcFileDescription extends FileDescription {
  private data: Buffer | null = null;
  constructor(path: VPath, private readonly node: ProcFileNode, flags: number, private readonly ctx: unknown) {
    super(path, node, flags);
  }
  private content(off: number): Buffer {
    if (off === 0 || !this.data) this.data = this.node.generate(this.ctx);
    return this.data;
  }
  override read(_t: FileCtx, len: number): Buffer {
    const d = this.content(this.offset);
    const b = Buffer.from(d.subarray(this.offset, this.offset + len));
    this.offset += b.length;
    return b;
  }
  override pread(_t: FileCtx, len: number, off: number): Buffer {
    return Buffer.from(this.content(off).subarray(off, off + len));
  }
  override write(t: FileCtx, data: Buffer): number {
    return this.put(t, data);
  }
  override pwrite(t: FileCtx, data: Buffer): number {
    return this.put(t, data);
  }
  private put(t: FileCtx, data: Buffer): number {
    const w = this.node.spec.write;
    if (!w) throw new Errno(E.EINVAL);
    const n = w(data, t, this.ctx);
    this.data = null;
    return n ?? data.length;
  }
  override seek(off: number, whence: number): number {
    // Like seq_file: no SEEK_END (the size is unknown), no SEEK_DATA/HOLE.
    if (whence !== SEEK_SET && whence !== SEEK_CUR) throw new Errno(E.EINVAL);
    this.offset = seekPosition(this.offset, null, off, whence);
    return this.offset;
  }
  override available(): number {
    return Math.max(0, this.content(this.offset).length - this.offset);
  }
  override ioctl(t: FileCtx, cmd: number, arg: number): MaybePromise<number> {
    return this.node.spec.ioctl?.(t, cmd, arg) ?? super.ioctl(t, cmd, arg);
  }
}

export interface LinkSpec {
  /** What readlink returns (may throw ENOENT / EACCES). */
  target: (ctx: unknown) => string;
  /** Magic link: the location to follow to directly, or null to follow the text. */
  resolve?: (ctx: unknown) => VPath | null;
  size?: number;
}

export class ProcLinkNode extends ProcInode {
  constructor(fs: FilesystemImpl, ino: number, perm: number, owner: OwnerFn, timeNs: bigint, private readonly spec: LinkSpec) {
    super(fs, ino, S_IFLNK | perm, owner, timeNs);
  }
  protected override byteSize(): number {
    return this.spec.size ?? 0;
  }
  override readlink(ctx: unknown): string {
    return this.spec.target(ctx);
  }
  override resolveLink(ctx: unknown): VPath | null {
    return this.spec.resolve ? this.spec.resolve(ctx) : null;
  }
}

export type Entry = [string, () => Inode];

export interface DirSpec {
  /** All entries (names with a factory for their inode). */
  list: (ctx: unknown) => Entry[];
  /** Faster or wider lookup than scanning list (e.g. hidden thread ids). */
  find?: (name: string, ctx: unknown) => Inode | null;
}

export class ProcDirNode extends ProcInode {
  /** The process a /proc/PID directory stands for: an fd of it works as a pidfd (pidfd_send_signal). */
  process: ThreadGroup | null = null;

  constructor(fs: FilesystemImpl, ino: number, perm: number, owner: OwnerFn, timeNs: bigint, private readonly spec: DirSpec) {
    super(fs, ino, S_IFDIR | perm, owner, timeNs);
  }
  /** As in Linux's procfs and sysfs: "." and the parent's entry, plus each subdirectory's "..". */
  protected override linkCount(): number {
    try {
      return 2 + this.spec.list(null).filter(([, mk]) => (mk().mode & S_IFMT) === S_IFDIR).length;
    } catch {
      return 2; // the process is gone: its directory lists nothing
    }
  }
  override lookup(name: string, ctx: unknown): Inode | null {
    if (this.spec.find) return this.spec.find(name, ctx);
    const e = this.spec.list(ctx).find(([n]) => n === name);
    return e ? e[1]() : null;
  }
  override readdir(ctx: unknown): DirEntry[] {
    return this.spec.list(ctx).map(([name, mk]) => {
      const i = mk();
      return { name, ino: i.ino, type: dtype(i.mode) };
    });
  }
}

/** Makes entries of one directory: inode numbers from the directory's key, common owner and time. */
export class NodeMaker<F extends FilesystemImpl = ProcFs> {
  constructor(
    readonly fs: F,
    readonly key: string,
    readonly owner: OwnerFn,
    readonly timeNs: bigint,
  ) {}

  sub(name: string): NodeMaker<F> {
    return new NodeMaker(this.fs, `${this.key}/${name}`, this.owner, this.timeNs);
  }

  fileNode(name: string, spec: FileSpec, perm = 0o444): ProcFileNode {
    return new ProcFileNode(this.fs, inoOf(`${this.key}/${name}`), perm, this.owner, this.timeNs, spec);
  }
  linkNode(name: string, spec: LinkSpec, perm = 0o777): ProcLinkNode {
    return new ProcLinkNode(this.fs, inoOf(`${this.key}/${name}`), perm, this.owner, this.timeNs, spec);
  }
  dirNode(name: string, spec: DirSpec, perm = 0o555): ProcDirNode {
    return new ProcDirNode(this.fs, inoOf(`${this.key}/${name}`), perm, this.owner, this.timeNs, spec);
  }

  /** A read-only file entry. */
  file(name: string, read: (ctx: unknown) => string | Buffer, perm = 0o444, roErr?: E): Entry {
    return [name, () => this.fileNode(name, { read, roErr }, perm)];
  }
  /** A writable file entry. */
  rwFile(name: string, read: (ctx: unknown) => string | Buffer, write: NonNullable<FileSpec['write']>, perm = 0o644): Entry {
    return [name, () => this.fileNode(name, { read, write }, perm)];
  }
  link(name: string, spec: LinkSpec, perm = 0o777): Entry {
    return [name, () => this.linkNode(name, spec, perm)];
  }
  dir(name: string, spec: DirSpec, perm = 0o555): Entry {
    return [name, () => this.dirNode(name, spec, perm)];
  }
  /** A directory with a fixed set of entries built by fill (called with the sub-maker). */
  staticDir(name: string, fill: (m: NodeMaker<F>) => Entry[], perm = 0o555): Entry {
    const m = this.sub(name);
    return this.dir(name, { list: () => fill(m) }, perm);
  }
}
