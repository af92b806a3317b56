// dnotify (fcntl F_NOTIFY): a directory's changes signal the owner of a
// descriptor of it, on the same hooks as inotify (vfs/fsnotify.ts). The
// requests on one directory are one group with one watch on its inode; each
// request is a (description, fd table) pair, as Linux keys it, and goes when
// that table closes a descriptor of the description, or after its first
// event without DN_MULTISHOT. Events count for the directory's entries and
// the directory itself, not for anything deeper.
import { E, Errno } from '../abi/errno';
import { S_IFDIR, S_IFMT } from '../abi/fs';
import {
  IN_ACCESS, IN_ATTRIB, IN_CREATE, IN_DELETE, IN_ISDIR, IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO,
} from '../abi/inotify';
import { POLLIN, POLLMSG, POLLRDNORM } from '../abi/poll';
import type { Kernel } from '../kernel/kernel';
import type { Task } from '../kernel/task';
import { attachWatch, detachWatch, Watch, type NotifyGroup } from '../vfs/fsnotify';
import type { FileDescription } from '../vfs/file';
import type { Inode } from '../vfs/inode';
import { F_OWNER_PID, sendSigio, setOwner } from './fasync';

const DN_ACCESS = 0x1, DN_MODIFY = 0x2, DN_CREATE = 0x4, DN_DELETE = 0x8, DN_RENAME = 0x10, DN_ATTRIB = 0x20;
const DN_MULTISHOT = 0x80000000;
const POLL_MSG = 3;

interface Request {
  file: FileDescription;
  /** The fd table that asked (Linux's current->files). */
  owner: object;
  /** si_fd of the signal. */
  fd: number;
  /** DN_* bits. */
  dn: number;
}

/** The inotify events a DN_* mask stands for. */
function eventsOf(dn: number): number {
  let m = 0;
  if (dn & DN_ACCESS) m |= IN_ACCESS;
  if (dn & DN_MODIFY) m |= IN_MODIFY;
  if (dn & DN_CREATE) m |= IN_CREATE | IN_MOVED_TO;
  if (dn & DN_DELETE) m |= IN_DELETE | IN_MOVED_FROM;
  // A rename inside the directory is seen as its IN_MOVED_FROM/IN_MOVED_TO pair.
  if (dn & DN_RENAME) m |= IN_MOVED_FROM | IN_MOVED_TO;
  if (dn & DN_ATTRIB) m |= IN_ATTRIB;
  return m;
}

class DirNotify implements NotifyGroup {
  readonly requests: Request[] = [];
  readonly watch: Watch;
  /** The cookie of the last IN_MOVED_FROM here: an IN_MOVED_TO with it is a rename inside the directory. */
  private fromCookie = -1;

  constructor(private readonly k: Kernel, inode: Inode) {
    this.watch = new Watch(this, inode, 0, 0, 0);
    attachWatch(this.watch);
  }

  add(file: FileDescription, owner: object, fd: number, dn: number): void {
    const r = this.requests.find((x) => x.file === file && x.owner === owner);
    if (r) {
      r.fd = fd;
      r.dn = (r.dn | dn) >>> 0;
    } else this.requests.push({ file, owner, fd, dn: dn >>> 0 });
    this.update();
  }

  private update(): void {
    if (this.requests.length === 0) {
      detachWatch(this.watch);
      return;
    }
    this.watch.mask = this.requests.reduce((m, r) => m | eventsOf(r.dn), 0);
  }

  event(_w: Watch, mask: number, cookie: number, name: string | null): void {
    // Events on files count when reported to their directory (with a name); the directory's own always.
    if (name === null && !(mask & IN_ISDIR)) return;
    let rename = false;
    if (mask & IN_MOVED_FROM) this.fromCookie = cookie;
    else if (mask & IN_MOVED_TO) {
      rename = cookie !== 0 && cookie === this.fromCookie;
      this.fromCookie = -1;
    }
    // Linux's FS_RENAME is an event of its own: one signal more for DN_RENAME.
    if (rename) this.fire((r) => (r.dn & DN_RENAME) !== 0);
    this.fire((r) => (eventsOf(r.dn & ~DN_RENAME) & mask) !== 0);
  }

  private fire(matches: (r: Request) => boolean): void {
    let removed = false;
    for (const r of [...this.requests]) {
      if (!matches(r)) continue;
      const a = r.file.async;
      if (a && a.owner !== 0) sendSigio(this.k, a, r.fd, POLL_MSG, POLLIN | POLLRDNORM | POLLMSG);
      if (!(r.dn & DN_MULTISHOT)) {
        this.requests.splice(this.requests.indexOf(r), 1);
        removed = true;
      }
    }
    if (removed) this.update();
  }

  detached(): void {
    this.requests.length = 0;
  }

  flush(file: FileDescription, owner: object): void {
    const before = this.requests.length;
    for (let i = this.requests.length - 1; i >= 0; i--) {
      const r = this.requests[i];
      if (r.file === file && r.owner === owner) this.requests.splice(i, 1);
    }
    if (this.requests.length !== before) this.update();
  }
}

function groupOf(inode: Inode): DirNotify | null {
  const w = inode.watches?.find((x) => x.group instanceof DirNotify);
  return w ? (w.group as DirNotify) : null;
}

/** fcntl(fd, F_NOTIFY, arg): the caller's process becomes the description's owner, as on Linux. */
export function fcntlNotify(t: Task, fd: number, f: FileDescription, arg: number): number {
  const inode = f.inode;
  if (!inode || (inode.mode & S_IFMT) !== S_IFDIR) throw new Errno(E.ENOTDIR);
  let g = groupOf(inode);
  if ((arg & ~DN_MULTISHOT) === 0) {
    g?.flush(f, t.fdTable);
    return 0;
  }
  setOwner(t, f, F_OWNER_PID, t.tg.pid);
  if (!g) g = new DirNotify(t.kernel, inode);
  g.add(f, t.fdTable, fd, arg);
  return 0;
}
