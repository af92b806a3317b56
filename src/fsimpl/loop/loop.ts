// Loop block devices (loop(4)): /dev/loopN (block major 7) reads and writes a
// file of the sandbox, a window of it from lo_offset, at most lo_sizelimit
// bytes. Never a host device: the backing is an open description of the
// sandbox's own VFS (a tmpfs or overlay file, or another loop device).
//
// The state machine is Linux's: unbound, bound, and rundown (LOOP_CLR_FD by
// the only opener: it refuses everything until the last close, which clears
// it). LOOP_CLR_FD with other openers, and a bound AUTOCLEAR device, are
// cleared at the last close. The capacity is worked out when bound and when
// asked (LOOP_SET_STATUS with a new window, LOOP_SET_CAPACITY): a backing
// file that grows does not grow the device by itself, as on Linux.
//
// The ioctls are decoded in syscalls/loop_ioctl.ts; this file keeps the
// state and moves the bytes. The number of devices is bounded (LoopDevices.max,
// Linux's max_loop) and each is charged to the sandbox's heap budget.
import { Errno, E } from '../../abi/errno';
import type { FileCtx } from '../../vfs/ctx';
import type { VPath } from '../../vfs/dentry';
import { FileDescription, type MaybePromise } from '../../vfs/file';
import type { Inode } from '../../vfs/inode';
import type { HeapBudget } from '../../abi/accounting';
import { SEEK_CUR, SEEK_END, SEEK_SET } from '../../abi/fs';

export const LOOP_MAJOR = 7;
export const LO_FLAGS_READ_ONLY = 1;
export const LO_FLAGS_AUTOCLEAR = 4;
export const LO_FLAGS_PARTSCAN = 8;
export const LO_FLAGS_DIRECT_IO = 16;
export const LO_NAME_SIZE = 64;
/** What one device holds in the Sentry besides its backing description (estimated, as HEAP_COST's entries). */
const DEVICE_HEAP_COST = 2048;
/** Largest transfer moved in one piece (a longer read or write is short, as a device may be). */
const CHUNK = 1 << 24;

function after<T, R>(v: MaybePromise<T>, fn: (x: T) => R): MaybePromise<R> {
  return v instanceof Promise ? v.then(fn) : fn(v);
}

/** How a device is bound (LOOP_CONFIGURE's loop_config; LOOP_SET_FD is all defaults). */
export interface LoopConfig {
  offset: number;
  sizelimit: number;
  flags: number;
  /** 0: the default (512). */
  blockSize: number;
  fileName: Buffer;
  /** The backing file's path as /sys/block/loopN/loop/backing_file shows it (worked out by the VFS when read). */
  backingPath: () => string;
}

export class LoopDevice {
  state: 'unbound' | 'bound' | 'rundown' = 'unbound';
  backing: FileDescription | null = null;
  offset = 0;
  sizelimit = 0;
  flags = 0;
  blockSize = 512;
  /** The capacity in bytes (whole 512-byte sectors), as last worked out. */
  sizeBytes = 0;
  fileName = Buffer.alloc(LO_NAME_SIZE);
  backingPath: () => string = () => '';
  /** BLKROSET's flag, apart from the disk's (BLKROGET shows either). */
  bdevRo = false;
  /**
   * The disk's read-only flag (/sys/block/loopN/ro): set from LO_FLAGS_READ_ONLY
   * when bound, and, as on Linux, kept after the device is cleared.
   */
  diskRo = false;
  /** Readahead in pages (BLKRASET/BLKRAGET; 128 KiB for a new device, as Linux's), kept across bindings as the disk's. */
  readaheadPages = 32;
  /** Open descriptions of the device (Linux's disk openers). */
  openers = 0;
  /** The inode of /dev/loopN, set by the devfs that shows it. */
  inode: Inode | null = null;
  /** I/O done on the device (by its openers and by a file system on it), for /sys/block/loopN/stat. */
  private readonly io = { reads: 0, readSectors: 0, writes: 0, writeSectors: 0 };

  /** A request of bytes was served. */
  noteIo(write: boolean, bytes: number): void {
    const sectors = Math.ceil(bytes / 512);
    if (write) {
      this.io.writes++;
      this.io.writeSectors += sectors;
    } else {
      this.io.reads++;
      this.io.readSectors += sectors;
    }
  }

  /**
   * The stat file's 17 fields (Documentation/block/stat.rst): requests and
   * sectors as counted; the times are not measured, so each request counts
   * as a millisecond of busy time (io_ticks), none as waiting.
   */
  statLine(): string {
    const { reads, readSectors, writes, writeSectors } = this.io;
    const f = [reads, 0, readSectors, reads, writes, 0, writeSectors, writes, 0, reads + writes, reads + writes, 0, 0, 0, 0, 0, 0];
    return f.map((n) => String(n).padStart(8)).join(' ');
  }

  constructor(readonly index: number) {}

  get readOnly(): boolean {
    return this.bdevRo || this.diskRo;
  }

  /** Linux's get_size: what file would give past the offset, cut to the size limit, in whole sectors. */
  sizeWith(file: FileDescription | null): number {
    let n = !file ? 0 : file instanceof LoopFile ? file.device.sizeBytes : file.stat().size;
    n -= this.offset;
    if (n < 0) n = 0;
    if (this.sizelimit > 0 && this.sizelimit < n) n = this.sizelimit;
    return n - (n % 512);
  }

  updateSize(): void {
    this.sizeBytes = this.sizeWith(this.backing);
  }

  /** Bind to file (already checked by the caller: type, cycles, flags). writable: both the device and the file were opened for writing. */
  bind(file: FileDescription, cfg: LoopConfig, writable: boolean): void {
    if (this.state !== 'unbound') throw new Errno(E.EBUSY);
    file.incRef();
    this.backing = file;
    this.offset = cfg.offset;
    this.sizelimit = cfg.sizelimit;
    this.flags = cfg.flags | (writable ? 0 : LO_FLAGS_READ_ONLY);
    this.blockSize = cfg.blockSize || 512;
    this.diskRo = (this.flags & LO_FLAGS_READ_ONLY) !== 0;
    this.fileName = Buffer.alloc(LO_NAME_SIZE);
    cfg.fileName.copy(this.fileName, 0, 0, LO_NAME_SIZE - 1);
    this.backingPath = cfg.backingPath;
    this.state = 'bound';
    this.updateSize();
  }

  /** Swap the backing for another of the same size (LOOP_CHANGE_FD, checked by the caller). */
  changeBacking(file: FileDescription, path: () => string): void {
    this.backingPath = path;
    const old = this.backing;
    file.incRef();
    this.backing = file;
    old?.decRef();
    this.updateSize();
  }

  /** LOOP_CLR_FD: marked to clear at the last close; run down now when the caller is the only opener. */
  requestClear(): void {
    if (this.state !== 'bound') throw new Errno(E.ENXIO);
    this.flags |= LO_FLAGS_AUTOCLEAR;
    if (this.openers <= 1) this.state = 'rundown';
  }

  /** The last description closed: a device marked AUTOCLEAR (or run down) lets its backing go. */
  lastClose(): void {
    if (this.state === 'rundown' || (this.state === 'bound' && this.flags & LO_FLAGS_AUTOCLEAR)) this.clear();
  }

  private clear(): void {
    const b = this.backing;
    this.backing = null;
    this.state = 'unbound';
    this.offset = 0;
    this.sizelimit = 0;
    this.flags = 0;
    this.blockSize = 512;
    this.sizeBytes = 0;
    this.fileName = Buffer.alloc(LO_NAME_SIZE);
    this.backingPath = () => '';
    b?.decRef();
  }

  /** Whether file is this device or reaches it through a chain of loop devices (binding it would make a cycle). */
  reaches(file: FileDescription): boolean {
    for (let f: FileDescription | null = file; f instanceof LoopFile; f = f.device.backing) if (f.device === this) return true;
    return false;
  }

  read(t: FileCtx, len: number, off: number): MaybePromise<Buffer> {
    const b = this.backing;
    if (!b || this.state !== 'bound' || off >= this.sizeBytes) return Buffer.alloc(0);
    const n = Math.min(len, this.sizeBytes - off, CHUNK);
    this.noteIo(false, n);
    // Past the backing file's end (it shrank) the device reads zeros, as Linux's loop fills a short read.
    return after(b.pread(t, n, this.offset + off), (d) => (d.length >= n ? d : Buffer.concat([d, Buffer.alloc(n - d.length)])));
  }

  write(t: FileCtx, data: Buffer, off: number): MaybePromise<number> {
    if (this.readOnly) throw new Errno(E.EPERM);
    if (data.length === 0) return 0;
    const b = this.backing;
    if (!b || this.state !== 'bound' || off >= this.sizeBytes) throw new Errno(E.ENOSPC);
    const n = Math.min(data.length, this.sizeBytes - off, CHUNK);
    this.noteIo(true, n);
    return b.pwrite(t, data.subarray(0, n), this.offset + off);
  }
}

/**
 * The sandbox's loop devices, numbered as Linux numbers them (the lowest
 * free index first), at most max of them. shown/hidden: the devfs that makes
 * /dev/loopN nodes hears of each device made and removed.
 */
export class LoopDevices {
  private readonly devices = new Map<number, LoopDevice>();
  shown: ((d: LoopDevice) => void) | null = null;
  hidden: ((d: LoopDevice) => void) | null = null;

  constructor(readonly max = 64, private readonly heap: HeapBudget | null = null, initial = 8) {
    for (let i = 0; i < Math.min(initial, max); i++) this.add(i);
  }

  list(): LoopDevice[] {
    return [...this.devices.values()].sort((a, b) => a.index - b.index);
  }

  get(index: number): LoopDevice | null {
    return this.devices.get(index) ?? null;
  }

  /** LOOP_CTL_ADD: index, or the lowest unused one for -1; EEXIST when taken, ENOSPC beyond the bound. */
  add(index: number): LoopDevice {
    if (index < 0) {
      index = 0;
      while (this.devices.has(index)) index++;
    } else if (this.devices.has(index)) {
      throw new Errno(E.EEXIST);
    }
    if (index >= this.max || this.devices.size >= this.max) throw new Errno(E.ENOSPC);
    this.heap?.charge(DEVICE_HEAP_COST, E.ENOMEM);
    const d = new LoopDevice(index);
    this.devices.set(index, d);
    this.shown?.(d);
    return d;
  }

  /** LOOP_CTL_REMOVE: only an unbound device nobody has open. */
  remove(index: number): void {
    if (index < 0) throw new Errno(E.EINVAL);
    const d = this.devices.get(index);
    if (!d) throw new Errno(E.ENODEV);
    if (d.state !== 'unbound' || d.openers > 0) throw new Errno(E.EBUSY);
    this.devices.delete(index);
    this.heap?.uncharge(DEVICE_HEAP_COST);
    this.hidden?.(d);
  }

  /** LOOP_CTL_GET_FREE: the first unbound device, or a new one. */
  getFree(): number {
    for (const d of this.list()) if (d.state === 'unbound') return d.index;
    return this.add(-1).index;
  }
}

/** An open /dev/loopN: reads and writes at the file offset go to the backing window. */
export class LoopFile extends FileDescription {
  constructor(path: VPath | null, inode: Inode, flags: number, readonly device: LoopDevice) {
    super(path, inode, flags);
    device.openers++;
  }
  override read(t: FileCtx, len: number): MaybePromise<Buffer> {
    return after(this.device.read(t, len, this.offset), (d) => {
      this.offset += d.length;
      return d;
    });
  }
  override write(t: FileCtx, data: Buffer): MaybePromise<number> {
    return after(this.device.write(t, data, this.offset), (n) => {
      this.offset += n;
      return n;
    });
  }
  override pread(t: FileCtx, len: number, off: number): MaybePromise<Buffer> {
    return this.device.read(t, len, off);
  }
  override pwrite(t: FileCtx, data: Buffer, off: number): MaybePromise<number> {
    return this.device.write(t, data, off);
  }
  /** Linux's block device llseek: anywhere within the capacity; SEEK_DATA and SEEK_HOLE are EINVAL. */
  override seek(off: number, whence: number): number {
    let base: number;
    if (whence === SEEK_SET) base = 0;
    else if (whence === SEEK_CUR) base = this.offset;
    else if (whence === SEEK_END) base = this.device.sizeBytes;
    else throw new Errno(E.EINVAL);
    const pos = base + off;
    if (pos < 0 || pos > this.device.sizeBytes) throw new Errno(E.EINVAL);
    this.offset = pos;
    return pos;
  }
  /** A block device has fsync (blkdev_fsync): the backing file's. */
  override sync(dataOnly: boolean): void {
    this.device.backing?.sync(dataOnly);
  }
  /** Every loop request is decoded by the syscall layer (syscalls/loop_ioctl.ts); anything reaching here is unknown to loop's driver. */
  override ioctl(): number {
    throw new Errno(E.EINVAL);
  }
  protected override release(): void {
    if (--this.device.openers === 0) this.device.lastClose();
  }
}

/** An open /dev/loop-control (its ioctls: syscalls/loop_ioctl.ts). */
export class LoopControlFile extends FileDescription {
  /** Linux gives this file no splice operations (splice: EINVAL). */
  override canSplice(): boolean {
    return false;
  }

  constructor(path: VPath | null, inode: Inode, flags: number, readonly devices: LoopDevices) {
    super(path, inode, flags);
  }
  override ioctl(): number {
    throw new Errno(E.ENOSYS);
  }
}
