// The mqueue file system (man 7 mq_overview): one instance per IPC
// namespace, showing the namespace's POSIX message queues as files of one
// sticky, world-writable directory. A queue's file has the queue's mode and
// owner; reading it gives the queue's status line; unlink(2) is mq_unlink;
// open(2) with O_CREAT makes a queue with the namespace's default
// attributes, and the descriptor it gives is one mq_send & co take. Nothing
// else can be made here (mkdir, symlink, link, mknod, rename: EPERM), as on
// Linux. Every mount of the same namespace shows the same instance.
import { CAP_SYS_RESOURCE } from '../../abi/capability';
import { E, Errno } from '../../abi/errno';
import { DT_REG, NAME_MAX, S_IFDIR, S_IFMT, S_IFREG, type DirEntry, type InodeAttrs, type SetAttr, type StatFs } from '../../abi/fs';
import { nowNs } from '../../host/clock';
import { RLIMIT_MSGQUEUE } from '../../abi/resource';
import type { HeapBudget } from '../../abi/accounting';
import { capableInit } from '../../auth/userns';
import type { VPath } from '../../vfs/dentry';
import { Inode, type CreateSpec, type FilesystemImpl } from '../../vfs/inode';
import type { AnonDevs } from '../../vfs/numbering';
import { DIRENT_SIZE, type MessageQueue, type MqCreator, type MqNamespace } from '../../kernel/ipc/mqueue';
import type { Task } from '../../kernel/task';
import { MqFile } from './mqueue';

/** statfs's f_type of an mqueue file system. */
export const MQUEUE_MAGIC = 0x19800202;

/** A queue as a file. One per queue and file system, so that its identity (locks, watches) holds. */
export class MqInode extends Inode {
  constructor(readonly fs: MqueueFs, readonly ino: number, readonly mq: MessageQueue) {
    super();
  }

  attrs(): InodeAttrs {
    const q = this.mq;
    return {
      mode: S_IFREG | q.mode, uid: q.uid, gid: q.gid, nlink: q.unlinked ? 0 : 1, size: q.size, blocks: 0, blksize: 4096, rdev: 0,
      atimeNs: q.atimeNs, mtimeNs: q.mtimeNs, ctimeNs: q.ctimeNs, btimeNs: q.ctimeNs,
    };
  }

  override setattr(s: SetAttr): void {
    const q = this.mq;
    if (s.mode !== undefined) q.mode = s.mode & 0o777;
    if (s.uid !== undefined) q.uid = s.uid;
    if (s.gid !== undefined) q.gid = s.gid;
    // truncate(2) sets the file's size and nothing more (Linux's simple_setattr).
    if (s.size !== undefined) q.size = s.size;
    if (s.atimeNs !== undefined) q.atimeNs = s.atimeNs;
    if (s.mtimeNs !== undefined) q.mtimeNs = s.mtimeNs;
    q.ctimeNs = nowNs();
  }

  override open(ctx: unknown, path: VPath, flags: number): MqFile {
    return new MqFile(this.mq, this.fs.ns, flags, this, path);
  }
}

class MqRoot extends Inode {
  readonly ino = 1;
  constructor(readonly fs: MqueueFs) {
    super();
  }

  attrs(): InodeAttrs {
    const ns = this.fs.ns;
    return {
      mode: S_IFDIR | ns.rootMode, uid: ns.rootUid, gid: ns.rootGid, nlink: 2, size: (2 + ns.queues.size) * DIRENT_SIZE, blocks: 0, blksize: 4096, rdev: 0,
      atimeNs: ns.dirMtimeNs, mtimeNs: ns.dirMtimeNs, ctimeNs: ns.dirCtimeNs, btimeNs: ns.dirCtimeNs,
    };
  }

  override setattr(s: SetAttr): void {
    const ns = this.fs.ns;
    if (s.size !== undefined) throw new Errno(E.EISDIR);
    if (s.mode !== undefined) ns.rootMode = s.mode & 0o7777;
    if (s.uid !== undefined) ns.rootUid = s.uid;
    if (s.gid !== undefined) ns.rootGid = s.gid;
    if (s.mtimeNs !== undefined) ns.dirMtimeNs = s.mtimeNs;
    ns.dirCtimeNs = nowNs();
  }

  override lookup(name: string): Inode | null {
    const q = this.fs.ns.queues.get(name);
    return q ? this.fs.nodeOf(q) : null;
  }

  override readdir(): DirEntry[] {
    return [...this.fs.ns.queues.values()].map((q) => ({ name: q.name, ino: this.fs.nodeOf(q).ino, type: DT_REG }));
  }

  /** open(2) with O_CREAT: a queue with the namespace's default attributes, under mq_open's limits. */
  override create(name: string, spec: CreateSpec, ctx?: unknown): Inode {
    if ((spec.type & S_IFMT) !== S_IFREG) throw new Errno(E.EPERM);
    if (name.length > NAME_MAX) throw new Errno(E.ENAMETOOLONG);
    const ns = this.fs.ns;
    const t = ctx as Task | null | undefined;
    const creator: MqCreator = {
      uid: t ? t.creds.uid : spec.uid, fsuid: spec.uid, fsgid: spec.gid, budget: this.fs.budget,
      rlimit: t ? t.tg.rlimits[RLIMIT_MSGQUEUE].cur : Infinity, privileged: t ? capableInit(t.creds, CAP_SYS_RESOURCE) : true,
    };
    return this.fs.nodeOf(ns.create(name, ns.defaultAttr(), spec.mode, creator));
  }

  override link(): void {
    throw new Errno(E.EPERM);
  }

  override rename(): void {
    throw new Errno(E.EPERM);
  }

  override unlink(name: string): void {
    const q = this.fs.ns.queues.get(name);
    if (!q) throw new Errno(E.ENOENT);
    this.fs.ns.unlink(q);
  }
}

export class MqueueFs implements FilesystemImpl {
  readonly name = 'mqueue';
  readonly readonly = false;
  /** mq_open and mq_unlink change the entries behind the VFS. */
  readonly dynamic = true;
  readonly noBirthTime = true;
  private readonly rootInode = new MqRoot(this);
  private readonly nodes = new WeakMap<MessageQueue, MqInode>();
  private nextIno = 2;

  constructor(readonly ns: MqNamespace, readonly dev: number, readonly budget: HeapBudget | null) {}

  root(): Inode {
    return this.rootInode;
  }

  nodeOf(q: MessageQueue): MqInode {
    let n = this.nodes.get(q);
    if (!n) this.nodes.set(q, (n = new MqInode(this, this.nextIno++, q)));
    return n;
  }

  statfs(): StatFs {
    return { type: MQUEUE_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: NAME_MAX, flags: 0 };
  }
}

/** The namespace's file system, made at its first use (a mount, or a queue's descriptor that fstat asks about). */
export function mqueueFsOf(ns: MqNamespace, devs: AnonDevs, budget: HeapBudget | null): MqueueFs {
  if (ns.fs instanceof MqueueFs) return ns.fs;
  const fs = new MqueueFs(ns, devs.take(), budget);
  ns.fs = fs;
  return fs;
}
