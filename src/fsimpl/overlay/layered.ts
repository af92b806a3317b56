// What both overlays (the root one, overlay.ts, and the application's
// mounts, stack.ts) do, written once: a name is looked up in the upper
// layer, then in the lower layers top first, down to a whiteout, a
// non-directory or an opaque directory; a change first copies the file up
// (its parents first); removing or renaming away a name the lower layers
// have leaves a whiteout; a directory put where a lower one was hidden is
// made opaque; a directory lists the union of its layers. How a layer
// records whiteouts and opacity is the overlay's LayerMarks (marks.ts);
// numbering, xattrs and what may be renamed are each overlay's own.
import { Errno, E } from '../../abi/errno';
import {
  dtype, RENAME_EXCHANGE, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
  type DirEntry, type InodeAttrs, type SetAttr,
} from '../../abi/fs';
import type { Mappable } from '../../mm/mappable';
import type { MemoryAccess } from '../../mm/access';
import type { MemCharge } from '../../platform/memcharge';
import { Inode, type CreateSpec, type FilesystemImpl, type LookupAhead } from '../../vfs/inode';
import { type Reaper, WeakNames } from '../../vfs/weak_names';
import { isWhiteout } from '../tmpfs/tmpfs';
import type { LayerMarks } from './marks';

const COPY_CHUNK = 1 << 20;

export const isDirI = (i: Inode) => (i.mode & S_IFMT) === S_IFDIR;

/** What the shared code needs of an overlay file system. */
export interface LayeredFs<Self extends object> extends FilesystemImpl {
  readonly marks: LayerMarks;
  /**
   * The overlay inode of an upper file with several names (hard links), so
   * that every name reaches the same one (as Linux's overlayfs): its
   * watches and opens are the file's, whichever name it was reached by.
   */
  readonly linked: WeakMap<Inode, WeakRef<Self>>;
  /** Cleans the children maps of overlay inodes that were collected. */
  readonly reaper: Reaper;
}

/** Remove the whiteouts a directory of the upper layer holds (before it is removed or replaced). */
function dropWhiteouts(dir: Inode): void {
  for (const e of dir.readdir(null)) {
    const c = dir.lookup(e.name, null);
    if (c && isWhiteout(c)) dir.unlink(e.name, c);
  }
}

export abstract class LayeredInode<Self extends LayeredInode<Self>> extends Inode {
  /**
   * Children looked up so far, held weakly: an overlay inode lives as long as
   * its dentry, an open file or a cached child holds it (the VFS bounds those),
   * so one name keeps one overlay inode (and its copy-up) while it is in use.
   */
  protected readonly children: WeakNames<Self>;
  private openCount = 0;
  /** A lower-only file whose name a whiteout now hides: it has no name left, whatever its layer says. */
  private hidden = false;

  /**
   * lowers: for a directory, the lower directories merged under it, top
   * first (none once it is opaque); for any other file, the lower file it
   * came from, or none.
   */
  constructor(
    readonly fs: LayeredFs<Self>,
    public upper: Inode | null,
    public lowers: Inode[],
    public parent: Self | null,
    public name: string,
  ) {
    super();
    this.children = new WeakNames<Self>(fs.reaper);
  }

  /** A new overlay inode for a child of this directory. */
  protected abstract child(upper: Inode | null, lowers: Inode[], name: string): Self;
  /** Called once a lower file has its upper copy, before the times are set: what else goes up with it. */
  protected abstract copiedUp(lower: Inode, upper: Inode): void;
  /** Throws if this file may not be renamed (by default anything may: a directory is copied up whole). */
  protected checkMovable(): void {}

  private get self(): Self {
    return this as unknown as Self;
  }
  /** The layer file that answers for this one now (the upper copy once there is one). */
  protected get top(): Inode {
    return this.upper ?? this.lowers[0];
  }
  attrs(): InodeAttrs {
    return this.top.attrs();
  }
  override get mode(): number {
    return this.top.mode;
  }

  /** The lower directories this directory shows (none under an opaque upper one). */
  protected mergedLowers(): Inode[] {
    const l = this.lowers[0];
    return l && isDirI(l) && !(this.upper && this.fs.marks.isOpaque(this.upper)) ? this.lowers : [];
  }

  override lookup(name: string, _ctx?: unknown, ahead?: LookupAhead): Self | null {
    if (!isDirI(this.top)) throw new Errno(E.ENOTDIR);
    const cached = this.children.get(name);
    if (cached && this.revalidate(name, cached, null, ahead)) return cached;
    const u = this.upper?.lookup(name, null) ?? null;
    if (u && isWhiteout(u)) return null;
    const below = u && (!isDirI(u) || this.fs.marks.isOpaque(u)) ? [] : this.below(name, u === null, ahead);
    if (!u && below.length === 0) return null;
    const hardLinked = u !== null && !isDirI(u) && u.attrs().nlink > 1;
    const shared = hardLinked ? this.fs.linked.get(u)?.deref() : undefined;
    const c = shared ?? this.child(u, below, name);
    if (hardLinked && !shared) this.fs.linked.set(u, new WeakRef(c));
    this.children.set(name, c);
    return c;
  }

  /**
   * What the lower layers have under name, top first: the directories down
   * to a whiteout, a non-directory or an opaque one; or a non-directory,
   * shown only if nothing above it has the name (alone).
   */
  private below(name: string, alone: boolean, ahead?: LookupAhead): Inode[] {
    const out: Inode[] = [];
    for (const d of this.mergedLowers()) {
      const l = d.lookup(name, null, ahead);
      if (!l) continue;
      if (this.fs.marks.lowerWhiteout(l)) break;
      if (!isDirI(l)) {
        if (alone && out.length === 0) out.push(l);
        break;
      }
      out.push(l);
      if (this.fs.marks.isOpaque(l)) break;
    }
    return out;
  }

  override readdir(): DirEntry[] {
    const seen = new Set<string>();
    const out: DirEntry[] = [];
    // Upper entries are looked up: whiteouts drop out, hard links share their number.
    if (this.upper) {
      for (const e of this.upper.readdir(null)) {
        seen.add(e.name);
        const c = this.lookup(e.name);
        if (c) out.push({ name: e.name, ino: c.ino, type: dtype(c.mode) });
      }
    }
    for (const d of this.mergedLowers()) {
      for (const e of d.readdir(null)) {
        if (seen.has(e.name)) continue;
        seen.add(e.name);
        const l = this.lowerEntry(e);
        if (l) out.push(l);
      }
    }
    return out;
  }

  /** How readdir lists an entry only the lower layers have: as lookup finds it (a lower whiteout hides it). */
  protected lowerEntry(e: DirEntry): DirEntry | null {
    const c = this.lookup(e.name);
    return c ? { name: e.name, ino: c.ino, type: dtype(c.mode) } : null;
  }

  /** Does a lower directory merged here have a visible entry name (so removing ours needs a whiteout)? */
  protected lowerHas(name: string): boolean {
    for (const d of this.mergedLowers()) {
      const l = d.lookup(name, null);
      if (l) return !this.fs.marks.lowerWhiteout(l);
    }
    return false;
  }

  /** Remove a whiteout at name in the upper directory; true if there was one (the lower layers had the name). */
  private clearWhiteout(name: string): boolean {
    const u = this.upper as Inode;
    const w = u.lookup(name, null);
    if (w && isWhiteout(w)) {
      u.unlink(name, w);
      return true;
    }
    return false;
  }

  /** Replace the lower files, moving this inode's opens over to the new top one. */
  protected setLowers(ls: Inode[]): void {
    for (let i = 0; i < this.openCount; i++) this.lowers[0]?.decOpen();
    this.lowers = ls;
    for (let i = 0; i < this.openCount; i++) ls[0]?.incOpen();
  }

  // ---------------------------------------------------------------- copy-up

  /** Make sure the file has an upper copy (parents first), and return it. */
  copyUp(): Inode {
    if (this.upper) return this.upper;
    // Only a read-only mount's root has neither an upper copy nor a parent.
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
    this.copiedUp(l, u);
    u.setattr({ mode: la.mode & 0o7777, atimeNs: la.atimeNs, mtimeNs: la.mtimeNs });
    for (let i = 0; i < this.openCount; i++) u.incOpen();
    this.upper = u;
    return u;
  }

  /** Copy a whole directory tree up and make it opaque, so that it no longer needs its lower parts (before a rename). */
  private copyUpTree(): void {
    this.copyUp();
    if (!isDirI(this.top)) return;
    if (this.mergedLowers().length > 0) {
      for (const e of this.readdir()) (this.lookup(e.name) as Self).copyUpTree();
      this.fs.marks.setOpaque(this.upper as Inode);
    }
    this.setLowers([]);
  }

  // ------------------------------------------------------- directory changes

  override create(name: string, spec: CreateSpec, ctx?: unknown): Self {
    const u = this.copyUp();
    const hadLower = this.clearWhiteout(name);
    const c = u.create(name, spec, ctx);
    // A directory made where a lower entry was removed must not show what the lower one held.
    if (hadLower && spec.type === S_IFDIR) this.fs.marks.setOpaque(c);
    const o = this.child(c, [], name);
    this.children.set(name, o);
    return o;
  }

  override link(name: string, target: Inode): void {
    if (!(target instanceof LayeredInode) || target.fs !== this.fs) throw new Errno(E.EXDEV);
    const tu = target.copyUp();
    const u = this.copyUp();
    this.clearWhiteout(name);
    u.link(name, tu);
    this.fs.linked.set(tu, new WeakRef(target as Self));
    this.children.delete(name);
  }

  override unlink(name: string): void {
    const c = this.lookup(name);
    if (!c) throw new Errno(E.ENOENT);
    const u = this.copyUp();
    if (c.upper) {
      if (isDirI(c.upper)) {
        // Linux empties a merged directory by swapping in an opaque one: a layer that cannot have one refuses.
        if (c.lowers.length > 0 && !this.fs.marks.canOpaque) throw new Errno(E.EIO);
        dropWhiteouts(c.upper);
      }
      u.unlink(name, c.upper);
    }
    if (this.lowerHas(name)) this.fs.marks.whiteout(u, name);
    if (!c.upper) c.hidden = true;
    this.children.delete(name);
  }

  override linksLeft(): number {
    return this.hidden ? 0 : super.linksLeft();
  }

  override rename(oldName: string, newDir: Inode, newName: string, flags: number): void {
    if (!(newDir instanceof LayeredInode) || newDir.fs !== this.fs) throw new Errno(E.EXDEV);
    const nd = newDir as Self;
    const src = this.lookup(oldName);
    if (!src) throw new Errno(E.ENOENT);
    src.checkMovable();
    const dst = nd.lookup(newName);
    if (flags & RENAME_EXCHANGE) {
      if (!dst) throw new Errno(E.ENOENT);
      dst.checkMovable();
      src.copyUpTree();
      dst.copyUpTree();
      this.copyUp().rename(oldName, nd.copyUp(), newName, RENAME_EXCHANGE);
      this.children.set(oldName, dst);
      dst.parent = this.self;
      dst.name = oldName;
    } else {
      const srcHadLower = this.lowerHas(oldName);
      src.copyUpTree();
      const u = this.copyUp();
      const nu = nd.copyUp();
      const hidesLower = nd.clearWhiteout(newName) || nd.lowerHas(newName);
      if (dst?.upper && isDirI(dst.upper)) dropWhiteouts(dst.upper);
      // A directory moved over a name the lower layers have must not show what they hold there.
      const su = src.upper as Inode;
      if (hidesLower && isDirI(su)) this.fs.marks.setOpaque(su);
      u.rename(oldName, nu, newName, 0);
      if (dst && !dst.upper) dst.hidden = true;
      if (srcHadLower) this.fs.marks.whiteout(u, oldName);
      this.children.delete(oldName);
    }
    nd.children.set(newName, src);
    src.parent = nd;
    src.name = newName;
  }

  // ---------------------------------------------------------------- content
  // Read from the layer that has the file now; copy up before any change.

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
    // A file with its upper copy stays there: its own pages answer, with what
    // only they know (which pages the file holds for mincore and userfaultfd, hole punches).
    if (this.upper) return this.upper.mappable();
    return {
      frameFor: (pi, write, charge) => {
        const m = (write ? this.copyUp() : this.top).mappable();
        if (!m) throw new Errno(E.ENODEV);
        return m.frameFor(pi, write, charge);
      },
      size: () => this.attrs().size,
    };
  }

  override incOpen(): void {
    this.openCount++;
    this.upper?.incOpen();
    // The lower file stays readable while open, even if its layer renames or replaces it (the host).
    this.lowers[0]?.incOpen();
  }
  override decOpen(): void {
    this.openCount--;
    this.upper?.decOpen();
    this.lowers[0]?.decOpen();
  }
}
