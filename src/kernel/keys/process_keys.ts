// A task's view of the keys: its thread, process and session keyrings (held
// in its credentials, made on demand), its user's keyrings, which keys it
// possesses (those found by searching its keyrings), the permission check,
// and the resolution of a key ID or KEY_SPEC_* value (Linux's
// lookup_user_key).

import { E, Errno } from '../../abi/errno';
import type { Credentials } from '../../auth/creds';
import { uidFrom } from '../../auth/userns';
import type { Task } from '../task';
import {
  KEY_ALL, KEY_POS_ALL, KEY_POS_SETATTR, KEY_SEARCH, KEY_USR_ALL, KEY_USR_LINK, KEY_USR_READ, KEY_USR_VIEW, KEYRING,
  KEYRING_SEARCH_MAX_DEPTH, linkIndex, NO_ID, type Key, type KeyType,
} from './key';
import type { KeyManager, UserKeyrings } from './keys';

export const KEY_SPEC_THREAD_KEYRING = -1;
export const KEY_SPEC_PROCESS_KEYRING = -2;
export const KEY_SPEC_SESSION_KEYRING = -3;
export const KEY_SPEC_USER_KEYRING = -4;
export const KEY_SPEC_USER_SESSION_KEYRING = -5;
const KEY_SPEC_GROUP_KEYRING = -6;
const KEY_SPEC_REQKEY_AUTH_KEY = -7;
const KEY_SPEC_REQUESTOR_KEYRING = -8;

/** Lookup flags: make a missing special keyring; accept a key that is not (validly) instantiated. */
export const LOOKUP_CREATE = 1;
export const LOOKUP_PARTIAL = 2;
/** The permission needed: a KEY_* bit, NEED_NONE (unlink), or DEFER (the caller checks). */
export const NEED_NONE = 0;
export const NEED_DEFER = -1;

/** A key as the caller reaches it: possessed when found through its own keyrings. */
export interface KeyRef {
  key: Key;
  possessed: boolean;
}

export function nowSec(t: Task): number {
  return Math.floor(t.kernel.realtimeNs() / 1e9);
}

/** Linux's key_task_permission: the user, else group, else other class, plus the possessor class when possessed; EACCES. */
export function keyPermission(c: Credentials, ref: KeyRef, need: number): void {
  if (need === NEED_NONE || need === NEED_DEFER) return;
  const k = ref.key;
  let kperm: number;
  if (k.uid === c.fsuid) kperm = k.perm >>> 16;
  else if (k.gid !== NO_ID && c.inGroup(k.gid)) kperm = k.perm >>> 8;
  else kperm = k.perm;
  kperm &= KEY_ALL;
  if (ref.possessed) kperm |= (k.perm >>> 24) & KEY_ALL;
  if ((kperm & need) !== need) throw new Errno(E.EACCES);
}

export function hasPermission(c: Credentials, ref: KeyRef, need: number): boolean {
  try {
    keyPermission(c, ref, need);
    return true;
  } catch {
    return false;
  }
}

/** How a search treats what it meets. */
export interface SearchOptions {
  /** Revoked, invalidated, expired and negative matches are skipped, their error remembered. */
  stateCheck: boolean;
  nowSec: number;
  /** Only this key will do (a possession check), not any of that type and description. */
  only?: Key;
}

/**
 * Searches keyring (which the caller possesses or not) and the keyrings it
 * holds, KEYRING_SEARCH_MAX_DEPTH deep, for the key of that type and
 * description: the key, or the errno of the search (EAGAIN: nothing found;
 * EACCES, EKEYREVOKED, EKEYEXPIRED or a negative key's error when the only
 * matches could not be used). Keyrings without search permission are not
 * entered; each keyring is looked at once, by its index (a keyring holding
 * many keys costs no more than one holding a few).
 */
export function searchKeyring(c: Credentials, top: KeyRef, type: KeyType, desc: string, o: SearchOptions): Key | number {
  if (!top.key.isKeyring) return E.ENOTDIR;
  if (!hasPermission(c, top, KEY_SEARCH)) return E.EACCES;
  let err = E.EAGAIN;
  const consider = (k: Key | undefined): boolean => {
    if (!k || k.type !== type || k.description !== desc || (o.only && k !== o.only)) return false;
    if (o.stateCheck) {
      if (k.revoked || k.invalidated) {
        err = E.EKEYREVOKED;
        return false;
      }
      if (k.expired(o.nowSec)) {
        err = E.EKEYEXPIRED;
        return false;
      }
    }
    if (!hasPermission(c, { key: k, possessed: top.possessed }, KEY_SEARCH)) {
      err = E.EACCES;
      return false;
    }
    if (o.stateCheck && k.state === 'negative') {
      err = k.rejectError;
      return false;
    }
    return true;
  };
  if (consider(top.key)) return top.key;
  const idx = linkIndex(type, desc);
  const visited = new Set<Key>([top.key]);
  let level: Key[] = [top.key];
  for (let depth = 0; depth <= KEYRING_SEARCH_MAX_DEPTH && level.length; depth++) {
    const next: Key[] = [];
    for (const ring of level) {
      const k = ring.links?.get(idx);
      if (k && consider(k)) return k;
      for (const sub of ring.subrings ?? []) {
        if (visited.has(sub)) continue;
        if (!hasPermission(c, { key: sub, possessed: top.possessed }, KEY_SEARCH)) continue;
        visited.add(sub);
        next.push(sub);
      }
    }
    level = next;
  }
  return err;
}

/**
 * Searches the caller's keyrings in Linux's order (thread, process, then the
 * session keyring or else the user-session keyring): a found key, else the
 * most telling error (a negative key's, then "nothing", then the others).
 */
export function searchProcessKeyrings(m: KeyManager, c: Credentials, type: KeyType, desc: string, o: SearchOptions): Key | number {
  const tops = [m.fromRef(c.threadKeyring), m.fromRef(c.processKeyring), m.fromRef(c.sessionKeyring) ?? m.existingUserSession(c.userns, c.uid)];
  let ret = 0;
  let err = E.EAGAIN;
  for (const top of tops) {
    if (!top) continue;
    const r = searchKeyring(c, { key: top, possessed: true }, type, desc, o);
    if (typeof r !== 'number') return r;
    if (r === E.EAGAIN) {
      if (!ret) ret = r;
    } else if (r === E.ENOKEY) ret = r;
    else err = r;
  }
  return ret || err;
}

/** Whether c possesses k: found by a search of its keyrings (search permission needed along the way, states ignored). */
export function possesses(m: KeyManager, c: Credentials, k: Key): boolean {
  return typeof searchProcessKeyrings(m, c, k.type, k.description, { stateCheck: false, nowSec: 0, only: k }) !== 'number';
}

/** Every key c possesses (for /proc/keys: one walk instead of a search per key), by the rules of searchKeyring. */
export function possessedSet(m: KeyManager, c: Credentials): Set<Key> {
  const out = new Set<Key>();
  const tops = [m.fromRef(c.threadKeyring), m.fromRef(c.processKeyring), m.fromRef(c.sessionKeyring) ?? m.existingUserSession(c.userns, c.uid)];
  const searchable = (k: Key) => hasPermission(c, { key: k, possessed: true }, KEY_SEARCH);
  for (const top of tops) {
    if (!top || !searchable(top)) continue;
    out.add(top);
    const entered = new Set<Key>([top]);
    let level = [top];
    for (let depth = 0; depth <= KEYRING_SEARCH_MAX_DEPTH && level.length; depth++) {
      const next: Key[] = [];
      for (const ring of level) {
        for (const k of ring.links?.values() ?? []) {
          if (!searchable(k)) continue;
          out.add(k);
          if (k.isKeyring && !entered.has(k)) {
            entered.add(k);
            next.push(k);
          }
        }
      }
      level = next;
    }
  }
  return out;
}

/** Replaces t's credentials by a copy changed by edit (credentials are never edited in place once installed). */
function commitCreds(t: Task, edit: (c: Credentials) => void): void {
  const n = t.creds.clone();
  edit(n);
  t.creds = n;
}

function newKeyring(m: KeyManager, desc: string, uid: number, gid: number, perm: number, overrun: boolean): Key {
  return m.alloc({ type: KEYRING, description: desc, uid, gid, perm, payload: null, overrun });
}

export function installThreadKeyring(t: Task): Key {
  const m = t.kernel.keys;
  const k = newKeyring(m, '_tid', t.creds.fsuid, t.creds.fsgid, KEY_POS_ALL | KEY_USR_VIEW, true);
  commitCreds(t, (c) => (c.threadKeyring = k));
  return k;
}

export function installProcessKeyring(t: Task): Key {
  const m = t.kernel.keys;
  const k = newKeyring(m, '_pid', t.creds.fsuid, t.creds.fsgid, KEY_POS_ALL | KEY_USR_VIEW, true);
  commitCreds(t, (c) => (c.processKeyring = k));
  return k;
}

/** Makes k the session keyring of t (the old one may now be collected). */
export function installSessionKeyring(t: Task, k: Key): void {
  commitCreds(t, (c) => (c.sessionKeyring = k));
  t.kernel.keys.markDirty();
}

/** A new anonymous session keyring for t ("_ses"). */
export function newSessionKeyring(t: Task): Key {
  const k = newKeyring(t.kernel.keys, '_ses', t.creds.uid, t.creds.gid, KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ, true);
  installSessionKeyring(t, k);
  return k;
}

/**
 * The keyrings of a new task's credentials (Linux's copy_creds): a thread
 * gets a thread keyring of its own if its creator had one and shares the
 * process keyring; a new process has neither (the session keyring is
 * inherited by both).
 */
export function keyringsAtClone(t: Task, creds: Credentials, thread: boolean): void {
  if (creds.threadKeyring) {
    t.kernel.keys.markDirty();
    creds.threadKeyring = thread ? newKeyring(t.kernel.keys, '_tid', creds.fsuid, creds.fsgid, KEY_POS_ALL | KEY_USR_VIEW, true) : null;
  }
  if (!thread) creds.processKeyring = null;
}

/** After execve: no thread or process keyring any more (Linux's prepare_exec_creds); the session keyring stays. */
export function keyringsAtExec(t: Task): void {
  if (!t.creds.threadKeyring && !t.creds.processKeyring) return;
  commitCreds(t, (c) => {
    c.threadKeyring = null;
    c.processKeyring = null;
  });
  t.kernel.keys.markDirty();
}

/** The named session keyring to join: an existing keyring of that name t may search, or a new one. */
export function joinNamedSession(t: Task, name: string): Key {
  const m = t.kernel.keys;
  const c = t.creds;
  for (const k of m.all()) {
    if (!k.isKeyring || k.uidKeyring || k.description !== name || k.dead || k.invalidated || k.revoked) continue;
    if (!hasPermission(c, { key: k, possessed: false }, KEY_SEARCH)) continue;
    if (m.fromRef(c.sessionKeyring) !== k) installSessionKeyring(t, k);
    return k;
  }
  const k = newKeyring(m, name, c.uid, c.gid, KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ | KEY_USR_LINK, false);
  installSessionKeyring(t, k);
  return k;
}

/** The user's keyrings (_uid.N linked from _uid_ses.N), made on first use, owned by the real uid. */
export function userKeyrings(t: Task): UserKeyrings {
  const m = t.kernel.keys;
  const c = t.creds;
  return m.userKeyrings(c.userns, c.uid, () => {
    const shown = uidFrom(c.userns, c.uid);
    const perm = (KEY_POS_ALL & ~KEY_POS_SETATTR) | KEY_USR_ALL;
    const user = newKeyring(m, `_uid.${shown}`, c.uid, NO_ID, perm, false);
    const session = newKeyring(m, `_uid_ses.${shown}`, c.uid, NO_ID, perm, false);
    user.uidKeyring = session.uidKeyring = true;
    m.link(session, user);
    return { user, session };
  });
}

/**
 * Resolves a key ID or special value to a key (Linux's lookup_user_key):
 * EINVAL for 0 and unknown special values, ENOKEY for a missing key or
 * special keyring (unless LOOKUP_CREATE makes it), the key's state error
 * unless LOOKUP_PARTIAL, EACCES without the permission needed.
 */
export function lookupUserKey(t: Task, id: number, lflags: number, need: number): KeyRef {
  const m = t.kernel.keys;
  m.sweep();
  let ref: KeyRef;
  const c = () => t.creds;
  switch (id) {
    case KEY_SPEC_THREAD_KEYRING: {
      let k = m.fromRef(c().threadKeyring);
      if (!k) {
        if (!(lflags & LOOKUP_CREATE)) throw new Errno(E.ENOKEY);
        k = installThreadKeyring(t);
      }
      ref = { key: k, possessed: true };
      break;
    }
    case KEY_SPEC_PROCESS_KEYRING: {
      let k = m.fromRef(c().processKeyring);
      if (!k) {
        if (!(lflags & LOOKUP_CREATE)) throw new Errno(E.ENOKEY);
        k = installProcessKeyring(t);
      }
      ref = { key: k, possessed: true };
      break;
    }
    case KEY_SPEC_SESSION_KEYRING: {
      let k = m.fromRef(c().sessionKeyring);
      if (!k) {
        // Without one, a session keyring is always installed on access: a new one if asked to create, else the user's.
        const us = userKeyrings(t);
        if (lflags & LOOKUP_CREATE) k = newSessionKeyring(t);
        else {
          k = us.session;
          installSessionKeyring(t, k);
        }
      } else if (k.uidKeyring && lflags & LOOKUP_CREATE) {
        // A user-session keyring stood in for the session keyring: asked to create, the task gets its own.
        k = newSessionKeyring(t);
      }
      ref = { key: k, possessed: true };
      break;
    }
    case KEY_SPEC_USER_KEYRING:
      ref = { key: userKeyrings(t).user, possessed: true };
      break;
    case KEY_SPEC_USER_SESSION_KEYRING:
      ref = { key: userKeyrings(t).session, possessed: true };
      break;
    case KEY_SPEC_GROUP_KEYRING:
      throw new Errno(E.EINVAL);
    case KEY_SPEC_REQKEY_AUTH_KEY:
    case KEY_SPEC_REQUESTOR_KEYRING:
      // No request is being serviced: no authorisation key (request_key has no upcall here).
      throw new Errno(E.ENOKEY);
    default: {
      if (id < 1) throw new Errno(E.EINVAL);
      const k = m.bySerial(id);
      if (!k || k.dead) throw new Errno(E.ENOKEY);
      ref = { key: k, possessed: possesses(m, c(), k) };
    }
  }
  const k = ref.key;
  const now = nowSec(t);
  // Unlinking (NEED_NONE) works on a key in any state; DEFER leaves the state to the caller.
  if (need !== NEED_DEFER && need !== NEED_NONE) {
    if (!(lflags & LOOKUP_PARTIAL) && k.state === 'negative') throw new Errno(k.rejectError);
    k.validate(now);
  }
  keyPermission(c(), ref, need);
  return ref;
}
