// The Sentry's side of the Gofer: HostFiles over the socketpair
// (gofer/connection.ts; a writable tree's WritableHostFiles is
// gofer/client_rw.ts), for fsimpl/hostfs to use in place of
// host/hosttree.ts. Calls block on the socket (the Sentry's handlers are
// synchronous).
//
// Round trips are what a Gofer costs, so the client keeps:
//  - per directory, its last listing and the children it has seen (from
//    READDIR with attributes, and from WALK and LOOKUP), each trusted for ttlMs (fsimpl/hostfs's
//    revalidation interval, 1 s) after the Gofer reported it. In a read-only
//    tree, a name absent from a fresh listing is absent (the lookups of
//    absent names of python's imports, of PATH searches, of git's
//    per-directory .gitignore), so a file added on the host is seen within
//    ttlMs, as one removed or replaced is (plus fsimpl/hostfs's own
//    revalidation interval), and at once if the sandbox watches the
//    directory (the change feed ends the listing's trust). In a writable
//    tree an absent name is asked for every time: a create of a name the
//    host added meanwhile would fail (EEXIST) where the sandbox expects to
//    open the file. The entries kept are bounded (least recently listed
//    directories lose theirs);
//  - lookups of names of a fresh listing in the listing's order (`ls -l`,
//    `tar`, `du` stat what they list) are batched: one LOOKUP for the next
//    32, 128, then 256 names;
//  - a directory asked for several children without a fresh listing (names
//    it does not hold, or holds for longer than ttlMs) is listed whole with
//    attributes (the lstats of `git status`, each round of them; at the
//    first such lookup if the directory was listed before, with at most
//    256 entries);
//  - in a recursive walk (find, ls -R, du, tar), the listings of the
//    directories the walk reaches next, brought by one READDIR (RD_DESCEND,
//    see readdir), each used by one readdir within ttlMs;
//  - read descriptors donated by the Gofer (OPEN, or OPEN_MANY for the next
//    files of a listing read in order), in two bounded LRUs
//    (client_reads.ts), so file data never passes the Gofer;
//  - symlink targets (a target never changes: a new one is a new inode);
//  - names a WALK found absent (read-only trees, 16 per directory, ttlMs).
// A path walk tells each lookup the names after it (client_walk.ts): a name
// never seen, in a walk going further, is asked for with the rest of the
// path in one WALK, and a file the walk opens comes with its descriptor.
// While the sandbox watches a file with inotify, the host's reports of its
// changes (through the Gofer: client_changes.ts) end the trust in what they
// name at once.
// Ids the Gofer forgot (ENOID) are found again by one WALK from the tree's
// root along the names the node was found by, checked by (dev, ino): ESTALE
// if those names lead elsewhere now.
import { HostError, type HostChangeFeed, type HostDirent, type HostFiles, type HostLookupAhead, type HostNode, type HostStat } from '../host/hostfs';
import * as libc from '../host/libc';
import { parseStatx } from '../host/hosttree';
import { GoferChangeFeed, type ChangeFeedClient } from './client_changes';
import { ClientEntries, ClientNode } from './client_node';
import { ClientReads, type ReadsClient } from './client_reads';
import { pathAhead, refind, type WalkPath } from './client_walk';
import type { GoferConnection } from './connection';
import { ENOID, MAX_OPEN_MANY, MAX_WALK, Op, RD_DESCEND, RD_DIRS, RD_PLUS, WALK_ABSENT, WALK_OPEN, type Reader, type Writer } from './protocol';

const EINVAL = 22;
const EIO = 5;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;
const STATX_BASIC_STATS_BTIME = 0xfff;
const EMPTY = Buffer.from([0]);
/** The read calls' names in --stats (the rest by number). */
const OP_NAMES: Record<number, string> = {
  [Op.ROOT]: 'ROOT', [Op.WALK]: 'WALK', [Op.STAT]: 'STAT', [Op.READDIR]: 'READDIR', [Op.READLINK]: 'READLINK', [Op.OPEN]: 'OPEN', [Op.LOOKUP]: 'LOOKUP',
  [Op.OPEN_MANY]: 'OPEN_MANY',
};

export interface GoferClientLimits {
  /** How long (ms) an entry the Gofer reported is trusted without asking again. */
  ttlMs: number;
  /** Directory entries kept over all directories. */
  entries: number;
  /** Read descriptors of files not open in the sandbox, and of files open in it. */
  readFds: number;
  pinnedReadFds: number;
}

export function hostFail(what: string): never {
  const e = libc.errno();
  throw new HostError(e, `${what}: errno ${e}`);
}

export class GoferClient implements HostFiles, ChangeFeedClient, ReadsClient {
  private readonly rootNode: ClientNode;
  private readonly lim: GoferClientLimits;
  private readonly entries: ClientEntries;
  private readonly reads: ClientReads;
  private readonly sbuf = Buffer.alloc(256);
  /** Served read-only (a WritableGoferClient says otherwise). */
  readonly writable: boolean = false;
  /** Lookups answered "absent" by a fresh listing, without a round trip (tests count them). */
  negativeHits = 0;
  /** Listings that came ahead of the walk, and those a readdir used (the benchmark reads them). */
  prefetched = 0;
  prefetchUsed = 0;
  /** When everything kept was last made untrusted (the host's change queue overflowed): absent names older are asked again. */
  private staleAt = -Infinity;

  constructor(protected readonly conn: GoferConnection, readonly treeIndex: number, limits: Partial<GoferClientLimits>) {
    const revalidate = Number(process.env.TSVISOR_HOST_REVALIDATE_MS ?? 1000);
    this.lim = { ttlMs: revalidate, entries: 65536, readFds: 128, pinnedReadFds: 1024, ...limits };
    this.entries = new ClientEntries(this.lim.entries);
    this.reads = new ClientReads(this, this.lim.readFds, this.lim.pinnedReadFds);
    conn.begin(Op.ROOT).u32(treeIndex);
    const { r } = conn.call();
    const id = r.u32();
    this.rootNode = new ClientNode(this, null, '', id, r.stat());
  }

  root(): HostNode {
    return this.rootNode;
  }

  protected own(n: HostNode): ClientNode {
    if (!(n instanceof ClientNode) || n.tree !== this) throw new Error('host node of another tree');
    return n;
  }

  /** Send a request naming n (written by fill after the op and n's id); once more after finding n again if the Gofer forgot its id. */
  protected callOn(n: ClientNode, op: Op, fill: (w: Writer) => void): { r: Reader; fd: number } {
    for (let attempt = 0; ; attempt++) {
      if (n.id === 0) refind(this.conn, this.rootNode, n);
      const w = this.conn.begin(op).u32(n.id);
      fill(w);
      try {
        return this.conn.call();
      } catch (e) {
        if (!(e instanceof HostError) || e.errno !== ENOID || attempt > 0) throw e;
        n.id = 0;
      }
    }
  }

  private child(dir: ClientNode, name: string, id: number, st: HostStat): ClientNode {
    dir.absent?.delete(name);
    const old = dir.children?.get(name);
    // The same file as before: keep the node (its descriptor, link target and id stay good).
    if (old && old.dev === st.dev && old.ino === st.ino) {
      old.stat = st;
      old.id = id;
      old.seenAt = performance.now();
      return old;
    }
    const c = new ClientNode(this, dir, name, id, st);
    this.entries.remember(dir, c);
    return c;
  }

  lookup(dir: HostNode, name: string, ahead?: HostLookupAhead): HostNode | null {
    const d = this.own(dir);
    if (name.length === 0 || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
      throw new HostError(EINVAL, 'not a single name');
    }
    const now = performance.now();
    const known = d.children?.get(name);
    if (known && now - known.seenAt < this.lim.ttlMs) return known;
    const absentAt = d.absent?.get(name);
    if (absentAt !== undefined && !this.writable && now - absentAt < this.lim.ttlMs && absentAt > this.staleAt) {
      this.negativeHits++;
      return null;
    }
    // A path walk going on below name, or opening it: the WALK that asks the Gofer carries the rest of the path
    // (and WALK_OPEN). A name never seen here, in a walk going further (a cold path: a stat ten directories
    // deep), is asked for so at once, and so is a file about to be opened that a fresh listing has (python's
    // .pyc files: the LOOKUP and the OPEN in one); a name seen before (revalidated: ls -lR's, git status's
    // lstats) goes the ways below, whose batches and listings also bring its siblings.
    const path = ahead ? pathAhead(name, ahead) : null;
    const cold = path !== null && path.names.length > 1 && known === undefined;
    if (d.listing && now - d.listedAt < this.lim.ttlMs) {
      const i = d.indexOfListed(name);
      if (i !== undefined) return cold || path?.open ? this.walkPath(d, path ?? { names: [name], open: false }) : this.lookupListed(d, d.listing, i, name);
      if (!this.writable) {
        this.negativeHits++;
        return null;
      }
    } else if (cold) {
      return this.walkPath(d, path);
    } else if (++d.misses >= (this.small(d) ? 1 : 3) && (d.stat.mode & S_IFMT) === S_IFDIR) {
      // Several lookups in a directory not listed lately, of names not kept or kept too long (git status's
      // lstats, again once the first round's attributes are older than ttlMs): list it with attributes once; at
      // the first such lookup if it is small (one READDIR then costs what the WALK would).
      d.misses = 0;
      this.readdirPlus(d, true, false);
      const c = d.children?.get(name);
      if (c) return c;
      if (!this.writable && d.indexOfListed(name) === undefined) {
        this.negativeHits++;
        return null;
      }
    }
    return this.walkPath(d, path ?? { names: [name], open: false });
  }

  /**
   * One WALK of names from d (with WALK_OPEN if open): every node found is
   * kept as its directory's child, a name found absent is remembered as such
   * (read-only trees, for ttlMs: the lookup the VFS makes of it next), and a
   * read descriptor of the last name, if it came, is kept as OPEN's would be.
   * The node of the first name, or null.
   */
  private walkPath(d: ClientNode, path: WalkPath): ClientNode | null {
    const { names, open } = path;
    const { r, fd } = this.callOn(d, Op.WALK, (w) => {
      w.u16(names.length);
      for (const n of names) w.str(n);
      w.u8(open ? WALK_OPEN : 0);
    });
    try {
      const found = Math.min(r.u16(), names.length);
      let cur = d;
      let first: ClientNode | null = null;
      for (let k = 0; k < found; k++) {
        const id = r.u32();
        cur = this.child(cur, names[k], id, r.stat());
        first ??= cur;
      }
      const end = r.u8();
      if (found < names.length && end === WALK_ABSENT && (cur.stat.mode & S_IFMT) === S_IFDIR) {
        this.entries.drop(cur, names[found]);
        if (!this.writable) cur.noteAbsent(names[found]);
      }
      if (open && r.u8() === 1 && fd >= 0 && found === names.length) {
        this.reads.adopt(cur, fd);
        return first;
      }
      if (fd >= 0) libc.close(fd);
      return first;
    } catch (e) {
      if (fd >= 0) libc.close(fd);
      throw e;
    }
  }

  /**
   * Whether listing d whole costs about what one WALK in it does: its last
   * listing had at most 256 names, or, never listed, its size is one block
   * (4096 bytes: a few hundred names at most on ext4, xfs, btrfs and tmpfs,
   * whose directory sizes grow with their entries).
   */
  private small(d: ClientNode): boolean {
    return d.listing ? d.listing.length <= 256 : d.stat.size <= 4096;
  }

  /**
   * A name of the directory's fresh listing, at index i: looked up with the
   * names after it in one LOOKUP, more of them each time the lookups follow
   * the listing's order (ls -l, tar, du stat what they list in that order),
   * one at a time otherwise (find looks up only the subdirectories).
   */
  private lookupListed(d: ClientNode, listing: HostDirent[], i: number, name: string): HostNode | null {
    // In order from the listing's start or from the last batch's end: a bigger batch (32, 128, 256).
    d.window = i === d.seqEnd ? Math.min(Math.max(d.window * 4, 32), MAX_WALK) : 1;
    const names = listing.slice(i, i + d.window).map((e) => e.name);
    d.seqEnd = i + names.length;
    const { r } = this.callOn(d, Op.LOOKUP, (w) => {
      w.u16(names.length);
      for (const n of names) w.str(n);
    });
    let hit: ClientNode | null = null;
    for (let k = r.u16(); k > 0; k--) {
      const at = names.length - k;
      if (r.u8() !== 1) {
        this.entries.drop(d, names[at]);
        continue;
      }
      const id = r.u32();
      const c = this.child(d, names[at], id, r.stat());
      if (at === 0) hit = c;
    }
    return hit;
  }

  stat(n: HostNode): HostStat {
    const o = this.own(n);
    const fd = o.wfd >= 0 ? o.wfd : o.fd;
    if (fd >= 0) {
      // A donated descriptor is the file itself (even unlinked): its attributes need no round trip.
      if (libc.statx(fd, EMPTY, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS_BTIME, this.sbuf) < 0) hostFail('statx');
      o.stat = parseStatx(this.sbuf);
      o.seenAt = performance.now();
      return o.stat;
    }
    const { r } = this.callOn(o, Op.STAT, () => {});
    o.stat = r.stat();
    o.seenAt = performance.now();
    return o.stat;
  }

  /**
   * READDIR with every entry's id and attributes (plus), or those of the
   * subdirectories only (a walk goes on into them: find, ls -R, du), kept
   * as the directory's children. With descend, the reply also brings the
   * whole listings of subdirectories, breadth first, as many as fit: kept
   * as theirs, each used by one readdir within ttlMs (see readdir).
   */
  private readdirPlus(d: ClientNode, plus: boolean, descend: boolean): HostDirent[] {
    const out: HostDirent[] = [];
    const fresh = new Map<string, ClientNode>();
    const byId = new Map<number, ClientNode>();
    const flags = (plus ? RD_PLUS : RD_DIRS) | (descend ? RD_DESCEND : 0);
    const frontier = descend ? this.walkFrontier(d) : [];
    for (const n of frontier) byId.set(n.id, n);
    let from = 0;
    for (;;) {
      const at = from;
      const { r } = this.callOn(d, Op.READDIR, (w) => {
        w.u32(at).u8(flags);
        if (!descend) return;
        w.u16(frontier.length);
        for (const n of frontier) w.u32(n.id);
      });
      const total = r.u32();
      const next = r.u32();
      const count = r.u16();
      this.entriesIn(r, d, count, out, fresh, byId);
      if (descend) {
        for (let k = r.u16(); k > 0; k--) {
          const sub = byId.get(r.u32());
          const subOut: HostDirent[] = [];
          const subFresh = new Map<string, ClientNode>();
          // A directory the reply did not name (a Gofer bug): parsed into a throwaway node, never kept.
          const target = sub ?? new ClientNode(this, null, '', 0, d.stat);
          this.entriesIn(r, target, r.u32(), subOut, subFresh, byId);
          if (sub) {
            this.entries.keepListing(sub, subOut, subFresh, plus, true);
            this.prefetched++;
          }
        }
      }
      if (next >= total || count === 0) break;
      from = next;
    }
    this.entries.keepListing(d, out, fresh, plus, false);
    return out;
  }

  /**
   * The directories a depth-first walk lists after d's subtree, for
   * RD_DESCEND to bring once d's subtree is listed: the subdirectories after
   * d in its parent's listing, then after the parent in the grandparent's,
   * and so on (at most 64, skipping those listed already).
   */
  private walkFrontier(d: ClientNode): ClientNode[] {
    const out: ClientNode[] = [];
    const now = performance.now();
    for (let c = d, p = d.parent; p && out.length < 64; c = p, p = p.parent) {
      if (!p.listing || !p.children || now - p.listedAt >= this.lim.ttlMs) break;
      const at = p.indexOfListed(c.name);
      if (at === undefined) break;
      for (let k = at + 1; k < p.listing.length && k <= at + 256 && out.length < 64; k++) {
        const n = p.children.get(p.listing[k].name);
        if (n && n.id !== 0 && (n.stat.mode & S_IFMT) === S_IFDIR && !(n.listing && now - n.listedAt < this.lim.ttlMs)) out.push(n);
      }
    }
    return out;
  }

  /** count entries of a READDIR reply into out; those with attributes become dir's children (in fresh, and by id). */
  private entriesIn(r: Reader, dir: ClientNode, count: number, out: HostDirent[], fresh: Map<string, ClientNode>, byId: Map<number, ClientNode>): void {
    for (let i = 0; i < count; i++) {
      const ino = r.u64();
      const type = r.u8();
      const name = r.str(0xffff);
      out.push({ name, ino, type });
      if (r.u8() === 1) {
        const id = r.u32();
        const c = dir.id === 0 && !dir.parent ? new ClientNode(this, dir, name, id, r.stat()) : this.child(dir, name, id, r.stat());
        fresh.set(name, c);
        byId.set(id, c);
      }
    }
  }

  /**
   * A listing with the subdirectories' attributes: the other names' come
   * later, in batches, when looked up (see lookupListed). A directory whose
   * parent was listed a moment ago is part of a recursive walk (find, ls -R,
   * du, tar, git status): its listing asks for the subdirectories' listings
   * too (RD_DESCEND), with every entry's attributes if the parent's names
   * were looked up in order (ls -lR), and the next directories of the walk
   * are then listed from what came. A listing that came so is used once,
   * within ttlMs: the next readdir of it asks the Gofer again.
   */
  readdir(dir: HostNode): HostDirent[] {
    const d = this.own(dir);
    const now = performance.now();
    if (d.prefetched && d.listing && now - d.listedAt < this.lim.ttlMs) {
      this.entries.used(d);
      this.prefetchUsed++;
      return d.listing;
    }
    const p = d.parent;
    const walking = p !== null && now - p.listedAt < this.lim.ttlMs;
    return this.readdirPlus(d, walking && p.window > 1, walking);
  }

  readlink(n: HostNode): string {
    const o = this.own(n);
    if (o.link === null) o.link = this.callOn(o, Op.READLINK, () => {}).r.str(0xffff);
    return o.link;
  }

  openRequest(o: ClientNode): number {
    const { fd } = this.callOn(o, Op.OPEN, (w) => w.u8(0));
    if (fd < 0) throw new HostError(EIO, 'the Gofer sent no descriptor');
    return fd;
  }

  openManyRequest(files: ClientNode[]): number[] {
    const w = this.conn.begin(Op.OPEN_MANY).u16(files.length);
    for (const f of files) w.u32(f.id);
    const { r, fds } = this.conn.call(MAX_OPEN_MANY);
    const out: number[] = [];
    let k = 0;
    const n = r.u16();
    for (let i = 0; i < files.length; i++) out.push(i < n && r.i32() === 0 && k < fds.length ? fds[k++] : -1);
    // More descriptors than successes (a Gofer bug): not kept.
    for (; k < fds.length; k++) libc.close(fds[k]);
    return out;
  }

  freshListing(d: ClientNode): boolean {
    return performance.now() - d.listedAt < this.lim.ttlMs;
  }

  pread(n: HostNode, buf: Buffer, off: number): number {
    const r = Number(libc.pread(this.reads.fdOf(this.own(n)), buf, buf.length, off));
    if (r < 0) {
      const e = libc.errno();
      throw new HostError(e, `pread: errno ${e}`);
    }
    return r;
  }

  pin(n: HostNode): void {
    this.reads.pin(this.own(n));
  }

  unpin(n: HostNode): void {
    this.reads.unpin(this.own(n));
  }

  /** What the client holds now, and the round trips so far, per op too (--stats; tests check the bounds with it). */
  held(): { path: number; entries: number; read: number; pinnedRead: number; roundTrips: number; perOp: Record<string, number> } {
    const perOp: Record<string, number> = {};
    for (const [op, n] of this.conn.perOp) perOp[OP_NAMES[op] ?? String(op)] = n;
    // No path descriptors on this side: the Gofer holds them.
    return { path: 0, entries: this.entries.count, ...this.reads.size, roundTrips: this.conn.roundTrips, perOp };
  }

  /** The tree's host change feed: the Gofer watches, this side reads the events (client_changes.ts). */
  private feed: GoferChangeFeed | null = null;
  changes(): HostChangeFeed {
    if (this.feed) return this.feed;
    this.conn.begin(Op.FEED).u32(this.treeIndex);
    return (this.feed = new GoferChangeFeed(this, this.conn.call().fd));
  }

  watchRequest(n: HostNode): { wd: number; node: ClientNode } {
    const node = this.own(n);
    return { wd: this.callOn(node, Op.WATCH, () => {}).r.i32(), node };
  }

  unwatchRequest(wd: number): void {
    this.conn.begin(Op.UNWATCH).u32(this.treeIndex).i32(wd);
    this.conn.call();
  }

  /**
   * The host reported a change: what the client keeps of it is asked for
   * again at its next use (an entry name of directory n, n itself, or, with
   * n null, everything), not trusted for the rest of ttlMs.
   */
  changed(n: ClientNode | null, name: string | null): void {
    if (!n) {
      this.entries.staleAll();
      this.staleAt = performance.now();
    } else if (name === null) {
      n.seenAt = -Infinity;
    } else {
      n.listedAt = -Infinity;
      n.absent = null;
      const c = n.children?.get(name);
      if (c) c.seenAt = -Infinity;
    }
  }

  /** A node a creating call returned: remembered under its directory. */
  protected created(d: ClientNode, name: string, r: Reader): ClientNode {
    const id = r.u32();
    return this.child(d, name, id, r.stat());
  }

  /** dir changed under the Sentry's hands: its cached children may be wrong. */
  protected invalidate(d: ClientNode): void {
    this.entries.forget(d);
  }
}

