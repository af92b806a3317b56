// overlay: the root file system. A read-only lower layer (hostfs) under a
// writable tmpfs upper layer. Reads fall through to the lower layer; any
// change first copies the file up (data, metadata, symlink target, and the
// directory skeleton of its parents). Deleting a lower entry leaves a whiteout
// (char device 0:0) in the upper layer; a directory re-created over a whiteout
// is opaque (hides the lower one). readdir merges the layers. Inode numbers
// stay those of the lower file after copy-up. Nothing is ever written to the
// host.
import { Errno, E } from '../../abi/errno';
import type { Inode, CreateSpec, FilesystemImpl, LookupAhead } from '../../vfs/inode';
import { LayeredInode } from './layered';
import {
  dtype, UNNUMBERED_DEV, OVERLAYFS_MAGIC, RENAME_EXCHANGE, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
  type DirEntry, type InodeAttrs, type StatFs,
} from '../../abi/fs';
import { isWhiteout, TmpfsFs, TmpfsInode } from '../tmpfs/tmpfs';
import { Reaper, WeakNames } from '../../vfs/weak_names';

const UPPER_INO_BASE = 2 ** 40; // upper-only files: numbers far from host inode numbers
const COPY_CHUNK = 1 << 20;

export class OverlayFs implements FilesystemImpl {
  readonly name = 'overlay';
  readonly readonly = false;
  readonly dynamic = false;
  private readonly rootInode: OverlayInode;
  /** Inode numbers of upper inodes that were copied up (so hard links made later agree). */
  readonly upperIno = new WeakMap<TmpfsInode, number>();
  /**
   * The overlay inode of an upper file with several names, so that every
   * name reaches the same one (as Linux's overlayfs): its watches and opens
   * are the file's, whichever name it was reached by.
   */
  readonly linked = new WeakMap<TmpfsInode, WeakRef<OverlayInode>>();
  /** Cleans the children maps of overlay inodes that were collected. */
  readonly reaper = new Reaper();

  constructor(readonly lower: FilesystemImpl, readonly upper: TmpfsFs, readonly dev = UNNUMBERED_DEV) {
    const lr = lower.root();
    const ur = upper.root();
    const la = lr.attrs();
    ur.setattr({ mode: la.mode & 0o7777, uid: la.uid, gid: la.gid });
    this.rootInode = new OverlayInode(this, ur, lr, null, '');
  }

  root(): OverlayInode {
    return this.rootInode;
  }

  statfs(): StatFs {
    const s = this.upper.statfs();
    return { ...s, type: OVERLAYFS_MAGIC };
  }

  inoFor(u: TmpfsInode): number {
    return this.upperIno.get(u) ?? UPPER_INO_BASE + u.ino;
  }
}

const isDirI = (i: Inode) => (i.mode & S_IFMT) === S_IFDIR;

export class OverlayInode extends LayeredInode {
  readonly ino: number;
  /**
   * Children looked up so far, held weakly: an overlay inode lives as long as
   * its dentry, an open file or a cached child holds it (the VFS bounds those),
   * so one name keeps one overlay inode (and its copy-up) while it is in use.
   */
  private readonly children: WeakNames<OverlayInode>;
  private openCount = 0;
  /** A lower-only file whose name a whiteout now hides: it has no name left, whatever the host says. */
  private hidden = false;

  constructor(
    readonly fs: OverlayFs,
    public upper: TmpfsInode | null,
    public lower: Inode | null,
    public parent: OverlayInode | null,
    public name: string,
  ) {
    super();
    this.ino = lower ? lower.ino : fs.inoFor(upper as TmpfsInode);
    this.children = new WeakNames<OverlayInode>(fs.reaper);
  }

  protected get top(): Inode {
    return (this.upper ?? this.lower) as Inode;
  }

  /** A file of the lower tree is known by that tree's identity (a host tree's spans host devices), before and after copy-up. */
  override identity(): number | string {
    return this.lower ? `L${this.lower.identity()}` : this.ino;
  }

  attrs(): InodeAttrs {
    return this.top.attrs();
  }
  override get mode(): number {
    return this.top.mode;
  }

  /** Is the lower directory visible under this one? */
  private lowerVisible(): boolean {
    return this.lower !== null && isDirI(this.lower) && !(this.upper && this.upper.opaque);
  }

  override lookup(name: string, _ctx?: unknown, ahead?: LookupAhead): OverlayInode | null {
    if (!isDirI(this.top)) throw new Errno(E.ENOTDIR);
    const cached = this.children.get(name);
    if (cached && this.revalidate(name, cached, null, ahead)) return cached;
    let u = this.upper ? (this.upper.lookup(name) as TmpfsInode | null) : null;
    if (u && isWhiteout(u)) return null;
    let l: Inode | null = null;
    if (this.lowerVisible() && (!u || isDirI(u))) {
      l = (this.lower as Inode).lookup(name, null, ahead);
      if (l && u && !isDirI(l)) l = null;
    }
    if (!u && !l) return null;
    if (u === undefined) u = null;
    const hardLinked = u !== null && !isDirI(u) && u.attrs().nlink > 1;
    const shared = hardLinked ? this.fs.linked.get(u as TmpfsInode)?.deref() : undefined;
    const c = shared ?? new OverlayInode(this.fs, u, l, this, name);
    if (hardLinked && !shared) this.fs.linked.set(u as TmpfsInode, new WeakRef(c));
    this.children.set(name, c);
    return c;
  }

  /**
   * The lower layer changed on the host (a merged directory's lower side, or
   * a lower-only entry): false drops the cached child.
   */
  override revalidate(name: string, child: Inode, ctx: unknown, ahead?: LookupAhead): boolean {
    if (!(child instanceof OverlayInode)) return false;
    const lower = this.lowerVisible() ? (this.lower as Inode) : null;
    if (child.upper) {
      // Upper entries change only through this file system; a merged directory follows its lower side.
      if (child.lower && isDirI(child.upper) && !child.upper.opaque && !(lower && lower.revalidate(name, child.lower, ctx, ahead))) {
        const l = lower ? lower.lookup(name, ctx, ahead) : null;
        child.setLower(l && isDirI(l) ? l : null);
      }
      return true;
    }
    if (child.lower && lower && lower.revalidate(name, child.lower, ctx, ahead)) return true;
    if (this.children.get(name) === child) this.children.delete(name);
    return false;
  }

  /** Replace the lower inode, moving this inode's opens over to the new one. */
  private setLower(l: Inode | null): void {
    for (let i = 0; i < this.openCount; i++) this.lower?.decOpen();
    this.lower = l;
    for (let i = 0; i < this.openCount; i++) l?.incOpen();
  }

  override readdir(): DirEntry[] {
    const out: DirEntry[] = [];
    const upperNames = new Set<string>();
    if (this.upper) {
      for (const e of this.upper.readdir()) {
        upperNames.add(e.name);
        const c = this.lookup(e.name);
        if (c) out.push({ name: e.name, ino: c.ino, type: dtype(c.mode) });
      }
    }
    // A lower-only entry is listed as the lower layer lists it (same number and type as its overlay
    // inode): no lookup per entry.
    if (this.lowerVisible()) for (const e of (this.lower as Inode).readdir(null)) if (!upperNames.has(e.name)) out.push(e);
    return out;
  }

  // ---------------------------------------------------------------- copy-up

  /** Make sure this inode has an upper copy (parents first). */
  copyUp(): TmpfsInode {
    if (this.upper) return this.upper;
    const parent = this.parent as OverlayInode;
    const pu = parent.copyUp();
    const l = this.lower as Inode;
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
    u.setattr({ atimeNs: la.atimeNs, mtimeNs: la.mtimeNs });
    for (let i = 0; i < this.openCount; i++) u.incOpen();
    this.fs.upperIno.set(u, this.ino);
    this.upper = u;
    return u;
  }

  /** Copy a whole directory tree up and make it opaque (before renaming a lower directory). */
  private copyUpTree(): void {
    this.copyUp();
    if (!isDirI(this.top)) return;
    if (this.lowerVisible()) {
      for (const e of this.readdir()) (this.lookup(e.name) as OverlayInode).copyUpTree();
      (this.upper as TmpfsInode).opaque = true;
    }
    this.setLower(null);
  }

  /** Does the visible lower directory have an entry name (so removing ours needs a whiteout)? */
  private lowerHas(name: string): boolean {
    return this.lowerVisible() && (this.lower as Inode).lookup(name, null) !== null;
  }

  /** Remove a whiteout at name in the upper dir; true if there was one (the lower layer had an entry). */
  private clearWhiteout(name: string): boolean {
    const u = this.upper as TmpfsInode;
    const w = u.lookup(name);
    if (w && isWhiteout(w)) {
      u.unlink(name);
      return true;
    }
    return false;
  }

  // ------------------------------------------------------- directory changes

  override create(name: string, spec: CreateSpec): OverlayInode {
    const u = this.copyUp();
    const hadLower = this.clearWhiteout(name);
    const c = u.create(name, spec);
    if (hadLower && spec.type === S_IFDIR) c.opaque = true;
    const o = new OverlayInode(this.fs, c, null, this, name);
    this.children.set(name, o);
    return o;
  }

  override link(name: string, target: Inode): void {
    if (!(target instanceof OverlayInode) || target.fs !== this.fs) throw new Errno(E.EXDEV);
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
      if (isDirI(c.upper)) c.upper.removeWhiteouts();
      u.unlink(name);
    }
    if (this.lowerHas(name)) u.create(name, { type: S_IFCHR, mode: 0, uid: 0, gid: 0, rdev: 0 });
    if (!c.upper) c.hidden = true;
    this.children.delete(name);
  }

  override linksLeft(): number {
    return this.hidden ? 0 : super.linksLeft();
  }

  override rename(oldName: string, newDir: Inode, newName: string, flags: number): void {
    if (!(newDir instanceof OverlayInode) || newDir.fs !== this.fs) throw new Errno(E.EXDEV);
    const src = this.lookup(oldName);
    if (!src) throw new Errno(E.ENOENT);
    const dst = newDir.lookup(newName);
    const srcHadLower = this.lowerHas(oldName);
    src.copyUpTree();
    const u = this.copyUp();
    const nu = newDir.copyUp();
    if (flags & RENAME_EXCHANGE) {
      if (!dst) throw new Errno(E.ENOENT);
      dst.copyUpTree();
      u.rename(oldName, nu, newName, RENAME_EXCHANGE);
      this.children.set(oldName, dst);
      newDir.children.set(newName, src);
      dst.parent = this;
      dst.name = oldName;
    } else {
      let hiddenLower = newDir.clearWhiteout(newName);
      if (dst) {
        if (dst.upper && isDirI(dst.upper)) dst.upper.removeWhiteouts();
        if (newDir.lowerHas(newName)) hiddenLower = true;
      }
      if (hiddenLower && src.upper && isDirI(src.upper)) src.upper.opaque = true;
      u.rename(oldName, nu, newName, 0);
      if (dst && !dst.upper) dst.hidden = true;
      if (srcHadLower) u.create(oldName, { type: S_IFCHR, mode: 0, uid: 0, gid: 0, rdev: 0 });
      this.children.delete(oldName);
      newDir.children.set(newName, src);
    }
    src.parent = newDir;
    src.name = newName;
  }

  override incOpen(): void {
    this.openCount++;
    this.upper?.incOpen();
    // The host tree keeps an open lower file readable even if the host renames or replaces it.
    this.lower?.incOpen();
  }
  override decOpen(): void {
    this.openCount--;
    this.upper?.decOpen();
    this.lower?.decOpen();
  }
}
