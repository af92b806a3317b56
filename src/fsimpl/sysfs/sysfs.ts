// sysfs: the sandbox's /sys, generated from what the sandbox shows (never the
// host's /sys). As in gVisor it is read-only and small:
//
//   /sys/devices/system/cpu/{online,possible,present,offline,kernel_max}
//   /sys/devices/system/cpu/cpuN/topology/*   (from HostInfo's CPUs)
//   /sys/devices/system/node/node0/*           (one NUMA node: every CPU, the sandbox's memory)
//   /sys/kernel/mm/transparent_hugepage/{enabled,defrag,...}
//   /sys/kernel/mm/hugepages/hugepages-2048kB/*   (the huge page pool, sysfs/hugepages.ts)
//   /sys/fs/cgroup/                            (a mount point: cgroup2 is mounted there, fsimpl/cgroupfs)
//   /sys/block, dev/block, devices/virtual/block (the loop devices, fsimpl/loop; sysfs/block.ts)
//   /sys/{bus,class,dev/char,firmware,module,power}/
//
// Every name operation is refused as a real sysfs refuses it to root
// (O_CREAT: EACCES; mkdir, mknod, symlink, link, unlink, rmdir, rename:
// EPERM), and opening a file for writing gives EACCES, as Linux does for an
// attribute without a store method. The nodes are procfs's (proc/nodes.ts).
import { E } from '../../abi/errno';
import { SYSFS_MAGIC, UNNUMBERED_DEV, type StatFs } from '../../abi/fs';
import { nowNs } from '../../host/clock';
import type { HostInfo } from '../../host/hostinfo';
import type { FilesystemImpl, Inode } from '../../vfs/inode';
import { NodeMaker, ProcDirNode, rootOwner, type Entry } from '../proc/nodes';
import { cpuDir } from './cpu';
import { nodeDir, type RamSource } from './node';
import { blockLinks, devBlockLinks, virtualBlockDir } from './block';
import type { LoopDevices } from '../loop/loop';
import { hugepagesDir } from './hugepages';
import type { HugePoolView } from '../proc/hugepages';

/** Transparent huge pages as a default distribution kernel shows them (the Sentry never backs memory with huge pages itself). */
export const THP = {
  enabled: 'always [madvise] never',
  defrag: 'always defer defer+madvise [madvise] never',
  shmemEnabled: 'always within_size advise [never] deny force',
  useZeroPage: '1',
  hpagePmdSize: String(2 * 1024 * 1024),
};

/** Directories are 0755 as in Linux's sysfs (only its root is 0555); files are 0444. */
export function sysDir(m: NodeMaker<SysFs>, name: string, fill: (m: NodeMaker<SysFs>) => Entry[]): Entry {
  return m.staticDir(name, fill, 0o755);
}

export class SysFs implements FilesystemImpl {
  readonly name = 'sysfs';
  /** Not a read-only mount: errors come per operation from the nodes, as on Linux. */
  readonly readonly = false;
  readonly dynamic = true;
  readonly noBirthTime = true;
  readonly birthNs = nowNs();
  readonly cpuinfo: string;
  readonly ncpu: number;
  private readonly rootDir: ProcDirNode;

  /**
   * dev: the st_dev the mount namespace numbered for it; ram: the sandbox's
   * memory for node0/meminfo (none: no memory shown); loops: the loop
   * devices shown under block/.
   */
  constructor(
    host: Pick<HostInfo, 'cpuinfo' | 'ncpu'>,
    readonly dev = UNNUMBERED_DEV,
    ram: RamSource = () => ({ total: 0, free: 0 }),
    loops: LoopDevices | null = null,
    hugePool: HugePoolView | null = null,
  ) {
    this.cpuinfo = host.cpuinfo;
    this.ncpu = host.ncpu;
    const m = new NodeMaker<SysFs>(this, '', rootOwner, this.birthNs);
    const empty = (mm: NodeMaker<SysFs>, name: string): Entry => sysDir(mm, name, () => []);
    const ro = (mm: NodeMaker<SysFs>, name: string, value: string): Entry => mm.file(name, () => `${value}\n`, 0o444, E.EACCES);
    const entries = (): Entry[] => [
      blockLinks(m, loops),
      empty(m, 'bus'),
      empty(m, 'class'),
      sysDir(m, 'dev', (d) => [devBlockLinks(d, loops), empty(d, 'char')]),
      sysDir(m, 'devices', (d) => [sysDir(d, 'system', (s) => [cpuDir(s), nodeDir(s, ram)]), sysDir(d, 'virtual', (v) => [virtualBlockDir(v, loops)])]),
      empty(m, 'firmware'),
      sysDir(m, 'fs', (f) => [empty(f, 'cgroup')]),
      sysDir(m, 'kernel', (k) => [
        sysDir(k, 'mm', (mm) => [
          hugepagesDir(mm, hugePool),
          sysDir(mm, 'transparent_hugepage', (t) => [
            ro(t, 'defrag', THP.defrag),
            ro(t, 'enabled', THP.enabled),
            ro(t, 'hpage_pmd_size', THP.hpagePmdSize),
            ro(t, 'shmem_enabled', THP.shmemEnabled),
            ro(t, 'use_zero_page', THP.useZeroPage),
          ]),
        ]),
      ]),
      empty(m, 'module'),
      empty(m, 'power'),
    ];
    this.rootDir = new ProcDirNode(this, 1, 0o555, rootOwner, this.birthNs, { list: entries });
  }

  root(): Inode {
    return this.rootDir;
  }

  statfs(): StatFs {
    return { type: SYSFS_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255, flags: 0 };
  }
}
