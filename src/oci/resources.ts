// linux.resources: what a container's host processes are limited to through
// host cgroups (cli/cgroups.ts writes them, v1 or v2), and the sandbox's own
// limits derived from them (the memory limit of the application's memory,
// the kernel's task limit). Controls tsvisor does not apply are listed as
// unsupported; Docker sends zeroes, nulls and empty objects for controls it
// does not set, which ask for nothing.

import { SpecError } from './spec';

/** What the host cgroup of a container is given; null: not set (the parent's). */
export interface CgroupResources {
  memory: {
    /** memory.limit in bytes: the application's limit (the host cgroup gets it plus the Sentry's allowance). */
    limit: number | null;
    reservation: number | null;
    /** memory.swap: memory plus swap, in bytes; -1 unlimited. */
    swap: number | null;
    swappiness: number | null;
  };
  cpu: {
    shares: number | null;
    /** cfs quota in us; -1 unlimited. */
    quota: number | null;
    period: number | null;
    cpus: string | null;
    mems: string | null;
  };
  /** pids.limit; null: unlimited. */
  pids: number | null;
}

/** What a container's record keeps of its host cgroup: the version and the leaf directories (v1: by controller; v2: under ''). */
export interface CgroupRecord {
  version: 1 | 2;
  dirs: Record<string, string>;
}

export function emptyResources(): CgroupResources {
  return {
    memory: { limit: null, reservation: null, swap: null, swappiness: null },
    cpu: { shares: null, quota: null, period: null, cpus: null, mems: null },
    pids: null,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether a value asks for anything. */
export function meaningful(v: unknown): boolean {
  if (v === null || v === undefined || v === 0 || v === false || v === '') return false;
  if (Array.isArray(v)) return v.some(meaningful);
  if (isRecord(v)) return Object.values(v).some(meaningful);
  return true;
}

function int(v: unknown, at: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new SpecError(`${at}: wants an integer from ${min} to ${max}`);
  return v;
}

/** A byte count where 0 and absent mean "not set" and -1 "unlimited" (kept as -1 where that means something). */
function bytes(v: unknown, at: string): number | null {
  if (v === undefined || v === null || v === 0) return null;
  return int(v, at, -1);
}

/** cpuset lists: "0-3,6". */
function cpuList(v: unknown, at: string): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) throw new SpecError(`${at}: wants a list such as "0-3,6"`);
  return v;
}

function memory(m: Record<string, unknown>, out: CgroupResources, unsupported: string[]): void {
  for (const [k, v] of Object.entries(m)) {
    const at = `linux.resources.memory.${k}`;
    if (k === 'limit') {
      const b = bytes(v, at);
      out.memory.limit = b === -1 ? null : b;
    } else if (k === 'reservation') {
      const b = bytes(v, at);
      out.memory.reservation = b === -1 ? null : b;
    } else if (k === 'swap') out.memory.swap = bytes(v, at);
    else if (k === 'swappiness') out.memory.swappiness = v === undefined || v === null ? null : int(v, at, 0, 100);
    else if (k === 'checkBeforeUpdate') continue;
    else if (meaningful(v)) unsupported.push(`${at} is not supported (ignored)`);
  }
  const { limit, swap } = out.memory;
  if (limit !== null && swap !== null && swap !== -1 && swap < limit) throw new SpecError('linux.resources.memory.swap: memory+swap is below the memory limit');
}

function cpu(c: Record<string, unknown>, out: CgroupResources, unsupported: string[]): void {
  for (const [k, v] of Object.entries(c)) {
    const at = `linux.resources.cpu.${k}`;
    if (k === 'shares') out.cpu.shares = v === undefined || v === null || v === 0 ? null : int(v, at, 2, 262144);
    else if (k === 'quota') out.cpu.quota = v === undefined || v === null || v === 0 ? null : int(v, at, -1);
    else if (k === 'period') out.cpu.period = v === undefined || v === null || v === 0 ? null : int(v, at, 1000, 1_000_000);
    else if (k === 'cpus') out.cpu.cpus = cpuList(v, at);
    else if (k === 'mems') out.cpu.mems = cpuList(v, at);
    else if (meaningful(v)) unsupported.push(`${at} is not supported (ignored)`);
  }
  if (out.cpu.quota !== null && out.cpu.quota !== -1 && out.cpu.quota < 1000) throw new SpecError('linux.resources.cpu.quota: wants at least 1000 us, or -1');
}

/**
 * Read linux.resources into out. `devices` has nothing to deny beyond
 * devfs's own virtual nodes; blockIO, hugepage, network, rdma and unified
 * controls are reported when set.
 */
export function parseResources(r: unknown, out: CgroupResources, unsupported: string[]): void {
  if (!isRecord(r)) return;
  for (const [k, v] of Object.entries(r)) {
    if (k === 'memory' && isRecord(v)) memory(v, out, unsupported);
    else if (k === 'cpu' && isRecord(v)) cpu(v, out, unsupported);
    else if (k === 'pids' && isRecord(v)) {
      const l = v.limit;
      out.pids = l === undefined || l === null || l === 0 || l === -1 ? null : int(l, 'linux.resources.pids.limit', 1);
    } else if (k === 'devices') continue;
    else if (meaningful(v)) unsupported.push(`linux.resources.${k} is not supported (ignored)`);
  }
}
