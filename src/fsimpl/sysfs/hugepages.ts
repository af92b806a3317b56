// /sys/kernel/mm/hugepages/hugepages-2048kB: the sandbox's huge page pool
// (mm/hugetlb.ts), the same counters as /proc/meminfo's HugePages_* and
// nr_hugepages as writable by root as vm.nr_hugepages. Only 2 MiB pages
// exist in the sandbox, so there is no hugepages-1048576kB directory.
import { E, Errno } from '../../abi/errno';
import type { Entry, NodeMaker } from '../proc/nodes';
import { type HugePoolView, writeNrHugepages, writeOvercommit } from '../proc/hugepages';
import { sysDir, type SysFs } from './sysfs';

/** The hugepages/ directory entry (to be placed under kernel/mm). */
export function hugepagesDir(m: NodeMaker<SysFs>, pool: HugePoolView | null): Entry {
  const ro = (d: NodeMaker<SysFs>, name: string, value: () => number): Entry => d.file(name, () => `${value()}\n`, 0o444, E.EACCES);
  const nr = (d: NodeMaker<SysFs>, name: string): Entry => d.rwFile(name, () => `${pool?.counts().total ?? 0}\n`, (data) => {
    if (!pool) throw new Errno(E.EINVAL);
    return writeNrHugepages(pool, data);
  });
  return sysDir(m, 'hugepages', (h) => [
    sysDir(h, 'hugepages-2048kB', (d) => [
      ro(d, 'free_hugepages', () => pool?.counts().free ?? 0),
      nr(d, 'nr_hugepages'),
      nr(d, 'nr_hugepages_mempolicy'),
      d.rwFile('nr_overcommit_hugepages', () => `${pool?.overcommit ?? 0}\n`, (data) => {
        if (!pool) throw new Errno(E.EINVAL);
        return writeOvercommit(pool, data);
      }),
      ro(d, 'resv_hugepages', () => pool?.counts().resv ?? 0),
      ro(d, 'surplus_hugepages', () => pool?.counts().surplus ?? 0),
    ]),
  ]);
}
