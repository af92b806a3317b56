// Discretionary access checks (man 7 path_resolution, "Permissions"; man 7
// capabilities). The mode bits are checked first with the filesystem IDs;
// only where they refuse do capabilities override: CAP_DAC_OVERRIDE for any
// access (execute only if someone may execute), CAP_DAC_READ_SEARCH for
// reading files and reading or searching directories, CAP_FOWNER for what
// needs ownership, CAP_FSETID for keeping the set-group-ID bit, CAP_CHOWN
// for changing owners.
import { Errno, E } from '../abi/errno';
import { type Credentials, hasCapability } from '../auth/creds';
import { CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID } from '../abi/capability';
import type { InodeAttrs } from '../abi/fs';
import { S_IFDIR, S_IFMT, S_ISVTX } from '../abi/fs';

export const MAY_EXEC = 1;
export const MAY_WRITE = 2;
export const MAY_READ = 4;

/** True if creds may access a file with these attributes for want (MAY_* bits). */
export function mayAccess(creds: Credentials, a: InodeAttrs, want: number): boolean {
  let bits: number;
  if (creds.fsuid === a.uid) bits = (a.mode >> 6) & 7;
  else if (creds.inGroup(a.gid)) bits = (a.mode >> 3) & 7;
  else bits = a.mode & 7;
  if ((bits & want) === want) return true;
  if ((a.mode & S_IFMT) === S_IFDIR) {
    if (!(want & MAY_WRITE) && hasCapability(creds, CAP_DAC_READ_SEARCH)) return true;
    return hasCapability(creds, CAP_DAC_OVERRIDE);
  }
  if (want === MAY_READ && hasCapability(creds, CAP_DAC_READ_SEARCH)) return true;
  // Even CAP_DAC_OVERRIDE does not make a file that no one may execute executable.
  if (want & MAY_EXEC && (a.mode & 0o111) === 0) return false;
  return hasCapability(creds, CAP_DAC_OVERRIDE);
}

export function checkAccess(creds: Credentials, a: InodeAttrs, want: number): void {
  if (!mayAccess(creds, a, want)) throw new Errno(E.EACCES);
}

/** Sticky directories: only the owner of the entry or of the directory (or CAP_FOWNER) may remove or rename it. */
export function checkSticky(creds: Credentials, dir: InodeAttrs, child: InodeAttrs): void {
  if (!(dir.mode & S_ISVTX)) return;
  if (creds.fsuid === child.uid || creds.fsuid === dir.uid) return;
  if (hasCapability(creds, CAP_FOWNER)) return;
  throw new Errno(E.EPERM);
}

/** The owner of the file, or CAP_FOWNER (chmod, utimes with explicit times, O_NOATIME, ...). */
export function isOwnerOrCapable(creds: Credentials, a: InodeAttrs): boolean {
  return creds.fsuid === a.uid || hasCapability(creds, CAP_FOWNER);
}

/** chmod/utimes-style operations need ownership (or CAP_FOWNER). */
export function checkOwner(creds: Credentials, a: InodeAttrs): void {
  if (!isOwnerOrCapable(creds, a)) throw new Errno(E.EPERM);
}

/** Whether a chmod by creds keeps the set-group-ID bit: member of the file's group, or CAP_FSETID. */
export function maySetGid(creds: Credentials, a: InodeAttrs): boolean {
  return creds.inGroup(a.gid) || hasCapability(creds, CAP_FSETID);
}

/** chown(2): the owner may change only the group, to one of its groups; anything else needs CAP_CHOWN. */
export function checkChown(creds: Credentials, a: InodeAttrs, uid: number, gid: number): void {
  if (hasCapability(creds, CAP_CHOWN)) return;
  const uidOk = uid === -1 || (uid >>> 0) === a.uid;
  const gidOk = gid === -1 || (creds.fsuid === a.uid && (creds.inGroup(gid >>> 0) || (gid >>> 0) === a.gid));
  // The owner "changing" the uid to itself is still a change that needs ownership.
  if (!uidOk || !gidOk || (uid !== -1 && creds.fsuid !== a.uid)) throw new Errno(E.EPERM);
}
