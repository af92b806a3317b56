// The Sentry's side of a tree the Gofer serves read-write (a read-write bind
// mount's source): every change of names or attributes is one request; file
// data is written on a descriptor the Gofer donates (OPEN for writing), held
// while the file is open in the sandbox, so pwrite, fallocate, fsync and
// fstat of an open file need no round trip.
import {
  HostError, type HostNode, type HostOwner, type HostSetAttr, type HostStat, type HostStatFs, type HostTime, type WritableHostFiles,
} from '../host/hostfs';
import * as libc from '../host/libc';
import { FdLru } from '../host/hosttree';
import { GoferClient, hostFail } from './client';
import type { ClientNode } from './client_node';
import { Op, SA_ATIME, SA_MODE, SA_MTIME, SA_OWNER, SA_SIZE, T_NOW, T_OMIT, T_VALUE, type Writer } from './protocol';

const EINVAL = 22;
const EIO = 5;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const MAX_RW = 0x7ffff000;

function closeWriteFd(o: ClientNode): void {
  libc.close(o.wfd);
  o.wfd = -1;
}

function putTime(w: Writer, t: HostTime | undefined): void {
  if (t === undefined || t === 'omit') w.u8(T_OMIT).i64(0n);
  else if (t === 'now') w.u8(T_NOW).i64(0n);
  else w.u8(T_VALUE).i64(t);
}

/** A tree the Gofer serves read-write (a read-write bind mount's source): every write is one request. */
export class WritableGoferClient extends GoferClient implements WritableHostFiles {
  override readonly writable = true;
  private readonly writes = new FdLru<ClientNode>(256, closeWriteFd);

  create(dir: HostNode, name: string, mode: number, owner: HostOwner): HostNode {
    const d = this.own(dir);
    return this.created(d, name, this.callOn(d, Op.CREATE, (w) => w.str(name).u32(mode).i32(owner.uid).i32(owner.gid)).r);
  }
  mkdir(dir: HostNode, name: string, mode: number, owner: HostOwner): HostNode {
    const d = this.own(dir);
    return this.created(d, name, this.callOn(d, Op.MKDIR, (w) => w.str(name).u32(mode).i32(owner.uid).i32(owner.gid)).r);
  }
  symlink(dir: HostNode, name: string, target: string, owner: HostOwner): HostNode {
    const d = this.own(dir);
    return this.created(d, name, this.callOn(d, Op.SYMLINK, (w) => w.str(name).str(target).i32(owner.uid).i32(owner.gid)).r);
  }
  mknod(dir: HostNode, name: string, mode: number, rdev: number, owner: HostOwner): HostNode {
    const d = this.own(dir);
    return this.created(d, name, this.callOn(d, Op.MKNOD, (w) => w.str(name).u32(mode).u64(rdev).i32(owner.uid).i32(owner.gid)).r);
  }
  link(target: HostNode, dir: HostNode, name: string): HostNode {
    const t = this.own(target);
    const d = this.own(dir);
    if (d.id === 0) this.stat(d);
    const { r } = this.callOn(t, Op.LINK, (w) => w.u32(d.id).str(name));
    r.u32();
    t.stat = r.stat();
    this.invalidate(d);
    return t;
  }
  unlink(dir: HostNode, name: string, isDir: boolean): void {
    const d = this.own(dir);
    this.callOn(d, Op.UNLINK, (w) => w.str(name).u8(isDir ? 1 : 0));
    this.invalidate(d);
  }
  rename(oldDir: HostNode, oldName: string, newDir: HostNode, newName: string, flags: number): void {
    const od = this.own(oldDir);
    const nd = this.own(newDir);
    if (nd.id === 0) this.stat(nd);
    this.callOn(od, Op.RENAME, (w) => w.str(oldName).u32(nd.id).str(newName).u32(flags));
    this.invalidate(od);
    this.invalidate(nd);
  }
  setattr(n: HostNode, a: HostSetAttr): HostStat {
    const o = this.own(n);
    let mask = 0;
    if (a.mode !== undefined) mask |= SA_MODE;
    if (a.uid !== undefined || a.gid !== undefined) mask |= SA_OWNER;
    if (a.size !== undefined) mask |= SA_SIZE;
    if (a.atime !== undefined) mask |= SA_ATIME;
    if (a.mtime !== undefined) mask |= SA_MTIME;
    const { r } = this.callOn(o, Op.SETATTR, (w) => {
      w.u8(mask).u32(a.mode ?? 0).i32(a.uid ?? -1).i32(a.gid ?? -1).u64(a.size ?? 0);
      putTime(w, a.atime);
      putTime(w, a.mtime);
    });
    o.stat = r.stat();
    return o.stat;
  }
  /** A write descriptor of regular file o, donated by the Gofer (OPEN for writing); held while o is open in the sandbox. */
  private writeFdOf(o: ClientNode): number {
    if (o.wfd >= 0) {
      this.writes.touch(o);
      return o.wfd;
    }
    if ((o.stat.mode & S_IFMT) !== S_IFREG) throw new HostError(EINVAL, 'not a regular file');
    const { fd } = this.callOn(o, Op.OPEN, (w) => w.u8(1));
    if (fd < 0) throw new HostError(EIO, 'the Gofer sent no descriptor');
    o.wfd = fd;
    this.writes.add(o);
    return fd;
  }

  /** o is not open in the sandbox (a write-back after the last close): let go of its write descriptor at once (a host exec of it would be ETXTBSY). */
  private settle(o: ClientNode): void {
    if (o.pins === 0 && o.wfd >= 0) {
      this.writes.delete(o);
      closeWriteFd(o);
    }
  }

  pwrite(n: HostNode, buf: Buffer, off: number): number {
    const o = this.own(n);
    try {
      const r = Number(libc.pwrite(this.writeFdOf(o), buf, Math.min(buf.length, MAX_RW), off));
      if (r < 0) hostFail('pwrite');
      return r;
    } finally {
      this.settle(o);
    }
  }
  fsync(n: HostNode, dataOnly: boolean): void {
    const o = this.own(n);
    const fd = o.wfd >= 0 ? o.wfd : o.fd;
    if (fd < 0) {
      // A directory, or a file with no descriptor here: the Gofer syncs it.
      this.callOn(o, Op.FSYNC, (w) => w.u8(dataOnly ? 1 : 0));
      return;
    }
    if ((dataOnly ? libc.fdatasync(fd) : libc.fsync(fd)) < 0) hostFail('fsync');
  }
  fallocate(n: HostNode, mode: number, off: number, len: number): void {
    const o = this.own(n);
    try {
      if (libc.fallocate(this.writeFdOf(o), mode, off, len) < 0) hostFail('fallocate');
    } finally {
      this.settle(o);
    }
  }
  override unpin(n: HostNode): void {
    super.unpin(n);
    this.settle(this.own(n));
  }
  override held(): ReturnType<GoferClient['held']> & { write: number } {
    return { ...super.held(), write: this.writes.size };
  }
  getxattr(n: HostNode, name: string): Buffer {
    return this.callOn(this.own(n), Op.GETXATTR, (w) => w.str(name)).r.bytes(1 << 16);
  }
  setxattr(n: HostNode, name: string, value: Buffer, flags: number): void {
    this.callOn(this.own(n), Op.SETXATTR, (w) => w.str(name).bytes(value).u32(flags));
  }
  listxattr(n: HostNode): string[] {
    const { r } = this.callOn(this.own(n), Op.LISTXATTR, () => {});
    const out: string[] = [];
    for (let i = r.u32(); i > 0; i--) out.push(r.str(0xffff));
    return out;
  }
  removexattr(n: HostNode, name: string): void {
    this.callOn(this.own(n), Op.REMOVEXATTR, (w) => w.str(name));
  }
  statfs(): HostStatFs {
    this.conn.begin(Op.STATFS).u32(this.treeIndex);
    return this.conn.call().r.statfs();
  }
}
