// A tree's host change feed through the Gofer (HostFiles.changes() of
// gofer/client.ts): the Gofer makes the host inotify watches (WATCH, UNWATCH
// by node id: gofer/watches.ts) and donates the tree's inotify descriptor
// (FEED), which this side only reads, with host/inotify_feed.ts's parser.
// Each event also tells the client which of its cached entries the host
// changed (changed()), so a change the host reported is seen at the next
// lookup instead of after the client's revalidation interval.
import { IN_IGNORED, IN_Q_OVERFLOW } from '../abi/inotify';
import { HostError, type HostChange, type HostChangeFeed, type HostNode } from '../host/hostfs';
import { readInotifyEvents } from '../host/inotify_feed';
import type { ClientNode } from './client_node';

const EIO = 5;

/** What the feed needs of its client: the requests, and where cached entries go stale. */
export interface ChangeFeedClient {
  /** WATCH of n (a node of this client, else an Error): its host watch descriptor. */
  watchRequest(n: HostNode): { wd: number; node: ClientNode };
  unwatchRequest(wd: number): void;
  /** The host changed n (name: the entry of directory n), or, with null for n, maybe anything (the queue overflowed). */
  changed(n: ClientNode | null, name: string | null): void;
}

export class GoferChangeFeed implements HostChangeFeed {
  readonly fd: number;
  /** The nodes watched, by host watch descriptor (bounded by the Gofer's MAX_WATCHES: it refuses more). */
  private readonly nodes = new Map<number, ClientNode>();
  private readonly buf = Buffer.alloc(64 * 1024);

  constructor(private readonly client: ChangeFeedClient, fd: number) {
    if (fd < 0) throw new HostError(EIO, 'the Gofer sent no inotify descriptor');
    this.fd = fd;
  }

  add(n: HostNode): number {
    const { wd, node } = this.client.watchRequest(n);
    this.nodes.set(wd, node);
    return wd;
  }

  remove(id: number): void {
    if (!this.nodes.delete(id)) return;
    this.client.unwatchRequest(id);
  }

  take(): HostChange[] {
    const out = readInotifyEvents(this.fd, this.buf);
    for (const c of out) {
      if (c.mask & IN_Q_OVERFLOW) {
        this.client.changed(null, null);
        continue;
      }
      const n = this.nodes.get(c.id);
      if (!n) continue;
      if (c.mask & IN_IGNORED) {
        // The host dropped the watch (its file is gone): the Gofer's count of this tree's watches drops too.
        this.nodes.delete(c.id);
        this.client.unwatchRequest(c.id);
      }
      this.client.changed(n, c.name);
    }
    return out;
  }
}
