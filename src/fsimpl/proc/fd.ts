// /proc/PID/fd and /proc/PID/fdinfo. Each fd/N is a magic link: readlink
// gives the file's path (or "pipe:[ino]", "socket:[ino]", "anon_inode:[...]",
// a device name for the caller's terminal); following it reaches the open
// file itself, so that opening /proc/self/fd/N (and /dev/fd/N, /dev/stdin...)
// opens the same file again. Files without a location (pipes, donated host
// fds) are reached through a private dentry whose inode reopens them.
import { Errno, E } from '../../abi/errno';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { Dentry, type VPath } from '../../vfs/dentry';
import type { FileDescription } from '../../vfs/file';
import {
  devMajor, devMinor, O_CLOEXEC, S_IFCHR, S_IFIFO, S_IFMT, S_IFSOCK,
  type InodeAttrs,
} from '../../abi/fs';
import { HostFdFile } from '../hostfd/hostfd';
import { PipeFile } from '../pipe/pipe';
import { ProcInode, type Entry, type NodeMaker, type OwnerFn } from './nodes';
import type { ProcFs } from './procfs';
import { callerRoot, checkInspect, displayPath, ensureExists, hasResources } from './task_info';

/** Optional protocol: a file description without a path names itself for /proc/PID/fd (e.g. "anon_inode:[eventfd]"). */
export interface ProcNamed {
  procName(): string;
}

/** Optional protocol: lines a description adds to its /proc/PID/fdinfo/N (eventfd's count). */
interface FdInfoExtra {
  fdinfo(): string;
}

function hasFdInfo(f: FileDescription): f is FileDescription & FdInfoExtra {
  return typeof (f as Partial<FdInfoExtra>).fdinfo === 'function';
}

function hasProcName(f: FileDescription): f is FileDescription & ProcNamed {
  return typeof (f as Partial<ProcNamed>).procName === 'function';
}

const CHAR_NAMES: Record<string, string> = {
  '1:3': '/dev/null', '1:5': '/dev/zero', '1:7': '/dev/full', '1:8': '/dev/random', '1:9': '/dev/urandom',
  '5:0': '/dev/tty', '5:1': '/dev/console', '5:2': '/dev/ptmx',
};

/** A name for a character device number, as it would appear under /dev. */
export function charDeviceName(rdev: number): string {
  const major = devMajor(rdev);
  const minor = devMinor(rdev);
  const known = CHAR_NAMES[`${major}:${minor}`];
  if (known) return known;
  if (major >= 136 && major <= 143) return `/dev/pts/${(major - 136) * 256 + minor}`;
  if (major === 4 && minor < 64) return `/dev/tty${minor}`;
  if (major === 4) return `/dev/ttyS${minor - 64}`;
  return `/dev/char/${major}:${minor}`;
}

function anonKind(f: FileDescription): string {
  const n = f.constructor.name.toLowerCase();
  if (n.includes('eventfd')) return '[eventfd]';
  if (n.includes('epoll')) return '[eventpoll]';
  if (n.includes('signalfd')) return '[signalfd]';
  if (n.includes('timerfd')) return '[timerfd]';
  if (n.includes('inotify')) return 'inotify';
  if (n.includes('pidfd')) return '[pidfd]';
  return '[unknown]';
}

function safeStat(f: FileDescription): InodeAttrs | null {
  try {
    return f.stat();
  } catch {
    return null;
  }
}

function safeIno(f: FileDescription): number {
  try {
    return f.ids().ino;
  } catch {
    return 0;
  }
}

/** What readlink(/proc/PID/fd/N) returns for f, paths shown from root. */
export function fdLinkName(f: FileDescription, root: VPath | null): string {
  if (f.path) return displayPath(f.path, root);
  if (hasProcName(f)) return f.procName();
  if (f instanceof PipeFile) return `pipe:[${f.pipe.ino}]`;
  const a = safeStat(f);
  const type = a ? a.mode & S_IFMT : 0;
  if (type === S_IFIFO) return `pipe:[${safeIno(f)}]`;
  if (type === S_IFSOCK) return `socket:[${safeIno(f)}]`;
  if (f instanceof HostFdFile) {
    if (type === S_IFCHR && a) return charDeviceName(a.rdev);
    return `host:[${safeIno(f)}]`;
  }
  return `anon_inode:${anonKind(f)}`;
}

/** The inode a pathless file is reached through: its attributes, and a reopen. */
class FdTargetInode extends ProcInode {
  constructor(fs: ProcFs, private readonly file: FileDescription, owner: OwnerFn) {
    super(fs, safeIno(file), safeStat(file)?.mode ?? 0, owner, fs.birthNs);
  }
  override attrs(): InodeAttrs {
    const a = safeStat(this.file) ?? super.attrs();
    const o = this.owner();
    return { ...a, uid: o.uid, gid: o.gid };
  }
  override open(_ctx: unknown, _path: VPath, flags: number): FileDescription {
    const f = this.file;
    if (f instanceof PipeFile) return new PipeFile(f.pipe, flags);
    if (f instanceof HostFdFile) return f.reopen(flags);
    throw new Errno(E.ENXIO);
  }
}

/** Where following /proc/PID/fd/N leads. */
export function fdTarget(fs: ProcFs, f: FileDescription, owner: OwnerFn, name: string): VPath {
  if (f.path) return f.path;
  return { mount: fs.anonMount, dentry: new Dentry(new FdTargetInode(fs, f, owner), name, null) };
}

function fileOf(t: Task, fd: number): FileDescription {
  try {
    return t.fdTable.getRaw(fd);
  } catch {
    throw new Errno(E.ENOENT);
  }
}

function linkPerm(f: FileDescription): number {
  // An O_PATH description is neither readable nor writable: no bits at all.
  return (f.readable ? 0o500 : 0) | (f.writable ? 0o300 : 0);
}

function fdNumbers(tg: ThreadGroup, t: Task): number[] {
  return hasResources(tg, t) ? t.fdTable.fds() : [];
}

function parseFd(name: string): number | null {
  if (!/^(0|[1-9]\d{0,9})$/.test(name)) return null;
  return Number(name);
}

/** The fd/ directory of a task. */
export function fdDir(m: NodeMaker, tg: ThreadGroup, t: Task): Entry {
  const fs = m.fs;
  const k = fs.kernel;
  const sub = m.sub('fd');
  const entry = (fd: number): Entry => {
    const name = String(fd);
    const perm = (() => {
      try {
        return linkPerm(t.fdTable.getRaw(fd));
      } catch {
        return 0o700;
      }
    })();
    return sub.link(name, {
      size: 64,
      target: (ctx) => {
        ensureExists(tg);
        checkInspect(k, ctx, t);
        return fdLinkName(fileOf(t, fd), callerRoot(k, ctx));
      },
      resolve: (ctx) => {
        ensureExists(tg);
        checkInspect(k, ctx, t);
        const f = fileOf(t, fd);
        return fdTarget(fs, f, m.owner, fdLinkName(f, null));
      },
    }, perm);
  };
  return m.dir('fd', {
    list: () => fdNumbers(tg, t).map(entry),
    find: (name) => findFd(tg, t, name, entry),
  }, 0o500);
}

/** Look up fd/N or fdinfo/N: only descriptors the task has open. */
function findFd(tg: ThreadGroup, t: Task, name: string, entry: (fd: number) => Entry) {
  const fd = parseFd(name);
  if (fd === null || !hasResources(tg, t) || !t.fdTable.has(fd)) return null;
  return entry(fd)[1]();
}

/** The text of /proc/PID/fdinfo/N. */
export function fdinfoText(f: FileDescription, cloexec: boolean): string {
  const flags = f.flags | (cloexec ? O_CLOEXEC : 0);
  const base = `pos:\t${f.offset}\nflags:\t0${flags.toString(8)}\nmnt_id:\t${f.path ? f.path.mount.id : 0}\nino:\t${safeIno(f)}\n`;
  return hasFdInfo(f) ? base + f.fdinfo() : base;
}

/** The fdinfo/ directory of a task. */
export function fdinfoDir(m: NodeMaker, tg: ThreadGroup, t: Task): Entry {
  const sub = m.sub('fdinfo');
  const entry = (fd: number): Entry =>
    sub.file(String(fd), () => {
      ensureExists(tg);
      const f = fileOf(t, fd);
      return fdinfoText(f, t.fdTable.getCloexec(fd));
    });
  return m.dir('fdinfo', {
    list: () => fdNumbers(tg, t).map(entry),
    find: (name) => findFd(tg, t, name, entry),
  }, 0o500);
}
