// mseal(2) (Linux 6.10): seal a mapped range so that it can no longer be
// unmapped, moved, replaced, re-protected or (read-only private anonymous
// memory) discarded. The seal is a VMA flag (Vma.sealed); the refusals are
// MemoryManager.checkUnsealed, which every path that changes a mapping calls.

import { E, Errno } from '../abi/errno';
import type { Task } from '../kernel/task';
import type { SyscallDef } from '../kernel/syscall';
import { PAGE, pageAlignUp } from '../mm/vma';

const U64 = 2 ** 64;

function mseal(t: Task, a: number[]): number {
  // Linux's order: flags (no flag is defined), alignment, a length that
  // rounds up past 2^64, a wrapping range, an empty one (0), then holes.
  if (a[2] !== 0) throw new Errno(E.EINVAL);
  const start = a[0] < 0 ? a[0] + U64 : a[0];
  if (start % PAGE !== 0) throw new Errno(E.EINVAL);
  const lenIn = a[1] < 0 ? a[1] + U64 : a[1];
  const len = pageAlignUp(lenIn);
  if (len >= U64 || start + len >= U64) throw new Errno(E.EINVAL);
  if (len === 0) return 0;
  const end = start + len;
  // Every page must be mapped (a range beyond the address space has none): ENOMEM, nothing sealed.
  for (let x = start; x < end; ) {
    const v = t.mm.findVma(x);
    if (!v) throw new Errno(E.ENOMEM);
    x = v.end;
  }
  t.mm.changeVmas(start, end, (v) => (v.sealed = true));
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 462, name: 'mseal', fn: mseal, args: ['ptr', 'size', 'hex'] },
];
