// How an overlay's layers record what they hide: the one thing in which the
// root overlay (overlay.ts) and the application's overlay mounts (stack.ts)
// differ when they look up, list, link, unlink and rename (layered.ts does
// those once for both). Both record a removed name as a whiteout, a
// character device 0:0 in the upper directory; they differ in
//  - where a directory says it is opaque (hides the layers below it): the
//    root overlay's upper layer is the Sentry's own tmpfs, never seen by the
//    application, so a field of its inode; a mount's upper directory is the
//    application's, so the xattr Linux's overlayfs sets there;
//  - who owns a whiteout (root, or the mounter, as Linux makes them);
//  - whether a lower layer's whiteout counts: a mount's lower layer may
//    have been an upper one, while the root overlay's lower layer is the
//    host, whose device nodes are files.
import { Errno, E } from '../../abi/errno';
import type { HeapBudget } from '../../abi/accounting';
import { S_IFCHR } from '../../abi/fs';
import type { Inode } from '../../vfs/inode';
import { xattrsOf } from '../../vfs/xattrs';
import { isWhiteout, TmpfsInode } from '../tmpfs/tmpfs';

export interface LayerMarks {
  /** Does this directory of a layer hide what the layers below have under its name? */
  isOpaque(dir: Inode): boolean;
  /** Mark a directory of the upper layer opaque (EIO where the layer cannot be marked). */
  setOpaque(dir: Inode): void;
  /** Whether setOpaque can succeed: what would need it fails first otherwise. */
  readonly canOpaque: boolean;
  /** Hide name in the layers below dir, a directory of the upper layer. */
  whiteout(dir: Inode, name: string): void;
  /** Does this file of a lower layer hide its name in the layers below it? */
  lowerWhiteout(l: Inode): boolean;
}

const whiteoutSpec = (uid: number, gid: number) => ({ type: S_IFCHR, mode: 0, uid, gid, rdev: 0 });

/** The root overlay: marks kept in the Sentry's tmpfs, which nothing else sees. */
export class SentryMarks implements LayerMarks {
  readonly canOpaque = true;
  isOpaque(dir: Inode): boolean {
    return dir instanceof TmpfsInode && dir.opaque;
  }
  setOpaque(dir: Inode): void {
    (dir as TmpfsInode).opaque = true;
  }
  whiteout(dir: Inode, name: string): void {
    dir.create(name, whiteoutSpec(0, 0));
  }
  lowerWhiteout(): boolean {
    return false;
  }
}

/**
 * An overlay mount: marks where Linux's overlayfs keeps them, so that the
 * layers mean the same to Linux and to a tool that reads them. prefix is
 * "trusted.overlay." or "user.overlay." (userxattr).
 */
export class XattrMarks implements LayerMarks {
  /**
   * noxattr: the mounter may not set the prefix's xattrs (trusted.* from a
   * user namespace without userxattr): as Linux then, nothing is opaque and
   * what needs an opaque directory fails with EIO.
   */
  constructor(
    private readonly prefix: string,
    private readonly uid: number,
    private readonly gid: number,
    private readonly heap: HeapBudget | null,
    private readonly noxattr: boolean,
  ) {
    this.canOpaque = !noxattr;
  }
  readonly canOpaque: boolean;
  isOpaque(dir: Inode): boolean {
    if (this.noxattr) return false;
    return dir.xattrs?.get(this.prefix + 'opaque')?.toString('latin1') === 'y';
  }
  setOpaque(dir: Inode): void {
    if (this.noxattr) throw new Errno(E.EIO);
    xattrsOf(dir, this.heap).set(this.prefix + 'opaque', Buffer.from('y'));
  }
  whiteout(dir: Inode, name: string): void {
    dir.create(name, whiteoutSpec(this.uid, this.gid));
  }
  lowerWhiteout(l: Inode): boolean {
    return isWhiteout(l);
  }
}
