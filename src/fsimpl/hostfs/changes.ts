// Changes made on the host to a bind mount's files, reported to the sandbox's
// inotify watches (an editor on the host saving a file a dev server in the
// container watches). While a file of the tree has an inotify watch in the
// sandbox, the host tree's change feed watches it too; what the host reports
// is forwarded to that file's watches as it came (entry events with their
// names to a directory's watches, its own events to a file's), with host
// move cookies mapped to the sandbox's own cookies.
//
// The sandbox's own changes to a read-write tree already give their events
// synchronously from the VFS; the host reports them again. So every host
// change the Sentry makes (mutate) first forwards what the host queued before
// it, then drops what the host queued during it: a change made on the host in
// the same microseconds as a sandbox change to the same tree may go
// unreported, never reported twice.
//
// Bounds: at most MAX_HOST_WATCHES host watches per tree (the host's inotify
// limits are the host user's, shared with everything it runs); past that, and
// where the host refuses a watch, the sandbox's watch still works for changes
// made inside it.

import { IN_DELETE_SELF, IN_IGNORED, IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO, IN_Q_OVERFLOW } from '../../abi/inotify';
import { HostError, type HostChangeFeed } from '../../host/hostfs';
import type { HostWatch } from '../../platform/platform';
import { HOST_IN } from '../../platform/platform';
import { detachAll, notifyWatchers, type Fsnotify } from '../../vfs/fsnotify';
import type { HostInode } from './hostfs';

const MAX_HOST_WATCHES = 1024;
/** Host move cookies waiting for their MOVED_TO (a move out of the watched directories never gets one). */
const MAX_COOKIES = 64;

export class HostChangeWatches {
  private feed: HostChangeFeed | null = null;
  private watch: HostWatch | null = null;
  private notify: Fsnotify | null = null;
  /** Watched inodes by host watch id, and each one's id and count of sandbox watches. */
  private readonly byId = new Map<number, HostInode>();
  private readonly held = new Map<HostInode, { id: number; watches: number }>();
  private readonly cookies = new Map<number, number>();

  constructor(private readonly feedOf: () => HostChangeFeed | null) {}

  /** A sandbox watch on inode was made or is gone (FilesystemImpl.watched). */
  watched(inode: HostInode, on: boolean, notify: Fsnotify): void {
    const h = this.held.get(inode);
    if (!on) {
      if (!h || --h.watches > 0) return;
      this.held.delete(inode);
      this.byId.delete(h.id);
      this.feed?.remove(h.id);
      return;
    }
    if (h) {
      h.watches++;
      return;
    }
    // No feed, or past the bound: the sandbox's watch still hears the sandbox's own changes.
    if (!this.start(notify) || this.feed === null || this.held.size >= MAX_HOST_WATCHES) return;
    let id: number;
    try {
      id = this.feed.add(inode.node);
    } catch (e) {
      // The host's own inotify limits: as past the bound.
      if (!(e instanceof HostError)) throw e;
      return;
    }
    // One host watch per file: another inode holding the id is an older view of the same file, now replaced.
    const old = this.byId.get(id);
    if (old) this.held.delete(old);
    this.byId.set(id, inode);
    this.held.set(inode, { id, watches: 1 });
  }

  /** The feed and its host event watch, made at the first watch; false where there is neither. */
  private start(notify: Fsnotify): boolean {
    if (this.watch) return true;
    if (!notify.hostEvents) return false;
    const feed = this.feedOf();
    if (!feed) return false;
    this.feed = feed;
    this.notify = notify;
    this.watch = notify.hostEvents.watch(feed.fd, HOST_IN, () => this.pump(true));
    return true;
  }

  /** A change of the host tree made by the Sentry itself (see the top): its echo is not reported. */
  mutate<T>(f: () => T): T {
    if (this.held.size === 0) return f();
    this.pump(true);
    try {
      return f();
    } finally {
      this.pump(false);
    }
  }

  /** Take what the host queued; forward it, or (the Sentry's own changes) only keep the watch table true. */
  private pump(forward: boolean): void {
    if (!this.feed) return;
    for (const c of this.feed.take()) {
      if (c.mask & IN_Q_OVERFLOW) continue;
      const inode = this.byId.get(c.id);
      if (!inode) continue;
      if (c.mask & IN_IGNORED) {
        // The host dropped its watch (the file is gone there): so do the sandbox's.
        this.byId.delete(c.id);
        this.held.delete(inode);
        if (forward) detachAll(inode);
        continue;
      }
      inode.hostChanged(c.name, (c.mask & IN_MODIFY) !== 0);
      if (!forward) continue;
      notifyWatchers(inode, c.mask, this.cookieFor(c.mask, c.cookie), c.name);
      if (c.mask & IN_DELETE_SELF) detachAll(inode);
    }
  }

  private cookieFor(mask: number, hostCookie: number): number {
    if (!(mask & (IN_MOVED_FROM | IN_MOVED_TO)) || hostCookie === 0 || !this.notify) return 0;
    let c = this.cookies.get(hostCookie);
    if (c === undefined) {
      c = this.notify.nextCookie();
      if (this.cookies.size >= MAX_COOKIES) this.cookies.delete(this.cookies.keys().next().value as number);
      this.cookies.set(hostCookie, c);
    }
    return c;
  }
}
