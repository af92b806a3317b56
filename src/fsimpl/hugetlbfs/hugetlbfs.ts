// hugetlbfs (Documentation/admin-guide/mm/hugetlbpage.rst): a tmpfs whose
// regular files are made of huge pages of the sandbox's pool (mm/hugetlb.ts).
// Directories, names and inodes are tmpfs's (charged to the Sentry heap
// budget, nr_inodes=); a regular file's data is HugeFilePages, sizes are
// whole huge pages (ftruncate to anything else is EINVAL), write(2) is
// EINVAL as on Linux (data gets in through mappings), read(2) reads pages
// and holes. Mappings reserve their pages when they are made
// (mapping.ts); a mount's size=/min_size= are its subpool (account.ts).
import { E, Errno } from '../../abi/errno';
import { S_IFMT, S_IFREG, type InodeAttrs, type SetAttr, type StatFs } from '../../abi/fs';
import { nowNs } from '../../host/clock';
import type { CreateSpec } from '../../vfs/inode';
import { HUGE_FRAMES, HUGE_SIZE, type HugePool } from '../../mm/hugetlb';
import type { MemoryAccess } from '../../mm/access';
import type { FrameSource, Mappable } from '../../mm/mappable';
import type { MemCharge } from '../../platform/memcharge';
import { F_SEAL_ANY_WRITE, F_SEAL_GROW, F_SEAL_SHRINK } from '../../abi/memfd';
import { TmpfsFs, TmpfsInode, type TmpfsOptions } from '../tmpfs/tmpfs';
import { HugeAccount, SubPool, reserveMin } from './account';
import { HugeFilePages } from './pages';

export const HUGETLBFS_MAGIC = 0x958458f6;
const FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2;
/** Linux's s_maxbytes for hugetlbfs (MAX_LFS_FILESIZE), in whole huge pages. */
const MAX_SIZE = Math.floor(Number.MAX_SAFE_INTEGER / HUGE_SIZE) * HUGE_SIZE;

export interface HugetlbfsOptions extends TmpfsOptions {
  /** size= in huge pages (-1: none). */
  maxPages?: number;
  /** min_size= in huge pages (-1: none). */
  minPages?: number;
}

export class HugetlbFs extends TmpfsFs {
  override readonly name = 'hugetlbfs';
  readonly acct: HugeAccount;
  private readonly inodesGiven: boolean;

  constructor(frames: FrameSource, pool: HugePool, opts: HugetlbfsOptions = {}) {
    const max = opts.maxPages ?? -1;
    // min_size above size= is size= (as Linux's mount).
    const min = max >= 0 && (opts.minPages ?? -1) > max ? max : opts.minPages ?? -1;
    reserveMin(pool, min);
    super(frames, { ...opts, mode: opts.mode ?? 0o755 });
    this.acct = new HugeAccount(pool, max >= 0 || min >= 0 ? new SubPool(max, min) : null);
    this.inodesGiven = opts.maxInodes !== undefined;
  }

  protected override makeInode(ino: number, spec: CreateSpec): TmpfsInode {
    return spec.type === S_IFREG ? new HugeInode(this, ino, spec) : super.makeInode(ino, spec);
  }

  /**
   * f_bsize is the huge page size. As Linux, the counts are there only for
   * a mount with size= or min_size= (all 0 without): blocks size= (-1
   * without it), inodes nr_inodes= (-1 without it).
   */
  override statfs(): StatFs {
    const t = super.statfs();
    const base = { ...t, type: HUGETLBFS_MAGIC, bsize: HUGE_SIZE };
    const sub = this.acct.sub;
    if (!sub) return { ...base, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0 };
    const free = sub.max >= 0 ? sub.max - sub.used : UNLIMITED;
    const inodes = this.inodesGiven ? { files: t.files, ffree: t.ffree } : { files: UNLIMITED, ffree: UNLIMITED };
    return { ...base, blocks: sub.max >= 0 ? sub.max : UNLIMITED, bfree: free, bavail: free, ...inodes };
  }

  /** Unmounted for good (its last mount gone): min_size='s reservations not in use go back to the pool. */
  shutdown(): void {
    const sub = this.acct.sub;
    if (!sub || sub.min < 0) return;
    this.acct.pool.unreserve(sub.rsv);
    sub.rsv = 0;
    // Pages freed from now on go straight back to the pool.
    sub.min = -1;
  }
}

/** statfs's -1 (an unsigned long's largest value: encodeStatfs writes it so). */
const UNLIMITED = -1;

/** A hugetlbfs regular file. */
export class HugeInode extends TmpfsInode {
  readonly pages: HugeFilePages;

  constructor(readonly hfs: HugetlbFs, ino: number, spec: CreateSpec) {
    super(hfs, ino, spec);
    this.pages = new HugeFilePages(hfs.acct, hfs.frames);
    this.a.blksize = HUGE_SIZE;
  }

  override attrs(): InodeAttrs {
    return { ...this.a, blocks: this.pages.bytes / 512 };
  }

  override readAt(off: number, len: number): Buffer {
    const end = Math.min(this.a.size, off + len);
    if (end <= off) return Buffer.alloc(0);
    const out = Buffer.alloc(end - off);
    for (const [p, f] of this.pages.framesIn(Math.floor(off / 4096), Math.ceil(end / 4096))) {
      const a = Math.max(off, p * 4096), b = Math.min(end, (p + 1) * 4096);
      this.hfs.frames.bytes(f).copy(out, a - off, a - p * 4096, b - p * 4096);
    }
    return out;
  }
  override readToUser(off: number, mem: MemoryAccess, addr: number, len: number): number {
    const end = Math.min(this.a.size, off + len);
    if (end <= off) return 0;
    return this.pages.readToUser(off, end, mem, addr);
  }
  /** hugetlbfs has no write(2) (Linux's file operations have none: EINVAL). */
  override writeAt(): number {
    throw new Errno(E.EINVAL, 'write(2) to a hugetlbfs file');
  }
  override writeFromUser(): number {
    throw new Errno(E.EINVAL, 'write(2) to a hugetlbfs file');
  }

  override setattr(s: SetAttr): void {
    if (s.size !== undefined) {
      if ((this.a.mode & S_IFMT) !== S_IFREG) throw new Errno(E.EINVAL);
      if (s.size % HUGE_SIZE !== 0 || s.size > MAX_SIZE) throw new Errno(E.EINVAL);
      const seals = this.seals ?? 0;
      if ((s.size < this.a.size && seals & F_SEAL_SHRINK) || (s.size > this.a.size && seals & F_SEAL_GROW)) throw new Errno(E.EPERM);
      // Everything from the new end goes, reservations of mappings past the old end too (hugetlb_unreserve_pages to the end).
      if (s.size < this.a.size) this.pages.drop(s.size / HUGE_SIZE, Infinity);
      if (s.size !== this.a.size) this.a.mtimeNs = nowNs();
      this.a.size = s.size;
    }
    super.setattr({ ...s, size: undefined });
  }

  /**
   * fallocate: KEEP_SIZE and PUNCH_HOLE only (EOPNOTSUPP otherwise, as
   * Linux). Allocation takes a page for every huge page of the range (from
   * a reservation the file holds there, else an unreserved one): ENOSPC
   * when the pool or size= runs out, the pages taken before it staying. A
   * hole frees the whole huge pages inside it and zeroes its edges.
   */
  override allocate(mode: number, off: number, len: number, _charge: MemCharge | null = null): void {
    if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) throw new Errno(E.EOPNOTSUPP);
    const seals = this.seals ?? 0;
    if (mode & FALLOC_FL_PUNCH_HOLE) {
      if (seals & F_SEAL_ANY_WRITE) throw new Errno(E.EPERM);
      // Not limited to the size: pages fallocated with KEEP_SIZE lie past it.
      this.punchRange(off, Math.min(off + len, MAX_SIZE));
    } else {
      if (off + len > MAX_SIZE) throw new Errno(E.EFBIG);
      if (!(mode & FALLOC_FL_KEEP_SIZE) && seals & F_SEAL_GROW && off + len > this.a.size) throw new Errno(E.EPERM);
      const first = Math.floor(off / HUGE_SIZE), end = Math.ceil((off + len) / HUGE_SIZE);
      // Each step finds a page or takes one from the pool, so the walk ends within the pool's size.
      for (let hp = first; hp < end; hp++) if (this.pages.page(hp) < 0) throw new Errno(E.ENOSPC);
      if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > this.a.size) this.a.size = off + len;
    }
    this.a.ctimeNs = this.a.mtimeNs = nowNs();
  }

  private punchRange(off: number, end: number): void {
    const first = Math.ceil(off / HUGE_SIZE), last = Math.floor(end / HUGE_SIZE);
    if (first < last) this.pages.drop(first, last);
    // The partial huge pages at the edges are zeroed (Linux 6.x's hugetlbfs_zero_partial_page).
    const h0 = Math.floor(off / HUGE_SIZE);
    if (first > last) this.pages.zero(h0, off - h0 * HUGE_SIZE, end - h0 * HUGE_SIZE);
    else {
      if (off % HUGE_SIZE) this.pages.zero(h0, off - h0 * HUGE_SIZE, HUGE_SIZE);
      if (end % HUGE_SIZE) this.pages.zero(last, 0, end - last * HUGE_SIZE);
    }
  }

  /** hugetlbfs has no SEEK_DATA/SEEK_HOLE of its own: the whole file is data (the VFS's default). */
  override seekData(off: number, hole: boolean): number {
    if (off >= this.a.size) throw new Errno(E.ENXIO);
    return hole ? this.a.size : off;
  }

  override pageCacheIn(first: number, end: number): { cache: number; dirty: number } {
    return { cache: this.pages.framesIn(first, end).size, dirty: 0 };
  }

  /** What a shared mapping maps: the file's own pages (a touch without a page left in the pool is SIGBUS). */
  override mappable(): Mappable {
    return {
      pageSize: HUGE_SIZE,
      frameFor: (pi) => this.frameAt(pi),
      size: () => this.a.size,
      framesIn: (from, to) => this.pages.framesIn(from, to),
      pagesIn: (from, to) => this.pages.pagesIn(from, to),
      punch: (off, len) => this.allocate(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, off, len),
    };
  }

  /** The frame of small page pi, its huge page taken now if absent; EFAULT (SIGBUS) when none can be had. */
  frameAt(pi: number): number {
    const base = this.pages.page(Math.floor(pi / HUGE_FRAMES));
    if (base < 0) throw new Errno(E.EFAULT, 'no free huge page');
    return base + (pi % HUGE_FRAMES);
  }

  protected override freeData(): void {
    this.pages.drop(0, Infinity);
  }
}
