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
// A change to a lower file first copies it up (data, mode, owner, times,
// xattrs but the overlay's markers; the parent directories first). Renaming a directory that has
// lower parts is EXDEV (redirect_dir=off, Linux's default). Numbers: st_dev
// is the overlay's own for every file; st_ino is the origin's (the topmost
// lower file's, also after copy-up; an upper-only file's own), with
// the layer's file system index in bits 44 and up when the layers are on
// different file systems (Linux's xino idea), so the pair stays unique.
import { Errno, E } from '../../abi/errno';
import type { HeapBudget } from '../../abi/accounting';
import type { Inode, CreateSpec, FilesystemImpl } from '../../vfs/inode';
import { LayeredInode } from './layered';
import { XattrSet } from '../../vfs/xattrs';
import type { VPath } from '../../vfs/dentry';
import {
  dtype, O_ACCMODE, OVERLAYFS_MAGIC, RENAME_EXCHANGE, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
  type DirEntry, type InodeAttrs, type StatFs,
} from '../../abi/fs';
import { isWhiteout } from '../tmpfs/tmpfs';
import { Reaper, WeakNames } from '../../vfs/weak_names';

const COPY_CHUNK = 1 << 20;
const FS_INDEX_SHIFT = 2 ** 44;

const isDirI = (i: Inode) => (i.mode & S_IFMT) === S_IFDIR;

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
  /**
   * The mounter may not set the markers' xattrs (trusted.* from a user
   * namespace without userxattr): as Linux then, nothing is opaque and what
   * needs an opaque directory fails with EIO.
   */
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
  readonly uid: number;
  readonly gid: number;
  readonly noxattr: boolean;
  /** The file systems of the layers, upper first: a file's index here tags its inode number. */
  private readonly layerFs: FilesystemImpl[] = [];
  private readonly rootInode: OvlInode;
  /** The overlay inode of an upper file with several names (hard links): every name reaches the same one. */
  readonly linked = new WeakMap<Inode, WeakRef<OvlInode>>();
  readonly reaper = new Reaper();

  constructor(s: OvlFsSetup) {
    this.readonly = s.upper === null;
    this.dev = s.dev;
    this.depth = s.depth;
    this.prefix = s.prefix;
    this.heap = s.heap;
    this.uid = s.uid;
    this.gid = s.gid;
    this.noxattr = s.noxattr;
    for (const l of [...(s.upper ? [s.upper] : []), ...s.lower]) if (!this.layerFs.includes(l.fs)) this.layerFs.push(l.fs);
    const lowers = s.upper && this.opaque(s.upper) ? [] : mergedBelow(this, s.lower);
    this.rootInode = new OvlInode(this, s.upper, lowers, null, '');
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

  opaque(dir: Inode): boolean {
    if (this.noxattr) return false;
    return dir.xattrs?.get(this.prefix + 'opaque')?.toString('latin1') === 'y';
  }

  setOpaque(dir: Inode): void {
    if (this.noxattr) throw new Errno(E.EIO);
    let x = dir.xattrs;
    if (!x) {
      x = dir.xattrs = new XattrSet(this.heap);
      this.heap?.track(dir, x.held);
    }
    x.set(this.prefix + 'opaque', Buffer.from('y'));
  }

  whiteout(dir: Inode, name: string): void {
    dir.create(name, { type: S_IFCHR, mode: 0, uid: this.uid, gid: this.gid, rdev: 0 });
  }
}

/** The lower directories merged under a directory whose lower candidates are dirs, down to the first opaque one. */
function mergedBelow(fs: OvlFs, dirs: Inode[]): Inode[] {
  const out: Inode[] = [];
  for (const d of dirs) {
    out.push(d);
    if (fs.opaque(d)) break;
  }
  return out;
}

/** Remove the whiteouts a directory of the upper layer holds (before it is removed or replaced). */
function dropWhiteouts(dir: Inode): void {
  for (const e of dir.readdir(null)) {
    const c = dir.lookup(e.name, null);
    if (c && isWhiteout(c)) dir.unlink(e.name, c);
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
    const u = this.o.copyUp();
    if (!u.xattrs) {
      u.xattrs = new XattrSet(this.o.fs.heap);
      this.o.fs.heap?.track(u, u.xattrs.held);
    }
    u.xattrs.set(this.real(name), value);
  }
  override delete(name: string): boolean {
    if (!this.has(name)) return false;
    return this.o.copyUp().xattrs?.delete(this.real(name)) ?? false;
  }
  override release(): void {}
}

export class OvlInode extends LayeredInode {
  readonly ino: number;
  private readonly children: WeakNames<OvlInode>;
  private openCount = 0;
  /** A lower-only file whose name a whiteout now hides: it has no name left. */
  private hidden = false;

  /**
   * lowers: for a directory, the lower directories merged under it, top
   * first (none once it is opaque); for any other file, the lower file it
   * came from (its origin), or none.
   */
  constructor(
    readonly fs: OvlFs,
    public upper: Inode | null,
    public lowers: Inode[],
    public parent: OvlInode | null,
    public name: string,
  ) {
    super();
    const origin = lowers[0] ?? (upper as Inode);
    this.ino = fs.inoOf(origin);
    this.children = new WeakNames<OvlInode>(fs.reaper);
    this.xattrs = new OvlXattrs(this);
  }

  protected get top(): Inode {
    return this.upper ?? this.lowers[0];
  }
  /** The layer file that answers for this one now. */
  topLayer(): Inode {
    return this.top;
  }

  attrs(): InodeAttrs {
    const a = this.top.attrs();
    // A merged directory's link count would count one layer's subdirectories only: Linux says 1 (unknown), as find(1) expects.
    const merged = this.lowers.length > (this.upper ? 0 : 1);
    return merged && (a.mode & S_IFMT) === S_IFDIR ? { ...a, nlink: 1 } : a;
  }
  override get mode(): number {
    return this.top.mode;
  }

  override lookup(name: string): OvlInode | null {
    if (!isDirI(this.top)) throw new Errno(E.ENOTDIR);
    const cached = this.children.get(name);
    if (cached) return cached;
    const u = this.upper ? this.upper.lookup(name, null) : null;
    if (u && isWhiteout(u)) return null;
    const below: Inode[] = [];
    if (!u || (isDirI(u) && !this.fs.opaque(u))) {
      for (const d of this.lowers) {
        const l = d.lookup(name, null);
        if (!l) continue;
        if (isWhiteout(l)) break;
        if (!isDirI(l)) {
          // A lower non-directory shows only if nothing above it has the name.
          if (!u && below.length === 0) below.push(l);
          break;
        }
        below.push(l);
        if (this.fs.opaque(l)) break;
      }
    }
    if (!u && below.length === 0) return null;
    const hardLinked = u !== null && !isDirI(u) && u.attrs().nlink > 1;
    const shared = hardLinked ? this.fs.linked.get(u)?.deref() : undefined;
    const c = shared ?? new OvlInode(this.fs, u, below, this, name);
    if (hardLinked && !shared) this.fs.linked.set(u as Inode, new WeakRef(c));
    this.children.set(name, c);
    return c;
  }

  override readdir(): DirEntry[] {
    const seen = new Set<string>();
    const out: DirEntry[] = [];
    for (const d of [...(this.upper ? [this.upper] : []), ...this.lowers]) {
      for (const e of d.readdir(null)) {
        if (seen.has(e.name)) continue;
        seen.add(e.name);
        const c = this.lookup(e.name);
        if (c) out.push({ name: e.name, ino: c.ino, type: dtype(c.mode) });
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- copy-up

  /** Make sure this file has an upper copy (parents first), made as the mounter would make it. */
  copyUp(): Inode {
    if (this.upper) return this.upper;
    if (!this.parent) throw new Errno(E.EROFS);
    const pu = this.parent.copyUp();
    const l = this.lowers[0];
    const la = l.attrs();
    const type = la.mode & S_IFMT;
    const spec: CreateSpec = { type, mode: la.mode & 0o7777, uid: la.uid, gid: la.gid, rdev: la.rdev };
    if (type === S_IFLNK) spec.target = l.readlink(null);
    const u = pu.create(this.name, spec);
    if (type === S_IFREG) {
      for (let off = 0; off < la.size; off += COPY_CHUNK) {
        const data = l.readAt(off, Math.min(COPY_CHUNK, la.size - off));
        if (data.length === 0) break;
        u.writeAt(off, data);
      }
    }
    this.copyXattrs(l, u);
    u.setattr({ mode: la.mode & 0o7777, atimeNs: la.atimeNs, mtimeNs: la.mtimeNs });
    for (let i = 0; i < this.openCount; i++) u.incOpen();
    this.upper = u;
    return u;
  }

  /** The file's own extended attributes go up with it; the overlay's markers stay where they were. */
  private copyXattrs(from: Inode, to: Inode): void {
    if (!from.xattrs) return;
    for (const n of from.xattrs.names()) {
      if (n.startsWith('trusted.overlay.') || n.startsWith('user.overlay.')) continue;
      if (!to.xattrs) {
        to.xattrs = new XattrSet(this.fs.heap);
        this.fs.heap?.track(to, to.xattrs.held);
      }
      to.xattrs.set(n, from.xattrs.get(n) as Buffer);
    }
  }

  /** Does a lower directory merged here have a visible entry name (so removing ours needs a whiteout)? */
  private lowerHas(name: string): boolean {
    for (const d of this.lowers) {
      const l = d.lookup(name, null);
      if (l) return !isWhiteout(l);
    }
    return false;
  }

  /** Remove a whiteout at name in the upper directory; true if there was one. */
  private clearWhiteout(name: string): boolean {
    const u = this.upper as Inode;
    const w = u.lookup(name, null);
    if (w && isWhiteout(w)) {
      u.unlink(name, w);
      return true;
    }
    return false;
  }

  // ------------------------------------------------------- directory changes

  override create(name: string, spec: CreateSpec, ctx?: unknown): OvlInode {
    const u = this.copyUp();
    const hadLower = this.clearWhiteout(name);
    const c = u.create(name, spec, ctx);
    // A directory made where a lower entry was removed must not show what the lower one held.
    if (hadLower && spec.type === S_IFDIR) this.fs.setOpaque(c);
    const o = new OvlInode(this.fs, c, [], this, name);
    this.children.set(name, o);
    return o;
  }

  override link(name: string, target: Inode): void {
    if (!(target instanceof OvlInode) || target.fs !== this.fs) throw new Errno(E.EXDEV);
    const tu = target.copyUp();
    const u = this.copyUp();
    this.clearWhiteout(name);
    u.link(name, tu);
    this.fs.linked.set(tu, new WeakRef(target));
    this.children.delete(name);
  }

  override unlink(name: string): void {
    const c = this.lookup(name);
    if (!c) throw new Errno(E.ENOENT);
    const u = this.copyUp();
    if (c.upper) {
      // Linux empties a merged directory by swapping in an opaque one from the work directory.
      if (isDirI(c.upper) && c.lowers.length > 0 && this.fs.noxattr) throw new Errno(E.EIO);
      if (isDirI(c.upper)) dropWhiteouts(c.upper);
      u.unlink(name, c.upper);
    }
    if (this.lowerHas(name)) this.fs.whiteout(u, name);
    if (!c.upper) c.hidden = true;
    this.children.delete(name);
  }

  override linksLeft(): number {
    return this.hidden ? 0 : super.linksLeft();
  }

  /** A directory with lower parts cannot move without a redirect (redirect_dir=off): EXDEV, as Linux, so mv copies it. */
  private movable(): void {
    if (isDirI(this.top) && this.lowers.length > 0) throw new Errno(E.EXDEV);
  }

  override rename(oldName: string, newDir: Inode, newName: string, flags: number): void {
    if (!(newDir instanceof OvlInode) || newDir.fs !== this.fs) throw new Errno(E.EXDEV);
    const src = this.lookup(oldName);
    if (!src) throw new Errno(E.ENOENT);
    src.movable();
    const dst = newDir.lookup(newName);
    if (flags & RENAME_EXCHANGE) {
      if (!dst) throw new Errno(E.ENOENT);
      dst.movable();
      src.copyUp();
      dst.copyUp();
      (this.copyUp()).rename(oldName, newDir.copyUp(), newName, RENAME_EXCHANGE);
      this.children.set(oldName, dst);
      dst.parent = this;
      dst.name = oldName;
    } else {
      const srcHadLower = this.lowerHas(oldName);
      const su = src.copyUp();
      const u = this.copyUp();
      const nu = newDir.copyUp();
      newDir.clearWhiteout(newName);
      if (dst?.upper && isDirI(dst.upper)) dropWhiteouts(dst.upper);
      if (isDirI(su) && newDir.lowerHas(newName)) this.fs.setOpaque(su);
      u.rename(oldName, nu, newName, 0);
      if (dst && !dst.upper) dst.hidden = true;
      if (srcHadLower) this.fs.whiteout(u, oldName);
      this.children.delete(oldName);
    }
    newDir.children.set(newName, src);
    src.parent = newDir;
    src.name = newName;
  }

  // ---------------------------------------------------------------- content

  /** Opening a regular file for writing copies it up (Linux copies at open, not at the first write). */
  override open(_ctx: unknown, _path: VPath, flags: number): null {
    if ((flags & O_ACCMODE) !== 0 && (this.mode & S_IFMT) === S_IFREG) this.copyUp();
    return null;
  }
  override sync(dataOnly: boolean): void {
    this.top.sync(dataOnly);
  }
  override incOpen(): void {
    this.openCount++;
    this.upper?.incOpen();
    this.lowers[0]?.incOpen();
  }
  override decOpen(): void {
    this.openCount--;
    this.upper?.decOpen();
    this.lowers[0]?.decOpen();
  }
}
