// The LSM system calls (Linux 6.8): lsm_list_modules, lsm_get_self_attr,
// lsm_set_self_attr. The sandbox's kernel has two security modules, as a
// Linux built with CONFIG_SECURITY_LANDLOCK and no other LSM: capability
// (always there) and landlock (sys_landlock.ts). Neither keeps process
// attributes (no security labels), so getting and setting them answers as
// such a Linux does: EOPNOTSUPP once the arguments pass Linux's checks.

import { E, Errno } from '../abi/errno';
import { PAGE_SIZE } from '../abi/mm';
import type { Task } from '../kernel/task';
import { u32, type SyscallDef } from '../kernel/syscall';

const LSM_ID_CAPABILITY = 100, LSM_ID_LANDLOCK = 110;
/** The active modules in initialisation order (capability first, as Linux lists them). */
const ACTIVE_LSMS = [LSM_ID_CAPABILITY, LSM_ID_LANDLOCK];
const LSM_ATTR_UNDEF = 0, LSM_FLAG_SINGLE = 1, LSM_ID_UNDEF = 0;
/** struct lsm_ctx's header: id, flags, len, ctx_len (u64 each). */
const LSM_CTX_HEADER = 32;

function lsmListModules(t: Task, a: number[]): number {
  const [ids, sizeAddr] = a;
  if (a[2] !== 0) throw new Errno(E.EINVAL);
  const usize = t.mm.readU32(sizeAddr);
  const total = ACTIVE_LSMS.length * 8;
  t.mm.writeU32(sizeAddr, total);
  if (usize < total) throw new Errno(E.E2BIG);
  const out = Buffer.alloc(total);
  ACTIVE_LSMS.forEach((id, i) => out.writeBigUInt64LE(BigInt(id), i * 8));
  t.mm.copyOut(ids, out);
  return ACTIVE_LSMS.length;
}

function lsmGetSelfAttr(t: Task, a: number[]): number {
  const [attr, ctx, sizeAddr, flags] = [u32(a[0]), a[1], a[2], u32(a[3])];
  if (attr === LSM_ATTR_UNDEF || sizeAddr === 0) throw new Errno(E.EINVAL);
  t.mm.readU32(sizeAddr);
  if (flags) {
    if (flags !== LSM_FLAG_SINGLE || ctx === 0) throw new Errno(E.EINVAL);
    const id = t.mm.copyIn(ctx, LSM_CTX_HEADER).readBigUInt64LE(0);
    if (id === BigInt(LSM_ID_UNDEF)) throw new Errno(E.EINVAL);
  }
  // No module answers: nothing was written (size 0), and the call is EOPNOTSUPP.
  t.mm.writeU32(sizeAddr, 0);
  throw new Errno(E.EOPNOTSUPP);
}

function lsmSetSelfAttr(t: Task, a: number[]): number {
  const [ctx, size, flags] = [a[1], u32(a[2]), u32(a[3])];
  if (flags) throw new Errno(E.EINVAL);
  if (size < LSM_CTX_HEADER) throw new Errno(E.EINVAL);
  if (size > PAGE_SIZE) throw new Errno(E.E2BIG);
  const raw = t.mm.copyIn(ctx, size);
  const len = raw.readBigUInt64LE(16);
  const required = BigInt(LSM_CTX_HEADER) + raw.readBigUInt64LE(24);
  if (BigInt(size) < len || required >= 2n ** 64n || len < required) throw new Errno(E.EINVAL);
  // No module takes attributes (whatever the id): EOPNOTSUPP.
  throw new Errno(E.EOPNOTSUPP);
}

export const defs: SyscallDef[] = [
  { nr: 459, name: 'lsm_get_self_attr', fn: lsmGetSelfAttr, args: ['uint', 'ptr', 'ptr', 'hex'] },
  { nr: 460, name: 'lsm_set_self_attr', fn: lsmSetSelfAttr, args: ['uint', 'ptr', 'uint', 'hex'] },
  { nr: 461, name: 'lsm_list_modules', fn: lsmListModules, args: ['ptr', 'ptr', 'hex'] },
];
