// The Sentry's side of the Gofer: HostFiles (and WritableHostFiles) over the
// socketpair, for fsimpl/hostfs to use in place of host/hosttree.ts. Calls
// block on the socket (the Sentry's handlers are synchronous).
//
// Round trips are what a Gofer costs, so the client keeps:
//  - per directory, its last listing and the children it has seen (from
//    READDIR with attributes, and from WALK and LOOKUP), each trusted for ttlMs (fsimpl/hostfs's
//    revalidation interval, 1 s) after the Gofer reported it. Only positive
//    entries are kept: a name that was absent is asked for every time, so a
//    file added on the host is seen at once; one removed or replaced is seen
//    within ttlMs (plus fsimpl/hostfs's own revalidation interval). The
//    entries kept are bounded (least recently listed directories lose theirs);
//  - lookups of names of a fresh listing in the listing's order (`ls -l`,
//    `tar`, `du` stat what they list) are batched: one LOOKUP for the next
//    32, 128, then 256 names;
//  - a directory asked for several missing children without a listing is
//    listed whole with attributes (the lstats of `git status`);
//  - read descriptors donated by the Gofer (OPEN), in two bounded LRUs as
//    host/hosttree.ts keeps its own, so file data never passes the Gofer;
//  - symlink targets (a target never changes: a new one is a new inode).
// Ids the Gofer forgot (ENOID) are found again by one WALK from the tree's
// root along the names the node was found by, checked by (dev, ino): ESTALE
// if those names lead elsewhere now.
import {
  HostError, type HostDirent, type HostFiles, type HostNode, type HostOwner, type HostSetAttr, type HostStat, type HostStatFs, type HostTime,
  type WritableHostFiles,
} from '../host/hostfs';
import * as libc from '../host/libc';
import { FdLru } from '../host/hosttree';
import { Channel, ChannelClosed } from './channel';
import {
  ENOID, MAX_REPLY, MAX_WALK, Op, Reader, SA_ATIME, SA_MODE, SA_MTIME, SA_OWNER, SA_SIZE, T_NOW, T_OMIT, T_VALUE, Writer,
} from './protocol';

const EINVAL = 22;
const EIO = 5;
const ESTALE = 116;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

export interface GoferClientLimits {
  /** How long (ms) an entry the Gofer reported is trusted without asking again. */
  ttlMs: number;
  /** Directory entries kept over all directories. */
  entries: number;
  /** Read descriptors of files not open in the sandbox, and of files open in it. */
  readFds: number;
  pinnedReadFds: number;
}

class ClientNode implements HostNode {
  id: number;
  dev: number;
  ino: number;
  /** When the Gofer last reported this node (performance.now()). */
  seenAt = performance.now();
  children: Map<string, ClientNode> | null = null;
  /** The directory's last listing (READDIR), when, and its names' positions (made at the first lookup that needs them). */
  listing: HostDirent[] | null = null;
  listedAt = -Infinity;
  listingIndex: Map<string, number> | null = null;
  /** Where the last batch of lookups in the listing ended, and how many names the next sequential batch takes. */
  seqEnd = 0;
  window = 1;
  misses = 0;
  link: string | null = null;
  fd = -1;
  pins = 0;

  constructor(
    readonly tree: GoferClient,
    readonly parent: ClientNode | null,
    readonly name: string,
    id: number,
    public stat: HostStat,
  ) {
    this.id = id;
    this.dev = stat.dev;
    this.ino = stat.ino;
  }
}

/** An evicted node's donated read descriptor is closed; the next read asks the Gofer again. */
function closeReadFd(o: ClientNode): void {
  libc.close(o.fd);
  o.fd = -1;
}

/** The socket to one Gofer, shared by the clients of its trees. */
export class GoferConnection {
  private readonly ch: Channel;
  private readonly w = new Writer(1024);
  /** Per tree: served writable; null until the Gofer's hello (read at the first tree() call, so its start-up overlaps the Sentry's). */
  private writable: boolean[] | null = null;
  /** Requests sent since start (tests and the benchmark count round trips with it). */
  roundTrips = 0;

  constructor(fd: number) {
    this.ch = new Channel(fd, MAX_REPLY);
  }

  private hello(): boolean[] {
    if (this.writable) return this.writable;
    const { r } = this.recv();
    const w: boolean[] = [];
    for (let i = r.u32(); i > 0; i--) w.push(r.u8() !== 0);
    this.writable = w;
    return w;
  }

  /** The client of tree i (0: the root file system), writable if the Gofer serves it so. */
  tree(i: number, limits: Partial<GoferClientLimits> = {}): GoferClient {
    const w = this.hello();
    if (i < 0 || i >= w.length) throw new Error(`the Gofer serves no tree ${i}`);
    return w[i] ? new WritableGoferClient(this, i, limits) : new GoferClient(this, i, limits);
  }

  /** A request with op, its fields written by fill. */
  begin(op: Op): Writer {
    return this.w.reset().u8(op).u8(0).u16(0);
  }

  private recv(): { r: Reader; fd: number } {
    let m: { msg: Buffer; fd: number };
    try {
      m = this.ch.recvWithFd();
    } catch (e) {
      if (e instanceof ChannelClosed) throw new HostError(EIO, `the Gofer is gone (${e.message})`);
      throw e;
    }
    const r = new Reader(m.msg);
    const errno = r.i32();
    if (errno !== 0) {
      if (m.fd >= 0) libc.close(m.fd);
      throw new HostError(errno, `gofer: errno ${errno}`);
    }
    return { r, fd: m.fd };
  }

  /** Send the request begun with begin() and wait for its reply. */
  call(): { r: Reader; fd: number } {
    this.roundTrips++;
    try {
      this.ch.send(this.w.view());
    } catch (e) {
      if (e instanceof ChannelClosed) throw new HostError(EIO, `the Gofer is gone (${e.message})`);
      throw e;
    }
    return this.recv();
  }

  close(): void {
    this.ch.close();
  }
}

export class GoferClient implements HostFiles {
  private readonly rootNode: ClientNode;
  private readonly lim: GoferClientLimits;
  /** Directories holding children, least recently listed first, and the entries they hold. */
  private readonly listed = new Set<ClientNode>();
  private entries = 0;
  private readonly reads: FdLru<ClientNode>;
  private readonly pinnedReads: FdLru<ClientNode>;

  constructor(protected readonly conn: GoferConnection, readonly treeIndex: number, limits: Partial<GoferClientLimits>) {
    const revalidate = Number(process.env.TSVISOR_HOST_REVALIDATE_MS ?? 1000);
    this.lim = { ttlMs: revalidate, entries: 65536, readFds: 128, pinnedReadFds: 1024, ...limits };
    this.reads = new FdLru<ClientNode>(Math.max(1, this.lim.readFds), closeReadFd);
    this.pinnedReads = new FdLru<ClientNode>(Math.max(1, this.lim.pinnedReadFds), closeReadFd);
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
      if (n.id === 0) this.refind(n);
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

  /** A new id for n: one WALK from its nearest ancestor with an id (the root's never goes). */
  private refind(n: ClientNode): void {
    for (;;) {
      const chain: ClientNode[] = [];
      let from: ClientNode = n;
      while (from.id === 0 && from.parent) {
        chain.unshift(from);
        from = from.parent;
      }
      if (chain.length === 0) return;
      try {
        this.walkChain(from, chain);
        return;
      } catch (e) {
        // The ancestor's id is gone too: start one level further up.
        if (!(e instanceof HostError) || e.errno !== ENOID || from === this.rootNode) throw e;
        from.id = 0;
      }
    }
  }

  /** WALK from `from` along chain's names, giving each node its id; ESTALE where a name leads to another file or nowhere. */
  private walkChain(from: ClientNode, chain: ClientNode[]): void {
    for (let i = 0; i < chain.length; i += MAX_WALK) {
      const part = chain.slice(i, i + MAX_WALK);
      const w = this.conn.begin(Op.WALK).u32(i === 0 ? from.id : chain[i - 1].id).u16(part.length);
      for (const p of part) w.str(p.name);
      const { r } = this.conn.call();
      const found = r.u16();
      for (let k = 0; k < found; k++) {
        const id = r.u32();
        const st = r.stat();
        const want = part[k];
        if (st.dev !== want.dev || st.ino !== want.ino) throw new HostError(ESTALE, 'host node replaced');
        want.id = id;
        want.stat = st;
        want.seenAt = performance.now();
      }
      if (found < part.length) throw new HostError(ESTALE, 'host node gone');
    }
  }

  private remember(dir: ClientNode, child: ClientNode): void {
    if (!dir.children) {
      dir.children = new Map();
      this.listed.add(dir);
    }
    const old = dir.children.get(child.name);
    if (!old) this.entries++;
    dir.children.set(child.name, child);
    this.trim();
  }

  private forget(dir: ClientNode): void {
    if (dir.listing) this.entries -= dir.listing.length;
    if (dir.children) this.entries -= dir.children.size;
    dir.listing = null;
    dir.listingIndex = null;
    dir.children = null;
    dir.listedAt = -Infinity;
    this.listed.delete(dir);
  }

  private trim(): void {
    while (this.entries > this.lim.entries) {
      const old = this.listed.values().next().value as ClientNode | undefined;
      if (!old) break;
      this.forget(old);
    }
  }

  private child(dir: ClientNode, name: string, id: number, st: HostStat): ClientNode {
    const old = dir.children?.get(name);
    // The same file as before: keep the node (its descriptor, link target and id stay good).
    if (old && old.dev === st.dev && old.ino === st.ino) {
      old.stat = st;
      old.id = id;
      old.seenAt = performance.now();
      return old;
    }
    const c = new ClientNode(this, dir, name, id, st);
    this.remember(dir, c);
    return c;
  }

  lookup(dir: HostNode, name: string): HostNode | null {
    const d = this.own(dir);
    if (name.length === 0 || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
      throw new HostError(EINVAL, 'not a single name');
    }
    const now = performance.now();
    const known = d.children?.get(name);
    if (known && now - known.seenAt < this.lim.ttlMs) return known;
    if (d.listing && now - d.listedAt < this.lim.ttlMs) {
      const i = (d.listingIndex ??= new Map(d.listing.map((e, k) => [e.name, k]))).get(name);
      if (i !== undefined) return this.lookupListed(d, d.listing, i, name);
    } else if (!known && ++d.misses >= 3 && (d.stat.mode & S_IFMT) === S_IFDIR) {
      // Several lookups in a directory not listed lately (git status's lstats): list it with attributes once.
      d.misses = 0;
      this.readdirPlus(d);
      const c = d.children?.get(name);
      if (c) return c;
    }
    const { r } = this.callOn(d, Op.WALK, (w) => w.u16(1).str(name));
    if (r.u16() === 0) {
      if (d.children?.delete(name)) this.entries--;
      return null;
    }
    const id = r.u32();
    return this.child(d, name, id, r.stat());
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
        if (d.children?.delete(names[at])) this.entries--;
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
    const { r } = this.callOn(o, Op.STAT, () => {});
    o.stat = r.stat();
    o.seenAt = performance.now();
    return o.stat;
  }

  /**
   * READDIR with every entry's id and attributes (plus), or those of the
   * subdirectories only (a walk goes on into them: find, ls -R, du), kept
   * as the directory's children.
   */
  private readdirPlus(d: ClientNode, plus = true): HostDirent[] {
    const out: HostDirent[] = [];
    const fresh = new Map<string, ClientNode>();
    let from = 0;
    for (;;) {
      const at = from;
      const { r } = this.callOn(d, Op.READDIR, (w) => w.u32(at).u8(plus ? 1 : 2));
      const total = r.u32();
      const next = r.u32();
      const count = r.u16();
      for (let i = 0; i < count; i++) {
        const ino = r.u64();
        const type = r.u8();
        const name = r.str(0xffff);
        out.push({ name, ino, type });
        if (r.u8() === 1) {
          const id = r.u32();
          fresh.set(name, this.child(d, name, id, r.stat()));
        }
      }
      if (next >= total || count === 0) break;
      from = next;
    }
    // The listing is the directory now: names it lacks are gone.
    if (plus && d.children) {
      this.entries -= d.children.size;
      this.entries += fresh.size;
      d.children = fresh;
      this.listed.delete(d);
      this.listed.add(d);
    }
    // Kept for lookupListed, counted with the entries (a least recently listed directory loses both).
    if (d.listing) this.entries -= d.listing.length;
    d.listing = out;
    d.listingIndex = null;
    this.entries += out.length;
    this.listed.delete(d);
    this.listed.add(d);
    this.trim();
    d.listedAt = performance.now();
    d.seqEnd = 0;
    d.window = 1;
    return out;
  }

  /** A listing with the subdirectories' attributes: the other names' come later, in batches, when looked up (see lookupListed). */
  readdir(dir: HostNode): HostDirent[] {
    return this.readdirPlus(this.own(dir), false);
  }

  readlink(n: HostNode): string {
    const o = this.own(n);
    if (o.link === null) o.link = this.callOn(o, Op.READLINK, () => {}).r.str(0xffff);
    return o.link;
  }

  private readsOf(o: ClientNode): FdLru<ClientNode> {
    return o.pins === 0 ? this.reads : this.pinnedReads;
  }

  private readFdOf(o: ClientNode): number {
    if (o.fd >= 0) {
      this.readsOf(o).touch(o);
      return o.fd;
    }
    if ((o.stat.mode & S_IFMT) !== S_IFREG) throw new HostError(EINVAL, 'not a regular file');
    const { fd } = this.callOn(o, Op.OPEN, (w) => w.u8(0));
    if (fd < 0) throw new HostError(EIO, 'the Gofer sent no descriptor');
    o.fd = fd;
    this.readsOf(o).add(o);
    return fd;
  }

  pread(n: HostNode, buf: Buffer, off: number): number {
    const r = Number(libc.pread(this.readFdOf(this.own(n)), buf, buf.length, off));
    if (r < 0) {
      const e = libc.errno();
      throw new HostError(e, `pread: errno ${e}`);
    }
    return r;
  }

  pin(n: HostNode): void {
    const o = this.own(n);
    if (o.pins++ > 0 || (o.stat.mode & S_IFMT) !== S_IFREG) return;
    if (o.fd >= 0) {
      this.reads.delete(o);
      this.pinnedReads.add(o);
      return;
    }
    try {
      this.readFdOf(o);
    } catch {
      // Unreadable on the host (permissions, gone): reads report it when they happen.
    }
  }

  unpin(n: HostNode): void {
    const o = this.own(n);
    if (o.pins === 0) return;
    if (--o.pins === 0 && o.fd >= 0) {
      this.pinnedReads.delete(o);
      this.reads.add(o);
    }
  }

  /** What the client holds now (--stats; tests check the bounds with it). */
  held(): { path: number; entries: number; read: number; pinnedRead: number; roundTrips: number } {
    // No path descriptors on this side: the Gofer holds them.
    return { path: 0, entries: this.entries, read: this.reads.size, pinnedRead: this.pinnedReads.size, roundTrips: this.conn.roundTrips };
  }

  /** A node a creating call returned: remembered under its directory. */
  protected created(d: ClientNode, name: string, r: Reader): ClientNode {
    const id = r.u32();
    return this.child(d, name, id, r.stat());
  }

  /** dir changed under the Sentry's hands: its cached children may be wrong. */
  protected invalidate(d: ClientNode): void {
    this.forget(d);
  }
}

function putTime(w: Writer, t: HostTime | undefined): void {
  if (t === undefined || t === 'omit') w.u8(T_OMIT).i64(0n);
  else if (t === 'now') w.u8(T_NOW).i64(0n);
  else w.u8(T_VALUE).i64(t);
}

/** A tree the Gofer serves read-write (a read-write bind mount's source): every write is one request. */
class WritableGoferClient extends GoferClient implements WritableHostFiles {
  readonly writable = true;

  create(dir: HostNode, name: string, mode: number, owner: HostOwner): HostNode {
    const d = this.own(dir);
    return this.created(d, name, this.callOn(d, Op.CREATE, (w) => w.str(name).u32(mode).i32(owner.uid).i32(owner.gid)).r);
  }
  mkdir(dir: HostNode, name: string, mode: number, owner: HostOwner): HostNode {
    const d = this.own(dir);
    return this.created(d, name, this.callOn(d, Op.MKDIR, (w) => w.str(name).u32(mode).i32(owner.uid).i32(owner.gid)).r);
  }
  symlink(dir: HostNode, name: string, target: string, owner: HostOwner): HostNode {
    const d = this.own(dir);
    return this.created(d, name, this.callOn(d, Op.SYMLINK, (w) => w.str(name).str(target).i32(owner.uid).i32(owner.gid)).r);
  }
  mknod(dir: HostNode, name: string, mode: number, rdev: number, owner: HostOwner): HostNode {
    const d = this.own(dir);
    return this.created(d, name, this.callOn(d, Op.MKNOD, (w) => w.str(name).u32(mode).u64(rdev).i32(owner.uid).i32(owner.gid)).r);
  }
  link(target: HostNode, dir: HostNode, name: string): HostNode {
    const t = this.own(target);
    const d = this.own(dir);
    if (d.id === 0) this.stat(d);
    const { r } = this.callOn(t, Op.LINK, (w) => w.u32(d.id).str(name));
    r.u32();
    t.stat = r.stat();
    this.invalidate(d);
    return t;
  }
  unlink(dir: HostNode, name: string, isDir: boolean): void {
    const d = this.own(dir);
    this.callOn(d, Op.UNLINK, (w) => w.str(name).u8(isDir ? 1 : 0));
    this.invalidate(d);
  }
  rename(oldDir: HostNode, oldName: string, newDir: HostNode, newName: string, flags: number): void {
    const od = this.own(oldDir);
    const nd = this.own(newDir);
    if (nd.id === 0) this.stat(nd);
    this.callOn(od, Op.RENAME, (w) => w.str(oldName).u32(nd.id).str(newName).u32(flags));
    this.invalidate(od);
    this.invalidate(nd);
  }
  setattr(n: HostNode, a: HostSetAttr): HostStat {
    const o = this.own(n);
    let mask = 0;
    if (a.mode !== undefined) mask |= SA_MODE;
    if (a.uid !== undefined || a.gid !== undefined) mask |= SA_OWNER;
    if (a.size !== undefined) mask |= SA_SIZE;
    if (a.atime !== undefined) mask |= SA_ATIME;
    if (a.mtime !== undefined) mask |= SA_MTIME;
    const { r } = this.callOn(o, Op.SETATTR, (w) => {
      w.u8(mask).u32(a.mode ?? 0).i32(a.uid ?? -1).i32(a.gid ?? -1).u64(a.size ?? 0);
      putTime(w, a.atime);
      putTime(w, a.mtime);
    });
    o.stat = r.stat();
    return o.stat;
  }
  pwrite(n: HostNode, buf: Buffer, off: number): number {
    const o = this.own(n);
    let done = 0;
    while (done < buf.length) {
      const part = buf.subarray(done, done + (1 << 16));
      const at = off + done;
      const wrote = this.callOn(o, Op.PWRITE, (w) => w.u64(at).bytes(part)).r.u32();
      done += wrote;
      if (wrote < part.length) break;
    }
    return done;
  }
  fsync(n: HostNode, dataOnly: boolean): void {
    this.callOn(this.own(n), Op.FSYNC, (w) => w.u8(dataOnly ? 1 : 0));
  }
  fallocate(n: HostNode, mode: number, off: number, len: number): void {
    this.callOn(this.own(n), Op.FALLOCATE, (w) => w.u32(mode).u64(off).u64(len));
  }
  getxattr(n: HostNode, name: string): Buffer {
    return this.callOn(this.own(n), Op.GETXATTR, (w) => w.str(name)).r.bytes(1 << 16);
  }
  setxattr(n: HostNode, name: string, value: Buffer, flags: number): void {
    this.callOn(this.own(n), Op.SETXATTR, (w) => w.str(name).bytes(value).u32(flags));
  }
  listxattr(n: HostNode): string[] {
    const { r } = this.callOn(this.own(n), Op.LISTXATTR, () => {});
    const out: string[] = [];
    for (let i = r.u32(); i > 0; i--) out.push(r.str(0xffff));
    return out;
  }
  removexattr(n: HostNode, name: string): void {
    this.callOn(this.own(n), Op.REMOVEXATTR, (w) => w.str(name));
  }
  statfs(): HostStatFs {
    this.conn.begin(Op.STATFS).u32(this.treeIndex);
    return this.conn.call().r.statfs();
  }
}
