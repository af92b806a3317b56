// mount(2) of ext2: the source is a path in the sandbox naming one of its
// loop devices (a block node 7:N); the device's backing file holds the disk.
// Mounting the same device again shares its file system (Linux's superblock
// per block device); the mount holds the device open until the last umount,
// which leaves the disk clean.
import { Errno, E } from '../../abi/errno';
import { devMajor, devMinor, S_IFBLK, S_IFMT } from '../../abi/fs';
import type { Credentials } from '../../auth/creds';
import type { Task } from '../../kernel/task';
import type { FsType, MadeFs } from '../../vfs/mount_ns';
import type { VirtualFilesystem } from '../../vfs/vfs';
import type { FrameSource } from '../../mm/mappable';
import { LOOP_MAJOR, type LoopDevice, type LoopDevices } from '../loop/loop';
import { Disk } from './disk';
import { Ext2Fs } from './fs';

/** Options every file system takes (superblock flags), and ext2's own that change nothing here. */
const ACCEPTED: readonly string[] = [
  'ro', 'rw', 'sync', 'async', 'dirsync', 'lazytime', 'nolazytime', 'mand', 'nomand', 'silent', 'defaults',
  'user_xattr', 'nouser_xattr', 'acl', 'noacl', 'bsddf', 'minixdf', 'nobh', 'reservation', 'noreservation', 'oldalloc', 'orlov',
  'nocheck', 'check=none', 'debug', 'nogrpid', 'sysvgroups', 'errors=continue', 'errors=remount-ro', 'errors=panic',
];

function checkOption(o: string): void {
  if (o && !ACCEPTED.includes(o)) throw new Errno(E.EINVAL, `ext2: unsupported mount option ${o}`);
}

/** The ext2 type of a sandbox: its mounted devices, so that a second mount of one shares the file system. */
export class Ext2Type implements FsType {
  readonly userns = false;
  private readonly mounted = new Map<LoopDevice, Ext2Fs>();

  constructor(private readonly vfs: VirtualFilesystem, private readonly loops: LoopDevices, private readonly frames: FrameSource) {}

  check(option: string, _creds: Credentials): void {
    checkOption(option);
  }

  make(source: string, data: string, creds: Credentials, caller: unknown, readonly = false): MadeFs {
    for (const o of data.split(',')) checkOption(o);
    const dev = this.device(source, creds, caller as Task | null);
    const had = this.mounted.get(dev);
    if (had) {
      // The same device mounted again: the same file system, if the read-only flag agrees (Linux: EBUSY).
      if (had.readonly !== readonly) throw new Errno(E.EBUSY);
      return { fs: had, root: null };
    }
    const fs = new Ext2Fs(new Disk(dev), readonly, this.frames);
    dev.openers++;
    this.mounted.set(dev, fs);
    fs.onShutdown = () => {
      this.mounted.delete(dev);
      if (--dev.openers === 0) dev.lastClose();
    };
    return { fs, root: null };
  }

  /** The loop device source names, as the caller sees the path: a block node of a bound device, on a mount that allows devices. */
  private device(source: string, creds: Credentials, t: Task | null): LoopDevice {
    if (!source) throw new Errno(E.ENOENT);
    const r = t ? t.fs.resolver(creds, t) : { creds, root: this.vfs.root, ctx: null };
    const p = this.vfs.resolve(r, t ? t.fs.cwd : this.vfs.root, source, true);
    const a = p.dentry.inode.attrs();
    if ((a.mode & S_IFMT) !== S_IFBLK) throw new Errno(E.ENOTBLK);
    if (p.mount.flags.nodev) throw new Errno(E.EACCES);
    const dev = devMajor(a.rdev) === LOOP_MAJOR ? this.loops.get(devMinor(a.rdev)) : null;
    if (!dev) throw new Errno(E.ENXIO);
    if (dev.state !== 'bound' || dev.sizeBytes < 2048) throw new Errno(E.EINVAL, "ext2: can't read superblock (no medium)");
    return dev;
  }
}
