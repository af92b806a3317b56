// File change notification (Linux's fsnotify): the hooks the VFS and the
// system calls call at the one place each kind of change passes, and the
// watches they feed. A watch is held on the inode it watches
// (Inode.watches) and by the group that made it (an inotify instance,
// fsimpl/inotify); an event on a file goes to its directory's watches with
// the file's name first, then to the file's own, as on Linux. Every hook
// costs two field tests when nothing is watched.
import type { SetAttr } from '../abi/fs';
import { S_IFDIR, S_IFMT } from '../abi/fs';
import {
  IN_ACCESS, IN_ALL_EVENTS, IN_ATTRIB, IN_CLOSE_NOWRITE, IN_CLOSE_WRITE, IN_DELETE_SELF, IN_EVENTS_ON_CHILD,
  IN_EXCL_UNLINK, IN_ISDIR, IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO, IN_MOVE_SELF, IN_ONESHOT, IN_OPEN, IN_UNMOUNT,
  INOTIFY_MAX_QUEUED_EVENTS, INOTIFY_MAX_USER_INSTANCES, INOTIFY_MAX_USER_WATCHES,
} from '../abi/inotify';
import type { Dentry, VPath } from './dentry';
import type { FilesystemImpl, Inode } from './inode';
import type { FileDescription } from './file';
import type { HostEvents } from '../platform/platform';

/** What receives a watch's events: an inotify instance. */
export interface NotifyGroup {
  /** Queue an event for w (the group merges repeats and bounds its queue). */
  event(w: Watch, mask: number, cookie: number, name: string | null): void;
  /** w was taken off its inode (deleted, one-shot, removed): the group queues IN_IGNORED and forgets w. */
  detached(w: Watch): void;
  /** A descriptor of file in fd table owner was closed (dnotify's requests end with it). */
  flush?(file: FileDescription, owner: object): void;
}

export class Watch {
  constructor(
    readonly group: NotifyGroup,
    /** Held here, so that the file system hands out this same inode while watched. */
    readonly inode: Inode,
    readonly wd: number,
    /** IN_* events and flags. */
    public mask: number,
    /** st_dev of the inode (fdinfo's sdev). */
    readonly dev: number,
  ) {}
}

/** Watches and instances of one user (Linux's ucounts), for the per-user limits. */
export interface NotifyUser {
  instances: number;
  watches: number;
}

/** The sandbox's notification state: rename cookies and the inotify limits of /proc/sys/fs/inotify. */
export class Fsnotify {
  maxQueuedEvents = INOTIFY_MAX_QUEUED_EVENTS;
  maxUserInstances = INOTIFY_MAX_USER_INSTANCES;
  maxUserWatches = INOTIFY_MAX_USER_WATCHES;
  /** By kernel uid; an entry goes when its counts are both 0. */
  private readonly users = new Map<number, NotifyUser>();
  /** Every watch by the file system of its inode, for IN_UNMOUNT. */
  private readonly byFs = new Map<FilesystemImpl, Set<Watch>>();
  private cookie = 0;
  /** Where file systems of host files watch their host change feeds (the platform's); null: host changes go unreported. */
  hostEvents: HostEvents | null = null;

  /** A group made w (attachWatch) / w is gone (NotifyGroup.detached). */
  track(w: Watch): void {
    const fs = w.inode.fs;
    let ws = this.byFs.get(fs);
    if (!ws) this.byFs.set(fs, (ws = new Set()));
    ws.add(w);
    fs.watched?.(w.inode, true, this);
  }

  untrack(w: Watch): void {
    const ws = this.byFs.get(w.inode.fs);
    if (ws && ws.delete(w) && ws.size === 0) this.byFs.delete(w.inode.fs);
    w.inode.fs.watched?.(w.inode, false, this);
  }

  /**
   * fs is mounted nowhere any more: every watch on it gets IN_UNMOUNT and
   * goes (IN_IGNORED), newest inode first as Linux walks its superblock.
   */
  unmounted(fs: FilesystemImpl): void {
    const ws = this.byFs.get(fs);
    if (!ws) return;
    for (const w of [...ws].sort((a, b) => b.inode.ino - a.inode.ino)) {
      w.group.event(w, isDir(w.inode) ? IN_UNMOUNT | IN_ISDIR : IN_UNMOUNT, 0, null);
      detachWatch(w);
    }
  }

  nextCookie(): number {
    this.cookie = (this.cookie + 1) >>> 0;
    return this.cookie;
  }

  user(uid: number): NotifyUser {
    let u = this.users.get(uid);
    if (!u) this.users.set(uid, (u = { instances: 0, watches: 0 }));
    return u;
  }

  /** Drop uid's entry when nothing is counted on it any more. */
  settle(uid: number): void {
    const u = this.users.get(uid);
    if (u && u.instances === 0 && u.watches === 0) this.users.delete(uid);
  }
}

const isDir = (i: Inode) => (i.mode & S_IFMT) === S_IFDIR;

function deliver(inode: Inode, mask: number, cookie: number, name: string | null, unlinked: boolean): void {
  const ws = inode.watches;
  if (!ws) return;
  for (const w of ws.length === 1 ? ws : [...ws]) {
    if (!(w.mask & mask & IN_ALL_EVENTS)) continue;
    if (unlinked && w.mask & IN_EXCL_UNLINK) continue;
    w.group.event(w, mask, cookie, name);
    if (w.mask & IN_ONESHOT) detachWatch(w);
  }
}

/** An event the host reported for inode (a file of a bind mount changed on the host): its watches get it as it came. */
export function notifyWatchers(inode: Inode, mask: number, cookie: number, name: string | null): void {
  deliver(inode, mask, cookie, name, false);
}

/** The host dropped its watch of inode (the file is gone there): every watch of it goes, each group queueing IN_IGNORED. */
export function detachAll(inode: Inode): void {
  for (const w of [...(inode.watches ?? [])]) detachWatch(w);
}

/** Take w off its inode; its group queues IN_IGNORED. */
export function detachWatch(w: Watch): void {
  const ws = w.inode.watches;
  if (ws) {
    const i = ws.indexOf(w);
    if (i >= 0) ws.splice(i, 1);
    if (ws.length === 0) w.inode.watches = null;
  }
  w.group.detached(w);
}

/** Add w to its inode. */
export function attachWatch(w: Watch): void {
  (w.inode.watches ??= []).push(w);
}

/**
 * An event on a file (one of IN_EVENTS_ON_CHILD): its directory's watches
 * get it with the file's name (not after an unlink for IN_EXCL_UNLINK
 * watches), then its own. dentry: where it was reached (null: no directory
 * to tell).
 */
export function notifyFile(dentry: Dentry | null, inode: Inode, mask: number): void {
  const parent = dentry ? dentry.parent : null;
  if (inode.watches === null && (parent === null || parent.inode.watches === null)) return;
  if (isDir(inode)) mask |= IN_ISDIR;
  if (parent && parent.inode.watches && mask & IN_EVENTS_ON_CHILD) deliver(parent.inode, mask, 0, (dentry as Dentry).name, (dentry as Dentry).dead);
  deliver(inode, mask, 0, null, false);
}

/** notifyFile for a location. */
export function notifyPath(p: VPath, mask: number): void {
  notifyFile(p.dentry, p.dentry.inode, mask);
}

/** An event about an entry of directory dir (IN_CREATE, IN_DELETE, IN_MOVED_*). */
export function notifyEntry(dir: Inode, mask: number, name: string, child: Inode, cookie = 0): void {
  if (dir.watches === null) return;
  deliver(dir, isDir(child) ? mask | IN_ISDIR : mask, cookie, name, false);
}

/** An event on the inode itself only (IN_ATTRIB for a link count, IN_MOVE_SELF). */
export function notifyInode(inode: Inode, mask: number): void {
  if (inode.watches === null) return;
  deliver(inode, mask === IN_ATTRIB && isDir(inode) ? mask | IN_ISDIR : mask, 0, null, false);
}

/**
 * The last name of inode went (unlink, rmdir, replaced by a rename):
 * IN_DELETE_SELF and the end of its watches, at once when nothing has it
 * open, else when the last open description goes (Linux sends it when the
 * last dentry reference goes).
 */
export function notifyRemoved(inode: Inode, dir: boolean): void {
  if (inode.watches === null) return;
  if (!dir && inode.linksLeft() > 0) return;
  if (inode.openFiles > 0) {
    inode.deletePending = true;
    return;
  }
  removeNow(inode);
}

function removeNow(inode: Inode): void {
  inode.deletePending = false;
  deliver(inode, IN_DELETE_SELF, 0, null, false);
  const ws = inode.watches;
  if (ws) for (const w of [...ws]) detachWatch(w);
}

/**
 * A rename moved child from oldDir/oldName to newDir/newName (one cookie
 * ties the pair), replacing replaced (which lost a link).
 */
export function notifyMove(cookies: Fsnotify, oldDir: Inode, oldName: string, newDir: Inode, newName: string, child: Inode, replaced: Inode | null): void {
  if (oldDir.watches || newDir.watches) {
    const cookie = cookies.nextCookie();
    notifyEntry(oldDir, IN_MOVED_FROM, oldName, child, cookie);
    notifyEntry(newDir, IN_MOVED_TO, newName, child, cookie);
  }
  if (replaced) notifyInode(replaced, IN_ATTRIB);
  if (child.watches) deliver(child, IN_MOVE_SELF, 0, null, false);
}

/** A description was opened through the VFS (counted until its last reference goes). */
export function notifyOpen(dentry: Dentry | null, inode: Inode, pathOnly: boolean): void {
  inode.openFiles++;
  if (!pathOnly) notifyFile(dentry, inode, IN_OPEN);
}

/** The last reference to a description notifyOpen counted went. */
export function notifyClose(dentry: Dentry | null, inode: Inode, pathOnly: boolean, writable: boolean): void {
  if (!pathOnly) notifyFile(dentry, inode, writable ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);
  if (--inode.openFiles === 0 && inode.deletePending) removeNow(inode);
}

/** The events of an attribute change (Linux's fsnotify_change): IN_ATTRIB, or IN_MODIFY/IN_ACCESS for one time or a size. */
export function changeMask(s: SetAttr): number {
  let m = 0;
  if (s.uid !== undefined || s.gid !== undefined || s.mode !== undefined) m |= IN_ATTRIB;
  if (s.size !== undefined) m |= IN_MODIFY;
  if (s.atimeNs !== undefined && s.mtimeNs !== undefined) m |= IN_ATTRIB;
  else if (s.atimeNs !== undefined) m |= IN_ACCESS;
  else if (s.mtimeNs !== undefined) m |= IN_MODIFY;
  return m;
}

/** fd table owner closed a descriptor of file: groups that keep requests per descriptor drop them. */
export function notifyFlush(file: FileDescription, owner: object): void {
  const ws = file.inode ? file.inode.watches : null;
  if (ws) for (const w of [...ws]) w.group.flush?.(file, owner);
}
