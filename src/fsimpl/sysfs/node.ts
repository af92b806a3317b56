// /sys/devices/system/node: the one NUMA node the sandbox presents (as its
// get_mempolicy/mbind do: node 0, every CPU, all of the sandbox's memory),
// so that libnuma and the programs built on it find a node to work with.
// node0/meminfo gives the sandbox's memory as /proc/meminfo does, in the
// per-node format ("Node 0 MemTotal: ... kB").
import { E } from '../../abi/errno';
import type { Entry, NodeMaker } from '../proc/nodes';
import { cpuList, cpuMask } from './cpu';
import { sysDir, type SysFs } from './sysfs';

/** The sandbox's memory, bytes: its limit and what is left under it. */
export type RamSource = () => { total: number; free: number };

/** Linux's per-node meminfo, for node 0 holding all of the sandbox's memory. */
export function formatNodeMeminfo(totalKb: number, freeKb: number): string {
  const used = Math.max(0, totalKb - freeKb);
  const rows: Array<[string, number]> = [
    ['MemTotal', totalKb], ['MemFree', freeKb], ['MemUsed', used], ['SwapCached', 0], ['Active', 0], ['Inactive', 0],
    ['Active(anon)', 0], ['Inactive(anon)', 0], ['Active(file)', 0], ['Inactive(file)', 0], ['Unevictable', 0], ['Mlocked', 0],
    ['Dirty', 0], ['Writeback', 0], ['FilePages', 0], ['Mapped', 0], ['AnonPages', used], ['Shmem', 0], ['KernelStack', 0],
    ['PageTables', 0], ['SecPageTables', 0], ['NFS_Unstable', 0], ['Bounce', 0], ['WritebackTmp', 0], ['KReclaimable', 0],
    ['Slab', 0], ['SReclaimable', 0], ['SUnreclaim', 0], ['AnonHugePages', 0], ['ShmemHugePages', 0], ['ShmemPmdMapped', 0],
    ['FileHugePages', 0], ['FilePmdMapped', 0],
  ];
  return rows.map(([k, v]) => `Node 0 ${(k + ':').padEnd(15)} ${String(v).padStart(8)} kB\n`).join('');
}

/** The node/ directory entry (to be placed under devices/system). */
export function nodeDir(m: NodeMaker<SysFs>, ram: RamSource): Entry {
  const cpus = Array.from({ length: m.fs.ncpu }, (_, i) => i);
  const ro = (mm: NodeMaker<SysFs>, name: string, value: () => string): Entry => mm.file(name, () => `${value()}\n`, 0o444, E.EACCES);
  const node0 = (d: NodeMaker<SysFs>): Entry[] => [
    ...cpus.map((c) => d.link(`cpu${c}`, { target: () => `../../cpu/cpu${c}` })),
    ro(d, 'cpulist', () => cpuList(cpus)),
    ro(d, 'cpumap', () => cpuMask(cpus, cpus.length)),
    ro(d, 'distance', () => '10'),
    d.file('meminfo', () => {
      const { total, free } = ram();
      return formatNodeMeminfo(Math.floor(total / 1024), Math.floor(free / 1024));
    }, 0o444, E.EACCES),
  ];
  return sysDir(m, 'node', (n) => [
    ro(n, 'has_cpu', () => '0'),
    ro(n, 'has_memory', () => '0'),
    ro(n, 'has_normal_memory', () => '0'),
    sysDir(n, 'node0', node0),
    ro(n, 'online', () => '0'),
    ro(n, 'possible', () => '0'),
  ]);
}
