// System V IPC objects of one IPC namespace (man 7 sysvipc): identifiers,
// keys and struct ipc64_perm with the permission rules, shared by the
// shared memory, semaphore and message queue sets.

import { E, Errno } from '../../abi/errno';
import { CAP_IPC_OWNER, CAP_SYS_ADMIN } from '../../abi/capability';
import { hasCapability, type Credentials } from '../../auth/creds';

export const IPC_PRIVATE = 0;
export const IPC_CREAT = 0o1000, IPC_EXCL = 0o2000;
export const IPC_RMID = 0, IPC_SET = 1, IPC_STAT = 2, IPC_INFO = 3;
/** Identifiers are index + seq * IPCMNI, as Linux's ipc_buildid. */
const IPCMNI = 32768;
/** The smallest range indexes cycle through (Linux's ipc_min_cycle), and the sequence numbers' bound (INT_MAX >> 15). */
const MIN_CYCLE = 64;
const SEQ_MAX = 0x7fffffff >> 15;

export interface IpcPerm {
  key: number;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  mode: number;
  seq: number;
}

/** An object in a set: its identifier and permissions. */
export interface IpcObject {
  id: number;
  perm: IpcPerm;
}

/** Encode struct ipc64_perm (48 bytes on x86-64) at off. */
export function encodePerm(b: Buffer, off: number, p: IpcPerm): void {
  b.writeInt32LE(p.key, off);
  b.writeUInt32LE(p.uid, off + 4);
  b.writeUInt32LE(p.gid, off + 8);
  b.writeUInt32LE(p.cuid, off + 12);
  b.writeUInt32LE(p.cgid, off + 16);
  b.writeUInt32LE(p.mode, off + 20);
  b.writeUInt16LE(p.seq & 0xffff, off + 24);
}

/**
 * Linux's ipcperms: owner, group or other bits of mode against want (4
 * read, 2 write), CAP_IPC_OWNER overriding.
 */
export function checkAccess(c: Credentials, p: IpcPerm, want: number): void {
  let granted = p.mode;
  if (c.euid === p.cuid || c.euid === p.uid) granted >>= 6;
  else if (c.egid === p.cgid || c.egid === p.gid || c.groups.includes(p.gid) || c.groups.includes(p.cgid)) granted >>= 3;
  if ((want & ~granted & 7) === 0) return;
  if (hasCapability(c, CAP_IPC_OWNER)) return;
  throw new Errno(E.EACCES);
}

/** IPC_SET's common part: uid, gid and the permission bits from the struct ipc64_perm at the start of b. */
export function setPerm(p: IpcPerm, b: Buffer): void {
  p.uid = b.readUInt32LE(4);
  p.gid = b.readUInt32LE(8);
  p.mode = (p.mode & ~0o777) | (b.readUInt32LE(20) & 0o777);
}

/** IPC_SET and IPC_RMID: the owner, the creator, or CAP_SYS_ADMIN. */
export function checkOwner(c: Credentials, p: IpcPerm): void {
  if (c.euid === p.uid || c.euid === p.cuid || hasCapability(c, CAP_SYS_ADMIN)) return;
  throw new Errno(E.EPERM);
}

/** One kind of IPC object in a namespace: lookups by id, index and key. */
export class IpcSet<T extends IpcObject> {
  private readonly byIndex = new Map<number, T>();
  private readonly byKey = new Map<number, T>();
  private seq = 0;
  /** The last index handed out, and where the next search starts (Linux's last_idx and the idr's cyclic cursor). */
  private lastIndex = -1;
  private cursor = 0;

  constructor(public max: () => number) {}

  get size(): number {
    return this.byIndex.size;
  }

  /** The highest index in use (IPC_INFO's answer), or 0. */
  get maxIndex(): number {
    let m = 0;
    for (const i of this.byIndex.keys()) m = Math.max(m, i);
    return m;
  }

  values(): IterableIterator<T> {
    return this.byIndex.values();
  }

  findKey(key: number): T | undefined {
    return key === IPC_PRIVATE ? undefined : this.byKey.get(key);
  }

  /** By identifier: EINVAL if gone or of an older generation (EIDRM is for waiters). */
  get(id: number): T {
    if (id < 0) throw new Errno(E.EINVAL);
    const o = this.byIndex.get(id % IPCMNI);
    if (!o || o.id !== id) throw new Errno(E.EINVAL);
    return o;
  }

  /** By index (SHM_STAT, SEM_STAT, MSG_STAT). */
  atIndex(index: number): T {
    const o = this.byIndex.get(index);
    if (!o) throw new Errno(E.EINVAL);
    return o;
  }

  /**
   * Give obj an identifier and add it; ENOSPC past the set's maximum. As
   * Linux's ipc_idr_alloc: indexes are handed out cyclically (the next free
   * one after the last given, below max(in use * 3/2, 64), wrapping to 0),
   * and the sequence number goes up only when the index wraps, so a fresh
   * namespace's objects are 0, 1, 2... and a removed id comes back late.
   */
  add(obj: T, key: number): void {
    const limit = Math.min(this.max(), IPCMNI);
    if (this.byIndex.size >= limit) throw new Errno(E.ENOSPC);
    const end = Math.min(Math.max(Math.floor((this.byIndex.size * 3) / 2), MIN_CYCLE), IPCMNI);
    const index = this.freeIndex(this.cursor, end) ?? this.freeIndex(0, end);
    if (index === undefined) throw new Errno(E.ENOSPC);
    this.cursor = index + 1;
    if (index <= this.lastIndex) this.seq = (this.seq + 1) % SEQ_MAX;
    this.lastIndex = index;
    obj.perm.seq = this.seq;
    obj.id = index + obj.perm.seq * IPCMNI;
    this.byIndex.set(index, obj);
    if (key !== IPC_PRIVATE) this.byKey.set(key, obj);
  }

  /** The first index in [from, end) not in use. */
  private freeIndex(from: number, end: number): number | undefined {
    for (let i = from; i < end; i++) if (!this.byIndex.has(i)) return i;
    return undefined;
  }

  /** Forget obj: its key is free again and its identifier never comes back. */
  remove(obj: T): void {
    this.byIndex.delete(obj.id % IPCMNI);
    if (this.byKey.get(obj.perm.key) === obj) this.byKey.delete(obj.perm.key);
  }

  /** IPC_RMID of an object still in use: the key goes (it shows as IPC_PRIVATE) but the id lives. */
  unkey(obj: T): void {
    if (this.byKey.get(obj.perm.key) === obj) this.byKey.delete(obj.perm.key);
    obj.perm.key = IPC_PRIVATE;
  }
}

/** The common part of xxxget(2): find or create by key with Linux's checks. */
export function getOrCreate<T extends IpcObject>(set: IpcSet<T>, c: Credentials, key: number, flags: number, want: number, check: (o: T) => void, make: () => T): number {
  const found = set.findKey(key);
  if (found) {
    if (flags & IPC_CREAT && flags & IPC_EXCL) throw new Errno(E.EEXIST);
    check(found);
    checkAccess(c, found.perm, want);
    return found.id;
  }
  if (key !== IPC_PRIVATE && !(flags & IPC_CREAT)) throw new Errno(E.ENOENT);
  const o = make();
  set.add(o, key);
  return o.id;
}

export function newPerm(c: Credentials, key: number, flags: number): IpcPerm {
  return { key, uid: c.euid, gid: c.egid, cuid: c.euid, cgid: c.egid, mode: flags & 0o777, seq: 0 };
}
