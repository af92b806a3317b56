// Key management: add_key, request_key and keyctl (man 2 keyctl, man 7
// keyrings) over the sandbox's keys (kernel/keys/). Every string and payload
// is bounded before it is copied in (a type 31 bytes, a description 4095, a
// payload 1 MiB - 1, a user key's 32767), and the keys are charged to their
// owner's quota and to the sandbox's memory budget. request_key has no
// /sbin/request-key to call: a key it cannot find is made negative, as Linux
// does when the upcall program is missing (ENOENT, then ENOKEY while the
// negative key lasts).

import { E, Errno } from '../abi/errno';
import type { FamilyHooks } from '../kernel/lifecycle';
import type { Task } from '../kernel/task';
import { i32, type SyscallDef } from '../kernel/syscall';
import { KEY_LINK, KEY_MAX_PAYLOAD, KEY_NEGATIVE_TIMEOUT, keyType, KEY_WRITE, KEYRING, linkIndex, type Key } from '../kernel/keys/key';
import {
  keyPermission, keyringsAtExec, LOOKUP_CREATE, lookupUserKey, nowSec, searchProcessKeyrings, userKeyrings,
} from '../kernel/keys/process_keys';
import { defaultPerm, readDescription, readKeyType, readUserString, PAGE_SIZE } from './keyargs';
import { keyctl } from './sys_keyctl';

function addKey(t: Task, typeAddr: number, descAddr: number, payAddr: number, plen: number, ringid: number): number {
  if (plen > KEY_MAX_PAYLOAD) throw new Errno(E.EINVAL);
  const typeName = readKeyType(t, typeAddr);
  let desc: string | null = null;
  if (descAddr !== 0) {
    desc = readDescription(t, descAddr);
    if (desc.length === 0) desc = null;
    else if (desc.startsWith('.') && typeName.startsWith('keyring')) throw new Errno(E.EPERM);
  }
  const payload = plen > 0 ? Buffer.from(t.mm.copyIn(payAddr, plen)) : null;
  const ring = lookupUserKey(t, ringid, LOOKUP_CREATE, KEY_WRITE);
  const type = keyType(typeName);
  if (!type) throw new Errno(E.ENODEV);
  if (!ring.key.isKeyring) throw new Errno(E.ENOTDIR);
  type.checkPayload(payload);
  if (desc === null) throw new Errno(E.EINVAL);
  type.checkDescription(desc);
  if (ring.key.restricted) throw new Errno(E.EPERM);
  const m = t.kernel.keys;
  // An updatable key of that type and description already in the keyring takes the new payload.
  const old = ring.key.links?.get(linkIndex(type, desc));
  if (type.updatable && old && !old.revoked && !old.invalidated && payload) {
    keyPermission(t.creds, { key: old, possessed: ring.possessed }, KEY_WRITE);
    m.setPayload(old, payload);
    return old.serial;
  }
  const c = t.creds;
  const k = m.alloc({ type, description: desc, uid: c.fsuid, gid: c.fsgid, perm: defaultPerm(type), payload });
  try {
    m.link(ring.key, k);
  } catch (e) {
    // Not linked: nothing holds it, the next sweep takes it back.
    m.markDirty();
    throw e;
  }
  return k.serial;
}

/** The keyring a constructed key goes to when request_key names none (KEYCTL_SET_REQKEY_KEYRING's choice): write permission needed. */
function defaultDest(t: Task): Key {
  const m = t.kernel.keys;
  const c = t.creds;
  let k: Key | null = null;
  const d = c.reqkeyDefault;
  if (d === 4) k = userKeyrings(t).user;
  else {
    // From the chosen keyring down this list, the first that exists; the user-session keyring always does.
    const order = [c.threadKeyring, c.processKeyring, c.sessionKeyring];
    const first = d === 2 ? 1 : d === 3 ? 2 : d === 5 ? 3 : 0;
    for (let i = first; i < order.length && !k; i++) k = m.fromRef(order[i]);
    k ??= userKeyrings(t).session;
  }
  keyPermission(c, { key: k, possessed: true }, KEY_WRITE);
  return k;
}

function requestKey(t: Task, typeAddr: number, descAddr: number, calloutAddr: number, destid: number): number {
  const typeName = readKeyType(t, typeAddr);
  const desc = readDescription(t, descAddr);
  const callout = calloutAddr !== 0 ? readUserString(t, calloutAddr, PAGE_SIZE) : null;
  const dest = destid !== 0 ? lookupUserKey(t, destid, LOOKUP_CREATE, KEY_WRITE).key : null;
  const type = keyType(typeName);
  if (!type) throw new Errno(E.ENOKEY);
  const m = t.kernel.keys;
  m.sweep();
  const now = nowSec(t);
  const found = searchProcessKeyrings(m, t.creds, type, desc, { stateCheck: true, nowSec: now });
  if (typeof found !== 'number') {
    if (dest) {
      keyPermission(t.creds, { key: found, possessed: true }, KEY_LINK);
      m.link(dest, found);
    }
    return found.serial;
  }
  // Nothing found (EAGAIN) may be constructed; a negative key (ENOKEY), a revoked or expired one, or no permission is the answer.
  if (found !== E.EAGAIN) throw new Errno(found);
  if (callout === null) throw new Errno(E.ENOKEY);
  // Construction: a keyring is never made this way; otherwise a key made
  // negative at once, as when /sbin/request-key cannot be run.
  if (type === KEYRING) throw new Errno(E.EPERM);
  const into = dest ?? defaultDest(t);
  const c = t.creds;
  const k = m.alloc({ type, description: desc, uid: c.fsuid, gid: c.fsgid, perm: defaultPerm(type), payload: null });
  k.state = 'negative';
  k.payload = null;
  k.rejectError = E.ENOKEY;
  k.expiry = now + KEY_NEGATIVE_TIMEOUT;
  try {
    m.link(into, k);
  } catch (e) {
    m.markDirty();
    throw e;
  }
  // What Linux answers when the upcall program cannot be run; the negative key answers ENOKEY from now on.
  throw new Errno(E.ENOENT);
}

export const hooks: FamilyHooks = {
  exec: (tg) => {
    for (const t of tg.tasks) keyringsAtExec(t);
  },
  taskExit: (t) => t.kernel.keys.markDirty(),
};

const P = 'types user, logon and keyring (others ENODEV); request_key has no upcall: as Linux without /sbin/request-key, a missing key asked for with callout info is made negative (ENOENT, then ENOKEY)';

export const defs: SyscallDef[] = [
  { nr: 248, name: 'add_key', fn: (t, a) => addKey(t, a[0], a[1], a[2], a[3], i32(a[4])), args: ['str', 'str', 'ptr', 'size', 'int'], partial: P },
  { nr: 249, name: 'request_key', fn: (t, a) => requestKey(t, a[0], a[1], a[2], i32(a[3])), args: ['str', 'str', 'str', 'int'], partial: P },
  {
    nr: 250, name: 'keyctl', fn: (t, a) => keyctl(t, i32(a[0]), a[1], a[2], a[3], a[4]), args: ['int', 'int', 'hex', 'hex', 'hex'],
    partial: 'KEYCTL_SESSION_TO_PARENT as Linux (EPERM for init or a multithreaded parent); KEYCTL_RESTRICT_KEYRING only without a type (no further links); KEYCTL_GET_PERSISTENT, DH_COMPUTE, PKEY_* and WATCH_KEY EOPNOTSUPP (kernel without those options); INSTANTIATE, NEGATE and REJECT EPERM (no upcall ever holds an authorisation key)',
  },
];
