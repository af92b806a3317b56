// The Gofer's request handler: one client (the Sentry), a few trees (the root
// file system and the bind mounts' sources), each a HostFiles that resolves
// component by component from descriptors (host/hosttree.ts). Everything
// the client sends is untrusted: ids are looked up in this session's bounded
// table (an unknown one is ENOID), names go to HostFiles.lookup, which
// refuses "", ".", "..", "/" and NUL, lengths are checked by Reader, and any
// failure becomes an error reply. handle() never throws.
import { HostError, type HostDirent, type HostFiles, type HostNode, type HostTime, type WritableHostFiles } from '../host/hostfs';
import {
  ENOID, MAX_DESCEND, MAX_OPEN_MANY, MAX_REPLY, MAX_REQUEST, MAX_WALK, RD_DESCEND, WALK_ABSENT, WALK_DONE, WALK_ERROR, WALK_OPEN, NAME_MAX, Op, ProtocolError, Reader, STAT_SIZE,
  TARGET_MAX, T_NOW, T_OMIT, Writer,
} from './protocol';
import * as libc from '../host/libc';
import { TreeWatches } from './watches';
import { serveWrite } from './server_write';

const EINVAL = 22;
const EIO = 5;
const ESTALE = 116;
const EROFS = 30;
const ENOSYS = 38;
const EMSGSIZE = 90;
const ENAMETOOLONG = 36;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const DT_DIR = 4;

/** A tree the Gofer serves, and how it gives out a descriptor of one of its files. */
export interface ServedTree {
  files: HostFiles;
  /** A new descriptor reading (or, write true, writing) n; the Gofer closes its copy after sending it. */
  openFd(n: HostNode, write: boolean): number;
  /** A writable tree's: drop any write descriptor of n it kept during a request (the Gofer holds no file open for writing). */
  release?(n: HostNode): void;
}

export interface Entry {
  tree: number;
  node: HostNode;
}

/** A reply: the message (valid until the next request) and the descriptors to attach (the caller closes them once sent). */
export interface Reply {
  msg: Buffer;
  fds: number[];
}

export class GoferServer {
  /** Ids of nodes the client may name, least recently used first; the trees' roots are ids 1..n and never leave. */
  private readonly ids = new Map<number, Entry>();
  private readonly roots: Entry[];
  private nextId: number;
  /** The listing READDIR is paging through, so that later pages need not list again. */
  private listing: { id: number; ents: ReturnType<HostFiles['readdir']> } | null = null;
  readonly w = new Writer(MAX_REPLY);
  /** Per tree, the host change watches made for the client (watches.ts). */
  private readonly watches: TreeWatches[];
  /** Requests served, and those refused as malformed (the fuzz test reads them). */
  served = 0;
  malformed = 0;

  constructor(readonly trees: ServedTree[], private readonly maxIds = 65536) {
    this.roots = trees.map((t, i) => ({ tree: i, node: t.files.root() }));
    this.nextId = trees.length + 1;
    this.watches = trees.map((t) => new TreeWatches(t.files));
  }

  handle(msg: Buffer, len: number): Reply {
    this.served++;
    this.w.reset().i32(0);
    const fds: number[] = [];
    try {
      if (len > MAX_REQUEST) throw new HostError(EMSGSIZE, 'request too long');
      const r = new Reader(msg);
      const op = r.u8();
      r.u8();
      r.u16();
      if (op === Op.OPEN_MANY) this.openMany(r, fds);
      else {
        const fd = this.dispatch(op, r);
        if (fd >= 0) fds.push(fd);
      }
    } catch (e) {
      for (const fd of fds.splice(0)) libc.close(fd);
      const errno = e instanceof HostError ? e.errno : e instanceof ProtocolError || e instanceof RangeError ? EINVAL : EIO;
      if (!(e instanceof HostError)) this.malformed++;
      this.w.reset().i32(errno);
    }
    return { msg: this.w.view(), fds };
  }

  /** The entry of a client-named id (ENOID if unknown), now the most recently used. */
  entry(id: number): Entry {
    if (id >= 1 && id <= this.roots.length) return this.roots[id - 1];
    const e = this.ids.get(id);
    if (!e) throw new HostError(ENOID, 'unknown node id');
    this.ids.delete(id);
    this.ids.set(id, e);
    return e;
  }

  private addId(tree: number, node: HostNode): number {
    while (this.ids.size >= this.maxIds) this.ids.delete(this.ids.keys().next().value as number);
    let id = this.nextId;
    while (this.ids.has(id) || id <= this.roots.length) id = id >= 0xffffffff ? this.roots.length + 1 : id + 1;
    this.nextId = id >= 0xffffffff ? this.roots.length + 1 : id + 1;
    this.ids.set(id, { tree, node });
    return id;
  }

  writable(tree: number): WritableHostFiles {
    const f = this.trees[tree].files as Partial<WritableHostFiles> & HostFiles;
    if (f.writable !== true) throw new HostError(EROFS, 'read-only tree');
    return f as WritableHostFiles;
  }

  /** A tree's index. */
  private tree(r: Reader): number {
    const t = r.u32();
    if (t >= this.roots.length) throw new HostError(EINVAL, 'no such tree');
    return t;
  }

  name(r: Reader): string {
    const n = r.str(TARGET_MAX);
    if (n.length > NAME_MAX) throw new HostError(ENAMETOOLONG, 'name too long');
    return n;
  }

  /** A new node's id and attributes, as every creating call replies. */
  putNode(tree: number, n: HostNode): void {
    this.w.u32(this.addId(tree, n)).stat(n.stat);
  }

  private dispatch(op: number, r: Reader): number {
    switch (op) {
      case Op.ROOT: {
        const t = this.tree(r);
        const e = this.roots[t];
        this.w.u32(t + 1).stat(this.trees[t].files.stat(e.node));
        return -1;
      }
      case Op.WALK:
        return this.walk(r);
      case Op.LOOKUP:
        this.lookupMany(r);
        return -1;
      case Op.STAT: {
        const e = this.entry(r.u32());
        this.w.stat(this.trees[e.tree].files.stat(e.node));
        return -1;
      }
      case Op.READDIR:
        this.readdir(r);
        return -1;
      case Op.READLINK: {
        const e = this.entry(r.u32());
        const t = this.trees[e.tree].files.readlink(e.node);
        if (t.length > TARGET_MAX) throw new HostError(ENAMETOOLONG, 'link target too long');
        this.w.str(t);
        return -1;
      }
      case Op.OPEN: {
        const e = this.entry(r.u32());
        const write = r.u8() !== 0;
        if (write) this.writable(e.tree);
        return this.trees[e.tree].openFd(e.node, write);
      }
      case Op.STATFS: {
        const t = this.tree(r);
        const f = this.trees[t].files as Partial<WritableHostFiles>;
        if (typeof f.statfs !== 'function') throw new HostError(ENOSYS, 'statfs of a read-only tree');
        this.w.statfs(f.statfs());
        return -1;
      }
      case Op.WATCH: {
        const e = this.entry(r.u32());
        this.w.i32(this.watches[e.tree].watch(e.node));
        return -1;
      }
      case Op.UNWATCH:
        this.watches[this.tree(r)].unwatch(r.i32());
        return -1;
      case Op.FEED:
        return this.watches[this.tree(r)].feedFd();
      default:
        serveWrite(this, op, r);
        return -1;
    }
  }

  /** OPEN_MANY: [n u16][id u32 x n] -> [n u16][errno i32 x n], a read descriptor attached for each 0, in order. */
  private openMany(r: Reader, fds: number[]): void {
    const n = r.u16();
    if (n === 0 || n > MAX_OPEN_MANY) throw new HostError(EINVAL, 'bad open count');
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(r.u32());
    this.w.u16(n);
    for (const id of ids) {
      try {
        const e = this.entry(id);
        if ((e.node.stat.mode & S_IFMT) !== S_IFREG) throw new HostError(EINVAL, 'not a regular file');
        fds.push(this.trees[e.tree].openFd(e.node, false));
        this.w.i32(0);
      } catch (e) {
        if (!(e instanceof HostError)) throw e;
        this.w.i32(e.errno);
      }
    }
  }

  /**
   * WALK: [id u32][n u16][name x n], then optionally [flags u8] (WALK_OPEN)
   * -> [found u16][id u32, stat] x found, then with flags [end u8] (how it
   * ended: protocol.ts) and with WALK_OPEN [opened u8] and, if 1, the last
   * name's read descriptor (a regular file reached by the whole walk; one
   * descriptor per request at most).
   */
  private walk(r: Reader): number {
    const start = this.entry(r.u32());
    const n = r.u16();
    if (n === 0 || n > MAX_WALK) throw new HostError(EINVAL, 'bad walk length');
    const names: string[] = [];
    for (let i = 0; i < n; i++) names.push(this.name(r));
    const withFlags = r.left > 0;
    const flags = withFlags ? r.u8() : 0;
    if ((flags & ~WALK_OPEN) !== 0 || r.left !== 0) throw new HostError(EINVAL, 'bad walk flags');
    const files = this.trees[start.tree].files;
    const countAt = this.w.len;
    this.w.u16(0);
    let cur = start.node;
    let found = 0;
    let end = WALK_DONE;
    for (const name of names) {
      // A walk continues only through directories; a missing name ends it (the client sees how far it got).
      if ((cur.stat.mode & S_IFMT) !== S_IFDIR) break;
      let next: HostNode | null;
      try {
        next = files.lookup(cur, name);
      } catch (e) {
        // Past the first name a host error (EACCES, ...) ends the walk; a bad name fails it whole.
        if (found === 0 || !(e instanceof HostError) || e.errno === EINVAL) throw e;
        end = WALK_ERROR;
        break;
      }
      if (!next) {
        end = WALK_ABSENT;
        break;
      }
      this.putNode(start.tree, next);
      found++;
      cur = next;
    }
    this.w.view().writeUInt16LE(found, countAt);
    if (withFlags) this.w.u8(end);
    if ((flags & WALK_OPEN) === 0) return -1;
    let fd = -1;
    if (found === n && (cur.stat.mode & S_IFMT) === S_IFREG) {
      try {
        fd = this.trees[start.tree].openFd(cur, false);
      } catch (e) {
        // Unreadable (permissions, replaced since the lookup): the walk's answer stands, the client opens it alone later.
        if (!(e instanceof HostError)) throw e;
      }
    }
    this.w.u8(fd >= 0 ? 1 : 0);
    return fd;
  }

  /** Several names of one directory (siblings, not a path): each found or not, with its id and attributes. */
  private lookupMany(r: Reader): void {
    const d = this.entry(r.u32());
    const n = r.u16();
    if (n === 0 || n > MAX_WALK) throw new HostError(EINVAL, 'bad lookup count');
    const names: string[] = [];
    for (let i = 0; i < n; i++) names.push(this.name(r));
    const files = this.trees[d.tree].files;
    this.w.u16(n);
    for (const name of names) {
      let c: HostNode | null = null;
      try {
        c = files.lookup(d.node, name);
      } catch (e) {
        // One bad name fails the request (a Sentry bug or attack); host errors on one name leave it out.
        if (!(e instanceof HostError) || e.errno === EINVAL || e.errno === ESTALE) throw e;
      }
      if (c) {
        this.w.u8(1);
        this.putNode(d.tree, c);
      } else this.w.u8(0);
    }
  }

  private readdir(r: Reader): void {
    const id = r.u32();
    const e = this.entry(id);
    const from = r.u32();
    const flags = r.u8();
    const files = this.trees[e.tree].files;
    if (from === 0 || !this.listing || this.listing.id !== id) this.listing = { id, ents: files.readdir(e.node) };
    const ents = this.listing.ents;
    if (from > ents.length) throw new HostError(EINVAL, 'readdir past the end');
    this.w.u32(ents.length);
    const nextAt = this.w.len;
    this.w.u32(0).u16(0);
    const subdirs: Array<{ id: number; node: HostNode }> = [];
    let i = from;
    let count = 0;
    for (; i < ents.length && count < 0xffff; i++) {
      if (this.w.len + STAT_SIZE + 300 > MAX_REPLY) break;
      this.entryOut(e, ents[i], flags, subdirs);
      count++;
    }
    this.w.view().writeUInt32LE(i, nextAt);
    this.w.view().writeUInt16LE(count, nextAt + 4);
    if (i >= ents.length) this.listing = null;
    if ((flags & RD_DESCEND) === 0) return;
    const queue = i >= ents.length && from === 0 ? subdirs : [];
    // The directories the walk reaches after this one's subtree (the client names them: its next siblings, its parent's...).
    const after = r.left >= 2 ? Math.min(r.u16(), MAX_WALK) : 0;
    for (let k = 0; k < after; k++) {
      const nid = r.u32();
      const other = this.ids.get(nid);
      if (other && other.tree === e.tree && (other.node.stat.mode & S_IFMT) === S_IFDIR) queue.push({ id: nid, node: other.node });
    }
    this.descend(e.tree, queue, flags);
  }

  /**
   * One entry of a listing: [ino u64][type u8][name], then with RD_PLUS (1)
   * or RD_DIRS (2, subdirectories and unknown types only) a found flag and
   * the id and attributes. Subdirectories found are queued for RD_DESCEND.
   */
  private entryOut(dir: Entry, d: HostDirent, flags: number, subdirs: Array<{ id: number; node: HostNode }>): void {
    this.w.u64(d.ino).u8(d.type).str(d.name);
    if ((flags & 3) === 0) return;
    let n: HostNode | null = null;
    try {
      if ((flags & 1) !== 0 || d.type === DT_DIR || d.type === 0) n = this.trees[dir.tree].files.lookup(dir.node, d.name);
    } catch {
      // Gone or unreadable since the listing: the client looks it up itself if it needs it.
    }
    if (!n) {
      this.w.u8(0);
      return;
    }
    this.w.u8(1);
    const nid = this.addId(dir.tree, n);
    this.w.u32(nid).stat(n.stat);
    if ((n.stat.mode & S_IFMT) === S_IFDIR) subdirs.push({ id: nid, node: n });
  }

  /**
   * RD_DESCEND: after a whole listing, the whole listings of its
   * subdirectories, breadth first, as many as fit in the reply (a recursive
   * walk, find or ls -R, then lists them without a round trip each):
   * [count u16] then per listing [dir id u32][entries u32][entries...].
   * A listing that does not fit whole ends the reply.
   */
  private descend(tree: number, queue: Array<{ id: number; node: HostNode }>, flags: number): void {
    const countAt = this.w.len;
    this.w.u16(0);
    const files = this.trees[tree].files;
    const perEntry = (flags & 1) !== 0 ? STAT_SIZE + 20 : 16;
    let listed = 0;
    for (let q = 0; q < queue.length && listed < MAX_DESCEND; q++) {
      const dir = queue[q];
      let ents: HostDirent[];
      try {
        ents = files.readdir(dir.node);
      } catch {
        continue;
      }
      // A bound that holds for the listing (names' bytes, and attributes where they may come), checked before writing any of it.
      let need = 8;
      for (const d of ents) need += perEntry + d.name.length + (d.type === DT_DIR || d.type === 0 ? STAT_SIZE + 5 : 0);
      if (this.w.len + need > MAX_REPLY) break;
      const entry = { tree, node: dir.node };
      this.w.u32(dir.id).u32(ents.length);
      for (const d of ents) this.entryOut(entry, d, flags, queue);
      listed++;
    }
    this.w.view().writeUInt16LE(listed, countAt);
  }

  time(r: Reader): HostTime {
    const kind = r.u8();
    const v = r.i64();
    return kind === T_NOW ? 'now' : kind === T_OMIT ? 'omit' : v;
  }

  /** Two nodes must be of one tree (a link or rename between trees is EXDEV, as between host mounts). */
  /** Ids held now (tests check the bound with it). */
  idsHeld(): number {
    return this.ids.size;
  }
}
