// The host's vDSO for a process in a time namespace of its own. The vDSO
// reads the host's clock pages (vvar), which hold the initial namespace's
// clocks and none of the namespace's offsets, so such a process has the
// clock pages taken out of its address space (AddressSpace.hideVdso): a
// call into the vDSO then faults at its entry point, and the runner serves
// the system call that entry stands for (its fallback on Linux) and
// emulates the `ret`, as for the vsyscall page. Nothing of the host's
// clocks stays readable without the offsets: no vvar page, no vDSO code.

import type { AddressSpace } from '../platform/platform';
import type { Task } from './task';

/** The vDSO's entry points (without the __vdso_ prefix) and the system calls they stand for. */
const ENTRY_CALLS: Readonly<Record<string, number>> = Object.freeze({
  gettimeofday: 96, time: 201, clock_gettime: 228, clock_getres: 229, getcpu: 309, getrandom: 318,
});
const SHT_DYNSYM = 11;
const PT_LOAD = 1;

/** Entry point offsets (from the image's start) of a vDSO image's dynamic symbols that ENTRY_CALLS names. */
export function vdsoEntryOffsets(img: Buffer): Map<number, number> {
  const out = new Map<number, number>();
  if (img.length < 64 || img.readUInt32BE(0) !== 0x7f454c46) return out;
  const num = (off: number): number => Number(img.readBigUInt64LE(off));
  const phoff = num(32), phnum = img.readUInt16LE(56), shoff = num(40), shnum = img.readUInt16LE(60), shentsize = img.readUInt16LE(58);
  // Symbol values are link-time addresses: the first PT_LOAD's vaddr is the image's start.
  let base = -1;
  for (let i = 0; i < phnum && phoff + 56 * (i + 1) <= img.length; i++) {
    if (img.readUInt32LE(phoff + 56 * i) === PT_LOAD) {
      base = num(phoff + 56 * i + 16);
      break;
    }
  }
  if (base < 0 || shentsize !== 64) return out;
  for (let i = 0; i < shnum && shoff + 64 * (i + 1) <= img.length; i++) {
    const sh = shoff + 64 * i;
    if (img.readUInt32LE(sh + 4) !== SHT_DYNSYM) continue;
    const symOff = num(sh + 24), symSize = num(sh + 32), link = img.readUInt32LE(sh + 40);
    if (link >= shnum) return out;
    const strOff = num(shoff + 64 * link + 24), strSize = num(shoff + 64 * link + 32);
    for (let s = symOff; s + 24 <= Math.min(symOff + symSize, img.length); s += 24) {
      const nameAt = strOff + img.readUInt32LE(s);
      if (nameAt >= Math.min(strOff + strSize, img.length)) continue;
      const end = img.indexOf(0, nameAt);
      const name = img.toString('latin1', nameAt, end < 0 ? img.length : end).replace(/^__vdso_/, '');
      const nr = Object.hasOwn(ENTRY_CALLS, name) ? ENTRY_CALLS[name] : undefined;
      const value = num(s + 8);
      if (nr !== undefined && value > base) out.set(value - base, nr);
    }
  }
  return out;
}

/** The kernel's view of the host's vDSO entry points (the same image in every address space). */
export class VdsoCalls {
  private offsets: Map<number, number> | null = null;

  /** The system call of the vDSO entry point at addr of as (whose vDSO is hidden), or undefined. */
  callAt(as: AddressSpace, addr: number): number | undefined {
    const off = addr - as.vdsoBase;
    if (!as.vdsoHidden || as.vdsoBase === 0 || off < 0) return undefined;
    if (!this.offsets) {
      const r = as.reserved.find((x) => x.name === '[vdso]');
      const img = r ? as.readVdso(r.start, r.end - r.start) : null;
      this.offsets = img ? vdsoEntryOffsets(img) : new Map();
    }
    return this.offsets.get(off);
  }
}

/**
 * A task whose time namespace is not the initial one loses the host's clock
 * pages in its address space (clone into the namespace, exec in it, setns
 * to it). The initial namespace's clocks are the host's: nothing to hide.
 */
export function hideVdsoOutsideInitialTime(t: Task): void {
  if (!t.nsproxy.time.initial) t.mm.as.hideVdso();
}
