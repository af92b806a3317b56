// Path resolution (man 7 path_resolution): a path walked component by
// component from a starting point or the resolver's root, with mount
// crossings, "..", symlinks (at most SYMLOOP_MAX) and openat2's RESOLVE_*
// scoping. The lookups themselves (the dentry cache, the mount table) are
// the VirtualFilesystem's, reached through PathLookup.
import { Errno, E } from '../abi/errno';
import type { Credentials } from '../auth/creds';
import { NAME_MAX, PATH_MAX, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, S_IFDIR, S_IFLNK, S_IFMT, SYMLOOP_MAX } from '../abi/fs';
import { samePath, type Mount, type VPath } from './dentry';
import { checkAccess, MAY_EXEC } from './perm';
import type { LookupAhead } from './inode';

/** Who resolves a path and from where: the caller's credentials and root (chroot). */
export interface Resolver {
  creds: Credentials;
  root: VPath;
  /** Passed to file systems (procfs resolves "self" with it). */
  ctx: unknown;
  /**
   * The creating task's umask, applied by the VFS to new entries after the
   * set-group-ID decision, which Linux takes on the mode asked for (absent:
   * the mode given is final).
   */
  umask?: number;
}

export interface WalkState extends Resolver {
  links: number;
  /** openat2's RESOLVE_* flags (0 for every other lookup). */
  resolve?: number;
  /** RESOLVE_NO_XDEV: the mount every step must stay on (the starting point's). */
  xdevMount?: Mount;
  /** The walk's file is then opened for reading (open(2), execve): told to lookups as a hint (LookupAhead). */
  openRead?: boolean;
}

export const RESOLVE_SCOPED = RESOLVE_BENEATH | RESOLVE_IN_ROOT;

export interface ParentResult {
  dir: VPath;
  /** Last component; "." when the path has none (e.g. "/"). */
  name: string;
  trailingSlash: boolean;
  /** The path's components, at the last (for the lookup of name). */
  ahead?: LookupAhead;
}

export function walkState(r: Resolver): WalkState {
  return { creds: r.creds, root: r.root, ctx: r.ctx, links: 0 };
}

export const isDots = (n: string): boolean => n === '.' || n === '..';

/** What a walk asks of the VFS: one component's lookup (crossing mounts) and the parent of a path (crossing back up). */
export interface PathLookup {
  lookupChild(r: Resolver, dir: VPath, name: string, ahead?: LookupAhead): VPath | null;
  parentOf(r: Resolver, p: VPath): VPath;
}

function searchable(st: WalkState, dir: VPath): void {
  if ((dir.dentry.inode.mode & S_IFMT) !== S_IFDIR) throw new Errno(E.ENOTDIR);
  checkAccess(st.creds, dir.dentry.inode.attrs(), MAY_EXEC);
}

/** Resolve all but the last component of path (which must name no more than NAME_MAX bytes). */
export function walkParent(v: PathLookup, st: WalkState, start: VPath, path: string): ParentResult {
  if (path.length === 0) throw new Errno(E.ENOENT);
  if (path.length >= PATH_MAX) throw new Errno(E.ENAMETOOLONG);
  const absolute = path.charCodeAt(0) === 47;
  // RESOLVE_BENEATH: no absolute paths (nor absolute symlinks); RESOLVE_IN_ROOT makes st.root the start.
  if (absolute && st.resolve && st.resolve & RESOLVE_BENEATH) throw new Errno(E.EXDEV);
  let cur = absolute ? st.root : start;
  checkXdev(st, cur);
  const comps = path.split('/').filter((c) => c.length > 0);
  if (comps.length === 0) return { dir: cur, name: '.', trailingSlash: false };
  const trailingSlash = path.charCodeAt(path.length - 1) === 47;
  // One hint object per walk, its position moved along (lookups read it during the call only).
  const ahead: LookupAhead = { names: comps, at: 0, open: st.openRead === true };
  for (let i = 0; i < comps.length - 1; i++) {
    ahead.at = i;
    cur = step(v, st, cur, comps[i], ahead);
  }
  searchable(st, cur);
  const name = comps[comps.length - 1];
  if (name.length > NAME_MAX) throw new Errno(E.ENAMETOOLONG);
  ahead.at = comps.length - 1;
  return { dir: cur, name, trailingSlash, ahead };
}

function step(v: PathLookup, st: WalkState, cur: VPath, name: string, ahead: LookupAhead): VPath {
  searchable(st, cur);
  if (name === '.') return cur;
  if (name === '..') return dotdot(v, st, cur);
  if (name.length > NAME_MAX) throw new Errno(E.ENAMETOOLONG);
  const child = v.lookupChild(st, cur, name, ahead);
  if (!child) throw new Errno(E.ENOENT);
  checkXdev(st, child);
  if ((child.dentry.inode.mode & S_IFMT) === S_IFLNK) return followLink(v, st, cur, child);
  return child;
}

/** "..": RESOLVE_BENEATH may not climb out of its starting directory (st.root), and RESOLVE_NO_XDEV not off its mount. */
function dotdot(v: PathLookup, st: WalkState, cur: VPath): VPath {
  if (st.resolve && st.resolve & RESOLVE_BENEATH && samePath(cur, st.root)) throw new Errno(E.EXDEV);
  const up = v.parentOf(st, cur);
  checkXdev(st, up);
  return up;
}

export function checkXdev(st: WalkState, p: VPath): void {
  if (st.xdevMount && p.mount !== st.xdevMount) throw new Errno(E.EXDEV);
}

/** A symlink about to be followed, under openat2's rules; magic says whether it is a magic link (/proc/self/fd/N). */
export function checkLink(st: WalkState, magic: VPath | null): void {
  const res = st.resolve ?? 0;
  if (res & RESOLVE_NO_SYMLINKS) throw new Errno(E.ELOOP);
  if (!magic) return;
  if (res & RESOLVE_NO_MAGICLINKS) throw new Errno(E.ELOOP);
  checkXdev(st, magic);
  // Jumping through a magic link could leave the scope: refused (Linux's nd_jump_link).
  if (res & RESOLVE_SCOPED) throw new Errno(E.EXDEV);
}

function followLink(v: PathLookup, st: WalkState, dir: VPath, link: VPath): VPath {
  if (++st.links > SYMLOOP_MAX) throw new Errno(E.ELOOP);
  if (link.mount.flags.nosymfollow) throw new Errno(E.ELOOP);
  const magic = link.dentry.inode.resolveLink(st.ctx);
  if (st.resolve) checkLink(st, magic);
  if (magic) return magic;
  const target = link.dentry.inode.readlink(st.ctx);
  if (target.length === 0) throw new Errno(E.ENOENT);
  return walk(v, st, dir, target, true);
}

/** Resolve path from start (relative) or st.root (absolute); follow: follow a final symlink. */
export function walk(v: PathLookup, st: WalkState, start: VPath, path: string, follow: boolean): VPath {
  const p = walkParent(v, st, start, path);
  let res: VPath;
  if (isDots(p.name)) res = p.name === '.' ? p.dir : dotdot(v, st, p.dir);
  else {
    const child = v.lookupChild(st, p.dir, p.name, p.ahead);
    if (!child) throw new Errno(E.ENOENT);
    checkXdev(st, child);
    res = child;
    if ((child.dentry.inode.mode & S_IFMT) === S_IFLNK && (follow || p.trailingSlash)) res = followLink(v, st, p.dir, child);
  }
  if (p.trailingSlash && (res.dentry.inode.mode & S_IFMT) !== S_IFDIR) throw new Errno(E.ENOTDIR);
  return res;
}
