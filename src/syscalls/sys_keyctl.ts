// keyctl(2)'s commands (the system call's entry is sys_keys.ts). Each looks
// its keys up as Linux's keyctl.c does (which lookups make missing special
// keyrings, which accept keys not validly instantiated, which permission
// each needs), so the errno of a refused call is Linux's.

import { E, Errno } from '../abi/errno';
import { CAP_SYS_ADMIN } from '../abi/capability';
import { capableInit } from '../auth/userns';
import type { Task } from '../kernel/task';
import { u32 } from '../kernel/syscall';
import {
  KEY_LINK as LINK, KEY_PERM_MASK, KEY_READ as READ, KEY_SEARCH as SEARCH, KEY_SETATTR as SETATTR, keyType, KEY_VIEW as VIEW,
  KEY_WRITE as WRITE, linkIndex, NO_ID, type Key,
} from '../kernel/keys/key';
import {
  installProcessKeyring, installSessionKeyring, installThreadKeyring, joinNamedSession, KEY_SPEC_SESSION_KEYRING,
  keyPermission, LOOKUP_CREATE, LOOKUP_PARTIAL, lookupUserKey, NEED_DEFER, NEED_NONE, newSessionKeyring, nowSec,
  possesses, searchKeyring,
} from '../kernel/keys/process_keys';
import { describeKey, idArg, PAGE_SIZE, readDescription, readKeyType, readUserString } from './keyargs';


const GET_KEYRING_ID = 0, JOIN_SESSION_KEYRING = 1, UPDATE = 2, REVOKE = 3, CHOWN = 4, SETPERM = 5, DESCRIBE = 6, CLEAR = 7;
const LINK_CMD = 8, UNLINK = 9, SEARCH_CMD = 10, READ_CMD = 11, INSTANTIATE = 12, NEGATE = 13, SET_REQKEY_KEYRING = 14;
const SET_TIMEOUT = 15, ASSUME_AUTHORITY = 16, GET_SECURITY = 17, SESSION_TO_PARENT = 18, REJECT = 19, INSTANTIATE_IOV = 20;
const INVALIDATE = 21, RESTRICT_KEYRING = 29, MOVE = 30, CAPABILITIES = 31;
const KEYCTL_MOVE_EXCL = 1;
/** KEYCTL_CAPABILITIES' first byte: the capabilities query itself, invalidate, restrict_keyring, move. */
const CAPS0 = 0x01 | 0x20 | 0x40 | 0x80;
/** The errnos KEYCTL_REJECT may not be given (the restart codes). */
const ERESTART_MIN = 512, ERESTART_MAX = 516;
const MAX_ERRNO = 4095;

/** Copies data out when the buffer holds all of it (Linux gives only the length otherwise); returns its length. */
function giveWhole(t: Task, buf: number, buflen: number, data: Buffer): number {
  if (buf !== 0 && buflen >= data.length) t.mm.copyOut(buf, data);
  return data.length;
}

function update(t: Task, id: number, addr: number, plen: number): number {
  if (plen > PAGE_SIZE) throw new Errno(E.EINVAL);
  const payload = plen > 0 ? Buffer.from(t.mm.copyIn(addr, plen)) : null;
  const { key } = lookupUserKey(t, id, LOOKUP_CREATE, WRITE);
  if (!key.type.updatable) throw new Errno(E.EOPNOTSUPP);
  key.type.checkPayload(payload);
  t.kernel.keys.setPayload(key, payload as Buffer);
  return 0;
}

function revoke(t: Task, id: number): number {
  let key: Key;
  try {
    key = lookupUserKey(t, id, 0, WRITE).key;
  } catch (e) {
    if (!(e instanceof Errno) || e.errno !== E.EACCES) throw e;
    key = lookupUserKey(t, id, 0, SETATTR).key;
  }
  key.revoked = true;
  return 0;
}

function chown(t: Task, id: number, user: number, group: number): number {
  const uid = idArg(t, user, false);
  const gid = idArg(t, group, true);
  if (uid === NO_ID && gid === NO_ID) return 0;
  const { key } = lookupUserKey(t, id, LOOKUP_CREATE | LOOKUP_PARTIAL, SETATTR);
  const c = t.creds;
  if (!capableInit(c, CAP_SYS_ADMIN)) {
    if (uid !== NO_ID && uid !== key.uid) throw new Errno(E.EACCES);
    if (gid !== NO_ID && gid !== key.gid && !c.inGroup(gid)) throw new Errno(E.EACCES);
  }
  if (uid !== NO_ID && uid !== key.uid) {
    t.kernel.keys.moveQuota(key, uid);
    key.uid = uid;
  }
  if (gid !== NO_ID) key.gid = gid;
  return 0;
}

function setperm(t: Task, id: number, perm: number): number {
  if (perm & ~KEY_PERM_MASK) throw new Errno(E.EINVAL);
  const { key } = lookupUserKey(t, id, LOOKUP_CREATE | LOOKUP_PARTIAL, SETATTR);
  if (key.uid !== t.creds.fsuid && !capableInit(t.creds, CAP_SYS_ADMIN)) throw new Errno(E.EACCES);
  key.perm = perm;
  return 0;
}

function describe(t: Task, id: number, buf: number, buflen: number): number {
  const { key } = lookupUserKey(t, id, LOOKUP_PARTIAL, VIEW);
  return giveWhole(t, buf, buflen, Buffer.from(`${describeKey(t, key)}\0`, 'latin1'));
}

function clear(t: Task, id: number): number {
  const { key } = lookupUserKey(t, id, LOOKUP_CREATE, WRITE);
  t.kernel.keys.clear(key);
  return 0;
}

function link(t: Task, id: number, ringid: number): number {
  const ring = lookupUserKey(t, ringid, LOOKUP_CREATE, WRITE).key;
  const key = lookupUserKey(t, id, LOOKUP_CREATE | LOOKUP_PARTIAL, LINK).key;
  t.kernel.keys.link(ring, key);
  return 0;
}

function unlink(t: Task, id: number, ringid: number): number {
  const ring = lookupUserKey(t, ringid, 0, WRITE).key;
  const key = lookupUserKey(t, id, LOOKUP_PARTIAL, NEED_NONE).key;
  t.kernel.keys.unlink(ring, key);
  return 0;
}

function search(t: Task, ringid: number, typeAddr: number, descAddr: number, destid: number): number {
  const typeName = readKeyType(t, typeAddr);
  const desc = readDescription(t, descAddr);
  const ring = lookupUserKey(t, ringid, 0, SEARCH);
  const dest = destid !== 0 ? lookupUserKey(t, destid, LOOKUP_CREATE, WRITE).key : null;
  const type = keyType(typeName);
  if (!type) throw new Errno(E.ENOKEY);
  const r = searchKeyring(t.creds, ring, type, desc, { stateCheck: true, nowSec: nowSec(t) });
  if (typeof r === 'number') throw new Errno(r === E.EAGAIN ? E.ENOKEY : r);
  if (dest) {
    keyPermission(t.creds, { key: r, possessed: ring.possessed }, LINK);
    t.kernel.keys.link(dest, r);
  }
  return r.serial;
}

function read(t: Task, id: number, buf: number, buflen: number): number {
  let ref;
  try {
    ref = lookupUserKey(t, id, 0, NEED_DEFER);
  } catch {
    throw new Errno(E.ENOKEY);
  }
  const key = ref.key;
  if (key.state === 'negative') throw new Errno(key.rejectError);
  try {
    keyPermission(t.creds, ref, READ);
  } catch (e) {
    // Without read permission a key is still readable by a process that possesses it.
    if (!ref.possessed && !possesses(t.kernel.keys, t.creds, key)) throw e;
  }
  if (!key.type.readable) throw new Errno(E.EOPNOTSUPP);
  key.validate(nowSec(t));
  if (key.links) {
    const out = Buffer.alloc(key.links.size * 4);
    let i = 0;
    for (const k of key.links.values()) out.writeInt32LE(k.serial, 4 * i++);
    return buf !== 0 && buflen > 0 ? giveWhole(t, buf, buflen, out) : out.length;
  }
  const data = key.payload ?? Buffer.alloc(0);
  return buf !== 0 && buflen > 0 ? giveWhole(t, buf, buflen, data) : data.length;
}

function setReqkeyKeyring(t: Task, defl: number): number {
  const old = t.creds.reqkeyDefault;
  switch (defl) {
    case -1:
      return old;
    case 1:
      if (!t.kernel.keys.fromRef(t.creds.threadKeyring)) installThreadKeyring(t);
      break;
    case 2:
      if (!t.kernel.keys.fromRef(t.creds.processKeyring)) installProcessKeyring(t);
      break;
    case 0: case 3: case 4: case 5: case 7:
      break;
    default:
      throw new Errno(E.EINVAL);
  }
  const n = t.creds.clone();
  n.reqkeyDefault = defl;
  t.creds = n;
  return old;
}

function setTimeout(t: Task, id: number, timeout: number): number {
  const { key } = lookupUserKey(t, id, LOOKUP_CREATE | LOOKUP_PARTIAL, SETATTR);
  key.expiry = timeout > 0 ? nowSec(t) + timeout : 0;
  return 0;
}

function invalidate(t: Task, id: number): number {
  const { key } = lookupUserKey(t, id, 0, SEARCH);
  key.invalidated = true;
  t.kernel.keys.markDirty();
  return 0;
}

function getSecurity(t: Task, id: number, buf: number, buflen: number): number {
  lookupUserKey(t, id, LOOKUP_PARTIAL, VIEW);
  // No security module labels keys: an empty string.
  if (buf !== 0 && buflen > 0) t.mm.copyOut(buf, Buffer.from([0]));
  return 1;
}

/** Gives the caller's session keyring to its parent, under Linux's conditions (EPERM otherwise). */
function sessionToParent(t: Task): number {
  const mine = lookupUserKey(t, KEY_SPEC_SESSION_KEYRING, 0, LINK).key;
  const ptg = t.tg.parent;
  if (!ptg || ptg.pid <= 1 || ptg.tasks.size !== 1) throw new Errno(E.EPERM);
  const p = ptg.leader;
  const pc = p.creds;
  const c = t.creds;
  const m = t.kernel.keys;
  if (pc === c || m.fromRef(pc.sessionKeyring) === mine) return 0;
  if (pc.uid !== c.euid || pc.euid !== c.euid || pc.suid !== c.euid || pc.gid !== c.egid || pc.egid !== c.egid || pc.sgid !== c.egid) throw new Errno(E.EPERM);
  const theirs = m.fromRef(pc.sessionKeyring);
  if ((theirs && theirs.uid !== c.euid) || mine.uid !== c.euid) throw new Errno(E.EPERM);
  installSessionKeyring(p, mine);
  return 0;
}

/** Only the restriction "no more links" (no type) exists here. */
function restrictKeyring(t: Task, id: number, typeAddr: number, restrictionAddr: number): number {
  const { key } = lookupUserKey(t, id, 0, SETATTR);
  if (typeAddr === 0) {
    if (restrictionAddr !== 0) throw new Errno(E.EINVAL);
  } else {
    const typeName = readKeyType(t, typeAddr);
    if (restrictionAddr !== 0) readUserString(t, restrictionAddr, PAGE_SIZE);
    if (!keyType(typeName)) throw new Errno(E.ENOENT);
  }
  if (!key.isKeyring) throw new Errno(E.ENOTDIR);
  if (key.restricted) throw new Errno(E.EEXIST);
  // No key type here offers a link restriction (Linux's asymmetric keys do).
  if (typeAddr !== 0) throw new Errno(E.EOPNOTSUPP);
  key.restricted = true;
  return 0;
}

function move(t: Task, id: number, fromid: number, toid: number, flags: number): number {
  if (flags & ~KEYCTL_MOVE_EXCL) throw new Errno(E.EINVAL);
  const key = lookupUserKey(t, id, LOOKUP_CREATE | LOOKUP_PARTIAL, LINK).key;
  const from = lookupUserKey(t, fromid, 0, WRITE).key;
  const to = lookupUserKey(t, toid, LOOKUP_CREATE, WRITE).key;
  if (from === to) return 0;
  if (!from.links || !to.links) throw new Errno(E.ENOTDIR);
  const idx = linkIndex(key.type, key.description);
  if (from.links.get(idx) !== key) throw new Errno(E.ENOENT);
  if (flags & KEYCTL_MOVE_EXCL && to.links.has(idx)) throw new Errno(E.EEXIST);
  const m = t.kernel.keys;
  m.link(to, key);
  m.unlink(from, key);
  return 0;
}

export function keyctl(t: Task, cmd: number, a2: number, a3: number, a4: number, a5: number): number {
  const id = a2 | 0;
  switch (cmd) {
    case GET_KEYRING_ID:
      return lookupUserKey(t, id, a3 !== 0 ? LOOKUP_CREATE : 0, NEED_DEFER).key.serial;
    case JOIN_SESSION_KEYRING: {
      if (a2 === 0) return newSessionKeyring(t).serial;
      const name = readDescription(t, a2);
      if (name.startsWith('.')) throw new Errno(E.EPERM);
      return joinNamedSession(t, name).serial;
    }
    case UPDATE: return update(t, id, a3, a4);
    case REVOKE: return revoke(t, id);
    case CHOWN: return chown(t, id, u32(a3), u32(a4));
    case SETPERM: return setperm(t, id, u32(a3));
    case DESCRIBE: return describe(t, id, a3, a4);
    case CLEAR: return clear(t, id);
    case LINK_CMD: return link(t, id, a3 | 0);
    case UNLINK: return unlink(t, id, a3 | 0);
    case SEARCH_CMD: return search(t, id, a3, a4, a5 | 0);
    case READ_CMD: return read(t, id, a3, a4);
    case SET_REQKEY_KEYRING: return setReqkeyKeyring(t, id);
    case SET_TIMEOUT: return setTimeout(t, id, u32(a3));
    case INVALIDATE: return invalidate(t, id);
    case GET_SECURITY: return getSecurity(t, id, a3, a4);
    case SESSION_TO_PARENT: return sessionToParent(t);
    case RESTRICT_KEYRING: return restrictKeyring(t, id, a3, a4);
    case MOVE: return move(t, id, a3 | 0, a4 | 0, u32(a5));
    case CAPABILITIES: {
      // As many of the two bytes as fit; their number is the result.
      const caps = Buffer.from([CAPS0, 0]);
      if (a2 !== 0 && a3 > 0) t.mm.copyOut(a2, caps.subarray(0, Math.min(a3, caps.length)));
      return caps.length;
    }
    case ASSUME_AUTHORITY:
      // No request is ever being serviced, so there is no authorisation key to assume; 0 drops none.
      if (id < 0) throw new Errno(E.EINVAL);
      if (id === 0) return 0;
      throw new Errno(E.ENOKEY);
    case REJECT: {
      const err = u32(a4);
      if (err <= 0 || err >= MAX_ERRNO || (err >= ERESTART_MIN && err <= ERESTART_MAX)) throw new Errno(E.EINVAL);
      throw new Errno(E.EPERM);
    }
    case INSTANTIATE: case NEGATE: case INSTANTIATE_IOV:
      // Only the holder of an authorisation key (a request-key upcall) may instantiate.
      throw new Errno(E.EPERM);
    default:
      // GET_PERSISTENT, DH_COMPUTE, the PKEY_* operations, WATCH_KEY: a kernel built without them.
      throw new Errno(E.EOPNOTSUPP);
  }
}
