// The arguments of the key system calls (sys_keys.ts, sys_keyctl.ts): type
// names, descriptions and callout strings read with Linux's bounds, the
// default permissions of a new key, and how a key describes itself.

import { E, Errno } from '../abi/errno';
import { OVERFLOW_ID } from '../abi/mount';
import { gidFrom, gidTo, uidFrom, uidTo } from '../auth/userns';
import type { Task } from '../kernel/task';
import { KEY_LINK, KEY_MAX_DESC_SIZE, KEY_READ, KEY_SEARCH, KEY_SETATTR, KEY_USR_VIEW, KEY_VIEW, KEY_WRITE, KEYRING, NO_ID, type Key, type KeyType } from '../kernel/keys/key';

/** The longest key type name, its NUL included. */
const KEY_TYPE_MAX = 32;
export const PAGE_SIZE = 4096;

/** A key type name from user memory: EFAULT, EINVAL (empty or too long), EPERM (a '.' type is the kernel's own). */
export function readKeyType(t: Task, addr: number): string {
  const s = readUserString(t, addr, KEY_TYPE_MAX);
  if (s.length === 0) throw new Errno(E.EINVAL);
  if (s.startsWith('.')) throw new Errno(E.EPERM);
  return s;
}

/** Linux's strndup_user: EFAULT for a bad pointer, EINVAL when longer than max - 1. */
export function readUserString(t: Task, addr: number, max: number): string {
  if (addr === 0) throw new Errno(E.EFAULT);
  try {
    return t.mm.readCString(addr, max);
  } catch (e) {
    if (e instanceof Errno && e.errno === E.ENAMETOOLONG) throw new Errno(E.EINVAL);
    throw e;
  }
}

export function readDescription(t: Task, addr: number): string {
  return readUserString(t, addr, KEY_MAX_DESC_SIZE);
}

/** The default permissions of a key user space makes (add_key, request_key). */
export function defaultPerm(type: KeyType): number {
  let perm = ((KEY_VIEW | KEY_SEARCH | KEY_LINK | KEY_SETATTR) << 24) | KEY_USR_VIEW;
  if (type.readable) perm |= KEY_READ << 24;
  if (type === KEYRING || type.updatable) perm |= KEY_WRITE << 24;
  return perm;
}

/** "type;uid;gid;perm;description", as KEYCTL_DESCRIBE and /proc show the IDs (unmapped ones as the overflow ID). */
export function describeKey(t: Task, k: Key): string {
  const ns = t.creds.userns;
  const gid = k.gid === NO_ID ? OVERFLOW_ID : gidFrom(ns, k.gid);
  return `${k.type.name};${uidFrom(ns, k.uid)};${gid};${(k.perm >>> 0).toString(16).padStart(8, '0')};${k.description}`;
}

/** Maps a uid or gid argument (-1: leave unchanged) into a kernel ID; EINVAL when unmapped. */
export function idArg(t: Task, id: number, gid: boolean): number {
  if (id === 0xffffffff) return NO_ID;
  const k = gid ? gidTo(t.creds.userns, id) : uidTo(t.creds.userns, id);
  if (k < 0) throw new Errno(E.EINVAL);
  return k;
}

