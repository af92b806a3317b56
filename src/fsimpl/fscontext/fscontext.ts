// The new mount API's two kinds of descriptors. A file system context
// (fsopen, fspick: "anon_inode:[fscontext]") collects parameters with
// fsconfig, then makes a file system (FSCONFIG_CMD_CREATE, for fsmount) or
// changes a mounted one (FSCONFIG_CMD_RECONFIGURE); reading it gives the
// messages Linux logs for the errors ("e ..."), one per read. A mount tree
// descriptor (fsmount, open_tree with OPEN_TREE_CLONE) is an O_PATH file on
// the root of a tree attached nowhere: move_mount attaches it, and if it is
// still detached when its last reference goes, it is unmounted then.
import { E, Errno } from '../../abi/errno';
import { O_RDWR, type InodeAttrs } from '../../abi/fs';
import type { HeapBudget } from '../../abi/accounting';
import type { Credentials } from '../../auth/creds';
import type { UserNamespace } from '../../auth/userns';
import type { Mount, MountNamespaceRef } from '../../vfs/dentry';
import { anonAttrs, FileDescription, PathFile, type MaybePromise } from '../../vfs/file';
import type { FileCtx } from '../../vfs/ctx';
import { setNs, subtree, type FsType, type MadeFs } from '../../vfs/mount_ns';

/** Linux keeps the last 8 messages of a context (older ones are dropped). */
const LOG_SIZE = 8;
/** A parameter kept: bounded by the key and string limits (256 bytes each), charged at this. */
const PARAM_COST = 640;
/** At most this many parameters in one context (Linux has no count; every one costs kernel memory). */
const MAX_PARAMS = 256;
/** A context itself, charged when it is made (how many there are is bounded by the descriptor limit and this). */
const CONTEXT_COST = 1024;
/** The superblock flags every file system takes (vfs_parse_sb_flag): any value type sets them. */
const SB_FLAGS: readonly string[] = ['dirsync', 'lazytime', 'mand', 'posixacl', 'ro', 'rw', 'sync'];

/** What a parameter came as (fsconfig's SET_* command). */
export type ParamKind = 'flag' | 'string' | 'binary' | 'path' | 'fd';

/**
 * Where a context is (Linux's fs_context_phase): collecting parameters for
 * a new file system or for a reconfiguration, made and waiting for fsmount,
 * mounted (fsmount done), or failed (nothing more is accepted).
 */
export type ContextPhase = 'create-params' | 'awaiting-mount' | 'mounted' | 'reconf-params' | 'failed';

export class FsContextFile extends FileDescription {
  /** Linux gives this file no splice operations (splice: EINVAL). */
  override canSplice(): boolean {
    return false;
  }

  phase: ContextPhase;
  /** The "source" parameter. */
  source: string | null = null;
  /** The file system's own options, as mount(2)'s data string has them ("key" or "key=value"). */
  readonly options: string[] = [];
  /** ro/rw given (true: read-only); null: not given. */
  rdonly: boolean | null = null;
  /** After FSCONFIG_CMD_CREATE: the file system and the user namespace owning it. */
  made: { fs: MadeFs; owner: UserNamespace | null } | null = null;
  private readonly log: string[] = [];
  private readonly held = { bytes: 0 };

  constructor(
    /** The file system type's name (messages are prefixed with it). */
    readonly fsName: string,
    /** The type (null for a picked mount whose file system mount(2) cannot make: the root overlay, host binds). */
    readonly type: FsType | null,
    /** The mount fspick chose (null for fsopen's contexts). */
    readonly picked: Mount | null,
    /** The opener's credentials: a new file system's IDs in options are theirs (Linux's fc->cred). */
    readonly creds: Credentials,
    flags: number,
    private readonly budget: HeapBudget | undefined,
  ) {
    super(null, null, O_RDWR | flags);
    this.phase = picked ? 'reconf-params' : 'create-params';
    budget?.charge(CONTEXT_COST, E.ENOMEM);
    this.held.bytes = CONTEXT_COST;
    budget?.track(this, this.held);
  }

  procName(): string {
    return 'anon_inode:[fscontext]';
  }

  override stat(): InodeAttrs {
    return anonAttrs(0o600);
  }

  /** A message for the reader (errorfc; level 'w' for warnfc), and the error to throw with it. */
  fail(errno: number, msg: string, prefix = true, level: 'e' | 'w' = 'e'): Errno {
    if (this.log.length >= LOG_SIZE) this.log.shift();
    this.log.push(`${level} ${prefix ? this.fsName + ': ' : ''}${msg}\n`);
    return new Errno(errno, msg);
  }

  /** One message per read: ENODATA when there is none, EMSGSIZE (keeping it) when it does not fit. */
  override read(_t: FileCtx, len: number): MaybePromise<Buffer> {
    const m = this.log[0];
    if (m === undefined) throw new Errno(E.ENODATA);
    const b = Buffer.from(m, 'latin1');
    if (b.length > len) throw new Errno(E.EMSGSIZE);
    this.log.shift();
    return b;
  }

  override write(): number {
    throw new Errno(E.EINVAL);
  }

  /**
   * A parameter (vfs_parse_fs_param): the superblock flags first, then
   * "source", then the file system's own, checked now by the type's check
   * where it has one (else by make at FSCONFIG_CMD_CREATE, which takes the
   * whole option string), and only as a flag or string, the only kinds the
   * file systems here take.
   */
  param(key: string, kind: ParamKind, value: string | null): void {
    if (this.phase !== 'create-params' && this.phase !== 'reconf-params') throw new Errno(E.EBUSY);
    if (SB_FLAGS.includes(key)) {
      if (key === 'ro' || key === 'rw') this.rdonly = key === 'ro';
      return;
    }
    if (key === 'source') {
      if (kind !== 'string') throw this.fail(E.EINVAL, 'Non-string source', false);
      if (this.source !== null) throw this.fail(E.EINVAL, 'Multiple sources', false);
      this.charge();
      this.source = value;
      return;
    }
    const option = value === null ? key : `${key}=${value}`;
    // Checked now where the type can (Linux parses each parameter as it is set); else by make at FSCONFIG_CMD_CREATE.
    if (this.type?.check && !this.picked) {
      try {
        this.type.check(option, this.creds);
      } catch (e) {
        if (!(e instanceof Errno) || e.errno !== E.EINVAL) throw e;
        throw this.fail(E.EINVAL, e.message.endsWith('Unknown parameter') ? `Unknown parameter '${key}'` : `Bad value for '${key}'`);
      }
    }
    if (kind !== 'flag' && kind !== 'string') throw this.fail(E.EINVAL, `Bad value for '${key}'`);
    // mount(2)'s data string separates options by commas: a value with one would be two options.
    if (value !== null && value.includes(',')) throw this.fail(E.EINVAL, `Bad value for '${key}'`);
    this.charge();
    this.options.push(option);
  }

  /** A reconfiguration round is over (Linux's vfs_clean_context): the flags and parameters given are spent. */
  spend(): void {
    const bytes = (this.options.length + (this.source !== null ? 1 : 0)) * PARAM_COST;
    this.budget?.uncharge(bytes);
    this.held.bytes -= bytes;
    this.options.length = 0;
    this.source = null;
    this.rdonly = null;
  }

  private charge(): void {
    if (this.options.length >= MAX_PARAMS) throw this.fail(E.ENOMEM, 'Too many parameters', false);
    this.budget?.charge(PARAM_COST, E.ENOMEM);
    this.held.bytes += PARAM_COST;
  }

  protected override release(): void {
    this.budget?.uncharge(this.held.bytes);
    this.held.bytes = 0;
  }
}

/**
 * The anonymous namespace of a detached tree (Linux's anonymous mount
 * namespace): mounts in it belong to no task's namespace, so mount(2) and
 * umount2 refuse them; move_mount attaches its root.
 */
export class DetachedTree implements MountNamespaceRef {
  readonly inum = 0;
  readonly anon = true;
  nrMounts = 0;
  constructor(
    readonly root: Mount,
    readonly owner: UserNamespace,
  ) {
    for (const m of subtree(root)) setNs(m, this);
  }
}

/** The tree's root mount is still detached (not attached by move_mount since). */
export function stillDetached(m: Mount): m is Mount & { ns: DetachedTree } {
  return m.ns instanceof DetachedTree && m.ns.root === m && m.parent === null;
}

/** fsmount's and open_tree(OPEN_TREE_CLONE)'s descriptor: an O_PATH file on the tree's root. */
export class MountTreeFile extends PathFile {
  constructor(
    readonly tree: Mount,
    flags: number,
    /** Unmounts a tree that is still detached when the last reference goes. */
    private readonly dissolve: (m: Mount) => void,
  ) {
    super({ mount: tree, dentry: tree.root }, tree.root.inode, flags);
  }

  protected override release(): void {
    if (stillDetached(this.tree)) this.dissolve(this.tree);
  }
}
