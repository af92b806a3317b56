// The sandbox's keys (one KeyManager per Kernel): serial numbers, the quota
// of each owning uid (/proc/sys/kernel/keys/*), links between keyrings with
// Linux's cycle and depth checks, searches, and the collection of keys that
// nothing references any more.
//
// Keys are referenced by keyrings' links, by the thread, process and session
// keyrings named in tasks' credentials, and by the register of user
// keyrings. Rather than counting references on every credential copy, a key
// operation that may have dropped one (unlink, clear, a replaced link,
// invalidate, join, exec, exit) marks the manager dirty and the next key
// system call (or /proc/keys read) sweeps: what no root reaches is destroyed
// and its quota and memory given back, as Linux's key garbage collector does.

import { E, Errno } from '../../abi/errno';
import type { HeapBudget } from '../../abi/accounting';
import type { Credentials, KeyringRef } from '../../auth/creds';
import type { UserNamespace } from '../../auth/userns';
import { randomInt } from '../../host/random';
import {
  Key, KEYQUOTA_LINK_BYTES, KEYRING, KEYRING_SEARCH_MAX_DEPTH, KeyUser, linkIndex, type KeyType,
} from './key';

/** The Sentry memory a key costs beyond its description and payload, and each link. */
const KEY_OVERHEAD = 256;
const LINK_OVERHEAD = 64;

/** kernel.keys.* (Linux's defaults); root may set them (fsimpl/proc/keys.ts), each 1..INT_MAX but gc_delay and persistent_keyring_expiry 0..INT_MAX. */
export class KeySysctl {
  maxkeys = 200;
  maxbytes = 20000;
  rootMaxkeys = 1000000;
  rootMaxbytes = 25000000;
  gcDelay = 300;
  persistentKeyringExpiry = 259200;
}

/** A user's two keyrings: _uid.N (linked from the other) and _uid_ses.N. */
export interface UserKeyrings {
  user: Key;
  session: Key;
}

export interface AllocOptions {
  type: KeyType;
  description: string;
  uid: number;
  gid: number;
  perm: number;
  payload: Buffer | null;
  /** Counted but allowed past the quota (the special keyrings a process gets). */
  overrun?: boolean;
}

export class KeyManager {
  readonly sysctl = new KeySysctl();
  private readonly keys = new Map<number, Key>();
  private readonly users = new Map<number, KeyUser>();
  private readonly registers = new Map<UserNamespace, Map<number, UserKeyrings>>();
  private dirty = false;

  constructor(
    private readonly heap: () => HeapBudget,
    /** The credentials of every task: the roots of the collection. */
    private readonly liveCreds: () => Iterable<Credentials>,
  ) {}

  /** The key a credential names (null when it names none, or one since destroyed). */
  fromRef(ref: KeyringRef | null): Key | null {
    if (!ref) return null;
    const k = this.keys.get(ref.serial);
    return k && !k.dead ? k : null;
  }

  bySerial(serial: number): Key | null {
    return this.keys.get(serial) ?? null;
  }

  all(): Iterable<Key> {
    return this.keys.values();
  }

  quotaUsers(): Iterable<KeyUser> {
    return this.users.values();
  }

  userOf(uid: number): KeyUser {
    let u = this.users.get(uid);
    if (!u) {
      u = new KeyUser(uid);
      this.users.set(uid, u);
    }
    return u;
  }

  maxKeys(uid: number): number {
    return uid === 0 ? this.sysctl.rootMaxkeys : this.sysctl.maxkeys;
  }

  maxBytes(uid: number): number {
    return uid === 0 ? this.sysctl.rootMaxbytes : this.sysctl.maxbytes;
  }

  /** A reference to a key may have gone: the next sweep looks. */
  markDirty(): void {
    this.dirty = true;
  }

  /** Makes a key, charged to its owner's quota (EDQUOT) and to the sandbox's heap (ENOMEM), instantiated with payload. */
  alloc(o: AllocOptions): Key {
    this.sweep();
    const user = this.userOf(o.uid);
    const quotaLen = o.description.length + 1 + (o.payload?.length ?? 0);
    if (!o.overrun && (user.qnkeys + 1 > this.maxKeys(o.uid) || user.qnbytes + quotaLen > this.maxBytes(o.uid))) throw new Errno(E.EDQUOT);
    const heapLen = KEY_OVERHEAD + quotaLen;
    this.heap().charge(heapLen, E.ENOMEM);
    let serial: number;
    do serial = randomInt(3, 0x80000000);
    while (this.keys.has(serial));
    const k = new Key(serial, o.type, o.description, o.uid, o.gid, o.perm, user);
    k.quotaLen = quotaLen;
    k.heapLen = heapLen;
    k.payload = o.payload && o.type !== KEYRING ? Buffer.from(o.payload) : null;
    k.state = 'positive';
    user.nkeys++;
    user.nikeys++;
    user.qnkeys++;
    user.qnbytes += quotaLen;
    this.keys.set(serial, k);
    return k;
  }

  /** Changes the bytes k is charged for (Linux's key_payload_reserve): EDQUOT past the owner's limit when it grows. */
  reserve(k: Key, quotaLen: number): void {
    const delta = quotaLen - k.quotaLen;
    if (delta > 0 && k.user.qnbytes + delta > this.maxBytes(k.uid)) throw new Errno(E.EDQUOT);
    if (delta > 0) this.heap().charge(delta, E.ENOMEM);
    else this.heap().uncharge(-delta);
    k.user.qnbytes += delta;
    k.quotaLen = quotaLen;
    k.heapLen += delta;
  }

  /** A new payload for k (update, or a negative key made positive). */
  setPayload(k: Key, payload: Buffer): void {
    this.reserve(k, k.quotaLen - (k.payload?.length ?? 0) + payload.length);
    k.payload = Buffer.from(payload);
    k.state = 'positive';
    k.rejectError = 0;
  }

  /** Gives k to another owner: the new one's quota must hold it (KEYCTL_CHOWN). */
  moveQuota(k: Key, uid: number): void {
    const to = this.userOf(uid);
    if (to.qnkeys + 1 > this.maxKeys(uid) || to.qnbytes + k.quotaLen > this.maxBytes(uid)) throw new Errno(E.EDQUOT);
    const from = k.user;
    from.nkeys--;
    from.nikeys--;
    from.qnkeys--;
    from.qnbytes -= k.quotaLen;
    to.nkeys++;
    to.nikeys++;
    to.qnkeys++;
    to.qnbytes += k.quotaLen;
    k.user = to;
  }

  /**
   * Links key into keyring (Linux's key_link): ENOTDIR when keyring is not
   * one, EPERM when restricted, EDEADLK when it would make a cycle, ELOOP
   * when key's own keyrings nest deeper than a search goes, EDQUOT when the
   * keyring's owner cannot pay for one more link. A link with the same type
   * and description is replaced.
   */
  link(keyring: Key, key: Key): void {
    const links = keyring.links;
    if (!links) throw new Errno(E.ENOTDIR);
    if (keyring.restricted) throw new Errno(E.EPERM);
    if (key.dead || key.invalidated) throw new Errno(E.ENOKEY);
    if (key.isKeyring) this.checkCycle(keyring, key);
    const idx = linkIndex(key.type, key.description);
    const old = links.get(idx);
    if (old === key) return;
    if (!old) {
      this.reserve(keyring, keyring.quotaLen + KEYQUOTA_LINK_BYTES);
      this.heap().charge(LINK_OVERHEAD, E.ENOMEM);
      keyring.heapLen += LINK_OVERHEAD;
    } else {
      links.delete(idx);
      keyring.subrings?.delete(old);
      this.dirty = true;
    }
    links.set(idx, key);
    if (key.isKeyring) keyring.subrings?.add(key);
  }

  /** Removes key from keyring: ENOTDIR, or ENOENT when it is not there. */
  unlink(keyring: Key, key: Key): void {
    const links = keyring.links;
    if (!links) throw new Errno(E.ENOTDIR);
    const idx = linkIndex(key.type, key.description);
    if (links.get(idx) !== key) throw new Errno(E.ENOENT);
    this.dropLink(keyring, idx);
  }

  /** Empties keyring (ENOTDIR when it is not one). */
  clear(keyring: Key): void {
    const links = keyring.links;
    if (!links) throw new Errno(E.ENOTDIR);
    for (const idx of [...links.keys()]) this.dropLink(keyring, idx);
  }

  private dropLink(keyring: Key, idx: string): void {
    const k = keyring.links?.get(idx);
    if (k) keyring.subrings?.delete(k);
    keyring.links?.delete(idx);
    this.reserve(keyring, keyring.quotaLen - KEYQUOTA_LINK_BYTES);
    this.heap().uncharge(LINK_OVERHEAD);
    keyring.heapLen -= LINK_OVERHEAD;
    this.dirty = true;
  }

  /**
   * EDEADLK if keyring is key or lies within a search's reach below it;
   * ELOOP if key's keyrings nest deeper than a search goes. Each keyring is
   * looked at once (a keyring linked from many places costs no more).
   */
  private checkCycle(keyring: Key, key: Key): void {
    if (key === keyring) throw new Errno(E.EDEADLK);
    const seen = new Set<Key>([key]);
    let level = [key];
    for (let depth = 0; depth <= KEYRING_SEARCH_MAX_DEPTH && level.length; depth++) {
      const next: Key[] = [];
      for (const k of level) {
        for (const c of k.subrings ?? []) {
          if (c === keyring) throw new Errno(E.EDEADLK);
          if (!seen.has(c)) {
            seen.add(c);
            next.push(c);
          }
        }
      }
      level = next;
    }
    if (this.height(key, new Map()) > KEYRING_SEARCH_MAX_DEPTH) throw new Errno(E.ELOOP);
  }

  /** How many levels of keyrings lie below k on its longest path (counted up to one past the search depth). */
  private height(k: Key, memo: Map<Key, number>): number {
    const known = memo.get(k);
    if (known !== undefined) return known;
    memo.set(k, KEYRING_SEARCH_MAX_DEPTH + 1);
    let h = 0;
    for (const c of k.subrings ?? []) {
      h = Math.max(h, 1 + this.height(c, memo));
      if (h > KEYRING_SEARCH_MAX_DEPTH) break;
    }
    memo.set(k, h);
    return h;
  }

  /** The user and user-session keyrings of uid (as seen in ns), made with make on first use. */
  userKeyrings(ns: UserNamespace, uid: number, make: () => UserKeyrings): UserKeyrings {
    let reg = this.registers.get(ns);
    if (!reg) {
      reg = new Map();
      this.registers.set(ns, reg);
    }
    let r = reg.get(uid);
    if (!r) {
      r = make();
      reg.set(uid, r);
    }
    return r;
  }

  /** The user-session keyring of uid if it exists (no creation). */
  existingUserSession(ns: UserNamespace, uid: number): Key | null {
    return this.registers.get(ns)?.get(uid)?.session ?? null;
  }

  /** Destroys what no root reaches (see the header), after dropping invalidated keys' links. */
  sweep(): void {
    if (!this.dirty) return;
    this.dirty = false;
    for (const k of this.keys.values()) {
      if (!k.links) continue;
      for (const [idx, c] of [...k.links]) if (c.invalidated || c.dead) this.dropLink(k, idx);
    }
    this.dirty = false;
    const marked = new Set<Key>();
    const stack: Key[] = [];
    const mark = (k: Key | null) => {
      if (k && !marked.has(k)) {
        marked.add(k);
        stack.push(k);
      }
    };
    for (const c of this.liveCreds()) {
      mark(this.fromRef(c.threadKeyring));
      mark(this.fromRef(c.processKeyring));
      mark(this.fromRef(c.sessionKeyring));
    }
    for (const reg of this.registers.values()) {
      for (const r of reg.values()) {
        mark(r.user);
        mark(r.session);
      }
    }
    while (stack.length) {
      const k = stack.pop() as Key;
      if (k.links) for (const c of k.links.values()) mark(c);
    }
    for (const k of [...this.keys.values()]) if (!marked.has(k)) this.destroy(k);
  }

  private destroy(k: Key): void {
    k.dead = true;
    this.keys.delete(k.serial);
    const u = k.user;
    u.nkeys--;
    if (k.state !== 'uninstantiated') u.nikeys--;
    u.qnkeys--;
    u.qnbytes -= k.quotaLen;
    this.heap().uncharge(k.heapLen);
    k.links?.clear();
    k.subrings?.clear();
    if (u.nkeys === 0) this.users.delete(u.uid);
  }
}
