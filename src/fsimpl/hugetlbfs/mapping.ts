// mmap of a hugetlbfs file (Linux's hugetlbfs_file_mmap): whole huge pages
// at a huge page offset, reserved when the mapping is made (ENOMEM when the
// pool or the mount's size= cannot cover them) unless MAP_NORESERVE. A
// shared mapping maps the file's pages and reserves the file's range once;
// a private one reserves its own pages, maps the file's pages it finds for
// reading and takes pages of its own for the others (a private page written
// is then copied by the memory manager, as for MAP_HUGETLB anonymous
// memory, mm/hugetlb_file.ts). A writable mapping past the end grows the
// file to its end, as Linux does.
import { E, Errno } from '../../abi/errno';
import { HUGE_FRAMES, HUGE_SIZE, hugePagesIn } from '../../mm/hugetlb';
import type { Mappable } from '../../mm/mappable';
import type { HugeInode } from './hugetlbfs';

interface Hold {
  incRef(): void;
  decRef(): void;
}

/** The Mappable and the hold of a new mapping of inode (file: the open description the mapping keeps). */
export function mapHugeFile(inode: HugeInode, file: Hold, off: number, size: number, shared: boolean, noreserve: boolean, write: boolean): { mappable: Mappable; hold: Hold } {
  if (off % HUGE_SIZE !== 0) throw new Errno(E.EINVAL, 'hugetlbfs offset not a multiple of the huge page size');
  const first = off / HUGE_SIZE, n = size / HUGE_SIZE;
  let m: { mappable: Mappable; hold: Hold };
  if (shared) {
    if (!noreserve && !inode.pages.reserve(first, first + n)) throw new Errno(E.ENOMEM, 'huge page pool cannot cover the mapping');
    m = { mappable: inode.mappable(), hold: file };
  } else {
    const pm = new HugePrivateMap(inode, file, n, noreserve, write);
    m = { mappable: pm, hold: pm };
  }
  if (write && inode.a.size < off + size) inode.a.size = off + size;
  return m;
}

/** The pages of one private mapping of a hugetlbfs file (and of the VMAs split from it). */
class HugePrivateMap implements Mappable {
  readonly pageSize = HUGE_SIZE;
  /** Pages of its own, by huge page index of the file: at most its reservations or the pool. */
  private readonly own = new Map<number, number>();
  /** Reservations not yet used. */
  private resv: number;
  private refs = 0;

  /**
   * copy: the mapping is writable, so each page of the file it touches is
   * copied into a page of its own at once (from its reservation, where
   * Linux copies at the first write): the pool counts what Linux's do once
   * the mapping has written its pages.
   */
  constructor(private readonly inode: HugeInode, private readonly file: Hold, npages: number, noreserve: boolean, private readonly copy: boolean) {
    this.resv = noreserve ? 0 : npages;
    if (!noreserve && !inode.hfs.acct.reserve(npages)) throw new Errno(E.ENOMEM, 'huge page pool cannot cover the mapping');
  }

  frameFor(pi: number): number {
    const hp = Math.floor(pi / HUGE_FRAMES);
    let base = this.own.get(hp);
    if (base !== undefined) return base + (pi % HUGE_FRAMES);
    const shared = this.inode.pages.bases.get(hp);
    if (shared !== undefined && !this.copy) return shared + (pi % HUGE_FRAMES);
    base = this.inode.hfs.acct.take(this.resv > 0);
    if (base < 0) throw new Errno(E.EFAULT, 'no free huge page');
    if (this.resv > 0) this.resv--;
    this.own.set(hp, base);
    if (shared !== undefined) {
      const frames = this.inode.hfs.frames;
      for (let i = 0; i < HUGE_FRAMES; i++) frames.bytes(base + i).set(frames.bytes(shared + i));
    }
    return base + (pi % HUGE_FRAMES);
  }

  size(): number {
    return this.inode.a.size;
  }

  /** The pages a mapping made now gets at once: its own, and the file's unless it copies them at their first touch. */
  framesIn(from: number, to: number): Map<number, number> {
    const m = this.copy ? new Map<number, number>() : this.inode.pages.framesIn(from, to);
    for (const [hp, base] of this.own) {
      for (let p = Math.max(from, hp * HUGE_FRAMES); p < Math.min(to, (hp + 1) * HUGE_FRAMES); p++) m.set(p, base + (p - hp * HUGE_FRAMES));
    }
    return m;
  }

  pagesIn(from: number, to: number): number {
    return hugePagesIn(this.own.keys(), from, to) + this.inode.pages.pagesIn(from, to);
  }

  /** A VMA maps it: the first keeps the open file. */
  incRef(): void {
    if (this.refs++ === 0) this.file.incRef();
  }

  /** With the last VMA its pages and unused reservations go back, and the file is let go. */
  decRef(): void {
    if (--this.refs > 0) return;
    for (const base of this.own.values()) this.inode.hfs.acct.release(base);
    this.own.clear();
    this.inode.hfs.acct.unreserve(this.resv);
    this.resv = 0;
    this.file.decRef();
  }
}
