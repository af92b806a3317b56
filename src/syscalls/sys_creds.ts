// User and group identities (man 2 setuid, setreuid, setresuid, setfsuid,
// getgroups, capget, capset; man 7 credentials, capabilities). Changing to
// arbitrary UIDs needs CAP_SETUID, GIDs and groups CAP_SETGID; without it a
// caller may only move among its current real, effective and saved IDs. The
// filesystem IDs follow the effective IDs on every change, and the capability
// sets follow the UIDs as capabilities(7) says (fixCapsAfterSetuid).
//
// Credentials are replaced, never edited in place: each change builds a new
// Credentials and installs it on the calling task, so an object other code
// captured earlier (an open file's opener, say) keeps its values.

import { type Credentials, fixCapsAfterSetuid, hasCapability } from '../auth/creds';
import { vTask } from '../kernel/pid_ns';
import { ALL_CAPS, CAP_SETGID, CAP_SETPCAP, CAP_SETUID } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import type { Task } from '../kernel/task';
import { u32, type SyscallDef } from '../kernel/syscall';
import { gidFrom, gidTo, mayUsernsSetgroups, uidFrom, uidTo } from '../auth/userns';
import { stateOf } from './sys_info';

/** (uid_t)-1 / (gid_t)-1: "leave unchanged" for the setre and setres calls, invalid elsewhere. */
const NO_ID = 0xffffffff;
const NGROUPS_MAX = 65536;

/** A change of IDs: the new values, or the errno that forbids them. */
type Ids = { r: number; e: number; s: number; fs: number };
type Kind = 'uid' | 'gid';

function idsOf(c: Credentials, k: Kind): Ids {
  return k === 'uid' ? { r: c.uid, e: c.euid, s: c.suid, fs: c.fsuid } : { r: c.gid, e: c.egid, s: c.sgid, fs: c.fsgid };
}

/** Install new IDs of one kind on t with a fresh Credentials object; fsOnly: setfsuid. */
function commit(t: Task, k: Kind, ids: Ids, fsOnly = false): void {
  const n = t.creds.clone();
  if (k === 'uid') {
    n.uid = ids.r;
    n.euid = ids.e;
    n.suid = ids.s;
    n.fsuid = ids.fs;
    fixCapsAfterSetuid(t.creds, n, fsOnly);
  } else {
    n.gid = ids.r;
    n.egid = ids.e;
    n.sgid = ids.s;
    n.fsgid = ids.fs;
  }
  const o = t.creds;
  // Linux's commit_creds: a change of effective or filesystem IDs makes the
  // process non-dumpable (suid_dumpable is 0) and drops its parent-death signal.
  if (n.euid !== o.euid || n.egid !== o.egid || n.fsuid !== o.fsuid || n.fsgid !== o.fsgid) {
    const s = stateOf(t.tg);
    s.dumpable = 0;
    s.pdeathsig = 0;
  }
  t.creds = n;
}

/** CAP_SETUID for user IDs, CAP_SETGID for group IDs. */
function privileged(t: Task, k: Kind): boolean {
  return hasCapability(t.creds, k === 'uid' ? CAP_SETUID : CAP_SETGID);
}

/** An ID as the caller names it, as a kernel ID: EINVAL when its user namespace does not map it (-1 stays -1). */
function kid(t: Task, k: Kind, id: number): number {
  if (id === NO_ID) return id;
  const v = k === 'uid' ? uidTo(t.creds.userns, id) : gidTo(t.creds.userns, id);
  if (v < 0) throw new Errno(E.EINVAL);
  return v;
}

/** A kernel ID as the caller's user namespace shows it. */
function seen(t: Task, k: Kind, id: number): number {
  return k === 'uid' ? uidFrom(t.creds.userns, id) : gidFrom(t.creds.userns, id);
}

/** setuid/setgid: root sets all three; others may set the effective ID to the real or saved one. */
function setId(t: Task, k: Kind, raw: number): number {
  if (u32(raw) === NO_ID) throw new Errno(E.EINVAL);
  const id = kid(t, k, u32(raw));
  const o = idsOf(t.creds, k);
  if (privileged(t, k)) commit(t, k, { r: id, e: id, s: id, fs: id });
  else if (id === o.r || id === o.s) commit(t, k, { ...o, e: id, fs: id });
  else throw new Errno(E.EPERM);
  return 0;
}

/** setreuid/setregid with Linux's rules for the saved ID. */
function setReId(t: Task, k: Kind, rawR: number, rawE: number): number {
  const r = kid(t, k, u32(rawR));
  const e = kid(t, k, u32(rawE));
  const o = idsOf(t.creds, k);
  const priv = privileged(t, k);
  const n = { ...o };
  if (r !== NO_ID) {
    if (!priv && r !== o.r && r !== o.e) throw new Errno(E.EPERM);
    n.r = r;
  }
  if (e !== NO_ID) {
    if (!priv && e !== o.r && e !== o.e && e !== o.s) throw new Errno(E.EPERM);
    n.e = e;
  }
  // The saved ID follows the new effective one when the real ID is set, or
  // the effective ID is set to something other than the old real ID.
  if (r !== NO_ID || (e !== NO_ID && e !== o.r)) n.s = n.e;
  n.fs = n.e;
  commit(t, k, n);
  return 0;
}

/** setresuid/setresgid: unprivileged callers may use only their current real, effective or saved IDs. */
function setResId(t: Task, k: Kind, raw: number[]): number {
  const [r, e, s] = raw.map((v) => kid(t, k, u32(v)));
  const o = idsOf(t.creds, k);
  if (!privileged(t, k)) {
    for (const v of [r, e, s]) {
      if (v !== NO_ID && v !== o.r && v !== o.e && v !== o.s) throw new Errno(E.EPERM);
    }
  }
  const n = { r: r === NO_ID ? o.r : r, e: e === NO_ID ? o.e : e, s: s === NO_ID ? o.s : s, fs: 0 };
  n.fs = n.e;
  commit(t, k, n);
  return 0;
}

function getResId(t: Task, k: Kind, a: number[]): number {
  const o = idsOf(t.creds, k);
  t.mm.writeU32(a[0], seen(t, k, o.r));
  t.mm.writeU32(a[1], seen(t, k, o.e));
  t.mm.writeU32(a[2], seen(t, k, o.s));
  return 0;
}

/** setfsuid/setfsgid: always return the old value; change it when allowed, silently ignore otherwise. */
function setFsId(t: Task, k: Kind, raw: number): number {
  const o = idsOf(t.creds, k);
  const named = u32(raw);
  const id = named === NO_ID ? NO_ID : k === 'uid' ? uidTo(t.creds.userns, named) : gidTo(t.creds.userns, named);
  // An unmapped ID changes nothing; the old value is returned as the caller sees it.
  if (id === -1) return seen(t, k, o.fs);
  if (id !== NO_ID && id !== o.fs && (privileged(t, k) || id === o.r || id === o.e || id === o.s)) {
    commit(t, k, { ...o, fs: id }, true);
  }
  return seen(t, k, o.fs);
}

// ---- supplementary groups ---------------------------------------------------------------

function getgroups(t: Task, a: number[]): number {
  const size = a[0] | 0;
  const groups = t.creds.groups;
  if (size < 0) throw new Errno(E.EINVAL);
  if (size === 0) return groups.length;
  if (size < groups.length) throw new Errno(E.EINVAL);
  const b = Buffer.alloc(4 * groups.length);
  groups.forEach((g, i) => b.writeUInt32LE(gidFrom(t.creds.userns, g) >>> 0, 4 * i));
  t.mm.copyOut(a[1], b);
  return groups.length;
}

function setgroups(t: Task, a: number[]): number {
  if (!privileged(t, 'gid') || !mayUsernsSetgroups(t.creds.userns)) throw new Errno(E.EPERM);
  const size = u32(a[0]);
  if (size > NGROUPS_MAX) throw new Errno(E.EINVAL);
  const b = size ? t.mm.copyIn(a[1], 4 * size) : Buffer.alloc(0);
  const groups: number[] = [];
  for (let i = 0; i < size; i++) {
    const g = b.readUInt32LE(4 * i);
    if (g === NO_ID) throw new Errno(E.EINVAL);
    groups.push(kid(t, 'gid', g));
  }
  groups.sort((x, y) => x - y); // Linux keeps the list sorted; getgroups returns it so
  const n = t.creds.clone();
  n.groups = groups;
  t.creds = n;
  return 0;
}

// ---- capabilities -----------------------------------------------------------------------

const CAP_V1 = 0x19980330; // one 32-bit word per set
const CAP_V2 = 0x20071026; // deprecated, two words
const CAP_V3 = 0x20080522; // two words

interface CapSets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

/** Check the header: the number of 32-bit words per set, or EINVAL after writing the kernel's version. */
function capHeader(t: Task, addr: number): { words: number; pid: number } {
  const version = t.mm.readU32(addr);
  const pid = t.mm.readI32(addr + 4);
  if (version === CAP_V1) return { words: 1, pid };
  if (version === CAP_V2 || version === CAP_V3) return { words: 2, pid };
  t.mm.writeU32(addr, CAP_V3);
  throw new Errno(E.EINVAL);
}

function capget(t: Task, a: number[]): number {
  let h: { words: number; pid: number };
  try {
    h = capHeader(t, a[0]);
  } catch (e) {
    // Probing the version with a NULL data pointer succeeds.
    if (!a[1] && e instanceof Errno && e.errno === E.EINVAL) return 0;
    throw e;
  }
  if (!a[1]) return 0;
  if (h.pid < 0) throw new Errno(E.EINVAL);
  let c = t.creds;
  if (h.pid !== 0 && h.pid !== t.tid) {
    const target = vTask(t, h.pid);
    if (!target) throw new Errno(E.ESRCH);
    c = target.creds;
  }
  const caps = { effective: c.capEffective, permitted: c.capPermitted, inheritable: c.capInheritable };
  const b = Buffer.alloc(12 * h.words);
  for (let w = 0; w < h.words; w++) {
    const word = (v: bigint): number => Number((v >> BigInt(32 * w)) & 0xffffffffn);
    b.writeUInt32LE(word(caps.effective), 12 * w);
    b.writeUInt32LE(word(caps.permitted), 12 * w + 4);
    b.writeUInt32LE(word(caps.inheritable), 12 * w + 8);
  }
  t.mm.copyOut(a[1], b);
  return 0;
}

function capset(t: Task, a: number[]): number {
  const h = capHeader(t, a[0]);
  if (h.pid !== 0 && vTask(t, h.pid) !== t) throw new Errno(E.EPERM);
  const b = t.mm.copyIn(a[1], 12 * h.words);
  const n: CapSets = { effective: 0n, permitted: 0n, inheritable: 0n };
  for (let w = 0; w < h.words; w++) {
    const sh = BigInt(32 * w);
    n.effective |= BigInt(b.readUInt32LE(12 * w)) << sh;
    n.permitted |= BigInt(b.readUInt32LE(12 * w + 4)) << sh;
    n.inheritable |= BigInt(b.readUInt32LE(12 * w + 8)) << sh;
  }
  n.effective &= ALL_CAPS;
  n.permitted &= ALL_CAPS;
  n.inheritable &= ALL_CAPS;
  const o = t.creds;
  // Lowering only: permitted may shrink, effective must stay within the new
  // permitted set; inheritable within the old inheritable and permitted sets,
  // or with CAP_SETPCAP within the old inheritable and bounding sets.
  const inhLimit = hasCapability(o, CAP_SETPCAP) ? o.capInheritable | o.capBounding : o.capInheritable | o.capPermitted;
  if ((n.inheritable & ~inhLimit) !== 0n) throw new Errno(E.EPERM);
  if ((n.permitted & ~o.capPermitted) !== 0n) throw new Errno(E.EPERM);
  if ((n.effective & ~n.permitted) !== 0n) throw new Errno(E.EPERM);
  const c = o.clone();
  c.capEffective = n.effective;
  c.capPermitted = n.permitted;
  c.capInheritable = n.inheritable;
  c.capAmbient &= n.permitted & n.inheritable;
  t.creds = c;
  return 0;
}

// ---- the table ------------------------------------------------------------------------

export const defs: SyscallDef[] = [
  { nr: 102, name: 'getuid', args: [], fn: (t) => seen(t, 'uid', t.creds.uid) },
  { nr: 107, name: 'geteuid', args: [], fn: (t) => seen(t, 'uid', t.creds.euid) },
  { nr: 104, name: 'getgid', args: [], fn: (t) => seen(t, 'gid', t.creds.gid) },
  { nr: 108, name: 'getegid', args: [], fn: (t) => seen(t, 'gid', t.creds.egid) },
  { nr: 105, name: 'setuid', args: ['uint'], fn: (t, a) => setId(t, 'uid', a[0]) },
  { nr: 106, name: 'setgid', args: ['uint'], fn: (t, a) => setId(t, 'gid', a[0]) },
  { nr: 113, name: 'setreuid', args: ['int', 'int'], fn: (t, a) => setReId(t, 'uid', a[0], a[1]) },
  { nr: 114, name: 'setregid', args: ['int', 'int'], fn: (t, a) => setReId(t, 'gid', a[0], a[1]) },
  { nr: 117, name: 'setresuid', args: ['int', 'int', 'int'], fn: (t, a) => setResId(t, 'uid', a.slice(0, 3)) },
  { nr: 118, name: 'getresuid', args: ['ptr_out', 'ptr_out', 'ptr_out'], fn: (t, a) => getResId(t, 'uid', a) },
  { nr: 119, name: 'setresgid', args: ['int', 'int', 'int'], fn: (t, a) => setResId(t, 'gid', a.slice(0, 3)) },
  { nr: 120, name: 'getresgid', args: ['ptr_out', 'ptr_out', 'ptr_out'], fn: (t, a) => getResId(t, 'gid', a) },
  { nr: 122, name: 'setfsuid', args: ['uint'], fn: (t, a) => setFsId(t, 'uid', a[0]) },
  { nr: 123, name: 'setfsgid', args: ['uint'], fn: (t, a) => setFsId(t, 'gid', a[0]) },
  { nr: 115, name: 'getgroups', args: ['int', 'ptr'], fn: getgroups },
  { nr: 116, name: 'setgroups', args: ['int', 'ptr'], fn: setgroups },
  { nr: 125, name: 'capget', args: ['ptr', 'ptr'], fn: capget },
  { nr: 126, name: 'capset', args: ['ptr', 'ptr'], fn: capset },
];
