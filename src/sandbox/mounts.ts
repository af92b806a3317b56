// Builds the sandbox's mount namespace: the root overlay (host rootfs under a
// tmpfs), tmpfs on /tmp and /dev/shm, devfs on /dev, devpts on /dev/pts, sysfs on /sys. procfs is mounted on
// /proc later by its own code with vfs.mountAt('/proc', procfs).
import { Dentry } from '../vfs/dentry';
import { CgroupFs } from '../fsimpl/cgroupfs/cgroupfs';
import type { Kernel } from '../kernel/kernel';
import type { HostFiles } from '../host/hostfs';
import type { HostInfo } from '../host/hostinfo';
import { Credentials } from '../auth/creds';
import { DevFs, type DeviceOpener } from '../fsimpl/devfs/devfs';
import { LOOP_MAJOR, LoopDevices } from '../fsimpl/loop/loop';
import { Ext2Type } from '../fsimpl/ext2/mount';
import type * as TunFile from '../net/tun/file';
import { DevPtsFs, groupId } from '../fsimpl/devpts/devpts';
import { HostFs } from '../fsimpl/hostfs/hostfs';
import { OverlayFs } from '../fsimpl/overlay/overlay';
import { overlayFsType } from '../fsimpl/overlay/mount';
import { SysFs } from '../fsimpl/sysfs/sysfs';
import { openFifo } from '../fsimpl/pipe/pipe';
import { TmpfsFs, type TmpfsOptions } from '../fsimpl/tmpfs/tmpfs';
import { mqueueFsOf } from '../fsimpl/mqueue/fs';
import type { IpcNamespace } from '../kernel/namespaces';
import type { Task } from '../kernel/task';
import type { HeapBudget } from '../abi/accounting';
import { E, Errno } from '../abi/errno';
import { gidTo, uidTo } from '../auth/userns';
import type { HostStdio } from '../fsimpl/hostfd/terminal';
import { FsContext } from '../vfs/fs_context';
import type { FrameSource } from '../mm/mappable';
import { AnonDevs } from '../vfs/numbering';
import { VirtualFilesystem } from '../vfs/vfs';
import type { Resolver } from '../vfs/walk';
import { HUGE_SIZE, type HugePool } from '../mm/hugetlb';
import { HugetlbFs, type HugetlbfsOptions } from '../fsimpl/hugetlbfs/hugetlbfs';

export interface MountNamespaceOptions {
  /** The host directory tree shown read-only as "/". */
  rootfs: HostFiles;
  memfile: FrameSource;
  /** The machine the sandbox shows (its CPUs in /sys). */
  host: Pick<HostInfo, 'cpuinfo' | 'ncpu'>;
  /** The sandbox's memory (its NUMA node's meminfo in /sys). */
  ram?: () => { total: number; free: number };
  /** The huge page pool /sys/kernel/mm/hugepages shows (the kernel's), which hugetlbfs files take their pages from. */
  hugePool?: HugePool;
  /** The sandbox's donated host fds; its terminal is /dev/tty (null: none). */
  stdio?: HostStdio | null;
}

/** The most loop devices a sandbox may have (Linux's max_loop): LOOP_CTL_ADD beyond it is ENOSPC. */
const MAX_LOOP = 64;

export function buildMountNamespace(opts: MountNamespaceOptions): { vfs: VirtualFilesystem; hostfs: HostFs; rootContext(): FsContext } {
  // Numbered in the same order in every sandbox: the same mountinfo, the same st_dev.
  const devs = new AnonDevs();
  const lower = new HostFs(opts.rootfs, opts.memfile, {}, devs.take());
  const upper = new TmpfsFs(opts.memfile, { dev: devs.take() });
  const vfs = new VirtualFilesystem(new OverlayFs(lower, upper, devs.take()), { openFifo, devs });
  const r: Resolver = { creds: new Credentials(), root: vfs.root, ctx: null };
  // Mount points the rootfs may lack (a minimal image) are made in the upper layer.
  for (const dir of ['/tmp', '/dev', '/proc', '/sys']) {
    try {
      vfs.resolve(r, vfs.root, dir, true);
    } catch {
      vfs.mkdir(r, vfs.root, dir, dir === '/tmp' ? 0o1777 : 0o755);
    }
  }
  vfs.mountAt('/tmp', new TmpfsFs(opts.memfile, { mode: 0o1777, dev: devs.take() }));
  const [devDev, shmDev, sysDev, ptsDev] = [devs.take(), devs.take(), devs.take(), devs.take()];
  const pts = new DevPtsFs(ttyGroup(vfs, r), opts.stdio ?? null, ptsDev);
  // Loop devices (loop(4)) over the sandbox's own files: nodes in /dev, attributes in /sys/block.
  const loops = new LoopDevices(MAX_LOOP, opts.memfile.heap ?? null);
  // /dev/net/tun: the stack's tun devices, whose modules load at the first open.
  const tun: DeviceOpener = (ctx, path, inode, flags) => (require('../net/tun/file') as typeof TunFile).openTun(ctx, path, inode, flags);
  const dev = vfs.mountAt('/dev', new DevFs(opts.stdio ?? null, devDev, pts, loops, tun));
  vfs.blockDevices = () => loops.list().filter((d) => d.sizeBytes > 0).map((d) => ({ major: LOOP_MAJOR, minor: d.index, sectors: d.sizeBytes / 512, name: `loop${d.index}` }));
  vfs.mountAt('/dev/pts', pts);
  vfs.mountAt('/dev/shm', new TmpfsFs(opts.memfile, { mode: 0o1777, dev: shmDev }));
  // The sandbox's own sysfs: the host's /sys must not show through the root overlay.
  const sys = vfs.mountAt('/sys', new SysFs(opts.host, sysDev, opts.ram, loops, opts.hugePool ?? null));
  // What mount(2) can make: a new tmpfs each time; sysfs and devtmpfs are single instances, as on Linux.
  vfs.fsTypes.register('tmpfs', {
    userns: true,
    make: (_src, data, creds) => ({ fs: new TmpfsFs(opts.memfile, { ...tmpfsOptions(data, creds), dev: devs.take() }), root: null }),
    check: (option, creds) => void tmpfsOptions(option, creds),
  });
  vfs.fsTypes.register('sysfs', { userns: false, make: (_src, data) => (noOptions(data), { fs: sys.fs, root: sys.root }) });
  // memfd_create's files: bounded by the memory limit alone (Linux's internal mount has no size=, only the memory cgroup).
  vfs.shmFs = () => new TmpfsFs(opts.memfile, { mode: 0o1777, dev: devs.take(), sizePages: opts.memfile.limitPages });
  vfs.fsTypes.register('overlay', overlayFsType(vfs, devs));
  // hugetlbfs: a new file system each mount, over the sandbox's one pool; the internal one backs MFD_HUGETLB and SHM_HUGETLB.
  const pool = opts.hugePool;
  if (pool) {
    const huge = (o: HugetlbfsOptions) => new HugetlbFs(opts.memfile, pool, { ...o, dev: devs.take() });
    vfs.fsTypes.register('hugetlbfs', {
      userns: false,
      make: (_src, data, creds) => ({ fs: huge(hugetlbfsOptions(data, creds, pool.counts().total - pool.counts().surplus)), root: null }),
      check: (option, creds) => void hugetlbfsOptions(option, creds, 0),
    });
    vfs.hugeFs = () => huge({ mode: 0o1777 });
  }
  vfs.fsTypes.register('devtmpfs', { userns: false, make: (_src, data) => (noOptions(data), { fs: dev.fs, root: dev.root }) });
  // The disk file system, on the sandbox's loop devices only.
  vfs.fsTypes.register('ext2', new Ext2Type(vfs, loops, opts.memfile));
  return {
    vfs,
    hostfs: lower,
    rootContext: () => new FsContext(vfs.root, vfs.root),
  };
}

/**
 * mqueue (man 7 mq_overview): one file system per IPC namespace, the
 * mounting task's (the sandbox's initial one while it is set up), owned by
 * that namespace's user namespace. Without a container spec (`tsvisor do`)
 * the initial namespace's is mounted on /dev/mqueue (nosuid, nodev,
 * noexec), as runc's default spec and Docker put it; a container's spec
 * names its own.
 */
export function registerMqueue(vfs: VirtualFilesystem, initial: IpcNamespace, heap: HeapBudget, mountOnDev: boolean): void {
  vfs.fsTypes.register('mqueue', {
    userns: true,
    make: (_src, data, _creds, caller) => {
      noOptions(data);
      const ipc = (caller as Task | null)?.nsproxy.ipc ?? initial;
      return { fs: mqueueFsOf(ipc.mq, vfs.devs, heap), root: null, owner: ipc.owner };
    },
  });
  if (mountOnDev) vfs.mountAt('/dev/mqueue', mqueueFsOf(initial.mq, vfs.devs, heap), { readonly: false, noexec: true, nosuid: true, nodev: true });
}

/** cgroup2's own mount options (accepted; of them only nsdelegate changes how the sandbox's hierarchy behaves). */
const CGROUP2_OPTIONS = new Set(['nsdelegate', 'favordynmods', 'memory_localevents', 'memory_recursiveprot', 'memory_hugetlb_accounting']);

/**
 * cgroup2 (fsimpl/cgroupfs): one file system over the kernel's hierarchy,
 * each mount showing it from the mounter's cgroup namespace root. Without a container spec (`tsvisor
 * do`) it is mounted read-only on /sys/fs/cgroup (nosuid, nodev, noexec), as
 * Docker mounts a container's own cgroup (cgroupns=private) there; a new
 * mount of it (`mount -t cgroup2 none /sys/fs/cgroup`) is writable. An OCI
 * container's spec mount of type cgroup shows its host cgroup instead.
 */
export function registerCgroup2(vfs: VirtualFilesystem, kernel: Kernel, mountOnSys: boolean): void {
  const fs = new CgroupFs(kernel, vfs.devs.take());
  vfs.fsTypes.register('cgroup2', {
    userns: false,
    make: (_src, data, _creds, caller) => {
      const opts = data.split(',');
      for (const o of opts) if (o && !SB_OPTIONS.has(o) && !CGROUP2_OPTIONS.has(o)) throw new Errno(E.EINVAL);
      const ns = (caller as Task | null)?.nsproxy.cgroup ?? kernel.rootNs.cgroup;
      // nsdelegate is the hierarchy's: each mount from the initial cgroup namespace sets or clears it; others' are ignored (as Linux's).
      if (ns === kernel.rootNs.cgroup) kernel.cgroups.nsdelegate = opts.includes('nsdelegate');
      // A mount shows the tree from the mounter's cgroup namespace root.
      const root = ns.cgroupRoot;
      return { fs, root: root ? new Dentry(fs.dirOf(root), root.name, null) : null };
    },
  });
  if (mountOnSys) vfs.mountAt('/sys/fs/cgroup', fs, { readonly: true, noexec: true, nosuid: true, nodev: true });
}

/** Mount options every file system takes (superblock flags, applied by mount(2)'s flags word instead). */
const SB_OPTIONS = new Set(['ro', 'rw', 'sync', 'async', 'dirsync', 'lazytime', 'nolazytime', 'mand', 'nomand', 'silent', 'posixacl', 'noposixacl']);

export function noOptions(data: string): void {
  for (const o of data.split(',')) if (o && !SB_OPTIONS.has(o)) throw new Errno(E.EINVAL);
}

/** A number with an optional k/m/g/t/p/e suffix (memparse). */
function memparse(v: string): number {
  const m = /^(\d+)([kmgtpe]?)$/i.exec(v);
  if (!m) throw new Errno(E.EINVAL);
  return Number(m[1]) * 1024 ** ' kmgtpe'.indexOf((m[2] || ' ').toLowerCase());
}

/** tmpfs's options (size, nr_blocks, nr_inodes, mode, uid, gid); IDs are the caller's, mapped into the kernel's. */
function tmpfsOptions(data: string, creds: Credentials): TmpfsOptions {
  // The root directory belongs to whoever mounts it unless uid=/gid= say otherwise (as Linux's tmpfs).
  const o: TmpfsOptions = { uid: creds.fsuid, gid: creds.fsgid };
  for (const opt of data.split(',')) {
    if (!opt || SB_OPTIONS.has(opt)) continue;
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const v = eq < 0 ? '' : opt.slice(eq + 1);
    switch (key) {
      case 'size':
        if (v.endsWith('%')) throw new Errno(E.EINVAL, 'size as a percentage of RAM is not supported');
        o.sizePages = Math.ceil(memparse(v) / 4096);
        break;
      case 'nr_blocks':
        o.sizePages = memparse(v);
        break;
      default:
        if (!commonOption(key, v, o, creds)) throw new Errno(E.EINVAL, 'Unknown parameter');
    }
  }
  return o;
}

/**
 * hugetlbfs's options: pagesize= (the pool's 2M only: EINVAL for another,
 * as Linux for a size it has no pool of), size= and min_size= (bytes, or a
 * percentage of the pool's persistent pages, rounded down to huge pages),
 * and tmpfs's nr_inodes, mode, uid, gid.
 */
function hugetlbfsOptions(data: string, creds: Credentials, poolPages: number): HugetlbfsOptions {
  const o: HugetlbfsOptions = { uid: creds.fsuid, gid: creds.fsgid, mode: 0o755 };
  const pages = (v: string) => (v.endsWith('%') ? Math.floor((memparse(v.slice(0, -1)) * poolPages) / 100) : Math.floor(memparse(v) / HUGE_SIZE));
  for (const opt of data.split(',')) {
    if (!opt || SB_OPTIONS.has(opt)) continue;
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const v = eq < 0 ? '' : opt.slice(eq + 1);
    if (key === 'pagesize') {
      if (memparse(v) !== HUGE_SIZE) throw new Errno(E.EINVAL, 'Unsupported page size');
    } else if (key === 'size') o.maxPages = pages(v);
    else if (key === 'min_size') o.minPages = pages(v);
    else if (!commonOption(key, v, o, creds)) throw new Errno(E.EINVAL, 'Unknown parameter');
  }
  return o;
}

/** The options tmpfs and hugetlbfs share (nr_inodes, mode, uid, gid): false for another key. */
function commonOption(key: string, v: string, o: TmpfsOptions, creds: Credentials): boolean {
  switch (key) {
    case 'nr_inodes':
      o.maxInodes = memparse(v);
      return true;
    case 'mode':
      if (!/^[0-7]+$/.test(v)) throw new Errno(E.EINVAL);
      o.mode = parseInt(v, 8) & 0o7777;
      return true;
    case 'uid':
    case 'gid': {
      if (!/^\d+$/.test(v)) throw new Errno(E.EINVAL);
      const kid = key === 'uid' ? uidTo(creds.userns, Number(v)) : gidTo(creds.userns, Number(v));
      if (kid < 0) throw new Errno(E.EINVAL);
      if (key === 'uid') o.uid = kid;
      else o.gid = kid;
      return true;
    }
    default:
      return false;
  }
}

/** The image's tty group (owner group of pty slaves), from its /etc/group; null if it has none. */
function ttyGroup(vfs: VirtualFilesystem, r: Resolver): number | null {
  try {
    const p = vfs.resolve(r, vfs.root, '/etc/group', true);
    return groupId(p.dentry.inode.readAt(0, 1 << 20).toString('latin1'), 'tty');
  } catch {
    return null;
  }
}
