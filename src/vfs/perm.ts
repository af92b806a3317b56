// Discretionary access checks (man 7 path_resolution, "Permissions").
import { Errno, E } from '../kernel/errno';
import type { Credentials } from '../kernel/creds';
import type { InodeAttrs } from './types';
import { S_IFDIR, S_IFMT, S_ISVTX } from './types';

export const MAY_EXEC = 1;
export const MAY_WRITE = 2;
export const MAY_READ = 4;

/** True if creds may access a file with these attributes for want (MAY_* bits). */
export function mayAccess(creds: Credentials, a: InodeAttrs, want: number): boolean {
  if (creds.fsuid === 0) {
    // Like CAP_DAC_OVERRIDE: everything except executing a file no one may execute.
    if (want & MAY_EXEC && (a.mode & S_IFMT) !== S_IFDIR && (a.mode & 0o111) === 0) return false;
    return true;
  }
  let bits: number;
  if (creds.fsuid === a.uid) bits = (a.mode >> 6) & 7;
  else if (creds.inGroup(a.gid)) bits = (a.mode >> 3) & 7;
  else bits = a.mode & 7;
  return (bits & want) === want;
}

export function checkAccess(creds: Credentials, a: InodeAttrs, want: number): void {
  if (!mayAccess(creds, a, want)) throw new Errno(E.EACCES);
}

/** Sticky directories: only the owner of the entry or of the directory (or root) may remove or rename it. */
export function checkSticky(creds: Credentials, dir: InodeAttrs, child: InodeAttrs): void {
  if (!(dir.mode & S_ISVTX) || creds.fsuid === 0) return;
  if (creds.fsuid === child.uid || creds.fsuid === dir.uid) return;
  throw new Errno(E.EPERM);
}

/** chmod/utimes-style operations need ownership (or root). */
export function checkOwner(creds: Credentials, a: InodeAttrs): void {
  if (creds.fsuid !== 0 && creds.fsuid !== a.uid) throw new Errno(E.EPERM);
}
