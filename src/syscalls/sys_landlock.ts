// landlock_create_ruleset, landlock_add_rule, landlock_restrict_self (man 2
// landlock_create_ruleset & co, man 7 landlock): an unprivileged task
// restricts its own file system access, and that of everything it starts.
// The sandbox offers ABI 7 (file system rights up to IOCTL_DEV, TCP ports,
// scopes, audit flags); the checks themselves are vfs/landlock.ts and
// auth/landlock.ts.

import { E, Errno } from '../abi/errno';
import { CAP_SYS_ADMIN } from '../abi/capability';
import { O_ACCMODE, O_RDONLY, O_RDWR, O_WRONLY, S_IFDIR, S_IFMT } from '../abi/fs';
import {
  ACCESS_FS_ALL, ACCESS_FS_FILE, ACCESS_NET_ALL, LANDLOCK_ABI_VERSION, LANDLOCK_CREATE_RULESET_ERRATA, LANDLOCK_CREATE_RULESET_VERSION, LANDLOCK_ERRATA,
  LANDLOCK_MAX_NUM_LAYERS, LANDLOCK_RULE_NET_PORT, RESTRICT_SELF_FLAGS, RESTRICT_SELF_LOG_SUBDOMAINS_OFF,
  LANDLOCK_RULE_PATH_BENEATH, LANDLOCK_SCOPE_ALL, NET_PORT_ATTR_SIZE, PATH_BENEATH_ATTR_SIZE, RULESET_ATTR_MIN_SIZE, RULESET_ATTR_SIZE,
} from '../abi/landlock';
import { PAGE_SIZE } from '../abi/mm';
import { nsCapable } from '../auth/userns';
import type { Task } from '../kernel/task';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { LandlockRuleset } from '../vfs/landlock';
import { noNewPrivs } from './sys_info';
import { copyStructIn } from './sysutil';

function createRuleset(t: Task, attr: number, size: number, flags: number): number {
  if (flags) {
    if (flags === LANDLOCK_CREATE_RULESET_VERSION && attr === 0 && size === 0) return LANDLOCK_ABI_VERSION;
    if (flags === LANDLOCK_CREATE_RULESET_ERRATA && attr === 0 && size === 0) return LANDLOCK_ERRATA;
    throw new Errno(E.EINVAL);
  }
  // Linux's copy_min_struct_from_user: at least the first field, at most a
  // page, and any bytes past what this ABI knows must be zero (size is a
  // size_t: a negative number here is a huge one).
  if (attr === 0) throw new Errno(E.EFAULT);
  // A shorter struct (an older ABI's) reads as zeros past its end.
  if (size >= 0 && size < RULESET_ATTR_MIN_SIZE) throw new Errno(E.EINVAL);
  if (size < 0 || size > PAGE_SIZE) throw new Errno(E.E2BIG);
  const raw = copyStructIn(t, attr, size, RULESET_ATTR_SIZE);
  const fs = raw.readBigUInt64LE(0);
  const net = raw.readBigUInt64LE(8);
  const scoped = raw.readBigUInt64LE(16);
  if (fs & ~BigInt(ACCESS_FS_ALL) || net & ~BigInt(ACCESS_NET_ALL) || scoped & ~BigInt(LANDLOCK_SCOPE_ALL)) throw new Errno(E.EINVAL);
  if (fs === 0n && net === 0n && scoped === 0n) throw new Errno(E.ENOMSG);
  const f = new LandlockRuleset(Number(fs), Number(net), Number(scoped), O_RDWR, t.heapBudget);
  try {
    return t.fdTable.install(f, true);
  } catch (e) {
    f.decRef();
    throw e;
  }
}

/** The ruleset behind fd: EBADF for no file (or an O_PATH one), EBADFD for another kind, EPERM without the access the call needs. */
function rulesetOf(t: Task, fd: number, mode: 'read' | 'write'): LandlockRuleset {
  const f = t.fdTable.get(fd);
  if (!(f instanceof LandlockRuleset)) throw new Errno(E.EBADFD);
  const acc = f.flags & O_ACCMODE;
  const can = mode === 'read' ? acc === O_RDONLY || acc === O_RDWR : acc === O_WRONLY || acc === O_RDWR;
  if (!can) throw new Errno(E.EPERM);
  return f;
}

function addRule(t: Task, rulesetFd: number, type: number, attr: number, flags: number): number {
  if (flags) throw new Errno(E.EINVAL);
  const rs = rulesetOf(t, rulesetFd, 'write');
  if (type === LANDLOCK_RULE_NET_PORT) return addNetRule(t, rs, attr);
  if (type !== LANDLOCK_RULE_PATH_BENEATH) throw new Errno(E.EINVAL);
  const raw = t.mm.copyIn(attr, PATH_BENEATH_ATTR_SIZE);
  const allowed = raw.readBigUInt64LE(0);
  const parentFd = raw.readInt32LE(8);
  if (allowed === 0n) throw new Errno(E.ENOMSG);
  if ((allowed | BigInt(rs.handledFs)) !== BigInt(rs.handledFs)) throw new Errno(E.EINVAL);
  const f = t.fdTable.getRaw(parentFd);
  // Files with no place in a tree (pipes, sockets, anonymous files, rulesets) take no rule.
  if (!f.path || f instanceof LandlockRuleset || (f.path.dentry.parent === null && f.path.dentry !== f.path.mount.root)) throw new Errno(E.EBADFD);
  const access = Number(allowed);
  if ((f.path.dentry.inode.mode & S_IFMT) !== S_IFDIR && access & ~ACCESS_FS_FILE) throw new Errno(E.EINVAL);
  rs.addRule(f.path, access);
  return 0;
}

/** A LANDLOCK_RULE_NET_PORT rule: rights the ruleset handles, on a port (host order) up to 65535. */
function addNetRule(t: Task, rs: LandlockRuleset, attr: number): number {
  const raw = t.mm.copyIn(attr, NET_PORT_ATTR_SIZE);
  const allowed = raw.readBigUInt64LE(0);
  const port = raw.readBigUInt64LE(8);
  if (allowed === 0n) throw new Errno(E.ENOMSG);
  if ((allowed | BigInt(rs.handledNet)) !== BigInt(rs.handledNet)) throw new Errno(E.EINVAL);
  if (port > 0xffffn) throw new Errno(E.EINVAL);
  rs.addNetRule(Number(port), Number(allowed));
  return 0;
}

function restrictSelf(t: Task, rulesetFd: number, flags: number): number {
  if (!noNewPrivs(t.tg) && !nsCapable(t.creds, t.creds.userns, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  if (flags & ~RESTRICT_SELF_FLAGS) throw new Errno(E.EINVAL);
  // The audit flags change nothing here (no audit log); LOG_SUBDOMAINS_OFF alone may come without a ruleset.
  if (rulesetFd === -1 && flags === RESTRICT_SELF_LOG_SUBDOMAINS_OFF) return 0;
  const rs = rulesetOf(t, rulesetFd, 'read');
  const old = t.creds.landlock ?? [];
  if (old.length >= LANDLOCK_MAX_NUM_LAYERS) throw new Errno(E.E2BIG);
  const c = t.creds.clone();
  c.landlock = [...old, rs.freeze()];
  t.creds = c;
  return 0;
}

export const defs: SyscallDef[] = [
  {
    nr: 444, name: 'landlock_create_ruleset', args: ['ptr', 'size', 'hex'], fn: (t, a) => createRuleset(t, a[0], a[1], u32(a[2])),
    partial: 'ABI 7 and errata 1-3 (as Linux 6.18, though uname says 6.7); TCP rules cover bind and connect, not a TCP Fast Open sendto (as on Linux)',
  },
  { nr: 445, name: 'landlock_add_rule', args: ['fd', 'int', 'ptr', 'hex'], fn: (t, a) => addRule(t, i32(a[0]), u32(a[1]), a[2], u32(a[3])) },
  {
    nr: 446, name: 'landlock_restrict_self', args: ['fd', 'hex'], fn: (t, a) => restrictSelf(t, i32(a[0]), u32(a[1])),
    partial: "ABI 7's audit flags are accepted and change nothing: the sandbox has no audit log",
  },
];
