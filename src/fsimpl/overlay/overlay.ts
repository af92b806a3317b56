// overlay: the root file system. A read-only lower layer (hostfs) under a
// writable tmpfs upper layer. Reads fall through to the lower layer; any
// change first copies the file up (data, metadata, symlink target, and the
// directory skeleton of its parents). Deleting a lower entry leaves a whiteout
// (char device 0:0) in the upper layer; a directory re-created over a whiteout
// is opaque (hides the lower one); renaming a directory copies its whole tree
// up. readdir merges the layers. (All of that is layered.ts, shared with
// the application's overlay mounts; the markers are marks.ts's SentryMarks.)
// What is this overlay's own: inode numbers stay those of the lower file
// after copy-up, and the lower layer is the host, which may change under
// it. Nothing is ever written to the host.
import type { Inode, FilesystemImpl, LookupAhead } from '../../vfs/inode';
import { isDirI, LayeredInode } from './layered';
import { SentryMarks } from './marks';
import { UNNUMBERED_DEV, OVERLAYFS_MAGIC, type DirEntry, type StatFs } from '../../abi/fs';
import type { TmpfsFs } from '../tmpfs/tmpfs';
import { Reaper } from '../../vfs/weak_names';

const UPPER_INO_BASE = 2 ** 40; // upper-only files: numbers far from host inode numbers

export class OverlayFs implements FilesystemImpl {
  readonly name = 'overlay';
  readonly readonly = false;
  readonly dynamic = false;
  private readonly rootInode: OverlayInode;
  readonly marks = new SentryMarks();
  /** Inode numbers of upper inodes that were copied up (so hard links made later agree). */
  readonly upperIno = new WeakMap<Inode, number>();
  readonly linked = new WeakMap<Inode, WeakRef<OverlayInode>>();
  readonly reaper = new Reaper();

  constructor(readonly lower: FilesystemImpl, readonly upper: TmpfsFs, readonly dev = UNNUMBERED_DEV) {
    const lr = lower.root();
    const ur = upper.root();
    const la = lr.attrs();
    ur.setattr({ mode: la.mode & 0o7777, uid: la.uid, gid: la.gid });
    this.rootInode = new OverlayInode(this, ur, [lr], null, '');
  }

  root(): OverlayInode {
    return this.rootInode;
  }

  statfs(): StatFs {
    const s = this.upper.statfs();
    return { ...s, type: OVERLAYFS_MAGIC };
  }

  inoFor(u: Inode): number {
    return this.upperIno.get(u) ?? UPPER_INO_BASE + u.ino;
  }
}

export class OverlayInode extends LayeredInode<OverlayInode> {
  declare readonly fs: OverlayFs;
  readonly ino: number;

  constructor(fs: OverlayFs, upper: Inode | null, lowers: Inode[], parent: OverlayInode | null, name: string) {
    super(fs, upper, lowers, parent, name);
    this.ino = lowers[0] ? lowers[0].ino : fs.inoFor(upper as Inode);
  }

  protected child(upper: Inode | null, lowers: Inode[], name: string): OverlayInode {
    return new OverlayInode(this.fs, upper, lowers, this, name);
  }

  protected copiedUp(_lower: Inode, upper: Inode): void {
    this.fs.upperIno.set(upper, this.ino);
  }

  /** A file of the lower tree is known by that tree's identity (a host tree's spans host devices), before and after copy-up. */
  override identity(): number | string {
    return this.lowers[0] ? `L${this.lowers[0].identity()}` : this.ino;
  }

  /**
   * The lower layer changed on the host (a merged directory's lower side, or
   * a lower-only entry): false drops the cached child.
   */
  override revalidate(name: string, child: Inode, ctx: unknown, ahead?: LookupAhead): boolean {
    if (!(child instanceof OverlayInode)) return false;
    const lower = this.mergedLowers()[0] ?? null;
    const cl = child.lowers[0] ?? null;
    if (child.upper) {
      // Upper entries change only through this file system; a merged directory follows its lower side.
      if (cl && isDirI(child.upper) && !this.fs.marks.isOpaque(child.upper) && !(lower && lower.revalidate(name, cl, ctx, ahead))) {
        const l = lower ? lower.lookup(name, ctx, ahead) : null;
        child.setLowers(l && isDirI(l) ? [l] : []);
      }
      return true;
    }
    if (cl && lower && lower.revalidate(name, cl, ctx, ahead)) return true;
    if (this.children.get(name) === child) this.children.delete(name);
    return false;
  }

  /** A lower-only entry is listed as the host lists it (the same number and type as its overlay inode): no lookup per entry. */
  protected override lowerEntry(e: DirEntry): DirEntry {
    return e;
  }
}
