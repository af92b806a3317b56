// The interface files of a cgroup directory (Documentation/admin-guide/
// cgroup-v2.rst): the core cgroup.* files, and those of the controllers the
// parent enabled (the root has all: it stands for a container's own cgroup,
// which is not the host's root). Writes are parsed here and checked by the
// tree (kernel/cgroup.ts); every value is checked as Linux checks it.
import { Errno, E } from '../../abi/errno';
import { CONTROLLERS, type Cgroup, type Controller } from '../../kernel/cgroup';
import type { Kernel } from '../../kernel/kernel';
import { pidNsOf } from '../../kernel/pid_ns';
import type { NodeMaker, Entry } from '../proc/nodes';
import { callerOf } from '../proc/task_info';
import type { CgroupFs } from './cgroupfs';
import { controlFiles, text, writeProcs, writeThreads } from './control';

export { nsBoundary } from './control';

const PAGE = 4096;

/** "max" or a non-negative integer: EINVAL for anything else, negative for a negative number (ERANGE for the cgroup.max.* files, EINVAL for the controllers'). */
function maxOrCount(data: Buffer, negative = E.EINVAL): number {
  const s = text(data);
  if (s === 'max') return Infinity;
  if (!/^[+-]?\d+$/.test(s)) throw new Errno(E.EINVAL);
  const n = Number(s);
  if (n < 0) throw new Errno(negative);
  return n;
}

const showMax = (v: number): string => (Number.isFinite(v) ? String(v) : 'max');

/** Numbers of processes (or threads) as the reader's PID namespace sees them; those it cannot see are left out. */
function pidList(k: Kernel, ctx: unknown, c: Cgroup, threads: boolean): string {
  // A threaded cgroup has threads, not processes: its domain lists them.
  if (!threads && c.threaded) throw new Errno(E.EOPNOTSUPP);
  const t = callerOf(k, ctx);
  const ns = t ? pidNsOf(t) : null;
  const ids = threads ? c.threads().map((x) => x.tid) : c.procs().map((g) => g.pid);
  const out: number[] = [];
  for (const id of ids) {
    const n = ns ? ns.nrOfGlobal(id) : id;
    if (n > 0) out.push(n);
  }
  return out.map((n) => `${n}\n`).join('');
}

/** cgroup.subtree_control: "+ctl" and "-ctl" words, all checked before any applies. */
function writeSubtree(c: Cgroup, data: Buffer): void {
  const on = new Set<Controller>(), off = new Set<Controller>();
  for (const w of text(data).split(/\s+/).filter(Boolean)) {
    const name = w.slice(1) as Controller;
    if ((w[0] !== '+' && w[0] !== '-') || !CONTROLLERS.includes(name)) throw new Errno(E.EINVAL);
    if (!c.controllers().includes(name)) throw new Errno(E.ENOENT);
    (w[0] === '+' ? on : off).add(name);
    (w[0] === '+' ? off : on).delete(name);
  }
  // No internal processes (but in a threaded subtree): a cgroup with processes of its own gives no controllers to children.
  c.tree.checkEnable(c, [...on].filter((x) => !c.subtreeControl.has(x)));
  for (const x of off) for (const ch of c.children.values()) if (ch.subtreeControl.has(x)) throw new Errno(E.EBUSY);
  for (const x of on) c.subtreeControl.add(x);
  for (const x of off) c.subtreeControl.delete(x);
}

/** cpu.max: "$MAX $PERIOD" or "$MAX", MAX "max" or a quota of at least 1 ms, PERIOD 1 ms to 1 s (EINVAL otherwise). */
function writeCpuMax(k: Kernel, c: Cgroup, data: Buffer): void {
  const [max, period, extra] = text(data).split(/\s+/);
  const p = period === undefined ? Number(c.cpuMax.split(' ')[1]) : /^\d+$/.test(period) ? Number(period) : NaN;
  if (extra !== undefined || !(p >= 1000 && p <= 1000000)) throw new Errno(E.EINVAL);
  if (max !== 'max' && !(/^\d+$/.test(max) && Number(max) >= 1000)) throw new Errno(E.EINVAL);
  c.cpuMax = `${max} ${p}`;
  c.cpu.set(k, max === 'max' ? Infinity : Number(max), p);
}

function writeWeight(c: Cgroup, data: Buffer): void {
  const s = text(data);
  if (!/^\d+$/.test(s)) throw new Errno(E.EINVAL);
  const w = Number(s);
  if (w < 1 || w > 10000) throw new Errno(E.ERANGE);
  c.cpuWeight = w;
}

function memoryFiles(m: NodeMaker<CgroupFs>, c: Cgroup, k: Kernel): Entry[] {
  const mf = k.memfile;
  const sandboxBytes = (): number => mf.usedPages * PAGE + mf.charges.kernelBytes;
  const ch = c.charge;
  return [
    m.file('memory.current', () => `${c.memoryBytes(sandboxBytes)}\n`),
    m.rwFile('memory.max', () => `${ch ? showMax(c.memoryMax) : mf.limitPages * PAGE}\n`, (d) => c.setMemoryMax(maxOrCount(d))),
    m.file('memory.peak', () => `${(ch ? ch.peakPages : mf.peakPages) * PAGE}\n`),
    m.file('memory.stat', () => {
      const anon = ch ? ch.usedPages * PAGE : mf.usedPages * PAGE;
      const kernel = ch ? ch.kernelBytes : mf.charges.kernelBytes;
      return `anon ${anon}\nfile 0\nkernel ${kernel}\nsock 0\nshmem 0\n`;
    }),
    m.file('memory.events', () => {
      const max = ch ? ch.failures : 0, oom = ch ? ch.oomKills : 0;
      return `low 0\nhigh 0\nmax ${max}\noom ${oom}\noom_kill ${oom}\noom_group_kill 0\n`;
    }),
  ];
}

function cpuStat(c: Cgroup): string {
  const { userNs, sysNs } = c.cpuNs();
  const b = c.cpu;
  const us = (ns: number): number => Math.floor(ns / 1000);
  return `usage_usec ${us(userNs + sysNs)}\nuser_usec ${us(userNs)}\nsystem_usec ${us(sysNs)}\nnr_periods ${b.nrPeriods}\nnr_throttled ${b.nrThrottled}\nthrottled_usec ${b.throttledUs}\nnr_bursts 0\nburst_usec 0\n`;
}

/** The files of cgroup c's directory. */
export function interfaceFiles(m: NodeMaker<CgroupFs>, c: Cgroup, k: Kernel): Entry[] {
  const ctl = c.controllers();
  const files: Entry[] = [
    m.file('cgroup.controllers', () => `${ctl.join(' ')}\n`),
    m.rwFile('cgroup.subtree_control', () => `${CONTROLLERS.filter((x) => c.subtreeControl.has(x)).join(' ')}\n`, (d) => writeSubtree(c, d)),
    m.rwFile('cgroup.procs', (ctx) => pidList(k, ctx, c, false), (d, ctx, opener) => writeProcs(m, k, c, d, ctx, opener)),
    m.rwFile('cgroup.threads', (ctx) => pidList(k, ctx, c, true), (d, ctx, opener) => writeThreads(m, k, c, d, ctx, opener)),
    m.rwFile('cgroup.type', () => `${c.typeName()}\n`, (d) => {
      if (text(d) !== 'threaded') throw new Errno(E.EINVAL);
      k.cgroups.makeThreaded(c);
    }),
    ...controlFiles(m, c, k),
    m.rwFile('cgroup.max.depth', () => `${showMax(c.maxDepth)}\n`, (d) => void (c.maxDepth = maxOrCount(d, E.ERANGE))),
    m.rwFile('cgroup.max.descendants', () => `${showMax(c.maxDescendants)}\n`, (d) => void (c.maxDescendants = maxOrCount(d, E.ERANGE))),
    m.file('cgroup.stat', () => `nr_descendants ${c.descendants()}\nnr_dying_descendants 0\n`),
    m.file('cpu.stat', () => cpuStat(c)),
  ];
  if (ctl.includes('cpu')) {
    files.push(m.rwFile('cpu.max', () => `${c.cpuMax}\n`, (d) => writeCpuMax(k, c, d)));
    files.push(m.rwFile('cpu.weight', () => `${c.cpuWeight}\n`, (d) => writeWeight(c, d)));
  }
  if (ctl.includes('memory')) files.push(...memoryFiles(m, c, k));
  if (ctl.includes('pids')) {
    files.push(m.file('pids.current', () => `${c.tasksInSubtree()}\n`));
    files.push(m.rwFile('pids.max', () => `${showMax(c.pidsMax)}\n`, (d) => void (c.pidsMax = maxOrCount(d))));
    files.push(m.file('pids.events', () => `max ${c.pidsRefused}\n`));
  }
  return files.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}
