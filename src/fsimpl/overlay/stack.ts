// overlay mounts made by the application (mount -t overlay): a writable
// upper directory (or none: a read-only mount) over one or more lower
// directories, leftmost on top, all of them directories of the sandbox's own
// file systems. Where the root overlay (overlay.ts) keeps its markers in its
// own tmpfs, these keep them where Linux's overlayfs does, in the upper
// directory, so a tool that looks at its layers finds what it expects:
//  - a whiteout is a character device 0:0 (in any layer: a lower layer that
//    was once an upper one hides what is below it);
//  - an opaque directory has the xattr trusted.overlay.opaque = "y"
//    (user.overlay.opaque with userxattr), set in the upper file system's
//    own xattrs, read in every layer.
// (marks.ts's XattrMarks; lookup, copy-up, whiteouts and renames are
// layered.ts's, shared with the root overlay.)
// A change to a lower file first copies it up (data, mode, owner, times,
// xattrs but the overlay's markers; the parent directories first); opening
// a file for writing copies it up. Renaming a directory that has
// lower parts is EXDEV (redirect_dir=off, Linux's default). Numbers: st_dev
// is the overlay's own for every file; st_ino is the origin's (the topmost
// lower file's, also after copy-up; an upper-only file's own), with
// the layer's file system index in bits 44 and up when the layers are on
// different file systems (Linux's xino idea), so the pair stays unique.
import { Errno, E } from '../../abi/errno';
import type { HeapBudget } from '../../abi/accounting';
import type { Inode, FilesystemImpl } from '../../vfs/inode';
import { isDirI, LayeredInode } from './layered';
import { XattrMarks } from './marks';
import { XattrSet, xattrsOf } from '../../vfs/xattrs';
import type { VPath } from '../../vfs/dentry';
import { O_ACCMODE, OVERLAYFS_MAGIC, S_IFDIR, S_IFMT, S_IFREG, type InodeAttrs, type StatFs } from '../../abi/fs';
import { Reaper } from '../../vfs/weak_names';

const FS_INDEX_SHIFT = 2 ** 44;

export interface OvlFsSetup {
  upper: Inode | null;
  lower: Inode[];
  dev: number;
  /** whiteout/opaque xattr namespace: "trusted.overlay." or "user.overlay.". */
  prefix: string;
  /** The mounter's IDs (kernel's): whiteouts and copied-up parents are made as the mounter. */
  uid: number;
  gid: number;
  heap: HeapBudget | null;
  /** How deep this overlay stacks on others (Linux refuses more than 2). */
  depth: number;
  /** The mounter may not set the markers' xattrs (see XattrMarks). */
  noxattr: boolean;
}

export class OvlFs implements FilesystemImpl {
  readonly name = 'overlay';
  readonly readonly: boolean;
  readonly dynamic = false;
  readonly dev: number;
  readonly depth: number;
  readonly prefix: string;
  readonly heap: HeapBudget | null;
  readonly marks: XattrMarks;
  /** The file systems of the layers, upper first: a file's index here tags its inode number. */
  private readonly layerFs: FilesystemImpl[] = [];
  private readonly rootInode: OvlInode;
  readonly linked = new WeakMap<Inode, WeakRef<OvlInode>>();
  readonly reaper = new Reaper();

  constructor(s: OvlFsSetup) {
    this.readonly = s.upper === null;
    this.dev = s.dev;
    this.depth = s.depth;
    this.prefix = s.prefix;
    this.heap = s.heap;
    this.marks = new XattrMarks(s.prefix, s.uid, s.gid, s.heap, s.noxattr);
    for (const l of [...(s.upper ? [s.upper] : []), ...s.lower]) if (!this.layerFs.includes(l.fs)) this.layerFs.push(l.fs);
    const lowers = s.upper && this.marks.isOpaque(s.upper) ? [] : this.mergedBelow(s.lower);
    this.rootInode = new OvlInode(this, s.upper, lowers, null, '');
  }

  /** The lower directories merged under the root: down to the first opaque one. */
  private mergedBelow(dirs: Inode[]): Inode[] {
    const out: Inode[] = [];
    for (const d of dirs) {
      out.push(d);
      if (this.marks.isOpaque(d)) break;
    }
    return out;
  }

  root(): OvlInode {
    return this.rootInode;
  }

  statfs(): StatFs {
    const r = this.rootInode.upper ?? this.rootInode.lowers[0];
    return { ...r.fs.statfs(), type: OVERLAYFS_MAGIC };
  }

  /** The overlay's number for a layer file (see the header). */
  inoOf(i: Inode): number {
    if (this.layerFs.length === 1) return i.ino;
    return i.ino + this.layerFs.indexOf(i.fs) * FS_INDEX_SHIFT;
  }
}

/**
 * The extended attributes of a merged file: the top layer's, read through;
 * a change copies the file up first and goes to the upper file. The
 * overlay's own markers (names under its prefix) are hidden; a name under
 * the prefix set through the overlay is kept escaped in the layer
 * (trusted.overlay.X as trusted.overlay.overlay.X), as Linux (6.7) does
 * for overlays stacked on overlays.
 */
class OvlXattrs extends XattrSet {
  constructor(private readonly o: OvlInode) {
    super(null);
  }
  /** The layer's name for what the application calls name. */
  private real(name: string): string {
    const p = this.o.fs.prefix;
    return name.startsWith(p) ? `${p}overlay.${name.slice(p.length)}` : name;
  }
  override get(name: string): Buffer | undefined {
    return this.o.topLayer().xattrs?.get(this.real(name));
  }
  override has(name: string): boolean {
    return this.get(name) !== undefined;
  }
  override names(): string[] {
    const p = this.o.fs.prefix;
    const out: string[] = [];
    for (const n of this.o.topLayer().xattrs?.names() ?? []) {
      if (n.startsWith(`${p}overlay.`)) out.push(p + n.slice(p.length + 'overlay.'.length));
      else if (!n.startsWith(p)) out.push(n);
    }
    return out;
  }
  override set(name: string, value: Buffer): void {
    xattrsOf(this.o.copyUp(), this.o.fs.heap).set(this.real(name), value);
  }
  override delete(name: string): boolean {
    if (!this.has(name)) return false;
    return this.o.copyUp().xattrs?.delete(this.real(name)) ?? false;
  }
  override release(): void {}
}

export class OvlInode extends LayeredInode<OvlInode> {
  declare readonly fs: OvlFs;
  readonly ino: number;

  constructor(fs: OvlFs, upper: Inode | null, lowers: Inode[], parent: OvlInode | null, name: string) {
    super(fs, upper, lowers, parent, name);
    this.ino = fs.inoOf(lowers[0] ?? (upper as Inode));
    this.xattrs = new OvlXattrs(this);
  }

  protected child(upper: Inode | null, lowers: Inode[], name: string): OvlInode {
    return new OvlInode(this.fs, upper, lowers, this, name);
  }

  /** The layer file that answers for this one now. */
  topLayer(): Inode {
    return this.top;
  }

  override attrs(): InodeAttrs {
    const a = this.top.attrs();
    // A merged directory's link count would count one layer's subdirectories only: Linux says 1 (unknown), as find(1) expects.
    const merged = this.lowers.length > (this.upper ? 0 : 1);
    return merged && (a.mode & S_IFMT) === S_IFDIR ? { ...a, nlink: 1 } : a;
  }

  /** The file's own extended attributes go up with it; the overlay's markers stay where they were. */
  protected copiedUp(from: Inode, to: Inode): void {
    if (!from.xattrs) return;
    for (const n of from.xattrs.names()) {
      if (n.startsWith('trusted.overlay.') || n.startsWith('user.overlay.')) continue;
      xattrsOf(to, this.fs.heap).set(n, from.xattrs.get(n) as Buffer);
    }
  }

  /** A directory with lower parts cannot move without a redirect (redirect_dir=off): EXDEV, as Linux, so mv copies it. */
  protected override checkMovable(): void {
    if (isDirI(this.top) && this.lowers.length > 0) throw new Errno(E.EXDEV);
  }

  /** Opening a regular file for writing copies it up (Linux copies at open, not at the first write). */
  override open(_ctx: unknown, _path: VPath, flags: number): null {
    if ((flags & O_ACCMODE) !== 0 && (this.mode & S_IFMT) === S_IFREG) this.copyUp();
    return null;
  }
  override sync(dataOnly: boolean): void {
    this.top.sync(dataOnly);
  }
}
