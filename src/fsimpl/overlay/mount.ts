// Making an overlay mount from its options (options.ts): the checks Linux's
// overlayfs makes when it fills its superblock, then the file system
// (stack.ts). The upper directory must be on a tmpfs of the sandbox (the file
// system that keeps whiteouts and xattrs as the sandbox's own; Linux refuses
// an overlayfs upper too, and the sandbox's root is one); lower directories
// may be on any of the sandbox's file systems.
import { E, Errno } from '../../abi/errno';
import type { HeapBudget } from '../../abi/accounting';
import { S_IFDIR } from '../../abi/fs';
import { CAP_SYS_ADMIN } from '../../abi/capability';
import type { Credentials } from '../../auth/creds';
import { capableInit } from '../../auth/userns';
import type { Task } from '../../kernel/task';
import type { FilesystemImpl, Inode } from '../../vfs/inode';
import type { FsType, MadeFs } from '../../vfs/mount_ns';
import type { AnonDevs } from '../../vfs/numbering';
import type { VirtualFilesystem } from '../../vfs/vfs';
import { TmpfsFs } from '../tmpfs/tmpfs';
import { OverlayFs } from './overlay';
import { OvlConfig, type OvlLayer } from './options';
import { OvlFs } from './stack';

/** Linux's FILESYSTEM_MAX_STACK_DEPTH: an overlay over an overlay, no deeper. */
const MAX_STACK_DEPTH = 2;

/** File systems Linux never stacks on (they set the maximum stacking depth themselves): a layer there is EINVAL. */
const UNSTACKABLE: readonly string[] = ['proc', 'mqueue'];

function depthOf(fs: FilesystemImpl): number {
  if (UNSTACKABLE.includes(fs.name)) return MAX_STACK_DEPTH;
  if (fs instanceof OvlFs) return fs.depth;
  return fs instanceof OverlayFs ? 1 : 0;
}

/** Is layer a at or below layer b (the same tree of one file system)? */
function under(a: OvlLayer, b: OvlLayer): boolean {
  const target = b.path.dentry.inode;
  if (a.path.dentry.inode.fs !== target.fs) return false;
  for (let d: typeof a.path.dentry | null = a.path.dentry; d; d = d.parent) if (d.inode === target) return true;
  return false;
}

const overlap = (a: OvlLayer, b: OvlLayer) => under(a, b) || under(b, a);

export interface OvlEnv {
  /** The new file system's device number (taken once the checks passed). */
  dev: () => number;
  heap: HeapBudget | null;
  /** The mounter's credentials: their fsuid/fsgid own whiteouts and the work directory. */
  creds: Credentials;
}

/** The checks of Linux's ovl_fill_super, in its order, then the file system. */
export function makeOverlay(c: OvlConfig, env: OvlEnv): OvlFs {
  if (c.lower.length === 0) throw new Errno(E.EINVAL, "overlay: missing 'lowerdir'");
  const upper = c.upper;
  if (upper && !c.work) throw new Errno(E.EINVAL, "overlay: missing 'workdir'");
  if (!upper && c.lower.length < 2) throw new Errno(E.EINVAL, 'overlay: at least 2 lowerdir are needed while upperdir nonexistent');
  const layers = [...(upper ? [upper] : []), ...c.lower];
  if (Math.max(...layers.map((l) => depthOf(l.path.mount.fs))) + 1 > MAX_STACK_DEPTH) throw new Errno(E.EINVAL, 'overlay: maximum fs stacking depth exceeded');
  if (upper) {
    const work = c.work as OvlLayer;
    if (upper.path.mount.flags.readonly || upper.path.mount.fs.readonly) throw new Errno(E.EINVAL, 'overlay: upper fs is r/o');
    if (!(upper.path.mount.fs instanceof TmpfsFs)) throw new Errno(E.EINVAL, 'overlay: upperdir must be on a tmpfs');
    if (work.path.mount !== upper.path.mount) throw new Errno(E.EINVAL, 'overlay: workdir and upperdir must reside under the same mount');
    if (overlap(work, upper)) throw new Errno(E.EINVAL, 'overlay: workdir and upperdir must be separate subtrees');
  }
  // Layers inside one another would show themselves through the overlay: refused as Linux refuses them.
  const checked = [...layers, ...(upper && c.work ? [c.work] : [])];
  for (let i = 0; i < checked.length; i++) {
    for (let j = i + 1; j < checked.length; j++) {
      if (checked[i] === upper && checked[j] === c.work) continue;
      if (overlap(checked[i], checked[j])) throw new Errno(E.ELOOP, 'overlay: overlapping layers');
    }
  }
  const uid = env.creds.fsuid;
  const gid = env.creds.fsgid;
  if (upper && c.work) makeWorkDir(c.work.path.dentry.inode, uid, gid, c.volatile);
  return new OvlFs({
    upper: upper ? upper.path.dentry.inode : null,
    lower: c.lower.map((l) => l.path.dentry.inode),
    dev: env.dev(),
    prefix: c.userxattr ? 'user.overlay.' : 'trusted.overlay.',
    uid,
    gid,
    heap: env.heap,
    noxattr: !c.userxattr && !capableInit(env.creds, CAP_SYS_ADMIN),
    depth: Math.max(...layers.map((l) => depthOf(l.path.mount.fs))) + 1,
  });
}

function child(dir: Inode | null, name: string): Inode | null {
  return dir && (dir.mode & 0o170000) === S_IFDIR ? dir.lookup(name, null) : null;
}

/**
 * workdir/work, as Linux leaves it (mode 0, the mounter's); an old empty one
 * is made again. A volatile mount marks it (work/incompat/volatile): the
 * upper layer may be inconsistent, so a later mount is EINVAL until the
 * marker is removed, as on Linux.
 */
function makeWorkDir(work: Inode, uid: number, gid: number, volatile: boolean): void {
  let old = work.lookup('work', null);
  if (child(child(old, 'incompat'), 'volatile')) throw new Errno(E.EINVAL, "overlay: overlay with incompat feature 'volatile' cannot be mounted");
  if (old && (old.mode & 0o170000) === S_IFDIR && old.readdir(null).length === 0) {
    work.unlink('work', old);
    old = null;
  }
  // Something the application left in work stays (Linux would clean it; nothing here ever writes there).
  if (old) return;
  const w = work.create('work', { type: S_IFDIR, mode: 0, uid, gid });
  if (volatile) w.create('incompat', { type: S_IFDIR, mode: 0, uid, gid }).create('volatile', { type: S_IFDIR, mode: 0, uid, gid });
}

/** The "overlay" type of mount(2): paths resolved as the mounting task sees them. */
export function overlayFsType(vfs: VirtualFilesystem, devs: AnonDevs): FsType {
  return {
    userns: true,
    make: (_source: string, data: string, creds: Credentials, caller: unknown): MadeFs => {
      const t = caller as Task | null;
      if (!t) throw new Errno(E.EINVAL);
      const resolve = (p: string) => vfs.resolve(t.fs.resolver(creds, t), t.fs.cwd, p, true);
      const c = OvlConfig.parse(data, resolve);
      return { fs: makeOverlay(c, { dev: () => devs.take(), heap: t.mm.memfile.heap, creds }), root: null };
    },
  };
}
