// statmount and listmount (Linux 6.8, with the later fields up to 6.18):
// the caller's mount namespace as /proc/self/mountinfo shows it, addressed by
// 64-bit unique mount ids (Mount.uniqueId, also statx's
// STATX_MNT_ID_UNIQUE). Mounts are private (mount_ns.ts): no peer groups,
// masters or propagation sources; no idmapped mounts, no file system or
// security options (mountinfo shows none either), so those parts of the
// reply are left out as Linux leaves out what it has nothing to say about.

import { E, Errno } from '../abi/errno';
import { PAGE_SIZE, USER_RANGE_END } from '../abi/mm';
import type { Task } from '../kernel/task';
import { u32, type SyscallDef } from '../kernel/syscall';
import { MNT_UNIQUE_ID_OFFSET, type Mount } from '../vfs/dentry';
import type { MountNamespace } from '../vfs/mount_ns';
import { dominatingId, masterOf, propagationFlags } from '../vfs/propagation';
import { NsInode } from '../fsimpl/proc/ns';
import { nsCapable } from '../auth/userns';
import { CAP_SYS_ADMIN } from '../abi/capability';
import { devMajor, devMinor } from '../abi/fs';
import { mountPointFrom, pathInFs } from '../fsimpl/proc/task_info';
import { copyStructIn } from './sysutil';

const MNT_ID_REQ_SIZE_VER0 = 24;
/** struct mnt_id_req as of 6.18: size, spare, mnt_id, param, mnt_ns_id. */
const MNT_ID_REQ_SIZE = 32;
const LSMT_ROOT = 2n ** 64n - 1n;
const LISTMOUNT_REVERSE = 1;
/** Linux refuses to list more ids than this in one call. */
const LISTMOUNT_MAX = 1000000;
/** struct statmount's fixed part; the strings follow it. */
const STATMOUNT_SIZE = 512;

const SM_SB_BASIC = 0x1, SM_MNT_BASIC = 0x2, SM_PROPAGATE_FROM = 0x4, SM_MNT_ROOT = 0x8, SM_MNT_POINT = 0x10;
const SM_FS_TYPE = 0x20, SM_MNT_NS_ID = 0x40, SM_SB_SOURCE = 0x200, SM_SUPPORTED_MASK = 0x1000;
/** Every request bit Linux 6.18 knows (STATMOUNT_SUPPORTED_MASK's answer). */
const SM_SUPPORTED = 0x7fff;
const MOUNT_ATTR_RDONLY = 0x1, MOUNT_ATTR_NOSUID = 0x2, MOUNT_ATTR_NODEV = 0x4, MOUNT_ATTR_NOEXEC = 0x8;
const SB_RDONLY = 1;

/**
 * struct mnt_id_req: EINVAL below the first version, E2BIG past a page or
 * with a non-zero tail, EINVAL for an id no mount can have (and, listing, a
 * "last id" param no mount can have). The second field is mnt_ns_fd (6.18):
 * a descriptor of a mount namespace (EBADF when not open, EINVAL when not a
 * mount namespace or given with mnt_ns_id too).
 */
function readReq(t: Task, addr: number, listing: boolean): { id: bigint; param: bigint; ns: MountNamespace } {
  const usize = t.mm.readU32(addr);
  if (usize < MNT_ID_REQ_SIZE_VER0) throw new Errno(E.EINVAL);
  if (usize > PAGE_SIZE) throw new Errno(E.E2BIG);
  const raw = copyStructIn(t, addr, usize, MNT_ID_REQ_SIZE);
  const id = raw.readBigUInt64LE(8);
  const param = raw.readBigUInt64LE(16);
  const nsId = raw.readBigUInt64LE(24);
  const nsFd = raw.readInt32LE(4);
  if (id <= BigInt(MNT_UNIQUE_ID_OFFSET) && !(listing && id === LSMT_ROOT)) throw new Errno(E.EINVAL);
  if (listing && param !== 0n && param <= BigInt(MNT_UNIQUE_ID_OFFSET)) throw new Errno(E.EINVAL);
  const own = t.nsproxy.mnt;
  if (nsFd !== 0) {
    if (nsId !== 0n) throw new Errno(E.EINVAL);
    const inode = t.fdTable.getRaw(nsFd).inode;
    if (!(inode instanceof NsInode) || inode.ns === null || inode.kind !== 'mnt') throw new Errno(E.EINVAL);
    // Only the caller's own namespace is offered (another's: as an id nobody has).
    if (inode.ns !== own) throw new Errno(E.ENOENT);
    return { id, param, ns: own };
  }
  if (nsId !== 0n && nsId !== BigInt(own.inum)) throw new Errno(E.ENOENT);
  return { id, param, ns: own };
}

/**
 * The mount with unique id `id` in ns and where the caller sees it (null:
 * not from its root, after a chroot; then only CAP_SYS_ADMIN over the
 * namespace may ask, as Linux's is_path_reachable check: EPERM).
 */
function findMount(t: Task, ns: MountNamespace, id: bigint): { m: Mount; point: string | null } {
  const m = ns.mounts().find((x) => BigInt(x.uniqueId) === id);
  if (!m) throw new Errno(E.ENOENT);
  const point = mountPointFrom(m, t.fs.root);
  if (point === null && !nsCapable(t.creds, ns.owner, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  return { m, point };
}

function statmount(t: Task, a: number[]): number {
  const [reqAddr, buf] = a;
  const bufsize = a[2] < 0 ? Infinity : a[2];
  if (u32(a[3]) !== 0) throw new Errno(E.EINVAL);
  const req = readReq(t, reqAddr, false);
  const { m, point } = findMount(t, req.ns, req.id);
  const nsInum = req.ns.inum;
  // access_ok of the whole buffer first, as Linux.
  if (buf + Math.min(bufsize, STATMOUNT_SIZE) > USER_RANGE_END || bufsize > USER_RANGE_END) throw new Errno(E.EFAULT);
  const want = Number(req.param & BigInt(SM_SUPPORTED));
  const hdr = Buffer.alloc(STATMOUNT_SIZE);
  let mask = 0;
  // The strings, each NUL-terminated, after an empty one (offset 0 means "none").
  const strs: Buffer[] = [Buffer.alloc(1)];
  let strLen = 1;
  const addStr = (off: number, bit: number, s: string) => {
    hdr.writeUInt32LE(strLen, off);
    const b = Buffer.from(s + '\0', 'latin1');
    strs.push(b);
    strLen += b.length;
    mask |= bit;
  };
  if (want & SM_SB_BASIC) {
    hdr.writeUInt32LE(devMajor(m.fs.dev), 16);
    hdr.writeUInt32LE(devMinor(m.fs.dev), 20);
    hdr.writeBigUInt64LE(BigInt(m.fs.statfs().type >>> 0), 24);
    hdr.writeUInt32LE(m.fs.readonly ? SB_RDONLY : 0, 32);
    mask |= SM_SB_BASIC;
  }
  if (want & SM_MNT_BASIC) {
    const parent = m.parent ?? m;
    hdr.writeBigUInt64LE(BigInt(m.uniqueId), 40);
    hdr.writeBigUInt64LE(BigInt(parent.uniqueId), 48);
    hdr.writeUInt32LE(m.id, 56);
    hdr.writeUInt32LE(parent.id, 60);
    const f = m.flags;
    const attr = (f.readonly ? MOUNT_ATTR_RDONLY : 0) | (f.nosuid ? MOUNT_ATTR_NOSUID : 0) | (f.nodev ? MOUNT_ATTR_NODEV : 0) | (f.noexec ? MOUNT_ATTR_NOEXEC : 0);
    const more = (f.atime === 'noatime' ? 0x10 : f.atime === 'strictatime' ? 0x20 : 0) | (f.nodiratime ? 0x80 : 0) | (f.nosymfollow ? 0x200000 : 0);
    hdr.writeBigUInt64LE(BigInt(attr | more), 64);
    hdr.writeBigUInt64LE(BigInt(propagationFlags(m)), 72);
    hdr.writeBigUInt64LE(BigInt(m.prop?.group?.id ?? 0), 80);
    hdr.writeBigUInt64LE(BigInt(masterOf(m)?.prop?.group?.id ?? 0), 88);
    mask |= SM_MNT_BASIC;
  }
  if (want & SM_PROPAGATE_FROM) {
    hdr.writeBigUInt64LE(BigInt(dominatingId(m, t.nsproxy.mnt, (x) => mountPointFrom(x, t.fs.root) !== null)), 96);
    mask |= SM_PROPAGATE_FROM;
  }
  if (want & SM_FS_TYPE) addStr(36, SM_FS_TYPE, m.fs.name);
  if (want & SM_MNT_ROOT) addStr(104, SM_MNT_ROOT, pathInFs(m.root));
  if (want & SM_MNT_POINT && point !== null) addStr(108, SM_MNT_POINT, point);
  if (want & SM_SB_SOURCE) addStr(124, SM_SB_SOURCE, m.source ?? m.fs.name);
  if (want & SM_MNT_NS_ID) {
    hdr.writeBigUInt64LE(BigInt(nsInum), 112);
    mask |= SM_MNT_NS_ID;
  }
  if (want & SM_SUPPORTED_MASK) {
    hdr.writeBigUInt64LE(BigInt(SM_SUPPORTED), 144);
    mask |= SM_SUPPORTED_MASK;
  }
  const withStrings = strLen > 1;
  if (withStrings && bufsize < STATMOUNT_SIZE + strLen) throw new Errno(E.EOVERFLOW);
  hdr.writeUInt32LE(STATMOUNT_SIZE + (withStrings ? strLen : 0), 0);
  hdr.writeBigUInt64LE(BigInt(mask), 8);
  // A buffer shorter than the fixed part gets what fits of it.
  const out = withStrings ? Buffer.concat([hdr, ...strs]) : hdr.subarray(0, Math.min(bufsize, STATMOUNT_SIZE));
  t.mm.copyOut(buf, out);
  return 0;
}

function listmount(t: Task, a: number[]): number {
  const [reqAddr, ids] = a;
  const nr = a[2] < 0 ? Infinity : a[2];
  const flags = u32(a[3]);
  if (flags & ~LISTMOUNT_REVERSE) throw new Errno(E.EINVAL);
  if (nr > LISTMOUNT_MAX) throw new Errno(E.EOVERFLOW);
  if (ids + nr * 8 > USER_RANGE_END) throw new Errno(E.EFAULT);
  const req = readReq(t, reqAddr, true);
  const root = t.fs.root;
  // LSMT_ROOT: what the caller sees below its root; else everything below the mount named.
  const orig = req.id === LSMT_ROOT ? root.mount : findMount(t, req.ns, req.id).m;
  const reverse = (flags & LISTMOUNT_REVERSE) !== 0;
  const last = req.param;
  const below = (m: Mount) => {
    for (let p = m.parent; p; p = p.parent) if (p === orig) return true;
    return false;
  };
  const chosen = req.ns.mounts()
    .filter((m) => below(m) && (req.id !== LSMT_ROOT || mountPointFrom(m, root) !== null))
    .filter((m) => (last === 0n || (reverse ? BigInt(m.uniqueId) < last : BigInt(m.uniqueId) > last)))
    .sort((x, y) => (reverse ? y.uniqueId - x.uniqueId : x.uniqueId - y.uniqueId))
    .slice(0, nr);
  if (chosen.length === 0) return 0;
  const out = Buffer.alloc(chosen.length * 8);
  chosen.forEach((m, i) => out.writeBigUInt64LE(BigInt(m.uniqueId), i * 8));
  t.mm.copyOut(ids, out);
  return chosen.length;
}

export const defs: SyscallDef[] = [
  { nr: 457, name: 'statmount', fn: statmount, args: ['ptr', 'ptr', 'size', 'hex'], partial: 'the caller\'s own mount namespace only (another\'s mnt_ns_id or mnt_ns_fd is ENOENT); mnt_ns_id is the namespace\'s inode number; carry no idmaps and show no file system or security options, as in /proc/PID/mountinfo' },
  { nr: 458, name: 'listmount', fn: listmount, args: ['ptr', 'ptr', 'size', 'hex'], partial: 'the caller\'s own mount namespace only (another\'s mnt_ns_id or mnt_ns_fd is ENOENT)' },
];
