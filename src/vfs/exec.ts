// What the loader needs to execute a file: resolve it with execve(2)'s rules
// and read it. Errors: ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, EACCES (search
// permission, not a regular file, no execute permission, noexec mount).
import { Errno, E } from '../abi/errno';
import type { Credentials } from '../auth/creds';
import type { VPath } from './dentry';
import type { Inode } from './inode';
import type { FsContext } from './fs_context';
import type { Mappable } from '../mm/mappable';
import { landlockCheckOpen } from './landlock';
import { checkAccess, MAY_EXEC, MAY_READ, XATTR_SECURITY_CAPABILITY } from './perm';
import { S_IFLNK, S_IFMT, S_IFREG } from '../abi/fs';
import type { VirtualFilesystem } from './vfs';
import { notifyClose, notifyFile, notifyOpen } from './fsnotify';
import { IN_ACCESS } from '../abi/inotify';

export interface ExecTask {
  fs: FsContext;
  creds: Credentials;
  kernel: { vfs: VirtualFilesystem };
}

export interface ExecFile {
  read(off: number, len: number): Buffer;
  size: number;
  /** Absolute path in the namespace (for /proc/self/exe and AT_EXECFN-style uses). */
  path: string;
  mode: number;
  uid: number;
  gid: number;
  mappable: Mappable | null;
  /** The location, to keep as the process's exe link. */
  vpath: VPath;
  /** security.capability (file capabilities), if set. */
  caps: Buffer | null;
  nosuid: boolean;
  /** The caller may read it (a program that cannot be read makes the process non-dumpable). */
  readable: boolean;
  /** Held by the mappings of the program: while any is, the file cannot be opened for writing. */
  hold: DenyWrite;
}

/**
 * Linux's deny_write_access for a running program: while the VMAs that map
 * it live (until the process exits or executes another program), opening
 * the file for writing is ETXTBSY (inode.writeCount < 0).
 */
class DenyWrite {
  private refs = 0;
  private readonly denies: boolean;
  constructor(private readonly inode: Inode) {
    this.denies = !inode.execWhileWritable;
  }
  incRef(): void {
    if (this.refs++ === 0 && this.denies) this.inode.writeCount--;
  }
  decRef(): void {
    if (--this.refs === 0 && this.denies) this.inode.writeCount++;
  }
}

export function openForExec(t: ExecTask, path: string, start: VPath = t.fs.cwd, follow = true): ExecFile {
  const vfs = t.kernel.vfs;
  const r = t.fs.resolver(t.creds, t);
  // The file is read next (its headers, then its pages): a hint that lets the Gofer client bring its descriptor with the lookup.
  const vp = vfs.resolve(r, start, path, follow, true);
  return execFileAt(t, vp);
}

/** execveat/fexecve on an already resolved location; a symlink (AT_SYMLINK_NOFOLLOW, an O_PATH fd of one) is ELOOP. */
export function execFileAt(t: ExecTask, vp: VPath): ExecFile {
  const inode = vp.dentry.inode;
  const a = inode.attrs();
  if ((a.mode & S_IFMT) === S_IFLNK) throw new Errno(E.ELOOP);
  if ((a.mode & S_IFMT) !== S_IFREG) throw new Errno(E.EACCES);
  if (vp.mount.flags.noexec) throw new Errno(E.EACCES);
  checkAccess(t.creds, a, MAY_EXEC);
  // Landlock: the exec's open is a read that runs the file.
  landlockCheckOpen(t.creds, vp, true, false, true);
  // A file open for writing cannot be executed.
  if (inode.writeCount > 0 && !inode.execWhileWritable) throw new Errno(E.ETXTBSY);
  let readable = true;
  try {
    checkAccess(t.creds, a, MAY_READ);
  } catch {
    readable = false;
  }
  return {
    caps: inode.xattrs?.get(XATTR_SECURITY_CAPABILITY) ?? null,
    nosuid: vp.mount.flags.nosuid === true,
    readable,
    read: (off: number, len: number) => inode.readAt(off, len),
    size: a.size,
    path: t.kernel.vfs.pathname(null, vp).path,
    mode: a.mode,
    uid: a.uid,
    gid: a.gid,
    mappable: inode.mappable(),
    vpath: vp,
    hold: new DenyWrite(inode),
  };
}

/** What execOpen gives the loader for a file it executes. */
export interface ExecOpened {
  /** One reference per mapping of the file (each also denies writing, as ExecFile.hold). */
  hold: { incRef(): void; decRef(): void };
  /** The same without denying writes (the interpreter's mappings: Linux lets it be written once loaded). */
  keepOpen: { incRef(): void; decRef(): void };
  /** The loader read the file (IN_ACCESS). */
  accessed(): void;
  /** The exec is done with the file: its own reference goes (the mappings keep theirs). */
  done(): void;
}

/**
 * A file being executed is open as Linux's open_exec opens it: IN_OPEN and
 * an open count now (an unlinked program stays until it is done with),
 * IN_ACCESS for each read the loader reports, IN_CLOSE_NOWRITE when the
 * last reference goes: the exec's own (done, once loading is over) or that
 * of the last mapping of the file (the process's exit or next exec).
 */
export function execOpen(f: ExecFile): ExecOpened {
  const dentry = f.vpath.dentry;
  const inode = dentry.inode;
  notifyOpen(dentry, inode, false);
  let refs = 1;
  let own = true;
  const drop = (): void => {
    if (refs > 0 && --refs === 0) notifyClose(dentry, inode, false, false);
  };
  return {
    hold: {
      incRef: () => {
        refs++;
        f.hold.incRef();
      },
      decRef: () => {
        f.hold.decRef();
        drop();
      },
    },
    keepOpen: {
      incRef: () => {
        refs++;
      },
      decRef: drop,
    },
    accessed: () => notifyFile(dentry, inode, IN_ACCESS),
    done: () => {
      if (own) drop();
      own = false;
    },
  };
}
