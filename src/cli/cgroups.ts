// The host cgroup of a container's sandbox (linux.resources, as runc applies
// them): the sandbox process joins it at its start, so the Sentry and every
// stub it forks are charged to it. cgroup v1 (one directory per controller,
// as on hybrid hosts) and v2 (one directory, controllers enabled down the
// path). The memory limit is the application's (the Sentry's memory file
// enforces it exactly, with its own OOM kill) plus SENTRY_ALLOWANCE for the
// Sentry itself (Node's heap and code), so that the host never kills the
// Sentry for what the application does. runc's clients learn of an OOM kill
// only from the host cgroup (containerd's shim watches memory.oom_control or
// memory.events); raiseOom() makes the host record it (see there).

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { childProcess } from './lazy_builtins';
import type { CgroupRecord, CgroupResources } from '../oci/resources';
import type { MountPlan } from '../oci/plan';

/** Host memory the Sentry may use beyond the application's limit (Node's heap, code, buffers). */
export const SENTRY_ALLOWANCE = 256 * 1024 * 1024;

/**
 * Host tasks (threads) the Sentry has of its own: Node's threads and the
 * platform's master stub. The application's task limit is the Sentry's
 * (exact); each application thread is a host thread of a stub, and each
 * address space a stub process, hence twice the limit on the host.
 */
const SENTRY_TASKS = 64;
const hostPidsLimit = (limit: number): number => 2 * limit + SENTRY_TASKS;

const CGROUP2_MAGIC = 0x63677270;
/** The v1 controllers a container's cgroup is made in. */
const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids'] as const;
const V2_CONTROLLERS = ['memory', 'cpu', 'cpuset', 'pids'];
/** USER_HZ: cpuacct.stat counts in these ticks. */
const TICK_NS = 10_000_000;


interface Hierarchy {
  /** Where it is mounted, and the cgroup the mount's root is. */
  mount: string;
  root: string;
  /** This process's cgroup in it. */
  own: string;
}

/** The host's cgroup hierarchies: by v1 controller name, or '' for v2 alone. */
export interface CgroupLayout {
  version: 1 | 2;
  hier: Map<string, Hierarchy>;
}

/** The host's cgroup hierarchies, by v1 controller name, or '' for v2 alone. */
function hostLayout(): CgroupLayout {
  const own = new Map<string, string>();
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m) for (const c of m[1].split(',')) own.set(c, m[2]);
  }
  const hier = new Map<string, Hierarchy>();
  if (fs.statfsSync('/sys/fs/cgroup').type === CGROUP2_MAGIC) {
    hier.set('', { mount: '/sys/fs/cgroup', root: '/', own: own.get('') ?? '/' });
    return { version: 2, hier };
  }
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const [fstype, , opts] = post.split(' ');
    if (fstype !== 'cgroup') continue;
    const f = pre.split(' ');
    for (const c of opts.split(',')) {
      if ((V1_CONTROLLERS as readonly string[]).includes(c)) hier.set(c, { mount: f[4], root: f[3], own: own.get(c) ?? '/' });
    }
  }
  return { version: 1, hier };
}

/**
 * The cgroup path of a container: linux.cgroupsPath absolute (from the
 * hierarchy's root) or relative (below the runtime's own cgroup, as runc
 * reads it), systemd's slice:prefix:name as systemd would lay it out
 * (`--systemd-cgroup`; made directly, no D-Bus), none: tsvisor/ID below the
 * runtime's own cgroup.
 */
function cgroupPath(spec: string | null, id: string, h: Hierarchy): string {
  const below = (p: string) => path.posix.join(path.posix.relative(h.root, h.own) || '.', p);
  if (spec === null) return below(`tsvisor/${id}`);
  const parts = spec.split(':');
  if (parts.length === 3 && !spec.startsWith('/')) {
    const [slice, prefix, name] = parts;
    const s = slice || 'system.slice';
    // a-b.slice lives in a.slice/a-b.slice.
    const chain = s.replace(/\.slice$/, '').split('-').map((_, i, all) => `${all.slice(0, i + 1).join('-')}.slice`);
    return path.posix.join(...chain, `${prefix}-${name}.scope`);
  }
  if (spec.startsWith('/')) return path.posix.relative(h.root, spec) || '.';
  return below(spec);
}

function write(dir: string, file: string, value: string | number): void {
  try {
    fs.writeFileSync(path.join(dir, file), String(value));
  } catch (e) {
    throw new Error(`cannot write ${value} to ${path.join(dir, file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function readNum(file: string): number {
  const t = readText(file)?.trim();
  if (t === undefined || t === 'max') return 0;
  return Number(t) || 0;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events) as numbers. */
function readKeyed(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (readText(file) ?? '').split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}

/** Make dir and the directories above it up to top; returns those made, top first. */
function makeDirs(top: string, dir: string): string[] {
  const made: string[] = [];
  for (let d = dir; d.startsWith(top) && d !== top && !fs.existsSync(d); d = path.dirname(d)) made.unshift(d);
  for (const d of made) fs.mkdirSync(d);
  return made;
}

/** runc's conversion of cpu.shares (2..262144) to cgroup v2's cpu.weight (1..10000). */
function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

export interface CgroupStats {
  cpu: { total: number; user: number; kernel: number };
  memory: { usage: number; max: number; limit: number; failcnt: number; raw: Record<string, number> };
  pids: { current: number; limit: number };
  oomKills: number;
}

export class HostCgroup {
  /** The process raiseOom() started, while it lives (one at a time). */
  private canary: ChildProcess | null = null;

  /** What the host cannot apply of the resources asked for (create's caller logs them). */
  readonly warnings: string[] = [];

  /** The cgroup.procs files of the cgroups this process was in before enter() (the runtime's own hooks go back there). */
  callerProcs: string[] = [];

  private constructor(readonly rec: CgroupRecord) {}

  static of(rec: CgroupRecord): HostCgroup {
    return new HostCgroup(rec);
  }

  /** Make the container's cgroup with these limits; on failure nothing made is left. layout: the host's (a test's fake cgroupfs). */
  static create(spec: string | null, id: string, res: CgroupResources, layout: CgroupLayout = hostLayout()): HostCgroup {
    const { version, hier } = layout;
    const made: string[] = [];
    const dirs: Record<string, string> = {};
    try {
      for (const [c, h] of hier) {
        const dir = path.join(h.mount, cgroupPath(spec, id, h));
        if (!path.resolve(dir).startsWith(h.mount + '/')) throw new Error(`linux.cgroupsPath ${spec}: outside the cgroup hierarchy`);
        const levels = makeDirs(h.mount, dir);
        made.unshift(...[...levels].reverse());
        dirs[c] = dir;
        // A new v1 cpuset has no CPUs and no memory nodes: nothing could join it. Each level inherits its parent's.
        if (c === 'cpuset') {
          for (const d of levels) {
            for (const f of ['cpuset.cpus', 'cpuset.mems']) if (!readText(path.join(d, f))?.trim()) write(d, f, (readText(path.join(path.dirname(d), f)) ?? '').trim());
          }
        }
        if (version === 2) enableControllers(h.mount, dir);
      }
      const cg = new HostCgroup({ version, dirs });
      cg.apply(res);
      return cg;
    } catch (e) {
      // Deepest first; a directory that cannot go does not hide why create failed.
      for (const d of made) {
        try {
          rmdir(d);
        } catch {
          // left behind (a process still in it); the error below says why create failed
        }
      }
      throw e;
    }
  }

  private dir(c: string): string | null {
    return this.rec.dirs[this.rec.version === 2 ? '' : c] ?? null;
  }

  private apply(res: CgroupResources): void {
    const v2 = this.rec.version === 2;
    const mem = this.dir('memory');
    const { limit, reservation, swap, swappiness } = res.memory;
    if (mem && limit !== null) {
      const host = limit + SENTRY_ALLOWANCE;
      write(mem, v2 ? 'memory.max' : 'memory.limit_in_bytes', host);
      if (swap !== null) {
        // OCI's swap is memory plus swap; v2's memory.swap.max is the swap alone.
        if (v2) write(mem, 'memory.swap.max', swap === -1 ? 'max' : swap - limit);
        else if (fs.existsSync(path.join(mem, 'memory.memsw.limit_in_bytes'))) write(mem, 'memory.memsw.limit_in_bytes', swap === -1 ? -1 : swap + SENTRY_ALLOWANCE);
      }
    }
    if (mem && reservation !== null) write(mem, v2 ? 'memory.low' : 'memory.soft_limit_in_bytes', reservation);
    if (mem && swappiness !== null && !v2) write(mem, 'memory.swappiness', swappiness);
    if (swappiness !== null && v2) this.warnings.push('linux.resources.memory.swappiness: cgroup v2 has none; not applied');
    const cpu = this.dir('cpu');
    const { shares, quota, period, cpus, mems } = res.cpu;
    if (cpu && shares !== null) write(cpu, v2 ? 'cpu.weight' : 'cpu.shares', v2 ? sharesToWeight(shares) : shares);
    if (cpu && (quota !== null || period !== null)) {
      const p = period ?? 100_000;
      if (v2) write(cpu, 'cpu.max', `${quota === null || quota === -1 ? 'max' : quota} ${p}`);
      else {
        write(cpu, 'cpu.cfs_period_us', p);
        if (quota !== null) write(cpu, 'cpu.cfs_quota_us', quota);
      }
    }
    const cpuset = this.dir('cpuset');
    if (cpuset && cpus !== null) write(cpuset, 'cpuset.cpus', cpus);
    if (cpuset && mems !== null) write(cpuset, 'cpuset.mems', mems);
    const pids = this.dir('pids');
    if (pids && res.pids !== null) write(pids, 'pids.max', hostPidsLimit(res.pids));
  }

  /**
   * What a mount of type cgroup shows: the container's own cgroup
   * directories, read-only, as a cgroup namespace shows them under runc (the
   * container's cgroup as the root). v1: a tmpfs with a read-only bind of
   * each controller's directory (cpu and cpuacct are separate here); v2: a
   * read-only bind of the one directory.
   */
  viewMounts(m: MountPlan): MountPlan[] {
    const bind = (destination: string, source: string): MountPlan => ({ ...m, kind: 'bind', destination, source, readonly: true, data: '' });
    if (this.rec.version === 2) return [bind(m.destination, this.rec.dirs[''])];
    return [
      { ...m, kind: 'tmpfs', readonly: false, data: 'mode=755' },
      ...Object.entries(this.rec.dirs).map(([c, d]) => bind(path.posix.join(m.destination, c), d)),
    ];
  }

  /** Move process pid (0: the caller) into the cgroup. */
  join(pid: number): void {
    for (const dir of new Set(Object.values(this.rec.dirs))) write(dir, 'cgroup.procs', pid);
  }

  /**
   * Move the calling process into the cgroup; returns what moves it back to
   * the cgroups it was in (a create that became the sandbox process and then
   * failed leaves, so that destroy() kills its stubs, not itself).
   */
  enter(): () => void {
    const { hier } = hostLayout();
    const before = new Map<string, string>();
    for (const [c, dir] of Object.entries(this.rec.dirs)) {
      const h = hier.get(c);
      if (h) before.set(dir, path.join(h.mount, path.posix.relative(h.root, h.own)));
    }
    this.join(0);
    this.callerProcs = [...new Set(before.values())].map((dir) => path.join(dir, 'cgroup.procs'));
    return () => {
      for (const dir of new Set(before.values())) write(dir, 'cgroup.procs', 0);
      this.callerProcs = [];
    };
  }

  /** The host processes in the cgroup. */
  procs(): number[] {
    const out = new Set<number>();
    for (const dir of Object.values(this.rec.dirs)) {
      for (const l of (readText(path.join(dir, 'cgroup.procs')) ?? '').split('\n')) if (l) out.add(Number(l));
    }
    return [...out];
  }

  stats(): CgroupStats {
    const v2 = this.rec.version === 2;
    const mem = this.dir('memory') ?? '';
    const pids = this.dir('pids') ?? '';
    let cpu: CgroupStats['cpu'];
    if (v2) {
      const s = readKeyed(path.join(this.dir('cpu') ?? '', 'cpu.stat'));
      cpu = { total: (s.usage_usec ?? 0) * 1000, user: (s.user_usec ?? 0) * 1000, kernel: (s.system_usec ?? 0) * 1000 };
    } else {
      const acct = this.dir('cpuacct') ?? '';
      const s = readKeyed(path.join(acct, 'cpuacct.stat'));
      cpu = { total: readNum(path.join(acct, 'cpuacct.usage')), user: (s.user ?? 0) * TICK_NS, kernel: (s.system ?? 0) * TICK_NS };
    }
    const raw = readKeyed(path.join(mem, 'memory.stat'));
    const memory = v2
      ? { usage: readNum(path.join(mem, 'memory.current')), max: readNum(path.join(mem, 'memory.peak')), limit: readNum(path.join(mem, 'memory.max')), failcnt: readKeyed(path.join(mem, 'memory.events')).max ?? 0, raw }
      : { usage: readNum(path.join(mem, 'memory.usage_in_bytes')), max: readNum(path.join(mem, 'memory.max_usage_in_bytes')), limit: readNum(path.join(mem, 'memory.limit_in_bytes')), failcnt: readNum(path.join(mem, 'memory.failcnt')), raw };
    const oomKills = readKeyed(path.join(mem, v2 ? 'memory.events' : 'memory.oom_control')).oom_kill ?? 0;
    return { cpu, memory, pids: { current: readNum(path.join(pids, 'pids.current')), limit: readNum(path.join(pids, 'pids.max')) }, oomKills };
  }

  /**
   * The Sentry killed an application process for going past the memory
   * limit; the host knows nothing of it (the memory file stayed under the
   * host limit). Make the host's OOM killer act in this cgroup, as it would
   * have for the application under runc: a small process that asks to be the
   * first victim (oom_score_adj 1000) fills memory until the kernel kills it,
   * which raises the cgroup's OOM notification and its oom_kill count, what
   * containerd's shim (and so `docker inspect`'s OOMKilled) watches. Only
   * with a memory limit; bounded in case the limit is not reached. join:
   * the caller is not in this cgroup (a pod's container's, whose stand-in
   * it holds): the process is moved in before it starts filling.
   */
  raiseOom(join = false): void {
    const mem = this.dir('memory');
    if (!mem) return;
    const limit = readNum(path.join(mem, this.rec.version === 2 ? 'memory.max' : 'memory.limit_in_bytes'));
    if (!limit || limit > 2 ** 50) return;
    const chunks = Math.ceil(limit / (8 << 20)) + 1;
    const fill = `require('fs').writeFileSync('/proc/self/oom_score_adj','1000');const k=[];for(let i=0;i<${chunks};i++){const b=Buffer.allocUnsafeSlow(8<<20);b.fill(1);k.push(b);}`;
    if (this.canary) return;
    // Moved in first: it waits for a byte on its stdin (or its end) before it fills.
    const script = join ? `process.stdin.once('data',()=>{${fill}});process.stdin.once('end',()=>process.exit(0));` : fill;
    const child = childProcess().spawn(process.execPath, ['-e', script], { stdio: [join ? 'pipe' : 'ignore', 'ignore', 'ignore'] });
    this.canary = child;
    child.on('error', () => undefined);
    child.on('exit', () => (this.canary = null));
    if (!join) return;
    child.stdin?.on('error', () => undefined);
    try {
      this.join(child.pid ?? 0);
      child.stdin?.end('go');
    } catch {
      child.kill('SIGKILL');
    }
  }

  /**
   * Resolves once the process of raiseOom() is gone (the container's exit
   * waits for the host's record of its OOM kill); at most 30 s. The host's
   * OOM killer takes its time: it reclaims what it can (file pages of the
   * cgroup) first, some seconds for a limit of a few hundred MiB here.
   */
  settled(): Promise<void> {
    const c = this.canary;
    if (!c) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        c.kill('SIGKILL');
        resolve();
      }, 30_000);
      c.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Kill whatever is left in it (as runc's destroy does) and remove its directories. */
  async destroy(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const left = this.procs();
      if (left.length === 0) break;
      for (const p of left) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const dir of new Set(Object.values(this.rec.dirs))) rmdir(dir);
  }
}

/** Remove an empty cgroup directory; a few tries while its last processes are being reaped. */
function rmdir(dir: string): void {
  for (let i = 0; i < 50; i++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

/**
 * v2: a controller works in a cgroup only if every cgroup above it enables
 * it for its children. Best effort, one controller at a time, as runc does:
 * a cgroup with processes of its own (the runtime's, when the container's
 * path is below it) cannot enable any (EBUSY, the no-internal-processes
 * rule), and a controller the parent lacks cannot be enabled. A limit that
 * needs a missing controller then fails create, naming its file.
 */
function enableControllers(mount: string, leaf: string): void {
  const rel = path.relative(mount, path.dirname(leaf));
  let d = mount;
  for (const part of ['', ...(rel ? rel.split('/') : [])]) {
    d = part ? path.join(d, part) : d;
    const avail = (readText(path.join(d, 'cgroup.controllers')) ?? '').trim().split(/\s+/);
    const on = (readText(path.join(d, 'cgroup.subtree_control')) ?? '').trim().split(/\s+/);
    for (const c of V2_CONTROLLERS.filter((x) => avail.includes(x) && !on.includes(x))) {
      try {
        fs.writeFileSync(path.join(d, 'cgroup.subtree_control'), `+${c}`);
      } catch {
        // left disabled: see above
      }
    }
  }
}
