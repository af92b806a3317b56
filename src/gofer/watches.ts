// Host change feeds served by the Gofer (WATCH, UNWATCH, FEED): the Gofer
// makes the host inotify watches of one tree on the Sentry's behalf, through
// the tree's own descriptors of the node named by id (host/inotify_feed.ts,
// /proc/self/fd of the node's O_PATH descriptor), so a watch is always of a
// file inside the tree, whatever the Sentry sends. The events are read by the
// Sentry from the tree's inotify descriptor the Gofer donates (FEED): the
// kernel queues and bounds them (its max_queued_events, then IN_Q_OVERFLOW),
// nothing is buffered in the Gofer and no message goes unasked on the
// request/reply socket. Holding that descriptor lets the Sentry read events
// and nothing else it could not already do: inotify_add_watch on it needs a
// path the Sentry can name, and a confined Sentry with the Gofer has neither
// such paths nor the inotify calls in its filter (sandbox/confine_filter.ts).
//
// Bounds: MAX_WATCHES host watches per tree, counted by watch descriptor
// (the host gives the same one for the same file); past it, ENOSPC. One
// inotify instance per tree, made at the first WATCH or FEED (the runtime
// chose the trees, so the Sentry cannot make more).
import { HostError, type HostChangeFeed, type HostFiles, type HostNode } from '../host/hostfs';
import * as libc from '../host/libc';
import { MAX_WATCHES } from './protocol';

const ENOSPC = 28;
const EINVAL = 22;
const ENOSYS = 38;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

export class TreeWatches {
  private feed: HostChangeFeed | null = null;
  /** Host watch descriptors made for the client and not removed since. */
  private readonly wds = new Set<number>();

  constructor(private readonly files: HostFiles) {}

  private hostFeed(): HostChangeFeed {
    if (this.feed) return this.feed;
    if (!this.files.changes) throw new HostError(ENOSYS, 'the tree has no change feed');
    return (this.feed = this.files.changes());
  }

  /** Watch n (a directory or regular file of this tree); its host watch descriptor. */
  watch(n: HostNode): number {
    const type = n.stat.mode & S_IFMT;
    if (type !== S_IFDIR && type !== S_IFREG) throw new HostError(EINVAL, 'only directories and regular files are watched');
    const feed = this.hostFeed();
    if (this.wds.size >= MAX_WATCHES) throw new HostError(ENOSPC, 'too many host watches for this tree');
    const wd = feed.add(n);
    this.wds.add(wd);
    return wd;
  }

  /** Drop the watch wd, if it is one made for the client (a dropped one's IN_IGNORED tells the client). */
  unwatch(wd: number): void {
    if (!this.feed || !this.wds.delete(wd)) return;
    this.feed.remove(wd);
  }

  /** A copy of the tree's inotify descriptor, to donate (the Gofer closes its copy once sent). */
  feedFd(): number {
    const fd = libc.dup(this.hostFeed().fd);
    if (fd < 0) throw new HostError(libc.errno(), 'dup of the inotify descriptor');
    return fd;
  }
}
