// The read descriptors the Gofer donated to its client (gofer/client.ts),
// so that file data never passes through the Gofer: two bounded LRUs, as
// host/hosttree.ts keeps its own (files not open in the sandbox, and files
// open in it), and which files to ask for together.
//
// A reader going through a directory in its listing's order (tar, cp -r,
// grep -r, rsync: each opens the files it just listed and lstat'ed) would
// pay one OPEN round trip per file. So an open of a file of a fresh listing
// asks, in one OPEN_MANY, for the next regular files of that listing the
// client has nodes for (those it looked up): 16 at a directory's first open,
// twice as many each time the opens keep to the listing's order (up to 32),
// the file alone otherwise. The extra descriptors go to the unpinned LRU
// and are read from, or evicted, like any other.
import { HostError } from '../host/hostfs';
import * as libc from '../host/libc';
import { FdLru } from '../host/hosttree';
import type { ClientNode } from './client_node';
import { MAX_OPEN_MANY } from './protocol';

const EINVAL = 22;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
/**
 * Files asked for at a directory's first open: 16, not 4, cut tar's round trips by a tenth (1730-1789
 * against 1991-2022 for /usr/include, most directories there holding fewer than 16 files) for the same CPU.
 */
const FIRST_BATCH = 16;
/** How far past a batch's end the next open may be and still count as in order (a reader skips the subdirectories). */
const IN_ORDER_SLACK = 64;

/** The requests the reads need of the client. */
export interface ReadsClient {
  /** OPEN of one file for reading (found again if the Gofer forgot its id): the descriptor. */
  openRequest(o: ClientNode): number;
  /** OPEN_MANY of files with ids: per file, its descriptor or -1. */
  openManyRequest(files: ClientNode[]): number[];
  /** Whether d's listing is still trusted. */
  freshListing(d: ClientNode): boolean;
}

function closeReadFd(o: ClientNode): void {
  libc.close(o.fd);
  o.fd = -1;
}

const isRegular = (o: ClientNode): boolean => (o.stat.mode & S_IFMT) === S_IFREG;

export class ClientReads {
  private readonly reads: FdLru<ClientNode>;
  private readonly pinnedReads: FdLru<ClientNode>;

  constructor(private readonly client: ReadsClient, readFds: number, pinnedReadFds: number) {
    this.reads = new FdLru<ClientNode>(Math.max(1, readFds), closeReadFd);
    this.pinnedReads = new FdLru<ClientNode>(Math.max(1, pinnedReadFds), closeReadFd);
  }

  get size(): { read: number; pinnedRead: number } {
    return { read: this.reads.size, pinnedRead: this.pinnedReads.size };
  }

  private lruOf(o: ClientNode): FdLru<ClientNode> {
    return o.pins === 0 ? this.reads : this.pinnedReads;
  }

  /** o's read descriptor, asked for (with the files after it, see the top) if the client holds none. */
  fdOf(o: ClientNode): number {
    if (o.fd >= 0) {
      this.lruOf(o).touch(o);
      return o.fd;
    }
    if (!isRegular(o)) throw new HostError(EINVAL, 'not a regular file');
    const batch = this.batchFor(o);
    if (batch.length > 1) {
      const fds = this.client.openManyRequest(batch);
      batch.forEach((f, i) => {
        const fd = fds[i] ?? -1;
        if (fd < 0) return;
        if (f.fd >= 0) {
          libc.close(fd);
          return;
        }
        f.fd = fd;
        this.lruOf(f).add(f);
      });
      if (o.fd >= 0) return o.fd;
    }
    // Alone, or the batch could not open it (its id forgotten: openRequest finds it again).
    const fd = this.client.openRequest(o);
    o.fd = fd;
    this.lruOf(o).add(o);
    return fd;
  }

  /** o and the regular files after it in its directory's fresh listing that it may be time to open too. */
  private batchFor(o: ClientNode): ClientNode[] {
    const d = o.parent;
    if (!d || !d.listing || !d.children || !this.client.freshListing(d) || o.id === 0) return [o];
    const i = d.indexOfListed(o.name);
    if (i === undefined) return [o];
    if (d.openEnd === 0) d.openWindow = FIRST_BATCH;
    else if (i >= d.openEnd - 1 && i <= d.openEnd + IN_ORDER_SLACK) d.openWindow = Math.min(d.openWindow * 2, MAX_OPEN_MANY);
    else d.openWindow = 1;
    const batch = [o];
    let k = i + 1;
    for (; k < d.listing.length && batch.length < d.openWindow; k++) {
      const c = d.children.get(d.listing[k].name);
      if (c && c.id !== 0 && c.fd < 0 && isRegular(c)) batch.push(c);
    }
    d.openEnd = k;
    return batch;
  }

  /** A read descriptor of o that came with its lookup (WALK_OPEN): kept as OPEN's would be, unless o has one. */
  adopt(o: ClientNode, fd: number): void {
    if (o.fd >= 0 || !isRegular(o)) {
      libc.close(fd);
      return;
    }
    o.fd = fd;
    this.lruOf(o).add(o);
  }

  /** The sandbox opened o: its descriptor moves to the pinned LRU, or is asked for now. */
  pin(o: ClientNode): void {
    if (o.pins++ > 0 || !isRegular(o)) return;
    if (o.fd >= 0) {
      this.reads.delete(o);
      this.pinnedReads.add(o);
      return;
    }
    try {
      this.fdOf(o);
    } catch {
      // Unreadable on the host (permissions, gone): reads report it when they happen.
    }
  }

  unpin(o: ClientNode): void {
    if (o.pins === 0) return;
    if (--o.pins === 0 && o.fd >= 0) {
      this.pinnedReads.delete(o);
      this.reads.add(o);
    }
  }
}
