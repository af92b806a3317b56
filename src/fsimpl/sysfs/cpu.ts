// /sys/devices/system/cpu: the CPUs the sandbox shows (HostInfo's count),
// with the sibling structure read from the "physical id" / "core id" lines
// of the cpuinfo the sandbox shows, so that /proc/cpuinfo, the affinity
// mask and sysfs all tell one story. CPUs without those lines are one core
// each in package 0.
import { E } from '../../abi/errno';
import type { Entry, NodeMaker } from '../proc/nodes';
import { sysDir, type SysFs } from './sysfs';

/** NR_CPUS - 1 of a common distribution kernel build (CONFIG_NR_CPUS=8192). */
export const KERNEL_MAX = 8191;

export interface CpuPlace {
  pkg: number;
  core: number;
}

/** Package and core of each of the first n processors described by a cpuinfo text. */
export function cpuPlaces(cpuinfo: string, n: number): CpuPlace[] {
  const blocks = cpuinfo.split(/\n\s*\n/).filter((b) => /^processor\s*:/m.test(b));
  const out: CpuPlace[] = [];
  for (let i = 0; i < n; i++) {
    const b = blocks[i] ?? '';
    const num = (key: string): number | null => {
      const m = new RegExp(`^${key}\\s*:\\s*(\\d+)`, 'm').exec(b);
      return m ? Number(m[1]) : null;
    };
    const pkg = num('physical id');
    const core = num('core id');
    out.push(pkg !== null && core !== null ? { pkg, core } : { pkg: 0, core: i });
  }
  return out;
}

/** A CPU set as Linux's cpulist format prints it: "0-3,5". */
export function cpuList(cpus: number[]): string {
  const s = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    parts.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** A CPU set as Linux's bitmap format prints it for nbits CPUs: 32-bit hex words, most significant first, comma-separated. */
export function cpuMask(cpus: number[], nbits: number): string {
  const words = Math.max(1, Math.ceil(nbits / 32));
  const w = new Array<number>(words).fill(0);
  for (const c of cpus) if (c < nbits) w[Math.floor(c / 32)] = (w[Math.floor(c / 32)] | (1 << (c % 32))) >>> 0;
  const topBits = nbits % 32 === 0 ? 32 : nbits % 32;
  return w
    .reverse()
    .map((x, i) => x.toString(16).padStart(i === 0 ? Math.ceil(topBits / 4) : 8, '0'))
    .join(',');
}

function topologyEntries(m: NodeMaker<SysFs>, places: CpuPlace[], cpu: number): Entry[] {
  const n = places.length;
  const me = places[cpu];
  const all = places.map((_, i) => i);
  const pkg = all.filter((i) => places[i].pkg === me.pkg);
  const core = pkg.filter((i) => places[i].core === me.core);
  const ro = (name: string, value: string): Entry => m.file(name, () => `${value}\n`, 0o444, E.EACCES);
  const pair = (name: string, set: number[]): Entry[] => [ro(name, cpuMask(set, n)), ro(`${name}_list`, cpuList(set))];
  return [
    ...pair('cluster_cpus', core),
    ro('cluster_id', String(me.core)),
    ...pair('core_cpus', core),
    ro('core_id', String(me.core)),
    ...pair('core_siblings', pkg),
    ...pair('die_cpus', pkg),
    ro('die_id', '0'),
    ...pair('package_cpus', pkg),
    ro('physical_package_id', String(me.pkg)),
    ...pair('thread_siblings', core),
  ];
}

/** The cpu/ directory entry (to be placed under devices/system). */
export function cpuDir(m: NodeMaker<SysFs>): Entry {
  const fs = m.fs;
  const places = cpuPlaces(fs.cpuinfo, fs.ncpu);
  const all = places.map((_, i) => i);
  const ro = (mm: NodeMaker<SysFs>, name: string, value: () => string): Entry => mm.file(name, () => `${value()}\n`, 0o444, E.EACCES);
  return sysDir(m, 'cpu', (c) => [
    ...all.map((i) => sysDir(c, `cpu${i}`, (d) => [sysDir(d, 'topology', (t) => topologyEntries(t, places, i))])),
    ro(c, 'kernel_max', () => String(KERNEL_MAX)),
    ro(c, 'offline', () => ''),
    ro(c, 'online', () => cpuList(all)),
    ro(c, 'possible', () => cpuList(all)),
    ro(c, 'present', () => cpuList(all)),
  ]);
}
