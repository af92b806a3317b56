// /proc/PID/pagemap (Linux's Documentation/admin-guide/mm/pagemap.rst): one
// 64-bit entry per virtual page, at file offset (address / 4096) * 8. Bits
// 0-54 the page frame number (the memory file's frame here; zero unless the
// opener had CAP_SYS_ADMIN in the initial user namespace, as Linux hides
// physical addresses), 55 soft-dirty (0: as a kernel without
// CONFIG_MEM_SOFT_DIRTY, there is no clear_refs), 56 mapped by this process
// only, 61 a file or shared-memory page, 62 swapped (never: there is no
// swap), 63 present; addresses outside VMAs read as 0. Present means what
// mincore says: a page written or filled, not a frame handed out ahead of
// use (an anonymous page only read is not told from an untouched one).
// Small writable areas are copied at fork (mm.ts forkInto), so their pages
// stay exclusive where Linux shares them until written. Opening needs
// ptrace read access, as /mem.

import { Errno, E } from '../../abi/errno';
import { CAP_SYS_ADMIN } from '../../abi/capability';
import { PAGE_SIZE, TASK_SIZE } from '../../abi/mm';
import { S_IFREG, SEEK_CUR, SEEK_SET } from '../../abi/fs';
import { capableInit } from '../../auth/userns';
import { ptraceMayAccess } from '../../kernel/ptrace';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import type { MemoryManager } from '../../mm/mm';
import { LOCK_ON, type Vma } from '../../mm/vma';
import type { VPath } from '../../vfs/dentry';
import type { FileCtx } from '../../vfs/ctx';
import { FileDescription, seekPosition } from '../../vfs/file';
import { inoOf, ProcInode, type Entry, type NodeMaker } from './nodes';
import { callerOf, ensureExists, hasResources } from './task_info';
import type { ProcFs } from './procfs';

const PM_ENTRY_BYTES = 8;
const PM_PFN_MASK = (1n << 55n) - 1n;
const PM_MMAP_EXCLUSIVE = 1n << 56n;
const PM_FILE = 1n << 61n;
const PM_PRESENT = 1n << 63n;
/** The most entries one read returns (a shorter read than asked is allowed; Linux has no cap). */
const MAX_ENTRIES = 1 << 18;

class PagemapNode extends ProcInode {
  constructor(private readonly procfs: ProcFs, m: NodeMaker, private readonly tg: ThreadGroup, private readonly t: Task) {
    super(m.fs, inoOf(`${m.key}/pagemap`), S_IFREG | 0o400, m.owner, m.timeNs);
  }
  override open(ctx: unknown, path: VPath, flags: number): FileDescription {
    ensureExists(this.tg);
    if (!hasResources(this.tg, this.t)) throw new Errno(E.EACCES);
    const c = callerOf(this.procfs.kernel, ctx);
    if (c && !ptraceMayAccess(c, this.t)) throw new Errno(E.EACCES);
    return new PagemapFile(path, this, flags, this.t.mm, !c || capableInit(c.creds, CAP_SYS_ADMIN));
  }
}

/** The entry of one page of v (its frame f, -1 for none). */
function entryOf(mm: MemoryManager, v: Vma, p: number, showPfn: boolean): bigint {
  const f = v.frames.get(p);
  if (f < 0) return 0n;
  const memfile = mm.memfile;
  const zero = memfile.isZeroFrame(f);
  // Small anonymous mappings get frames when mapped: a frame still all zeros was never touched (mincore's rule).
  if (!v.file && !zero && v.locked !== LOCK_ON && memfile.allZero(f, 1, { pages: 1 })) return 0n;
  let e = PM_PRESENT;
  if (showPfn) e |= BigInt(f) & PM_PFN_MASK;
  // The shared zero page is nobody's: neither a file page nor exclusive.
  if (zero) return e;
  // A private file page is the file's until written, then a copy of its own: the
  // file's frame if the file says which it holds, else one the file also references.
  const mappable = v.file?.mappable;
  const own = mappable?.framesIn ? mappable.framesIn(v.pgoff + p, v.pgoff + p + 1).get(v.pgoff + p) !== f : memfile.refCount(f) === 1;
  const filePage = v.shm !== null || (v.file !== null && (v.shared || !own));
  if (filePage) e |= PM_FILE;
  // The file (or shared-memory object) holds a reference of its own besides the mappings'.
  if (memfile.refCount(f) === (filePage ? 2 : 1)) e |= PM_MMAP_EXCLUSIVE;
  return e;
}

class PagemapFile extends FileDescription {
  /** Linux gives this file no splice operations (splice: EINVAL). */
  override canSplice(): boolean {
    return false;
  }

  constructor(path: VPath, node: PagemapNode, flags: number, private readonly mm: MemoryManager, private readonly showPfn: boolean) {
    super(path, node, flags);
  }
  override read(t: FileCtx, len: number): Buffer {
    const b = this.pread(t, len, this.offset);
    this.offset += b.length;
    return b;
  }
  override pread(_t: FileCtx, len: number, off: number): Buffer {
    const mm = this.mm;
    if (mm.users === 0) return Buffer.alloc(0);
    if (off % PM_ENTRY_BYTES || len % PM_ENTRY_BYTES) throw new Errno(E.EINVAL);
    const first = off / PM_ENTRY_BYTES;
    const end = TASK_SIZE / PAGE_SIZE;
    const n = Math.max(0, Math.min(len / PM_ENTRY_BYTES, MAX_ENTRIES, end - first));
    const out = Buffer.alloc(n * PM_ENTRY_BYTES);
    const from = first * PAGE_SIZE;
    for (const v of mm.vmasIn(from, from + n * PAGE_SIZE)) {
      const lo = Math.max(v.start, from), hi = Math.min(v.end, from + n * PAGE_SIZE);
      for (let a = lo; a < hi; a += PAGE_SIZE) {
        out.writeBigUInt64LE(entryOf(mm, v, v.pageIndex(a), this.showPfn), ((a - from) / PAGE_SIZE) * PM_ENTRY_BYTES);
      }
    }
    return out;
  }
  override seek(off: number, whence: number): number {
    // As /proc/PID/mem: SEEK_SET and SEEK_CUR only.
    if (whence !== SEEK_SET && whence !== SEEK_CUR) throw new Errno(E.EINVAL);
    this.offset = seekPosition(this.offset, null, off, whence);
    return this.offset;
  }
}

/** The pagemap entry of a /proc/PID directory. */
export function pagemapEntry(fs: ProcFs, m: NodeMaker, tg: ThreadGroup, t: Task): Entry {
  return ['pagemap', () => new PagemapNode(fs, m, tg, t)];
}
