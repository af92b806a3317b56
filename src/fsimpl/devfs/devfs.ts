// devfs: the sandbox's /dev. Character devices null, zero, full, random,
// urandom, userfaultfd (root's, as Linux's) and tty (the controlling terminal: a pty of the sandbox's devpts,
// or the caller's host terminal for the first session; ENXIO without one),
// the fd/stdin/stdout/stderr symlinks into /proc/self/fd, ptmx linking to
// pts/ptmx (as container runtimes make it), and empty directories shm (a
// tmpfs is mounted there), pts (devpts is) and mqueue (the mqueue file system),
// and net/tun (10:200) when the sandbox gives an opener for it (the network
// stack's tun devices, net/tun/; ENODEV without one, as a Linux without the
// tun module). No fuse: as on a Linux whose fuse module is
// not loaded, /dev/fuse does not exist (open gives ENOENT) and /proc/filesystems
// lists no fuse. Loop devices (fsimpl/loop): loop-control (10:237) and a
// loopN block node (7:N) for each device that exists; those come and go
// with LOOP_CTL_ADD and LOOP_CTL_REMOVE, every other entry is fixed.
import { randomFill } from '../../host/random';
import { Errno, E } from '../../abi/errno';
import type { FileCtx } from '../../vfs/ctx';
import type { VPath } from '../../vfs/dentry';
import { FileDescription, userRoom } from '../../vfs/file';
import type { MemoryAccess } from '../../mm/access';
import { applyAttrs, Inode, type FilesystemImpl } from '../../vfs/inode';
import { UNNUMBERED_DEV, dtype, makedev, S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, TMPFS_MAGIC, type DirEntry, type InodeAttrs, type SetAttr, type StatFs } from '../../abi/fs';
import { nowNs } from '../../host/clock';
import { makeHostFdFile } from '../hostfd/hostfd';
import type { HostStdio } from '../hostfd/terminal';
import type { DevPtsFs } from '../devpts/devpts';
import type { Task } from '../../kernel/task';
import { randomIoctl } from './random_ioctl';
import { newUserfaultfd } from '../userfaultfd/userfaultfd';
import { USERFAULTFD_IOC_NEW } from '../../abi/userfaultfd';
import { LOOP_MAJOR, LoopControlFile, LoopFile, type LoopDevice, type LoopDevices } from '../loop/loop';

/** The disk group of Linux distributions: block device nodes are root:disk 0660. */
const DISK_GID = 6;

type DevKind = 'null' | 'zero' | 'full' | 'random';

const ZEROS = Buffer.alloc(1 << 16);

class DevFile extends FileDescription {
  constructor(path: VPath, inode: Inode, flags: number, private readonly kind: DevKind) {
    super(path, inode, flags);
  }
  private produce(len: number): Buffer {
    if (this.kind === 'null') return Buffer.alloc(0);
    const b = Buffer.alloc(Math.min(len, 1 << 24));
    if (this.kind === 'random') randomFill(b);
    return b;
  }
  private consume(data: Buffer): number {
    if (this.kind === 'full') throw new Errno(E.ENOSPC);
    return data.length;
  }
  override supportsNowait(): boolean {
    return true; // these devices never wait
  }
  /** Linux's random devices have a poll method; null, zero and full do not (epoll: EPERM). */
  override canPoll(): boolean {
    return this.kind === 'random';
  }
  /** null, zero and full have no ioctls (ENOTTY); the random devices have random(4)'s. */
  override ioctl(t: FileCtx, cmd: number, arg: number): number {
    if (this.kind !== 'random') throw new Errno(E.ENOTTY);
    return randomIoctl(t as Task, cmd, arg);
  }
  override read(_t: FileCtx, len: number): Buffer {
    return this.produce(len);
  }
  override readToUser(t: FileCtx, mem: MemoryAccess, addr: number, len: number): number {
    if (this.kind === 'null') return 0; // nothing to copy, so no buffer to check
    if (this.kind !== 'zero') return super.readToUser(t, mem, addr, len) as number;
    // Zeros straight into the reader's memory, from one shared page run, up to a fault.
    len = userRoom(mem, addr, Math.min(len, 1 << 24), true);
    for (let done = 0; done < len; done += ZEROS.length) mem.copyOut(addr + done, ZEROS.subarray(0, Math.min(ZEROS.length, len - done)));
    return len;
  }
  override ignoresWriteData(): boolean {
    return this.kind === 'null' || this.kind === 'zero';
  }
  override writeFromUser(t: FileCtx, mem: MemoryAccess, addr: number, len: number): number {
    // As on Linux, null and zero take the count without reading the buffer.
    if (this.kind === 'null' || this.kind === 'zero') return len;
    if (this.kind === 'full') throw new Errno(E.ENOSPC);
    return super.writeFromUser(t, mem, addr, len) as number;
  }
  override write(_t: FileCtx, data: Buffer): number {
    return this.consume(data);
  }
  override pread(_t: FileCtx, len: number): Buffer {
    return this.produce(len);
  }
  override pwrite(_t: FileCtx, data: Buffer): number {
    return this.consume(data);
  }
  override seek(off: number, whence: number): number {
    // These devices accept any seek (lseek checked whence) and stay at 0, as Linux's noop/null llseek.
    void off;
    void whence;
    return 0;
  }
}

class DevInode extends Inode {
  readonly ino: number;
  readonly a: InodeAttrs;
  constructor(readonly fs: DevFs, mode: number, rdev = 0, size = 0) {
    super();
    this.ino = fs.allocIno();
    const t = fs.birth;
    this.a = { mode, uid: 0, gid: 0, nlink: 1, size, blocks: 0, blksize: 4096, rdev, atimeNs: t, mtimeNs: t, ctimeNs: t, btimeNs: t };
  }
  attrs(): InodeAttrs {
    return { ...this.a };
  }
  override get mode(): number {
    return this.a.mode;
  }
  override setattr(s: SetAttr): void {
    // chmod/chown/utimes on device nodes are allowed (root only, checked by the VFS caller).
    if (s.size !== undefined) return; // O_TRUNC on a device is ignored
    applyAttrs(this.a, s);
  }
}

class CharDev extends DevInode {
  constructor(fs: DevFs, major: number, minor: number, private readonly kind: DevKind | 'tty') {
    super(fs, S_IFCHR | 0o666, makedev(major, minor));
  }
  override open(ctx: unknown, path: VPath, flags: number): FileDescription {
    if (this.kind === 'tty') return this.fs.openControllingTty(ctx as Task | null, path, this, flags);
    return new DevFile(path, this, flags, this.kind);
  }
}

/** /dev/userfaultfd (10:257, root's only): USERFAULTFD_IOC_NEW makes a userfaultfd without vm.unprivileged_userfaultfd's check. */
class UserfaultDev extends DevInode {
  constructor(fs: DevFs) {
    super(fs, S_IFCHR | 0o600, makedev(10, 257));
  }
  override open(_ctx: unknown, path: VPath, flags: number): FileDescription {
    return new UserfaultDevFile(path, this, flags);
  }
}

class UserfaultDevFile extends FileDescription {
  /** Linux gives this file no splice operations (splice: EINVAL). */
  override canSplice(): boolean {
    return false;
  }

  /** Linux's userfaultfd_dev_ioctl: USERFAULTFD_IOC_NEW with userfaultfd(2)'s flags, anything else EINVAL. */
  override ioctl(t: FileCtx, cmd: number, arg: number): number {
    if (cmd !== USERFAULTFD_IOC_NEW) throw new Errno(E.EINVAL);
    return newUserfaultfd(t as Task, arg | 0);
  }
}

/** /dev/loopN: opens its device while it exists (ENXIO once LOOP_CTL_REMOVE took it). */
class LoopNode extends DevInode {
  constructor(fs: DevFs, readonly device: LoopDevice, private readonly devices: LoopDevices) {
    super(fs, S_IFBLK | 0o660, makedev(LOOP_MAJOR, device.index));
    this.a.gid = DISK_GID;
    device.inode = this;
  }
  override open(_ctx: unknown, path: VPath, flags: number): FileDescription {
    if (this.devices.get(this.device.index) !== this.device) throw new Errno(E.ENXIO);
    return new LoopFile(path, this, flags, this.device);
  }
}

/** /dev/loop-control (10:237, root's only). */
class LoopControlNode extends DevInode {
  constructor(fs: DevFs, private readonly devices: LoopDevices) {
    super(fs, S_IFCHR | 0o600, makedev(10, 237));
  }
  override open(_ctx: unknown, path: VPath, flags: number): FileDescription {
    return new LoopControlFile(path, this, flags, this.devices);
  }
}

/** What opens /dev/net/tun: given by the layer above, which has the network stack. */
export type DeviceOpener = (ctx: unknown, path: VPath, inode: Inode, flags: number) => FileDescription;

/** /dev/net/tun (10:200, every user's: TUNSETIFF checks the capability). */
class TunDev extends DevInode {
  constructor(fs: DevFs, private readonly opener: DeviceOpener | null) {
    super(fs, S_IFCHR | 0o666, makedev(10, 200));
  }
  override open(ctx: unknown, path: VPath, flags: number): FileDescription {
    if (!this.opener) throw new Errno(E.ENODEV);
    return this.opener(ctx, path, this, flags);
  }
}

class DevLink extends DevInode {
  constructor(fs: DevFs, private readonly target: string) {
    super(fs, S_IFLNK | 0o777, 0, target.length);
  }
  override readlink(): string {
    return this.target;
  }
}

class DevDir extends DevInode {
  readonly entries = new Map<string, Inode>();
  constructor(fs: DevFs, mode = 0o755) {
    super(fs, S_IFDIR | mode);
    this.a.nlink = 2;
  }
  override lookup(name: string): Inode | null {
    return this.entries.get(name) ?? null;
  }
  override readdir(): DirEntry[] {
    return [...this.entries].map(([name, i]) => ({ name, ino: i.ino, type: dtype(i.mode) }));
  }
  /** Loop nodes come and go: a cached entry holds while it is still the one of that name. */
  override revalidate(name: string, child: Inode): boolean {
    return this.entries.get(name) === child;
  }
}

export class DevFs implements FilesystemImpl {
  readonly name = 'devtmpfs';
  private nextIno = 1;
  readonly readonly = false; // entries are fixed (create gives EROFS) but chmod/chown work
  readonly dynamic = false;
  readonly birth = nowNs();
  private readonly rootDir: DevDir;

  /**
   * stdio: the sandbox's donated host fds, whose terminal is /dev/tty of the
   * first session (null: no terminal); pts: the devpts whose ptys can be
   * controlling terminals.
   */
  constructor(
    readonly stdio: HostStdio | null,
    readonly dev = UNNUMBERED_DEV,
    private readonly pts: DevPtsFs | null = null,
    loops: LoopDevices | null = null,
    tun: DeviceOpener | null = null,
  ) {
    const r = new DevDir(this);
    const add = (name: string, i: Inode) => r.entries.set(name, i);
    add('null', new CharDev(this, 1, 3, 'null'));
    add('zero', new CharDev(this, 1, 5, 'zero'));
    add('full', new CharDev(this, 1, 7, 'full'));
    add('random', new CharDev(this, 1, 8, 'random'));
    add('urandom', new CharDev(this, 1, 9, 'random'));
    add('tty', new CharDev(this, 5, 0, 'tty'));
    add('userfaultfd', new UserfaultDev(this));
    add('fd', new DevLink(this, '/proc/self/fd'));
    add('stdin', new DevLink(this, '/proc/self/fd/0'));
    add('stdout', new DevLink(this, '/proc/self/fd/1'));
    add('stderr', new DevLink(this, '/proc/self/fd/2'));
    add('ptmx', new DevLink(this, 'pts/ptmx'));
    add('shm', new DevDir(this, 0o1777));
    add('pts', new DevDir(this));
    add('mqueue', new DevDir(this));
    const net = new DevDir(this);
    net.entries.set('tun', new TunDev(this, tun));
    add('net', net);
    r.a.nlink = 6;
    this.rootDir = r;
    if (loops) {
      add('loop-control', new LoopControlNode(this, loops));
      const show = (d: LoopDevice): void => void add(`loop${d.index}`, new LoopNode(this, d, loops));
      for (const d of loops.list()) show(d);
      loops.shown = show;
      loops.hidden = (d) => void r.entries.delete(`loop${d.index}`);
    }
  }

  /**
   * /dev/tty: the caller's controlling terminal. A pty of devpts is reached
   * through a new description of its slave (on /dev/tty's own node, as Linux
   * shows it); the caller's host terminal belongs to the session that holds
   * it (the sandbox's first one unless another took it with TIOCSCTTY).
   */
  openControllingTty(t: Task | null, path: VPath, inode: Inode, flags: number): FileDescription {
    const tg = t?.tg;
    const pty = tg && this.pts ? this.pts.controllingTty(tg) : null;
    if (pty && this.pts) return this.pts.openSlave(t, pty, path, inode, flags);
    const term = this.stdio?.terminal;
    if (!term || !this.stdio || (tg && (term.session ?? 1) !== tg.sid)) throw new Errno(E.ENXIO);
    return makeHostFdFile(term.hostFd, flags, this.stdio);
  }

  allocIno(): number {
    return this.nextIno++;
  }

  deviceNode(type: number, rdev: number): Inode | null {
    for (const i of this.rootDir.entries.values()) {
      if (type === S_IFCHR && (i instanceof CharDev || i instanceof LoopControlNode) && i.a.rdev === rdev) return i;
      if (type === S_IFBLK && i instanceof LoopNode && i.a.rdev === rdev) return i;
    }
    if (type !== S_IFCHR) return null;
    const tun = (this.rootDir.entries.get('net') as DevDir | undefined)?.entries.get('tun');
    if (tun instanceof TunDev && tun.a.rdev === rdev) return tun;
    return null;
  }

  root(): Inode {
    return this.rootDir;
  }

  statfs(): StatFs {
    return { type: TMPFS_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 64, ffree: 0, namelen: 255, flags: 0 };
  }
}
