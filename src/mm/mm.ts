// The memory manager of one address space: VMAs, their frames in the memory
// file, the stub mappings that mirror them, copy-on-write, and checked
// copy-in/copy-out. Addresses are JS numbers: user addresses are below 2^47.

import type { NumaPolicy } from '../abi/mempolicy';
import { E, Errno } from '../abi/errno';
import type { AddressSpace } from '../platform/platform';
import { MDWE_NO_INHERIT, MDWE_REFUSE_EXEC_GAIN, PROT_EXEC, PROT_READ, PROT_WRITE, TASK_SIZE } from '../abi/mm';
import { UserCopy } from './usercopy';
import type { MemoryFile } from '../platform/memfile';
import type { MemCharge } from '../platform/memcharge';
import { FrameTable } from './frame_table';
import { LOCK_ON, PAGE, THP_NEVER, Vma, type VmaFile, pageAlignUp } from './vma';
import { remap } from './remap';
import { growStack, handleFault, presentForKernel, reclaimUntouched } from './fault';
import { SharedAnon } from './shm';
import { VmaSet } from './vma_set';
import { forkMemory } from './fork';
import { discard, dropObjectPages, dropPastEof } from './drops';
import { populate, syncHost } from './populate';
import type { VmSysctl } from './vm_sysctl';
import { checkKernelAccess, faultCtx, type UserfaultCtx } from './userfault';
import { noteUnmap, type UffdNote } from './userfault_events';
import { MmText } from './textpatch';

/** The lowest address a MAP_FIXED mapping may use; findFree stays above mmap_min_addr. */
const MIN_FIXED_ADDR = 0x1000;
const MMAP_MIN_ADDR = 0x10000;
/** A private writable file mapping up to this many pages gets its own copies when created (and fork copies such areas: fork.ts). */
export const EAGER_COPY_VMA = 64;

export class MemoryManager extends UserCopy {
  /** The VMAs in address order (a balanced tree with gap summaries: O(log n) lookups, changes and free-range searches). */
  readonly vmas = new VmaSet((v) => v.untouched(this.memfile));
  brkStart = 0;
  brkEnd = 0;
  mmapBase = 0;
  stackTop = 0;
  /** argv/env areas for /proc/PID/cmdline and environ. */
  argStart = 0;
  argEnd = 0;
  envStart = 0;
  envEnd = 0;
  /** The auxiliary vector the image started with, up to AT_NULL (/proc/PID/auxv). */
  auxv: Buffer = Buffer.alloc(0);
  /** Users: tasks sharing this address space (vfork children, threads later). */
  users = 1;
  /**
   * prctl(PR_SET_MDWE) bits (memory-deny-write-execute, Linux 6.3): with
   * REFUSE_EXEC_GAIN no mapping is writable and executable, and none becomes
   * executable; NO_INHERIT drops both at fork and exec (inheritMdwe).
   */
  mdwe = 0;

  /**
   * The end of the application's address space: the platform's lowest
   * reserved range (the stub, the host's vDSO). Everything above is beyond
   * reach, as addresses above TASK_SIZE are on Linux.
   */
  readonly top: number;
  /** The memory charge group its new frames go to (a pod container's, platform/memcharge.ts); inherited at fork and exec. */
  charge: MemCharge | null = null;
  /** userfaultfd events the system call in progress caused (mm/userfault_events.ts), posted and waited for when it ends. */
  uffdEvents: UffdNote[] = [];
  /** A fork child's address space whose parent waits for its userfaultfd fork events: the child starts once they are done (userfault_events.ts). */
  uffdHold: Promise<void> | null = null;
  constructor(
    readonly memfile: MemoryFile,
    readonly as: AddressSpace,
    /** The sandbox's vm sysctls (max_map_count), read at every check so that a write applies at once. */
    readonly sysctl: VmSysctl,
  ) {
    super();
    this.top = Math.min(TASK_SIZE, as.top);
    // The platform's way to the application's text (systrap's instruction patching), through this manager's copy-on-write.
    as.attachText?.(new MmText(this));
  }

  /** Most VMAs this address space may hold: vm.max_map_count, capped by what the host lets the stub map. */
  get maxMapCount(): number {
    return Math.min(this.sysctl.maxMapCount, this.as.maxMappings);
  }

  // ---- lookup -------------------------------------------------------------

  findVma(addr: number): Vma | null {
    return this.vmas.find(addr);
  }

  /**
   * Whether the application sees a mapping at addr: a VMA, or one of the
   * host's ranges /proc/PID/maps shows ([vvar], [vdso]); a denied access
   * there is SEGV_ACCERR, elsewhere SEGV_MAPERR.
   */
  shownMapped(addr: number): boolean {
    return this.findVma(addr) !== null || this.as.reserved.some((r) => r.start <= addr && addr < r.end && r.name !== '[stub]');
  }

  /** Whether any VMA overlaps [start, end) (one tree search). */
  anyMapped(start: number, end: number): boolean {
    const v = this.vmas.lowerBound(start);
    return v !== null && v.start < end;
  }

  /** Whether [start, end) lies inside the application's address space. */
  private inBounds(start: number, end: number, floor = MIN_FIXED_ADDR): boolean {
    return Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= floor && end > start && end <= this.top &&
      start % PAGE === 0 && end % PAGE === 0;
  }

  /**
   * The one check every VMA that is created, moved or grown passes: its new
   * range lies within the application's address space (below the stub and
   * the host's reserved ranges), and the VMA count stays within
   * max_map_count once `added` more exist. Callers check before they change
   * anything, so a refusal leaves the address space as it was.
   */
  claim(start: number, end: number, added: number): void {
    if (!this.inBounds(start, end)) throw new Errno(E.ENOMEM, 'range outside the address space');
    this.roomFor(added);
  }

  /**
   * mremap's own margin (Linux's move_vma): a move is refused when fewer
   * than `spare` + 3 VMAs are left below max_map_count (the source may split
   * in two places and the target be a third one).
   */
  roomToMove(spare: number): void {
    if (this.vmas.size + spare >= this.maxMapCount - 3) throw new Errno(E.ENOMEM, 'max_map_count reached');
  }

  /** ENOMEM when `added` more VMAs (splits) would pass max_map_count. */
  private roomFor(added: number): void {
    if (this.vmas.size + added > this.maxMapCount) throw new Errno(E.ENOMEM, 'max_map_count reached');
  }

  /** VMAs that making boundaries at start and end would add. */
  splitsAt(start: number, end: number): number {
    let n = 0;
    for (const at of [start, end]) {
      const v = this.findVma(at);
      if (v && v.start < at) n++;
    }
    return n;
  }

  isFree(start: number, end: number): boolean {
    return this.inBounds(start, end, MMAP_MIN_ADDR) && !this.anyMapped(start, end);
  }

  /**
   * Find a free range of len bytes, top-down below mmapBase like Linux's
   * default layout (or within [floor, ceil): MAP_32BIT's window).
   */
  findFree(len: number, hint = 0, floor = MMAP_MIN_ADDR, ceil = this.mmapBase): number {
    if (hint && this.isFree(hint, hint + len)) return hint;
    const a = this.vmas.findGapBelow(len, Math.min(ceil, this.top), floor);
    if (a < 0) throw new Errno(E.ENOMEM, 'address space exhausted');
    return a;
  }

  // ---- mapping ------------------------------------------------------------

  /**
   * Create a mapping at exactly [addr, addr+len) (callers check/clear the
   * range). It merges with neighbours that continue it, as on Linux; the VMA
   * returned is the one that holds the range.
   */
  mapAt(addr: number, len: number, prot: number, shared: boolean, file: VmaFile | null, pgoff: number, growsDown = false, name: string | null = null, noreserve = false, lazy = false, maywrite = true): Vma {
    // Linux's do_mmap refuses only past max_map_count (so one more VMA than the
    // limit can exist); a hole punched in one VMA is unmapRange's check.
    this.claim(addr, addr + len, 0);
    this.unmapRange(addr, len);
    const pages = len / PAGE;
    // Anonymous memory has no file offset: Linux numbers private pages by address, a shared mapping from 0.
    if (!file) pgoff = shared ? 0 : addr / PAGE;
    const v = new Vma(addr, addr + len, prot, shared, new FrameTable(pages), file, pgoff, growsDown, name);
    if (shared && !file) v.shm = new SharedAnon(this.memfile, pages, this.charge);
    v.noreserve = noreserve;
    v.lazy = lazy;
    // Linux 6.7+ gives MAP_STACK memory VM_NOHUGEPAGE (smaps "nh").
    if (lazy) v.thp = THP_NEVER;
    v.maywrite = maywrite;
    // mlockall(MCL_FUTURE): new mappings are locked (mm->def_flags).
    v.locked = this.defLock;
    v.accounted = !shared && (prot & PROT_WRITE) !== 0 && !noreserve;
    v.retain();
    this.vmas.insert(v);
    // Merge first: a new VMA has no anonymous pages yet, so nothing stops it joining a neighbour.
    this.vmas.mergeAround(addr, addr + len);
    const w = this.findVma(addr)!;
    this.populate(w, (addr - w.start) / PAGE, (addr + len - w.start) / PAGE, w.locked === LOCK_ON && this.memfile.fits(len / PAGE, this.charge));
    return w;
  }

  /** Give pages [from, to) of v frames and map them in the stub (populate.ts). */
  populate(v: Vma, from: number, to: number, force = false): void {
    populate(this, v, from, to, force);
  }

  /** Mirror pages [from, to) of v into the stub (populate.ts). */
  syncHost(v: Vma, from: number, to: number): void {
    syncHost(this, v, from, to);
  }

  /**
   * mseal's one guard: EPERM when a VMA of [start, end) is sealed. Every
   * path that unmaps, replaces (MAP_FIXED, SHM_REMAP), moves or resizes
   * (mremap), shrinks (brk) or re-protects memory passes here before it
   * changes anything. With `discard`, for advice that throws pages away
   * (MADV_DONTNEED, FREE, REMOVE, DONTFORK, WIPEONFORK), only sealed memory
   * the application could not write itself counts: private anonymous memory
   * without PROT_WRITE (Linux lets file and shared mappings through).
   */
  checkUnsealed(start: number, end: number, discard = false): void {
    if (this.firstSealed(start, end, discard)) throw new Errno(E.EPERM, 'sealed (mseal)');
  }

  /** The first VMA of [start, end) that checkUnsealed refuses, or null. */
  firstSealed(start: number, end: number, discard = false): Vma | null {
    for (const v of this.vmas.overlapping(start, end)) {
      if (v.sealed && (!discard || (!v.file && !v.shared && !(v.prot & PROT_WRITE)))) return v;
    }
    return null;
  }

  /** Remove every mapping in [addr, addr+len). */
  unmapRange(addr: number, len: number): void {
    const end = addr + len;
    this.checkUnsealed(addr, end);
    // A hole punched in the middle of one VMA leaves one more (Linux: ENOMEM at max_map_count).
    const inside = this.findVma(addr);
    if (inside && inside.start < addr && inside.end > end) this.roomFor(1);
    noteUnmap(this, addr, end);
    this.splitAround(addr, end);
    for (const v of this.vmas.overlapping(addr, end)) {
      this.dropFrames(v, 0, v.pages);
      v.release();
      this.vmas.remove(v);
      // Only what the VMAs covered: the range may span the stub's own pages.
      this.as.unmap(v.start, v.end - v.start);
    }
  }

  /** Give back v's frames of pages [from, to) (their host mappings are the caller's to remove). */
  dropFrames(v: Vma, from: number, to: number): void {
    const gone: number[] = [];
    v.frames.forEachPresent(from, to, (p, f) => {
      this.memfile.decRef(f);
      gone.push(p);
    });
    for (const p of gone) v.frames.set(p, -1);
    // A write protection belongs to the page: a page filled again starts writable.
    if (v.wp) for (const p of gone) v.wp.delete(p);
  }

  /** Make VMA boundaries fall exactly at start and end. */
  splitAround(start: number, end: number): void {
    for (const at of [start, end]) {
      const v = this.findVma(at);
      if (v && v.start < at) {
        const right = v.splitAt(at);
        this.vmas.update(v);
        this.vmas.insert(right);
      }
    }
  }

  protect(addr: number, len: number, prot: number): void {
    const end = addr + len;
    // Linux: ENOMEM if any part of the range is unmapped.
    for (let a = addr; a < end; ) {
      const v = this.findVma(a);
      if (!v) throw new Errno(E.ENOMEM);
      a = v.end;
    }
    this.checkUnsealed(addr, end);
    this.roomFor(this.splitsAt(addr, end));
    this.splitAround(addr, end);
    for (const v of this.vmas.overlapping(addr, end)) {
      const had = v.prot;
      v.prot = prot;
      // Linux charges private memory the first time it is made writable
      // (VM_ACCOUNT), and stops when anonymous memory never written is made read-only.
      if (prot & PROT_WRITE && !v.shared && !v.noreserve) v.accounted = true;
      else if (!(prot & PROT_WRITE) && v.accounted && !v.file && (v.anon === null || v.untouched(this.memfile))) {
        v.accounted = false;
        v.anon = null;
      }
      if (had === 0 && prot !== 0) this.populate(v, 0, v.pages);
      else if (prot !== 0) this.syncHost(v, 0, v.pages);
      else this.as.protect(v.start, v.end - v.start, 0);
      if (prot & PROT_WRITE && !v.shared && v.frames.count() > 0) this.vmas.prepareAnon(v);
    }
    this.vmas.mergeAround(addr, end);
  }

  /**
   * mbind: give [addr, addr+len) the policy (null: the default). A range with
   * a hole is EFAULT unless the policy is the default and something in it is
   * mapped, as Linux's page walk decides.
   */
  /** The VMAs that overlap [start, end), in address order. */
  vmasIn(start: number, end: number): Vma[] {
    return [...this.vmas.overlapping(start, end)];
  }

  setPolicy(addr: number, len: number, policy: NumaPolicy | null): void {
    const end = addr + len;
    let any = false;
    for (let a = addr; a < end; ) {
      const v = this.findVma(a) ?? this.vmas.lowerBound(a);
      if (!v || v.start >= end) break;
      if (v.start > a && policy !== null) throw new Errno(E.EFAULT);
      any = true;
      a = v.end;
      if (a < end && policy !== null && !this.findVma(a)) throw new Errno(E.EFAULT);
    }
    if (!any) throw new Errno(E.EFAULT);
    this.roomFor(this.splitsAt(addr, end));
    this.splitAround(addr, end);
    for (const v of this.vmas.overlapping(addr, end)) v.policy = policy;
    this.vmas.mergeAround(addr, end);
  }

  /**
   * Change attributes of the VMAs of [start, end) (every page is mapped: the
   * caller checked): split at the ends, fn on each, merge what became alike.
   */
  changeVmas(start: number, end: number, fn: (v: Vma) => void): void {
    this.roomFor(this.splitsAt(start, end));
    this.splitAround(start, end);
    for (const v of this.vmas.overlapping(start, end)) fn(v);
    this.vmas.mergeAround(start, end);
  }

  /** Give every page of v frames now (mlock, MAP_POPULATE): ENOMEM past the memory limit. */
  fillVma(v: Vma): void {
    if (v.prot !== 0) this.populate(v, 0, v.pages, true);
  }

  /** mlockall(MCL_FUTURE): the lock state new mappings get (0 after munlockall, exec, or in a fork child). */
  defLock = 0;

  /** Pages in locked VMAs (Linux's locked_vm, VmLck), optionally within [start, end) only. */
  lockedPages(start = 0, end = Infinity): number {
    let n = 0;
    for (const v of this.vmas) if (v.locked) n += Math.max(0, Math.min(v.end, end) - Math.max(v.start, start)) / PAGE;
    return n;
  }

  /** A file shrank to size bytes: its pages past the end leave every mapping of it (mm/drops.ts). */
  dropPastEof(dev: number, ino: number, size: number): void {
    dropPastEof(this, dev, ino, size);
  }

  /** Pages [from, to) of a file or shared object were punched out: they leave the VMAs that match (mm/drops.ts). */
  dropObjectPages(match: (v: Vma) => boolean, from: number, to: number, frames: Map<number, number> | null): void {
    dropObjectPages(this, match, from, to, frames);
  }

  /** Grow v (the last VMA of brk) to newEnd; the caller checked the range is free. */
  extendVma(v: Vma, newEnd: number): void {
    this.claim(v.end, newEnd, 0);
    const oldPages = v.pages;
    v.frames.growBack((newEnd - v.end) / PAGE);
    v.end = newEnd;
    this.vmas.update(v);
    this.populate(v, oldPages, v.pages, v.locked === LOCK_ON && this.memfile.fits(v.pages - oldPages, this.charge));
  }

  /** MADV_DONTNEED (mm/drops.ts): private pages read as zeros (or the file's contents) again. */
  discard(addr: number, len: number): void {
    discard(this, addr, len);
  }

  /** mremap (remap.ts): shrink, grow in place, move, or duplicate a shared mapping (oldLen 0). */
  remap(old: number, oldLen: number, newLen: number, flags: number, fixedAddr: number): number {
    return remap(this, old, oldLen, newLen, flags, fixedAddr);
  }

  // ---- faults and copy-on-write (mm/fault.ts) ------------------------------

  /** Resolve a host fault at addr (see mm/fault.ts). unmapped: the host had no mapping at addr (SEGV_MAPERR). */
  handleFault(addr: number, unmapped = false): 'ok' | 'segv' | 'bus' | 'oom' | 'uffd' {
    return handleFault(this, addr, unmapped);
  }

  /** The userfaultfd that serves an application's fault at addr (handleFault said 'uffd') and the message's flags, or null. */
  userfaultAt(addr: number): { ctx: UserfaultCtx; flags: number } | null {
    const v = this.findVma(addr);
    return v ? faultCtx(v, v.pageIndex(addr)) : null;
  }

  /** Under memory pressure, with every task of this address space stopped: frames handed out but never touched go back. */
  reclaimUntouched(): number {
    return reclaimUntouched(this);
  }

  stackLimit = 8 * 1024 * 1024;

  // ---- copy-in / copy-out -------------------------------------------------

  /** Call fn for each piece of [addr, addr+len) with its bytes: a page, or a run of pages in consecutive frames; false from fn stops. */
  protected forEachPage(addr: number, len: number, write: boolean, fn: (bytes: Buffer, done: number) => void | boolean, force = false): void {
    if (len === 0) return;
    if (!(addr >= 0) || addr + len > this.top || !Number.isSafeInteger(addr) || !Number.isSafeInteger(len) || len < 0) {
      throw new Errno(E.EFAULT);
    }
    let done = 0;
    while (done < len) {
      const a = addr + done;
      let v = this.findVma(a);
      if (!v) v = growStack(this, a);
      if (!v) throw new Errno(E.EFAULT);
      if (!force && !(v.prot & (write ? PROT_WRITE : PROT_READ))) throw new Errno(E.EFAULT);
      const p = v.pageIndex(a);
      let f = v.frames.get(p);
      // The Sentry writes through its own mapping of the memory file, so a
      // present page it may write in place (shared, or private with no other
      // reference) needs no host change. Should the stub still map it
      // read-only (a fork's sharer went away), the application's own first
      // write faults and the fault path maps it writable then.
      if (v.uffd !== null || v.poison !== null) checkKernelAccess(v, p, a, write);
      if (f < 0 || (write && !v.shared && this.memfile.refCount(f) > 1)) f = presentForKernel(this, v, p, write);
      const off = a % PAGE;
      // Following pages whose frames come next in the memory file (a fresh
      // anonymous area, a tmpfs file written in order) join one view: one
      // Buffer and one copy per run instead of per page.
      let pages = 1;
      const want = Math.ceil((off + len - done) / PAGE);
      while (pages < want && p + pages < v.pages) {
        const g = v.frames.get(p + pages);
        if (g !== f + pages || (write && !v.shared && this.memfile.refCount(g) > 1) || !this.memfile.sameChunk(f, pages + 1)) break;
        // A write-protected page is the userfaultfd's to check: it starts a run of its own.
        if (write && v.wp !== null && v.wp.has(p + pages)) break;
        pages++;
      }
      const n = Math.min(pages * PAGE - off, len - done);
      // fn returns false to stop early (a short read from a file).
      if (fn(this.memfile.bytes(f, pages).subarray(off, off + n), done) === false) return;
      done += n;
    }
  }

  /**
   * Check that [addr, addr+len) is mapped with the access (EFAULT otherwise)
   * without touching it: callers validate before consuming data they could not
   * give back (a pipe read) or before allocating a buffer for a huge length.
   */
  checkRange(addr: number, len: number, write: boolean): void {
    if (len === 0) return;
    if (!(addr >= 0) || !Number.isSafeInteger(addr) || !Number.isSafeInteger(len) || len < 0 || addr + len > this.top) {
      throw new Errno(E.EFAULT);
    }
    const want = write ? PROT_WRITE : PROT_READ;
    for (let a = addr; a < addr + len; ) {
      const v = this.findVma(a) ?? growStack(this, a);
      if (!v || !(v.prot & want)) throw new Errno(E.EFAULT);
      // A missing page of a userfaultfd's range is served before the call consumes anything.
      if (v.uffd !== null || v.poison !== null) {
        const stop = Math.min(v.end, addr + len);
        for (let q = Math.floor(a / PAGE) * PAGE; q < stop; q += PAGE) checkKernelAccess(v, v.pageIndex(q), Math.max(q, a), write);
      }
      a = v.end;
    }
  }

  // ---- fork and teardown --------------------------------------------------

  /** What a new image (exec) or a fork's copy of this address space keeps of PR_SET_MDWE: all of it, or nothing under NO_INHERIT. */
  inheritMdwe(): number {
    return this.mdwe & MDWE_NO_INHERIT ? 0 : this.mdwe;
  }

  /** A new mapping or protection prot, of a VMA that was executable or not: EACCES when PR_SET_MDWE refuses it. */
  checkMdwe(prot: number, wasExec: boolean): void {
    if (!(this.mdwe & MDWE_REFUSE_EXEC_GAIN) || !(prot & PROT_EXEC)) return;
    if (prot & PROT_WRITE || !wasExec) throw new Errno(E.EACCES);
  }

  /** Copy this address space into a new one (mm/fork.ts): private pages become copy-on-write in both. */
  fork(as: AddressSpace): MemoryManager {
    return forkMemory(this, as);
  }

  release(): void {
    this.releaseFrames();
    this.as.release();
  }

  /** Give back every frame and VMA but keep the address space (execve reuses it). */
  releaseFrames(): void {
    for (const v of this.vmas) {
      this.dropFrames(v, 0, v.pages);
      v.release();
    }
    this.vmas.clear();
  }

  /** Map every VMA into the address space again (after the host side was cleared). */
  resyncAll(): void {
    for (const v of this.vmas) this.syncHost(v, 0, v.pages);
  }

  /** Total mapped bytes (VmSize) and bytes with frames (an upper bound of VmRSS). */
  usage(): { size: number; rss: number } {
    let size = 0;
    let rss = 0;
    for (const v of this.vmas) {
      size += v.end - v.start;
      rss += v.frames.count() * PAGE;
    }
    return { size, rss };
  }
}

export { PAGE, pageAlignUp };
