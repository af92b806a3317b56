// The memory manager's side of systrap's instruction patching
// (platform/systrap/patch.ts): reading and rewriting a system call site in
// the application's text, and the platform's table of trampolines as a VMA
// of its own. Every write goes through copy-on-write as ptrace's POKETEXT
// does: a file's page gets a private copy in this address space (the file
// and every other mapping of it are untouched), memory shared with another
// process (MAP_SHARED, System V) is never written.

import { E, Errno } from '../abi/errno';
import type { AppText } from '../platform/platform';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../abi/mm';
import { makePresent } from './fault';
import type { MemoryManager } from './mm';
import { PAGE, type Vma } from './vma';

export class MmText implements AppText {
  constructor(private readonly mm: MemoryManager) {}

  /**
   * The private, executable, not writable VMA holding [addr, addr+len) in one
   * page, with no userfaultfd or poison on it (with restore, any protection).
   */
  private textVma(addr: number, len: number, restore = false): Vma | null {
    if (!Number.isSafeInteger(addr) || addr < 0 || Math.floor(addr / PAGE) !== Math.floor((addr + len - 1) / PAGE)) return null;
    const v = this.mm.findVma(addr);
    if (!v || v.shared || v.shm !== null || v.uffd !== null || v.poison !== null || v.sealed) return null;
    // Putting back what the platform wrote: whatever the page's protection now (made writable, or not executable
    // for a while, it may run again).
    if ((v.prot & (PROT_EXEC | PROT_WRITE)) !== PROT_EXEC && !restore) return null;
    return v;
  }

  readText(addr: number, len: number, restore = false): Buffer | null {
    const v = this.textVma(addr, len, restore);
    if (!v) return null;
    const f = v.frames.get(v.pageIndex(addr));
    if (f < 0) return null;
    const off = addr % PAGE;
    return Buffer.from(this.mm.memfile.bytes(f, 1).subarray(off, off + len));
  }

  patchWord(addr: number, expect: bigint, repl: bigint, restore = false): boolean {
    if (addr % 8 !== 0) return false;
    const v = this.textVma(addr, 8, restore);
    if (!v) return false;
    let f: number;
    try {
      // A write: a page shared with the file or a fork's other side is copied first, and the stub maps the copy.
      f = makePresent(this.mm, v, v.pageIndex(addr), true);
    } catch (e) {
      if (e instanceof Errno) return false;
      throw e;
    }
    const page = this.mm.memfile.bytes(f, 1);
    const words = new BigInt64Array(page.buffer, page.byteOffset, PAGE / 8);
    // One aligned 8-byte compare-and-exchange: a thread executing the site sees the old bytes or the new, and a
    // concurrent write of the application's (self-modifying code) is never undone.
    return Atomics.compareExchange(words, (addr % PAGE) / 8, BigInt.asIntN(64, expect), BigInt.asIntN(64, repl)) === BigInt.asIntN(64, expect);
  }

  mapTable(start: number, len: number, name: string, create: boolean): 'made' | 'there' | 'taken' {
    const mm = this.mm;
    const v = mm.findVma(start);
    if (v && v.start === start && v.end === start + len && v.sealed && v.name === name && !v.file && !v.shared) return 'there';
    if (!create || mm.anyMapped(start, start + len)) return 'taken';
    // A heap that starts below the table could grow into it (a non-PIE program's brk starts just above its
    // image, around 4 MiB): Linux lets brk grow up to the next mapping, so such an address space is not patched.
    if (mm.brkStart !== 0 && mm.brkStart < start + len) return 'taken';
    try {
      const t = mm.mapAt(start, len, PROT_READ | PROT_EXEC, false, null, 0, false, name);
      if (t.start !== start || t.end !== start + len) {
        // Merged with a neighbour: not a table of its own. Leave the memory mapped (empty), never patch here.
        return 'taken';
      }
      t.sealed = true;
    } catch (e) {
      if (e instanceof Errno && (e.errno === E.ENOMEM || e.errno === E.EPERM)) return 'taken';
      throw e;
    }
    return 'made';
  }

  writeTable(addr: number, data: Buffer): boolean {
    const v = this.mm.findVma(addr);
    if (!v || addr + data.length > v.end) return false;
    for (let done = 0; done < data.length; ) {
      const a = addr + done;
      let f: number;
      try {
        f = makePresent(this.mm, v, v.pageIndex(a), true);
      } catch (e) {
        if (e instanceof Errno) return false;
        throw e;
      }
      const off = a % PAGE;
      const n = Math.min(PAGE - off, data.length - done);
      data.copy(this.mm.memfile.bytes(f, 1), off, done, done + n);
      done += n;
    }
    return true;
  }

  readTable(addr: number, len: number): Buffer {
    return this.mm.kernelRead(addr, len);
  }
}
