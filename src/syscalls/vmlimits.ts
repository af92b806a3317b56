// RLIMIT_AS and RLIMIT_DATA where Linux checks them (may_expand_vm): every
// mapping that grows the address space (mmap, brk, mremap) counts against
// RLIMIT_AS; private writable memory that is not a stack ("data") also
// against RLIMIT_DATA, which mprotect checks when it makes memory data.
// Counting walks the VMAs, so it happens only while a limit is finite.
import { Errno, E } from '../abi/errno';
import { RLIMIT_AS, RLIMIT_DATA } from '../abi/resource';
import { PROT_WRITE } from '../abi/mm';
import type { Task } from '../kernel/task';
import { PAGE, type Vma } from '../mm/vma';
import { rl } from './sys_info';

export function isData(prot: number, shared: boolean, growsDown: boolean): boolean {
  return (prot & PROT_WRITE) !== 0 && !shared && !growsDown;
}

function vmaIsData(v: Vma): boolean {
  return isData(v.prot, v.shared, v.growsDown);
}

function limitPages(t: Task, resource: number): number {
  return Math.floor(rl(t.tg.rlimits[resource].cur) / PAGE);
}

/** Mapped and data pages, not counting what lies in [skipStart, skipEnd) (a range about to be replaced). */
function counts(t: Task, skipStart = 0, skipEnd = 0): { total: number; data: number } {
  let total = 0;
  let data = 0;
  for (const v of t.mm.vmas) {
    const overlap = Math.max(0, Math.min(v.end, skipEnd) - Math.max(v.start, skipStart));
    const pages = (v.end - v.start - overlap) / PAGE;
    total += pages;
    if (vmaIsData(v)) data += pages;
  }
  return { total, data };
}

/**
 * ENOMEM unless bytes more of memory (data: it is private writable memory)
 * fit under RLIMIT_AS and RLIMIT_DATA. [replaceStart, replaceEnd) is a range
 * the new mapping replaces (MAP_FIXED), which stops counting.
 */
export function checkExpand(t: Task, bytes: number, data: boolean, replaceStart = 0, replaceEnd = 0): void {
  const asLim = limitPages(t, RLIMIT_AS);
  const dataLim = data ? limitPages(t, RLIMIT_DATA) : Infinity;
  if (asLim === Infinity && dataLim === Infinity) return;
  const pages = Math.ceil(bytes / PAGE);
  const c = counts(t, replaceStart, replaceEnd);
  if (c.total + pages > asLim || c.data + pages > dataLim) throw new Errno(E.ENOMEM);
}

/** mprotect making [start, end) writable: the private pages that become data must fit RLIMIT_DATA. */
export function checkProtect(t: Task, start: number, end: number, prot: number): void {
  if (!(prot & PROT_WRITE)) return;
  const lim = limitPages(t, RLIMIT_DATA);
  if (lim === Infinity) return;
  let becoming = 0;
  for (let x = start; x < end; ) {
    const v = t.mm.findVma(x);
    if (!v) break;
    const to = Math.min(v.end, end);
    if (!v.shared && !v.growsDown && !(v.prot & PROT_WRITE)) becoming += (to - Math.max(v.start, x)) / PAGE;
    x = to;
  }
  if (becoming > 0 && counts(t).data + becoming > lim) throw new Errno(E.ENOMEM);
}

/**
 * The overcommit heuristic (vm.overcommit_memory 0, what /proc/sys/vm shows):
 * one charged mapping (private writable, shared anonymous) larger than all
 * of the machine's RAM is ENOMEM. The host's RAM, not the sandbox limit: a
 * memory cgroup does not change it on Linux either (a large mapping in a
 * small container succeeds and the OOM killer acts at touch time).
 */
export function checkCommit(t: Task, bytes: number): void {
  if (bytes > t.kernel.hostInfo.totalMemory) throw new Errno(E.ENOMEM, 'larger than the host memory');
}
