// The commands that look at a running container: ps (the sandbox's processes,
// or with --format json the host pids that stand for them, which `docker top`
// looks up in the host's ps), events (runc's JSON lines of statistics), and
// wait (until the container stops; prints and exits with its status).

import * as fs from 'node:fs';
import type { Runtime } from './oci_commands';
import { EXIT_FILE } from './sandbox_proc';
import { RuntimeError } from './statedir';
import { HostCgroup } from './cgroups';
import type { ContainerRecord } from '../oci/runtime';
import type { SandboxProcess, SandboxStats } from '../sandbox/options';

/** The children of host process pid (each thread's, /proc/PID/task/TID/children); none if it is gone. */
function childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tids) {
    try {
      for (const c of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ')) if (c.trim()) out.push(Number(c));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * The host process and every host process below it (the platform's stubs),
 * from the kernel's lists of children: a few reads along the tree, not one
 * per host process (a scan of /proc took 10-55 ms with 130 processes, the
 * Sentry exiting meanwhile, in the way of a container's end).
 */
export function hostTree(root: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of childrenOf(p)) walk(c);
  };
  walk(root);
  return out;
}

/** A host process's pids from its own PID namespace inward (/proc/PID/status NSpid), or null if gone. */
function nsPids(pid: number): number[] | null {
  try {
    const m = /^NSpid:\s*(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? m[1].trim().split(/\s+/).map(Number) : null;
  } catch {
    return null;
  }
}

/**
 * The host processes that stand for the container, as runc's `ps --format
 * json` lists the container's (what `docker top` shows): the sandbox process
 * and the platform's stubs, where the application runs. Of a confined
 * Sentry (sandbox_confined.ts), the stubs are the processes of its PID
 * namespace other than its init (the Sentry); the Gofer (init of a PID
 * namespace of its own) and the util-linux processes that started them
 * (in the runtime's) are the runtime's machinery, not the container's.
 */
export function containerHostPids(root: number): number[] {
  const tree = hostTree(root);
  const depth = nsPids(root)?.length ?? 1;
  const nested = tree.filter((p) => {
    const ns = nsPids(p);
    return ns !== null && ns.length > depth && ns[ns.length - 1] !== 1;
  });
  const confined = tree.some((p) => (nsPids(p)?.length ?? 0) > depth);
  return confined ? [root, ...nested] : tree;
}

/** CPU time (ns) of host processes, from /proc/PID/stat (utime, stime in clock ticks of 10 ms). */
function hostCpu(pids: number[]): { user: number; kernel: number } {
  let user = 0;
  let kernel = 0;
  for (const p of pids) {
    try {
      const st = fs.readFileSync(`/proc/${p}/stat`, 'latin1');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      user += Number(f[11]) * 10_000_000;
      kernel += Number(f[12]) * 10_000_000;
    } catch {
      // gone meanwhile
    }
  }
  return { user, kernel };
}

async function running(rt: Runtime, id: string): Promise<ContainerRecord> {
  const r = rt.withLock(id, () => rt.record(id));
  if (!rt.state.alive(r)) throw new RuntimeError(`container ${id} is not running`);
  return r;
}

/** @public cli/main.ts requires this module when a command runs (a lazy require, which knip does not follow). */
export async function ps(rt: Runtime, id: string, json: boolean): Promise<string> {
  const r = await running(rt, id);
  if (json) return JSON.stringify(containerHostPids(r.pid)) + '\n';
  const reply = await rt.request(r, { op: 'ps' });
  if (!reply.ok) throw new RuntimeError(`cannot list the processes of ${id}: ${reply.error}`);
  return psTable(reply.processes ?? []);
}

function psTable(procs: SandboxProcess[]): string {
  const time = (ns: number) => {
    const s = Math.floor(ns / 1e9);
    return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  };
  const rows = [['UID', 'PID', 'PPID', 'STAT', 'TIME', 'CMD'], ...procs.map((p) => [String(p.uid), String(p.pid), String(p.ppid), p.state, time(p.userNs + p.sysNs), p.comm])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 2))).join('')).join('\n') + '\n';
}

/**
 * One stats event in runc's shape (types.Stats): cpu, memory and pids of the
 * container's host cgroup (what the host spends on the sandbox, Sentry
 * included, as `docker stats` shows through the shim); without one, the
 * host processes' cpu and the sandbox's own accounting; of a pod's
 * container, the sandbox's accounting of it.
 */
async function statsEvent(rt: Runtime, id: string, r: ContainerRecord): Promise<object> {
  const reply = await rt.request(r, { op: 'stats' });
  if (!reply.ok) throw new RuntimeError(`cannot read the statistics of ${id}: ${reply.error}`);
  const s = reply.stats as SandboxStats;
  // A pod's container: its host cgroup holds its stand-in only; the sandbox counts what its processes use (their CPU time, the memory charged to it).
  const cg = r.cgroup && !r.sandbox ? HostCgroup.of(r.cgroup).stats() : null;
  const own = r.sandbox ? { user: s.cpu.userNs, kernel: s.cpu.sysNs, total: s.cpu.userNs + s.cpu.sysNs } : null;
  const cpu = cg ? cg.cpu : own ?? { ...hostCpu(hostTree(r.pid)), total: 0 };
  const memory = cg ? cg.memory : { usage: s.memory.usage, max: s.memory.max, limit: s.memory.limit, failcnt: s.memory.failcnt ?? 0, raw: {} };
  return {
    type: 'stats', id,
    data: {
      cpu: { usage: { total: cpu.total || cpu.user + cpu.kernel, user: cpu.user, kernel: cpu.kernel }, throttling: {} },
      memory: { usage: { usage: memory.usage, max: memory.max, limit: memory.limit, failcnt: memory.failcnt }, raw: memory.raw },
      pids: cg ? cg.pids : { current: s.pids.current, limit: s.pids.limit },
      // The application's own CPU time as the Sentry counts it (not a runc field).
      sandbox: { cpu: { user: s.cpu.userNs, system: s.cpu.sysNs }, memory: s.memory, pids: s.pids },
    },
  };
}

/**
 * A duration as runc takes it (5s, 500ms, 1m) in ms.
 * @public cli/main.ts requires this module when a command runs (a lazy require, which knip does not follow).
 */
export function parseInterval(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v);
  if (!m) throw new RuntimeError(`--interval wants a duration such as 5s or 500ms, got ${JSON.stringify(v)}`);
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  if (ms <= 0) throw new RuntimeError('--interval must be positive');
  return ms;
}

/**
 * events: with stats once, one event; else one every interval until the container stops.
 * @public cli/main.ts requires this module when a command runs (a lazy require, which knip does not follow).
 */
export async function events(rt: Runtime, id: string, once: boolean, intervalMs: number, out: (line: string) => void): Promise<void> {
  for (;;) {
    const r = rt.withLock(id, () => rt.record(id));
    if (!rt.state.alive(r)) {
      if (once) throw new RuntimeError(`container ${id} is not running`);
      return;
    }
    let ev: object;
    try {
      ev = await statsEvent(rt, id, r);
    } catch (e) {
      // It stopped between the look and the question (its channel closes before the process is gone): the end of the stream, not an error.
      for (let i = 0; !once && i < 100 && rt.state.alive(r); i++) await new Promise((res) => setTimeout(res, 20));
      if (!once && !rt.state.alive(r)) return;
      throw e;
    }
    out(JSON.stringify(ev) + '\n');
    if (once) return;
    await new Promise((res) => setTimeout(res, intervalMs));
  }
}

/**
 * wait: until the container stops; returns its exit status as a shell shows it (128+N for a signal).
 * @public cli/main.ts requires this module when a command runs (a lazy require, which knip does not follow).
 */
export async function wait(rt: Runtime, id: string): Promise<number> {
  const r = rt.withLock(id, () => rt.record(id));
  while (rt.state.alive(r)) await new Promise((res) => setTimeout(res, 50));
  let status: number;
  try {
    status = Number(fs.readFileSync(`${rt.state.dir(id)}/${EXIT_FILE}`, 'utf8'));
  } catch {
    // A pod's container whose sandbox went: it went with it, its stand-in exited as killed by SIGKILL (stand_in_elf.ts).
    if (r.sandbox) status = 9;
    else throw new RuntimeError(`container ${id} stopped without leaving its exit status (its sandbox process was killed)`);
  }
  return status & 0x7f ? 128 + (status & 0x7f) : (status >> 8) & 0xff;
}
