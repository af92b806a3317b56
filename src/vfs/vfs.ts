// The name operations of a mount namespace (open, mkdir, unlink, rename,
// link, symlink, mknod) with their generic checks, over the mount tree and
// its lookups (vfs/mount_tree.ts).
// File systems only implement per-inode operations (see inode.ts).
import { PipeUserPages } from './pipe_pages';
import { Errno, E } from '../abi/errno';
import { monotonicOf, type FileCtx } from './ctx';
import { RESOLVE_NO_XDEV } from '../abi/fs';
import { Dentry, type VPath } from './dentry';
import { MountTree } from './mount_tree';
import { checkLink, checkXdev, isDots, RESOLVE_SCOPED, walk, walkParent, walkState, type Resolver } from './walk';
import { PathFile, type FileDescription, type MaybePromise } from './file';
import { DirectoryFile } from './dir_file';
import { RegularFile } from './regular_file';
import type { CreateSpec, FilesystemImpl, Inode } from './inode';
import { landlockCheckCreate, landlockCheckOpen, landlockCheckRefer, landlockCheckRemove, landlockCheckTruncate } from './landlock';
import { checkAccess, checkDeletable, checkHardlinkSource, checkMutable, checkOwner, checkSticky, createMode, MAY_EXEC, MAY_READ, MAY_WRITE, removePrivileges } from './perm';
import type { AnonDevs, PseudoFs } from './numbering';
import { changeMask, notifyEntry, notifyFile, notifyInode, notifyMove, notifyOpen, notifyPath, notifyRemoved } from './fsnotify';
import { IN_ATTRIB, IN_CREATE, IN_DELETE, IN_MODIFY } from '../abi/inotify';
import type { SetAttr } from '../abi/fs';
import {
  FS_APPEND_FL, O_APPEND, O_ACCMODE, O_CREAT, O_DIRECTORY, O_EXCL, O_NOATIME, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, PATH_MAX,
  RENAME_EXCHANGE, RENAME_NOREPLACE, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_ISGID, SYMLOOP_MAX,
} from '../abi/fs';

/**
 * Opens a FIFO's inode: the pipe implementation lives above the VFS, so the
 * composition root hands it in (a VFS without one refuses FIFOs with ENXIO).
 */
export type FifoOpener = (t: FileCtx, inode: Inode, path: VPath, flags: number, pipefs: PseudoFs, pipeMaxSize: number, pipeUsers: PipeUserPages) => Promise<FileDescription>;

export class VirtualFilesystem extends MountTree {
  private readonly openFifo: FifoOpener | null;
  /** Called when open(O_TRUNC) shrinks a file: the kernel takes its pages out of the mappings. */
  onShrink: ((inode: Inode, size: number) => void) | null = null;

  constructor(rootFs: FilesystemImpl, opts: { openFifo?: FifoOpener; devs?: AnonDevs } = {}) {
    super(rootFs, opts.devs);
    this.openFifo = opts.openFifo ?? null;
  }

  // ------------------------------------------------------------ creating

  /**
   * Mode/owner for a new entry in dir: BSD group semantics under a setgid
   * directory, then the umask (never on symbolic links, always 0777).
   */
  private newSpec(r: Resolver, dir: VPath, type: number, mode: number, extra: Partial<CreateSpec> = {}): CreateSpec {
    const da = dir.dentry.inode.attrs();
    let gid = r.creds.fsgid;
    if (da.mode & S_ISGID) {
      gid = da.gid;
      if (type === S_IFDIR) mode |= S_ISGID;
      else mode = createMode(r.creds, da, type, mode);
    }
    if (type !== S_IFLNK) mode &= ~(r.umask ?? 0);
    return { type, mode: mode & 0o7777, uid: r.creds.fsuid, gid, ...extra };
  }

  private createChecked(r: Resolver, start: VPath, path: string, type: number, mode: number, extra: Partial<CreateSpec> = {}, mayCreate = true): VPath {
    const p = this.resolveParent(r, start, path);
    if (isDots(p.name)) throw new Errno(E.EEXIST);
    if (p.dir.dentry.inode.removedDir) throw new Errno(E.ENOENT);
    if (this.lookupRaw(r, p.dir, p.name)) throw new Errno(E.EEXIST);
    if (p.trailingSlash && type !== S_IFDIR) throw new Errno(E.ENOENT);
    this.checkWritable(p.dir);
    landlockCheckCreate(r.creds, p.dir, type);
    checkAccess(r.creds, p.dir.dentry.inode.attrs(), MAY_WRITE | MAY_EXEC);
    // A device node without CAP_MKNOD: refused after the directory's checks, as Linux's vfs_mknod.
    if (!mayCreate) throw new Errno(E.EPERM);
    const inode = p.dir.dentry.inode.create(p.name, this.newSpec(r, p.dir, type, mode, extra), r.ctx);
    notifyEntry(p.dir.dentry.inode, IN_CREATE, p.name, inode);
    return { mount: p.dir.mount, dentry: this.cacheChild(p.dir, p.name, inode) };
  }

  // -------------------------------------------------------------- name ops

  mkdir(r: Resolver, start: VPath, path: string, mode: number): void {
    this.createChecked(r, start, path, S_IFDIR, mode);
  }

  /** mknod: FIFOs, sockets, regular files and device nodes of number rdev (EPERM unless mayMakeDevice: CAP_MKNOD). */
  mknod(r: Resolver, start: VPath, path: string, type: number, mode: number, rdev = 0, mayMakeDevice = true): VPath {
    const device = type === S_IFCHR || type === S_IFBLK;
    return this.createChecked(r, start, path, type, mode, device ? { rdev } : {}, !device || mayMakeDevice);
  }

  symlink(r: Resolver, target: string, start: VPath, path: string): void {
    if (target.length === 0) throw new Errno(E.ENOENT);
    if (target.length >= PATH_MAX) throw new Errno(E.ENAMETOOLONG);
    this.createChecked(r, start, path, S_IFLNK, 0o777, { target });
  }

  link(r: Resolver, oldStart: VPath, oldPath: string, follow: boolean, newStart: VPath, newPath: string): void {
    this.linkTo(r, this.resolve(r, oldStart, oldPath, follow), newStart, newPath);
  }

  /** Make newPath a hard link to the file at src. */
  linkTo(r: Resolver, src: VPath, newStart: VPath, newPath: string): void {
    const p = this.resolveParent(r, newStart, newPath);
    if (isDots(p.name)) throw new Errno(E.EEXIST);
    if (p.dir.dentry.inode.removedDir) throw new Errno(E.ENOENT);
    if (this.lookupRaw(r, p.dir, p.name)) throw new Errno(E.EEXIST);
    if (p.trailingSlash) throw new Errno(E.ENOENT);
    if (src.mount !== p.dir.mount) throw new Errno(E.EXDEV);
    checkHardlinkSource(r.creds, src.dentry.inode.attrs());
    this.checkWritable(p.dir);
    landlockCheckRefer(r.creds, { mount: src.mount, dentry: src.dentry.parent ?? src.dentry }, src.dentry.inode, p.dir, null, false, false);
    checkAccess(r.creds, p.dir.dentry.inode.attrs(), MAY_WRITE | MAY_EXEC);
    checkMutable(src.dentry.inode.attrs());
    if ((src.dentry.inode.mode & S_IFMT) === S_IFDIR) throw new Errno(E.EPERM);
    // A file whose last name went (open still) cannot get a new one, unless O_TMPFILE made it linkable.
    const target = src.dentry.inode;
    if (target.attrs().nlink === 0 && !target.linkable) throw new Errno(E.ENOENT);
    target.linkable = false;
    p.dir.dentry.inode.link(p.name, src.dentry.inode);
    this.dropChild(p.dir, p.name);
    notifyInode(src.dentry.inode, IN_ATTRIB);
    notifyEntry(p.dir.dentry.inode, IN_CREATE, p.name, src.dentry.inode);
  }

  unlink(r: Resolver, start: VPath, path: string): void {
    const p = this.resolveParent(r, start, path);
    if (isDots(p.name)) throw new Errno(E.EISDIR);
    const c = this.lookupRaw(r, p.dir, p.name);
    if (!c) throw new Errno(E.ENOENT);
    const cp = { mount: p.dir.mount, dentry: c };
    const isDir = (c.inode.mode & S_IFMT) === S_IFDIR;
    if (isDir) throw new Errno(E.EISDIR);
    if (p.trailingSlash) throw new Errno(E.ENOTDIR);
    this.checkWritable(p.dir);
    landlockCheckRemove(r.creds, p.dir, c.inode);
    const da = p.dir.dentry.inode.attrs();
    checkAccess(r.creds, da, MAY_WRITE | MAY_EXEC);
    checkSticky(r.creds, da, c.inode.attrs());
    checkDeletable(da, c.inode.attrs());
    if (this.isMountpoint(cp)) throw new Errno(E.EBUSY);
    p.dir.dentry.inode.unlink(p.name, c.inode);
    this.dropChild(p.dir, p.name);
    notifyInode(c.inode, IN_ATTRIB);
    notifyRemoved(c.inode, false);
    notifyEntry(p.dir.dentry.inode, IN_DELETE, p.name, c.inode);
  }

  rmdir(r: Resolver, start: VPath, path: string): void {
    const p = this.resolveParent(r, start, path);
    if (p.name === '.') throw new Errno(path.split('/').every((x) => x === '') ? E.EBUSY : E.EINVAL);
    if (p.name === '..') throw new Errno(E.ENOTEMPTY);
    const c = this.lookupRaw(r, p.dir, p.name);
    if (!c) throw new Errno(E.ENOENT);
    if ((c.inode.mode & S_IFMT) !== S_IFDIR) throw new Errno(E.ENOTDIR);
    this.checkWritable(p.dir);
    landlockCheckRemove(r.creds, p.dir, c.inode);
    const da = p.dir.dentry.inode.attrs();
    checkAccess(r.creds, da, MAY_WRITE | MAY_EXEC);
    checkSticky(r.creds, da, c.inode.attrs());
    checkDeletable(da, c.inode.attrs());
    if (this.isMountpoint({ mount: p.dir.mount, dentry: c })) throw new Errno(E.EBUSY);
    if (!p.dir.dentry.inode.removesEntries) throw new Errno(E.EPERM);
    if (c.inode.blocksRmdir(r.ctx)) throw new Errno(E.ENOTEMPTY);
    p.dir.dentry.inode.unlink(p.name, c.inode);
    c.inode.removedDir = true;
    this.dropChild(p.dir, p.name);
    notifyRemoved(c.inode, true);
    notifyEntry(p.dir.dentry.inode, IN_DELETE, p.name, c.inode);
  }

  rename(r: Resolver, oldStart: VPath, oldPath: string, newStart: VPath, newPath: string, flags: number): void {
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) throw new Errno(E.EINVAL);
    if (flags & RENAME_NOREPLACE && flags & RENAME_EXCHANGE) throw new Errno(E.EINVAL);
    const a = this.resolveParent(r, oldStart, oldPath);
    const b = this.resolveParent(r, newStart, newPath);
    if (isDots(a.name) || isDots(b.name)) throw new Errno(flags & RENAME_NOREPLACE ? E.EEXIST : E.EBUSY);
    if (a.dir.mount !== b.dir.mount) throw new Errno(E.EXDEV);
    const src = this.lookupRaw(r, a.dir, a.name);
    if (!src || b.dir.dentry.inode.removedDir) throw new Errno(E.ENOENT);
    const dst = this.lookupRaw(r, b.dir, b.name);
    const srcDir = (src.inode.mode & S_IFMT) === S_IFDIR;
    const dstDir = dst ? (dst.inode.mode & S_IFMT) === S_IFDIR : false;
    if ((a.trailingSlash && !srcDir) || (b.trailingSlash && !srcDir && (!dst || !dstDir))) throw new Errno(E.ENOTDIR);
    if (flags & RENAME_NOREPLACE && dst) throw new Errno(E.EEXIST);
    if (flags & RENAME_EXCHANGE && !dst) throw new Errno(E.ENOENT);
    this.checkWritable(a.dir);
    landlockCheckRefer(r.creds, a.dir, src.inode, b.dir, dst ? dst.inode : null, true, (flags & RENAME_EXCHANGE) !== 0);
    const ada = a.dir.dentry.inode.attrs();
    const bda = b.dir.dentry.inode.attrs();
    checkAccess(r.creds, ada, MAY_WRITE | MAY_EXEC);
    checkAccess(r.creds, bda, MAY_WRITE | MAY_EXEC);
    if (dst && dst.inode === src.inode) return; // same file: nothing to do (POSIX)
    const m = a.dir.mount;
    if (this.isMountpoint({ mount: m, dentry: src }) || (dst && this.isMountpoint({ mount: m, dentry: dst }))) throw new Errno(E.EBUSY);
    const under = (d: Dentry, anc: Dentry) => {
      for (let x: Dentry | null = d; x; x = x.parent) if (x === anc) return true;
      return false;
    };
    if (srcDir && under(b.dir.dentry, src)) throw new Errno(E.EINVAL);
    if (dst) {
      if (flags & RENAME_EXCHANGE) {
        if (dstDir && under(a.dir.dentry, dst)) throw new Errno(E.EINVAL);
      } else {
        if (srcDir && !dstDir) throw new Errno(E.ENOTDIR);
        if (!srcDir && dstDir) throw new Errno(E.EISDIR);
        if (dstDir && (under(a.dir.dentry, dst) || dst.inode.readdir(r.ctx).length > 0)) throw new Errno(E.ENOTEMPTY);
      }
      checkSticky(r.creds, bda, dst.inode.attrs());
      checkDeletable(bda, dst.inode.attrs());
    }
    checkSticky(r.creds, ada, src.inode.attrs());
    checkDeletable(ada, src.inode.attrs());
    a.dir.dentry.inode.rename(a.name, b.dir.dentry.inode, b.name, flags);
    // Keep the dentry cache in step with the file system.
    a.dir.dentry.children?.delete(a.name);
    if (dst) b.dir.dentry.children?.delete(b.name);
    src.parent = b.dir.dentry;
    src.name = b.name;
    if (!m.fs.dynamic) this.cache(b.dir.dentry, b.name, src);
    if (dst) {
      if (flags & RENAME_EXCHANGE) {
        dst.parent = a.dir.dentry;
        dst.name = a.name;
        if (!m.fs.dynamic) this.cache(a.dir.dentry, a.name, dst);
      } else {
        dst.dead = true;
        if (dstDir) dst.inode.removedDir = true;
        this.dentries.forget(dst);
      }
    }
    const exchange = (flags & RENAME_EXCHANGE) !== 0;
    notifyMove(this.notify, a.dir.dentry.inode, a.name, b.dir.dentry.inode, b.name, src.inode, dst && !exchange ? dst.inode : null);
    if (dst && exchange) notifyMove(this.notify, b.dir.dentry.inode, b.name, a.dir.dentry.inode, a.name, dst.inode, null);
    if (dst && !exchange) notifyRemoved(dst.inode, dstDir);
  }

  /** Change attributes of the file at p (chmod, chown, utimes, truncate): Linux's notify_change, with its events. */
  setattr(p: VPath, s: SetAttr): void {
    p.dentry.inode.setattr(s);
    const m = changeMask(s);
    if (m) notifyPath(p, m);
  }

  readlink(r: Resolver, start: VPath, path: string): string {
    const p = this.resolve(r, start, path, false);
    if ((p.dentry.inode.mode & S_IFMT) !== S_IFLNK) throw new Errno(E.EINVAL);
    return p.dentry.inode.readlink(r.ctx);
  }

  // -------------------------------------------------------------------- open

  /**
   * open(2): resolve, create if asked, check permissions, and build the open
   * file description. mode is the one asked for: newSpec applies r.umask. May block (FIFOs).
   */
  open(t: FileCtx, r: Resolver, start: VPath, path: string, flags: number, mode: number, resolve = 0): MaybePromise<FileDescription> {
    const st = walkState(r);
    if (resolve) {
      // openat2: RESOLVE_BENEATH and RESOLVE_IN_ROOT resolve within the starting directory, as if it were the root.
      st.resolve = resolve;
      if (resolve & RESOLVE_SCOPED) st.root = start;
      if (resolve & RESOLVE_NO_XDEV) st.xdevMount = start.mount;
    }
    let created = false;
    let target: VPath;
    if (flags & O_CREAT) {
      let dirStart = start;
      let p = path;
      for (;;) {
        const pr = walkParent(this, st, dirStart, p);
        if (isDots(pr.name)) throw new Errno(E.EISDIR);
        if (pr.dir.dentry.inode.removedDir) throw new Errno(E.ENOENT);
        const child = this.lookupChild(st, pr.dir, pr.name);
        if (!child) {
          if (pr.trailingSlash) throw new Errno(E.EISDIR);
          this.checkWritable(pr.dir);
          landlockCheckCreate(r.creds, pr.dir, S_IFREG);
          checkAccess(r.creds, pr.dir.dentry.inode.attrs(), MAY_WRITE | MAY_EXEC);
          const inode = pr.dir.dentry.inode.create(pr.name, this.newSpec(r, pr.dir, S_IFREG, mode), r.ctx);
          notifyEntry(pr.dir.dentry.inode, IN_CREATE, pr.name, inode);
          target = { mount: pr.dir.mount, dentry: this.cacheChild(pr.dir, pr.name, inode) };
          created = true;
          break;
        }
        if (flags & O_EXCL) throw new Errno(E.EEXIST);
        checkXdev(st, child);
        if ((child.dentry.inode.mode & S_IFMT) === S_IFLNK) {
          if (flags & O_NOFOLLOW) throw new Errno(E.ELOOP);
          if (++st.links > SYMLOOP_MAX) throw new Errno(E.ELOOP);
          const magic = child.dentry.inode.resolveLink(r.ctx);
          if (st.resolve) checkLink(st, magic);
          if (magic) {
            target = magic;
            break;
          }
          p = child.dentry.inode.readlink(r.ctx);
          if (p.length === 0) throw new Errno(E.ENOENT);
          dirStart = pr.dir;
          continue;
        }
        if ((child.dentry.inode.mode & S_IFMT) === S_IFDIR) throw new Errno(E.EISDIR);
        if (pr.trailingSlash) throw new Errno(E.ENOTDIR);
        target = child;
        break;
      }
    } else {
      // Read only: a hint to the lookups (a file system may bring the file's read descriptor along: the Gofer client).
      if ((flags & (O_ACCMODE | O_PATH | O_TRUNC | O_DIRECTORY)) === O_RDONLY) st.openRead = true;
      target = walk(this, st, start, path, !(flags & O_NOFOLLOW));
      if ((target.dentry.inode.mode & S_IFMT) === S_IFLNK && !(flags & O_PATH)) throw new Errno(E.ELOOP);
    }
    return this.openAt(t, r, target, flags, created);
  }

  /**
   * O_TMPFILE: an unnamed regular file in dir's file system, opened with
   * flags (O_TMPFILE's own bits taken out); linkable (linkat may name it)
   * unless O_EXCL. Its dentry is a dead "#ino" under dir, as Linux shows it
   * in /proc/PID/fd ("dir/#ino (deleted)").
   */
  openTmpfile(t: FileCtx, r: Resolver, dir: VPath, flags: number, mode: number): MaybePromise<FileDescription> {
    if ((dir.dentry.inode.mode & S_IFMT) !== S_IFDIR) throw new Errno(E.ENOTDIR);
    this.checkWritable(dir);
    checkAccess(r.creds, dir.dentry.inode.attrs(), MAY_WRITE | MAY_EXEC);
    const inode = dir.dentry.inode.createUnnamed(this.newSpec(r, dir, S_IFREG, mode));
    inode.linkable = (flags & O_EXCL) === 0;
    const d = new Dentry(inode, `#${inode.ino}`, dir.dentry);
    d.dead = true;
    return this.openAt(t, r, { mount: dir.mount, dentry: d }, flags & ~O_EXCL, true);
  }

  /** Open an already resolved location (also used to reopen /proc/self/fd/N). */
  openAt(t: FileCtx, r: Resolver, p: VPath, flags: number, created = false): MaybePromise<FileDescription> {
    const inode = p.dentry.inode;
    const type = inode.mode & S_IFMT;
    if (flags & O_DIRECTORY && type !== S_IFDIR) throw new Errno(E.ENOTDIR);
    if (flags & O_PATH) return opened(new PathFile(p, inode, flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW)));
    // Access mode 3 (O_WRONLY|O_RDWR) is accepted as on Linux: it needs read and
    // write permission and gives neither (ioctl-only descriptors).
    const acc = flags & O_ACCMODE;
    const wantWrite = acc !== O_RDONLY || (flags & O_TRUNC) !== 0;
    if (type === S_IFDIR && (wantWrite || flags & O_CREAT)) throw new Errno(E.EISDIR);
    if (!created) {
      let want = 0;
      if (acc !== 1) want |= MAY_READ;
      if (wantWrite) want |= MAY_WRITE;
      const a = inode.attrs();
      checkAccess(r.creds, a, want);
      // An append-only file opens for writing only with O_APPEND, and never truncates.
      if ((a.flags ?? 0) & FS_APPEND_FL && ((acc !== O_RDONLY && !(flags & O_APPEND)) || flags & O_TRUNC)) throw new Errno(E.EPERM);
      if (flags & O_NOATIME) checkOwner(r.creds, a);
    }
    if (type === S_IFLNK) throw new Errno(E.ELOOP);
    if (type === S_IFSOCK) throw new Errno(E.ENXIO);
    // Device nodes on a nodev mount do not open.
    if ((type === S_IFCHR || type === S_IFBLK) && p.mount.flags.nodev) throw new Errno(E.EACCES);
    if (wantWrite && (type === S_IFREG || type === S_IFDIR)) this.checkWritable(p);
    // Landlock's file_open hook: after the permission checks, for files just created too.
    const ll = landlockCheckOpen(r.creds, p, acc === O_RDONLY || acc === O_RDWR, acc === O_WRONLY || acc === O_RDWR);
    const done = (f: FileDescription): FileDescription => {
      f.landlockAllowed = ll;
      return opened(f);
    };
    // Landlock's file_truncate hook for O_TRUNC (regular files only, not one just created): the right the open just kept.
    if (type === S_IFREG && flags & O_TRUNC && !created) landlockCheckTruncate(ll);
    // 64-bit Linux always sets O_LARGEFILE; F_GETFL shows it.
    const fflags = (flags & ~(O_CREAT | O_EXCL | O_TRUNC | 0o400 /* O_NOCTTY */ | 0o2000000 /* O_CLOEXEC */)) | 0o100000;
    let custom = inode.open(r.ctx, p, fflags, flags);
    // A device node made with mknod opens the sandbox's device of that number, if it has one (else ENXIO below).
    if (!custom && (type === S_IFCHR || type === S_IFBLK)) custom = this.deviceNode(type, inode.attrs().rdev)?.open(r.ctx, p, fflags, flags) ?? null;
    if (custom) return done(custom);
    if (type === S_IFIFO) {
      if (!this.openFifo) throw new Errno(E.ENXIO);
      const f = this.openFifo(t, inode, p, fflags, this.pipefs, this.pipeMaxSize, this.pipeUsers);
      return f instanceof Promise ? f.then(done) : done(f);
    }
    if (type === S_IFDIR) return done(new DirectoryFile(p, inode, fflags, r.ctx));
    if (type !== S_IFREG) throw new Errno(E.ENXIO); // device nodes with no driver
    const truncate = (flags & O_TRUNC) !== 0 && !created;
    // A program running from the file cannot be opened for writing (nor truncated by the open).
    if ((acc === O_WRONLY || acc === O_RDWR || truncate) && inode.writeCount < 0) throw new Errno(E.ETXTBSY);
    const f = new RegularFile(p, inode, fflags);
    f.countOpen();
    const finish = (): FileDescription => {
      if (truncate) {
        removePrivileges(r.creds, inode);
        if (inode.attrs().size !== 0) {
          inode.setattr({ size: 0 });
          this.onShrink?.(inode, 0);
        }
      }
      done(f);
      // Linux truncates after the open (IN_OPEN, then IN_MODIFY), even an empty file.
      if (truncate) notifyFile(p.dentry, inode, IN_MODIFY);
      return f;
    };
    // Leases of other descriptions are broken first, the open counted as a writer already (as Linux's order).
    if (!inode.locks?.hasLeases) return finish();
    return this.breakLeases(t, inode, acc !== O_RDONLY || truncate, (flags & O_NONBLOCK) !== 0).then(finish, (e: unknown) => {
      f.decRef();
      throw e;
    });
  }

  /** lease-break-time (/proc/sys/fs): seconds a lease holder has to give way before the break is forced. */
  leaseBreakSecs = 45;
  /** pipe-max-size (/proc/sys/fs): the largest pipe buffer a process without CAP_SYS_RESOURCE may have. */
  pipeMaxSize = 1048576;
  /** nr_open (/proc/sys/fs): the most descriptors a table may have (RLIMIT_NOFILE's ceiling; a copy of a larger table is EMFILE). */
  nrOpen = 1048576;
  /** Pipe pages per user and fs.pipe-user-pages-soft/-hard (/proc/sys/fs), the sandbox's own. */
  readonly pipeUsers = new PipeUserPages();

  /** An open (or a truncate) that conflicts with leases on inode waits for them to be broken (locks.ts). */
  breakLeases(t: FileCtx, inode: Inode, forWrite: boolean, nonblock: boolean): Promise<void> {
    const locks = inode.locks;
    if (!locks?.hasLeases) return Promise.resolve();
    return locks.breakLeases(t, forWrite, nonblock, monotonicOf(t), this.leaseBreakSecs * 1e9);
  }
}

/** The open's IN_OPEN, and the count that holds IN_DELETE_SELF back while the description lives. */
function opened(f: FileDescription): FileDescription {
  if (f.inode && !f.notifyOpened) {
    f.notifyOpened = true;
    notifyOpen(f.path ? f.path.dentry : null, f.inode, (f.flags & O_PATH) !== 0);
  }
  return f;
}
