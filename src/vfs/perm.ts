// Discretionary access checks (man 7 path_resolution, "Permissions"; man 7
// capabilities). The mode bits are checked first with the filesystem IDs;
// only where they refuse do capabilities override: CAP_DAC_OVERRIDE for any
// access (execute only if someone may execute), CAP_DAC_READ_SEARCH for
// reading files and reading or searching directories, CAP_FOWNER for what
// needs ownership, CAP_FSETID for keeping the set-group-ID bit, CAP_CHOWN
// for changing owners.
import { Errno, E } from '../abi/errno';
import { type Credentials, hasCapability } from '../auth/creds';
import { idsMapped } from '../auth/userns';
import { CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID } from '../abi/capability';
import type { InodeAttrs, SetAttr } from '../abi/fs';
import { FS_APPEND_FL, FS_IMMUTABLE_FL, S_IFDIR, S_IFMT, S_IFREG, S_ISGID, S_ISUID, S_ISVTX } from '../abi/fs';
import type { Inode } from './inode';

export const MAY_EXEC = 1;
export const MAY_WRITE = 2;
export const MAY_READ = 4;

/** True if creds may access a file with these attributes for want (MAY_* bits). */
/**
 * A capability that overrides a file's permissions: held in the caller's user
 * namespace, and only over files whose owner and group are mapped there
 * (Linux's capable_wrt_inode_uidgid).
 */
function capOver(creds: Credentials, cap: number, a: InodeAttrs): boolean {
  return hasCapability(creds, cap) && idsMapped(creds.userns, a.uid, a.gid);
}

export function mayAccess(creds: Credentials, a: InodeAttrs, want: number): boolean {
  let bits: number;
  if (creds.fsuid === a.uid) bits = (a.mode >> 6) & 7;
  else if (creds.inGroup(a.gid)) bits = (a.mode >> 3) & 7;
  else bits = a.mode & 7;
  if ((bits & want) === want) return true;
  if ((a.mode & S_IFMT) === S_IFDIR) {
    if (!(want & MAY_WRITE) && capOver(creds, CAP_DAC_READ_SEARCH, a)) return true;
    return capOver(creds, CAP_DAC_OVERRIDE, a);
  }
  if (want === MAY_READ && capOver(creds, CAP_DAC_READ_SEARCH, a)) return true;
  // Even CAP_DAC_OVERRIDE does not make a file that no one may execute executable.
  if (want & MAY_EXEC && (a.mode & 0o111) === 0) return false;
  return capOver(creds, CAP_DAC_OVERRIDE, a);
}

export function checkAccess(creds: Credentials, a: InodeAttrs, want: number): void {
  // An immutable file refuses writing to anybody, before the mode bits count (Linux's inode_permission).
  if (want & MAY_WRITE && (a.flags ?? 0) & FS_IMMUTABLE_FL) throw new Errno(E.EPERM);
  if (!mayAccess(creds, a, want)) throw new Errno(E.EACCES);
}

/** Immutable or append-only files keep their mode, owner, times, extended attributes and names: EPERM. */
export function checkMutable(a: InodeAttrs): void {
  if ((a.flags ?? 0) & (FS_IMMUTABLE_FL | FS_APPEND_FL)) throw new Errno(E.EPERM);
}

/** Removing (or renaming away) child from dir: not from an append-only directory, not an immutable or append-only file. */
export function checkDeletable(dir: InodeAttrs, child: InodeAttrs): void {
  if ((dir.flags ?? 0) & FS_APPEND_FL) throw new Errno(E.EPERM);
  checkMutable(child);
}

/** Sticky directories: only the owner of the entry or of the directory (or CAP_FOWNER) may remove or rename it. */
export function checkSticky(creds: Credentials, dir: InodeAttrs, child: InodeAttrs): void {
  if (!(dir.mode & S_ISVTX)) return;
  if (creds.fsuid === child.uid || creds.fsuid === dir.uid) return;
  if (capOver(creds, CAP_FOWNER, child)) return;
  throw new Errno(E.EPERM);
}

/** The owner of the file, or CAP_FOWNER (chmod, utimes with explicit times, O_NOATIME, ...). */
export function isOwnerOrCapable(creds: Credentials, a: InodeAttrs): boolean {
  return creds.fsuid === a.uid || capOver(creds, CAP_FOWNER, a);
}

/** chmod/utimes-style operations need ownership (or CAP_FOWNER). */
export function checkOwner(creds: Credentials, a: InodeAttrs): void {
  if (!isOwnerOrCapable(creds, a)) throw new Errno(E.EPERM);
}

/** Whether a chmod by creds keeps the set-group-ID bit: member of the file's group, or CAP_FSETID. */
export function maySetGid(creds: Credentials, a: InodeAttrs): boolean {
  return creds.inGroup(a.gid) || capOver(creds, CAP_FSETID, a);
}

/** chown(2): the owner may change only the group, to one of its groups; anything else needs CAP_CHOWN. */
export function checkChown(creds: Credentials, a: InodeAttrs, uid: number, gid: number): void {
  if (capOver(creds, CAP_CHOWN, a)) return;
  const uidOk = uid === -1 || (uid >>> 0) === a.uid;
  const gidOk = gid === -1 || (creds.fsuid === a.uid && (creds.inGroup(gid >>> 0) || (gid >>> 0) === a.gid));
  // The owner "changing" the uid to itself is still a change that needs ownership.
  if (!uidOk || !gidOk || (uid !== -1 && creds.fsuid !== a.uid)) throw new Errno(E.EPERM);
}

const S_IXGRP = 0o010;
/** The file capabilities (man 7 capabilities, "File capabilities"). */
export const XATTR_SECURITY_CAPABILITY = 'security.capability';

/**
 * Mode of a new non-directory in dir: in a set-group-ID directory the file
 * takes the directory's group, and a creator outside that group (without
 * CAP_FSETID) may not hand out a group-executable set-group-ID file.
 */
export function createMode(creds: Credentials, dir: InodeAttrs, type: number, mode: number): number {
  if (type === S_IFDIR || !(dir.mode & S_ISGID)) return mode;
  if ((mode & (S_ISGID | S_IXGRP)) !== (S_ISGID | S_IXGRP)) return mode;
  if (creds.inGroup(dir.gid) || hasCapability(creds, CAP_FSETID)) return mode;
  return mode & ~S_ISGID;
}

/**
 * What modifying a file's data takes away (write, truncate, fallocate):
 * set-user-ID, set-group-ID when group-executable, unless the writer has
 * CAP_FSETID; the file capabilities always. force (chown) drops the set-ID
 * bits whatever the caller's capabilities. Returns the mode change for the
 * caller's setattr, or undefined when the mode stays.
 */
export function dropPrivileges(creds: Credentials, inode: Inode, force = false): number | undefined {
  // The mode getter, not attrs(): this runs on every write.
  const mode = inode.mode;
  if ((mode & S_IFMT) === S_IFDIR) return undefined;
  inode.xattrs?.delete(XATTR_SECURITY_CAPABILITY);
  let m = mode & 0o7777;
  if (!(m & S_ISUID) && (m & (S_ISGID | S_IXGRP)) !== (S_ISGID | S_IXGRP)) return undefined;
  if (!force && hasCapability(creds, CAP_FSETID)) return undefined;
  m &= ~S_ISUID;
  if (m & S_IXGRP) m &= ~S_ISGID;
  return m;
}

/** dropPrivileges applied at once (the data path, where no other attribute changes). */
export function removePrivileges(creds: Credentials, inode: Inode): void {
  const mode = dropPrivileges(creds, inode);
  if (mode !== undefined) inode.setattr({ mode } satisfies SetAttr);
}

/**
 * Hard links under fs.protected_hardlinks = 1 (what /proc/sys/fs shows, and
 * the setting of the usual distributions): only the owner (or CAP_FOWNER)
 * links to a file, or anyone who may read and write a regular file that
 * grants no set-ID privilege.
 */
export function checkHardlinkSource(creds: Credentials, a: InodeAttrs): void {
  if (isOwnerOrCapable(creds, a)) return;
  const safe = (a.mode & S_IFMT) === S_IFREG && !(a.mode & S_ISUID) && (a.mode & (S_ISGID | S_IXGRP)) !== (S_ISGID | S_IXGRP);
  if (safe && mayAccess(creds, a, MAY_READ | MAY_WRITE)) return;
  throw new Errno(E.EPERM);
}
