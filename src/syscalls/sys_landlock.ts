// landlock_create_ruleset, landlock_add_rule, landlock_restrict_self (man 2
// landlock_create_ruleset & co, man 7 landlock): an unprivileged task
// restricts its own file system access, and that of everything it starts.
// The sandbox offers ABI 2 (the file system rights up to REFER); the checks
// themselves are vfs/landlock.ts.

import { E, Errno } from '../abi/errno';
import { CAP_SYS_ADMIN } from '../abi/capability';
import { O_ACCMODE, O_RDONLY, O_RDWR, O_WRONLY, S_IFDIR, S_IFMT } from '../abi/fs';
import {
  ACCESS_FS_ALL, ACCESS_FS_FILE, LANDLOCK_ABI_VERSION, LANDLOCK_CREATE_RULESET_VERSION, LANDLOCK_MAX_NUM_LAYERS, LANDLOCK_RULE_PATH_BENEATH,
  PATH_BENEATH_ATTR_SIZE, RULESET_ATTR_SIZE,
} from '../abi/landlock';
import { PAGE_SIZE } from '../abi/mm';
import { nsCapable } from '../auth/userns';
import type { Task } from '../kernel/task';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { LandlockRuleset } from '../vfs/landlock';
import { noNewPrivs } from './sys_info';

function createRuleset(t: Task, attr: number, size: number, flags: number): number {
  if (flags) {
    if (flags === LANDLOCK_CREATE_RULESET_VERSION && attr === 0 && size === 0) return LANDLOCK_ABI_VERSION;
    throw new Errno(E.EINVAL);
  }
  // Linux's copy_min_struct_from_user: at least the first field, at most a
  // page, and any bytes past what this ABI knows must be zero (size is a
  // size_t: a negative number here is a huge one).
  if (size >= 0 && size < RULESET_ATTR_SIZE) throw new Errno(E.EINVAL);
  if (size < 0 || size > PAGE_SIZE) throw new Errno(E.E2BIG);
  const raw = t.mm.copyIn(attr, size);
  if (raw.subarray(RULESET_ATTR_SIZE).some((b) => b !== 0)) throw new Errno(E.E2BIG);
  const handled = raw.readBigUInt64LE(0);
  if (handled & ~BigInt(ACCESS_FS_ALL)) throw new Errno(E.EINVAL);
  if (handled === 0n) throw new Errno(E.ENOMSG);
  const f = new LandlockRuleset(Number(handled), O_RDWR, t.heapBudget);
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

function restrictSelf(t: Task, rulesetFd: number, flags: number): number {
  if (!noNewPrivs(t.tg) && !nsCapable(t.creds, t.creds.userns, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  if (flags) throw new Errno(E.EINVAL);
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
    partial: 'ABI 2 (file system rights up to REFER, as Linux 6.1): TRUNCATE, IOCTL_DEV, network rules and scopes (ABI 3-6) are EINVAL',
  },
  { nr: 445, name: 'landlock_add_rule', args: ['fd', 'int', 'ptr', 'hex'], fn: (t, a) => addRule(t, i32(a[0]), u32(a[1]), a[2], u32(a[3])) },
  { nr: 446, name: 'landlock_restrict_self', args: ['fd', 'hex'], fn: (t, a) => restrictSelf(t, i32(a[0]), u32(a[1])) },
];
