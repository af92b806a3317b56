// cgroupfs: the cgroup v2 file system (mount -t cgroup2) over the kernel's
// one hierarchy (kernel/cgroup.ts). A directory per cgroup, made and removed
// with mkdir and rmdir (EBUSY while populated or parent of another), its
// interface files generated at each read (files.ts). Every mount shows the
// tree from its mounter's cgroup namespace root. Directories and files take
// chown and chmod (delegation: the cgroup keeps them, Cgroup.owners). Other
// name operations are refused as kernfs refuses them (O_CREAT EACCES, the
// rest EPERM).
import { Errno, E } from '../../abi/errno';
import { dtype, S_IFDIR, S_IFMT, S_IFREG, UNNUMBERED_DEV, type DirEntry, type InodeAttrs, type SetAttr, type StatFs } from '../../abi/fs';
import { nowNs } from '../../host/clock';
import type { Cgroup, CgroupTree, FileOwner } from '../../kernel/cgroup';
import type { Kernel } from '../../kernel/kernel';
import { Inode, type CreateSpec, type FilesystemImpl } from '../../vfs/inode';
import { NodeMaker, ProcFileNode, rootOwner, type Entry } from '../proc/nodes';
import { checkCloneInto } from './control';
import { interfaceFiles, nsBoundary } from './files';
import type { Task } from '../../kernel/task';

/** The owner and mode the cgroup keeps for one of its names ("" its directory), or the default. */
function ownerOf(c: Cgroup, name: string, perm: number): FileOwner {
  return c.owners.get(name) ?? { uid: 0, gid: 0, perm };
}

/** chmod and chown of a cgroup's directory or file (checked by the VFS); times and sizes are not kept (truncate succeeds, as kernfs's). */
function setOwner(c: Cgroup, name: string, perm: number, a: SetAttr): void {
  if (a.mode === undefined && a.uid === undefined && a.gid === undefined) return;
  const o = { ...ownerOf(c, name, perm) };
  if (a.mode !== undefined) o.perm = a.mode & 0o7777;
  if (a.uid !== undefined) o.uid = a.uid;
  if (a.gid !== undefined) o.gid = a.gid;
  c.owners.set(name, o);
}

/** An interface file: its owner and mode are its cgroup's to keep; writes meet nsdelegate's boundary first. */
class CgroupFileNode extends ProcFileNode {
  private readonly defaultPerm: number;

  constructor(
    fs: CgroupFs,
    from: ProcFileNode,
    private readonly cgroup: Cgroup,
    private readonly name: string,
  ) {
    const perm = from.mode & 0o7777;
    const write = from.spec.write;
    const spec = write ? { ...from.spec, write: (d: Buffer, ctx: unknown, opener?: unknown) => (nsBoundary(fs.kernel, cgroup, name, opener ?? ctx), write(d, ctx, opener)) } : from.spec;
    super(fs, from.ino, perm, () => ownerOf(cgroup, name, perm), fs.birthNs, spec);
    this.defaultPerm = perm;
  }

  override get mode(): number {
    return S_IFREG | ownerOf(this.cgroup, this.name, this.defaultPerm).perm;
  }

  override attrs(): InodeAttrs {
    return { ...super.attrs(), mode: this.mode };
  }

  // (ProcInode declares it without the argument: procfs refuses every change.)
  override setattr(a: SetAttr = {}): void {
    setOwner(this.cgroup, this.name, this.defaultPerm, a);
  }
}

/** CGROUP2_SUPER_MAGIC (statfs's f_type). */
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** A cgroup's directory: its children's directories and its interface files. */
export class CgroupDirNode extends Inode {
  readonly ino: number;
  constructor(
    readonly fs: CgroupFs,
    readonly cgroup: Cgroup,
  ) {
    super();
    this.ino = cgroup.id;
  }

  override get mode(): number {
    return S_IFDIR | ownerOf(this.cgroup, '', 0o755).perm;
  }

  attrs(): InodeAttrs {
    const t = this.fs.birthNs;
    const o = ownerOf(this.cgroup, '', 0o755);
    return {
      mode: this.mode, uid: o.uid, gid: o.gid, nlink: 2 + this.cgroup.children.size, size: 0, blocks: 0, blksize: 4096,
      rdev: 0, atimeNs: t, mtimeNs: t, ctimeNs: t, btimeNs: t,
    };
  }

  private get cfs(): CgroupFs {
    return this.fs;
  }

  private entries(): Entry[] {
    const m = new NodeMaker<CgroupFs>(this.cfs, `cg${this.cgroup.id}`, rootOwner, this.cfs.birthNs);
    return interfaceFiles(m, this.cgroup, this.cfs.kernel).map(([name, mk]): Entry => [name, () => {
      const i = mk();
      return i instanceof ProcFileNode ? new CgroupFileNode(this.cfs, i, this.cgroup, name) : i;
    }]);
  }

  override lookup(name: string): Inode | null {
    const c = this.cgroup.children.get(name);
    if (c) return this.cfs.dirOf(c);
    const e = this.entries().find(([n]) => n === name);
    return e ? e[1]() : null;
  }

  override readdir(): DirEntry[] {
    const out: DirEntry[] = this.entries().map(([name, mk]) => {
      const i = mk();
      return { name, ino: i.ino, type: dtype(i.mode) };
    });
    for (const [name, c] of this.cgroup.children) out.push({ name, ino: c.id, type: dtype(S_IFDIR) });
    return out;
  }

  /** mkdir makes a cgroup; other kinds of entry are refused as kernfs refuses them. */
  override create(name: string, spec: CreateSpec): Inode {
    if ((spec.type & S_IFMT) !== S_IFDIR) throw new Errno(spec.type === S_IFREG ? E.EACCES : E.EPERM);
    return this.cfs.dirOf(this.cfs.tree.mkdir(this.cgroup, name));
  }

  override get removesEntries(): boolean {
    return true;
  }

  /** Interface files do not make a cgroup "not empty": rmdir's rules are the cgroup's (EBUSY). */
  override blocksRmdir(): boolean {
    return false;
  }

  override unlink(_name: string, child: Inode): void {
    if (!(child instanceof CgroupDirNode) || child.cgroup.parent !== this.cgroup) throw new Errno(E.EPERM);
    this.cfs.tree.rmdir(child.cgroup);
    this.cfs.forget(child.cgroup);
  }

  override link(): void {
    throw new Errno(E.EPERM);
  }

  override rename(): void {
    throw new Errno(E.EPERM);
  }

  override setattr(a: SetAttr): void {
    setOwner(this.cgroup, '', 0o755, a);
  }
}

export class CgroupFs implements FilesystemImpl {
  readonly name = 'cgroup2';
  readonly readonly = false;
  readonly dynamic = true;
  readonly noBirthTime = true;
  readonly birthNs = nowNs();
  private readonly dirs = new Map<Cgroup, CgroupDirNode>();

  constructor(
    readonly kernel: Kernel,
    readonly dev = UNNUMBERED_DEV,
  ) {}

  get tree(): CgroupTree {
    return this.kernel.cgroups;
  }

  /** The one directory inode of a cgroup (its id is its inode number, as Linux's cgroup ids are). */
  dirOf(c: Cgroup): CgroupDirNode {
    let d = this.dirs.get(c);
    if (!d) {
      d = new CgroupDirNode(this, c);
      this.dirs.set(c, d);
    }
    return d;
  }

  forget(c: Cgroup): void {
    this.dirs.delete(c);
  }

  root(): Inode {
    return this.dirOf(this.tree.root);
  }

  statfs(): StatFs {
    return { type: CGROUP2_SUPER_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255, flags: 0 };
  }
}

/**
 * The cgroup a directory of a cgroup2 mount stands for, for clone3's
 * CLONE_INTO_CGROUP by t (null for anything else): one it may enter
 * (checkEnter) and move itself into (checkCloneInto).
 */
export function cgroupToCloneInto(i: Inode, t: Task): Cgroup | null {
  if (!(i instanceof CgroupDirNode)) return null;
  i.fs.tree.checkEnter(i.cgroup, E.ENOENT);
  checkCloneInto(i.fs, t, i.cgroup);
  return i.cgroup;
}
