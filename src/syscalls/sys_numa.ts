// NUMA memory policies for the one node the sandbox shows (node 0, as
// /sys/devices/system/node would list it): set_mempolicy, get_mempolicy and
// mbind check their arguments as Linux does, keep the policy (the process's,
// or each mapping's on its VMA) and report it back. With one node every page
// is already where any valid policy wants it, so placement needs no work;
// a mask naming only other nodes is EINVAL, as on a one-node Linux machine.
import { Errno, E } from '../abi/errno';
import {
  MPOL_BIND, MPOL_DEFAULT, MPOL_F_ADDR, MPOL_F_MEMS_ALLOWED, MPOL_F_NODE, MPOL_F_NUMA_BALANCING, MPOL_F_RELATIVE_NODES,
  MPOL_F_STATIC_NODES, MPOL_INTERLEAVE, MPOL_LOCAL, MPOL_MAX, MPOL_MF_MOVE, MPOL_MF_MOVE_ALL, MPOL_MF_STRICT, MPOL_MODE_FLAGS,
  MPOL_PREFERRED, MPOL_PREFERRED_MANY, MPOL_WEIGHTED_INTERLEAVE, type NumaPolicy,
} from '../abi/mempolicy';
import { CAP_SYS_NICE } from '../abi/capability';
import type { Task } from '../kernel/task';
import { capable, need, stateOf } from './sys_info';
import { i32, u32, type SyscallDef } from '../kernel/syscall';

const PAGE_SIZE = 4096;
/** The nodes that exist (and that the process may use): node 0 only. */
const ALLOWED = 1n;
const NR_NODE_IDS = 1;

/** The mode argument split into mode and flags, checked as Linux's sanitize_mpol_flags. */
function splitMode(arg: number): { mode: number; flags: number } {
  const flags = arg & MPOL_MODE_FLAGS;
  const mode = arg & ~MPOL_MODE_FLAGS;
  if (mode < 0 || mode >= MPOL_MAX) throw new Errno(E.EINVAL);
  if (flags & MPOL_F_STATIC_NODES && flags & MPOL_F_RELATIVE_NODES) throw new Errno(E.EINVAL);
  if (flags & MPOL_F_NUMA_BALANCING && mode !== MPOL_BIND && mode !== MPOL_PREFERRED_MANY) throw new Errno(E.EINVAL);
  return { mode, flags };
}

/** A user node mask of maxnode - 1 bits (Linux's long-standing off by one), at most a page of them. */
function readNodes(t: Task, addr: number, maxnode: number): bigint {
  const bits = maxnode - 1;
  if (bits === 0 || addr === 0 || maxnode === 0) {
    // maxnode 0 wraps to a huge count in Linux: refused when there is a mask to read.
    if (maxnode === 0 && addr !== 0) throw new Errno(E.EINVAL);
    return 0n;
  }
  if (maxnode < 0 || bits > PAGE_SIZE * 8) throw new Errno(E.EINVAL);
  const raw = t.mm.copyIn(addr, Math.ceil(bits / 64) * 8);
  let m = 0n;
  for (let i = raw.length - 8; i >= 0; i -= 8) m = (m << 64n) | raw.readBigUInt64LE(i);
  return m & ((1n << BigInt(bits)) - 1n);
}

/** Linux's mpol_new and mpol_set_nodemask: the policy a (mode, flags, nodes) request makes, null for the default. */
function makePolicy(mode: number, flags: number, nodes: bigint): NumaPolicy | null {
  if (mode === MPOL_DEFAULT) {
    need(nodes === 0n);
    return null;
  }
  const userMask = (flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES)) !== 0;
  if (mode === MPOL_PREFERRED && nodes === 0n) {
    need(!userMask);
    mode = MPOL_LOCAL;
  } else if (mode === MPOL_LOCAL) {
    need(nodes === 0n && !userMask);
  } else need(nodes !== 0n);
  if (mode === MPOL_LOCAL) return { mode, flags, nodes: 0n };
  // Relative masks fold onto the allowed nodes (any node maps to node 0); others must name node 0.
  const effective = flags & MPOL_F_RELATIVE_NODES ? (nodes !== 0n ? ALLOWED : 0n) : nodes & ALLOWED;
  need(effective !== 0n);
  return { mode, flags, nodes: userMask ? nodes : effective };
}

function setMempolicy(t: Task, a: number[]): number {
  const { mode, flags } = splitMode(i32(a[0]));
  const nodes = readNodes(t, a[1], a[2]);
  stateOf(t.tg).mempolicy = makePolicy(mode, flags, nodes);
  return 0;
}

/** The node mask to the user: maxnode - 1 bits rounded up to longs, ours in the first, the rest zeroed. */
function writeNodes(t: Task, addr: number, maxnode: number, nodes: bigint): void {
  let copy = Math.ceil((maxnode - 1) / 64) * 8;
  const nbytes = Math.ceil(NR_NODE_IDS / 64) * 8;
  if (copy > nbytes) {
    if (copy > PAGE_SIZE) throw new Errno(E.EINVAL);
    t.mm.copyOut(addr + nbytes, Buffer.alloc(copy - nbytes));
    copy = nbytes;
  }
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(nodes & 0xffffffffffffffffn);
  t.mm.copyOut(addr, b.subarray(0, copy));
}

function getMempolicy(t: Task, a: number[]): number {
  const policyAddr = a[0], nmask = a[1], maxnode = a[2], addr = a[3], flags = a[4];
  if (nmask && maxnode < NR_NODE_IDS) throw new Errno(E.EINVAL);
  if (flags & ~(MPOL_F_NODE | MPOL_F_ADDR | MPOL_F_MEMS_ALLOWED)) throw new Errno(E.EINVAL);
  let mode: number;
  let nodes: bigint;
  if (flags & MPOL_F_MEMS_ALLOWED) {
    need(!(flags & (MPOL_F_NODE | MPOL_F_ADDR)));
    mode = 0;
    nodes = ALLOWED;
  } else {
    let pol: NumaPolicy | null;
    if (flags & MPOL_F_ADDR) {
      const v = t.mm.findVma(addr);
      if (!v) throw new Errno(E.EFAULT);
      pol = v.policy;
    } else {
      need(addr === 0);
      pol = stateOf(t.tg).mempolicy;
    }
    if (flags & MPOL_F_NODE) {
      // The node of the page at addr, or the next node an interleave policy uses: node 0 either way.
      const interleave = !(flags & MPOL_F_ADDR) && pol !== null && (pol.mode === MPOL_INTERLEAVE || pol.mode === MPOL_WEIGHTED_INTERLEAVE);
      need(flags & MPOL_F_ADDR || interleave);
      if (flags & MPOL_F_ADDR) t.mm.checkRange(addr, 1, false);
      mode = 0;
    } else mode = pol === null ? MPOL_DEFAULT : pol.mode | pol.flags;
    nodes = pol === null ? 0n : pol.nodes;
  }
  if (policyAddr) t.mm.writeI32(policyAddr, mode);
  if (nmask) writeNodes(t, nmask, maxnode, nodes);
  return 0;
}

function mbind(t: Task, a: number[]): number {
  const start = a[0];
  let len = a[1];
  const { mode, flags: modeFlags } = splitMode(i32(a[2]));
  const nodes = readNodes(t, a[3], a[4]);
  const flags = u32(a[5]);
  need(!(flags & ~(MPOL_MF_STRICT | MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)));
  if (flags & MPOL_MF_MOVE_ALL && !capable(t, CAP_SYS_NICE)) throw new Errno(E.EPERM);
  need(start % PAGE_SIZE === 0 && start >= 0);
  len = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  need(len >= 0 && Number.isSafeInteger(start + len));
  if (len === 0) return 0;
  // MPOL_MF_STRICT would be EIO for a page on another node, MOVE would move it: there is none.
  t.mm.setPolicy(start, len, makePolicy(mode, modeFlags, nodes));
  return 0;
}

/**
 * set_mempolicy_home_node(2) (Linux 5.17): the node that MPOL_BIND and
 * MPOL_PREFERRED_MANY ranges allocate from first; the one node is the only
 * home. Ranges with the default policy are skipped, as are unmapped gaps;
 * another policy stops the walk with EOPNOTSUPP; ENOENT when no range had a
 * policy to change, as Linux answers.
 */
function setMempolicyHomeNode(t: Task, a: number[]): number {
  const start = a[0];
  const home = a[2];
  need(start % PAGE_SIZE === 0 && start >= 0);
  need(a[3] === 0);
  need(home >= 0 && home < NR_NODE_IDS);
  const len = Math.ceil(a[1] / PAGE_SIZE) * PAGE_SIZE;
  need(len >= 0 && Number.isSafeInteger(start + len));
  if (len === 0) return 0;
  const end = start + len;
  const homed: Array<[number, number, NumaPolicy]> = [];
  let unsupported = false;
  for (const v of t.mm.vmasIn(start, end)) {
    if (!v.policy) continue;
    if (v.policy.mode !== MPOL_BIND && v.policy.mode !== MPOL_PREFERRED_MANY) {
      unsupported = true;
      break;
    }
    homed.push([Math.max(v.start, start), Math.min(v.end, end), { ...v.policy, homeNode: home }]);
  }
  // The ranges before the first unsupported one keep their new home, as Linux's walk leaves them.
  for (const [from, to, pol] of homed) t.mm.setPolicy(from, to - from, pol);
  if (unsupported) throw new Errno(E.EOPNOTSUPP);
  if (!homed.length) throw new Errno(E.ENOENT);
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 238, name: 'set_mempolicy', args: ['int', 'ptr', 'size'], fn: setMempolicy,
    partial: 'one node (0); the policy is per process rather than per thread' },
  { nr: 239, name: 'get_mempolicy', args: ['ptr_out', 'ptr_out', 'size', 'ptr', 'hex'], fn: getMempolicy },
  { nr: 450, name: 'set_mempolicy_home_node', args: ['ptr', 'size', 'int', 'hex'], fn: setMempolicyHomeNode },
  { nr: 237, name: 'mbind', args: ['ptr', 'size', 'int', 'ptr', 'size', 'hex'], fn: mbind },
];
