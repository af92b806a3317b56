// vm.nr_hugepages and sysfs's nr_hugepages: what both file systems ask of
// the huge page pool (mm/hugetlb.ts) and how a write of its size is parsed.
import type { HugeCounts } from '../../mm/hugetlb';
import { dointvecWrite } from './numparse';

/** What sysfs and procfs ask of the pool. */
export interface HugePoolView {
  counts(): HugeCounts;
  setPersistent(n: number): void;
  /** nr_overcommit_hugepages. */
  overcommit: number;
}

/** Linux's largest nr_hugepages (an unsigned long; sysctl's int range here). */
const NR_HUGEPAGES_MAX = 0x7fffffff;

/** vm.nr_hugepages as read: the pool's persistent size. */
export function persistentHugePages(c: HugeCounts): number {
  return c.total - c.surplus;
}

/** A write of nr_hugepages (vm.nr_hugepages, nr_hugepages_mempolicy, sysfs): one number, 0 up. */
export function writeNrHugepages(pool: HugePoolView, data: Buffer): number {
  return dointvecWrite(data, 1, 0, NR_HUGEPAGES_MAX, (_, x) => pool.setPersistent(x));
}

/** A write of nr_overcommit_hugepages (vm. and sysfs): one number, 0 up; surplus pages already there stay until freed. */
export function writeOvercommit(pool: HugePoolView, data: Buffer): number {
  return dointvecWrite(data, 1, 0, NR_HUGEPAGES_MAX, (_, x) => (pool.overcommit = x));
}
