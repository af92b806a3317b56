// From a checked config.json to what the sandbox is built with: the
// container's first process (arguments, environment, identity, limits,
// capabilities) and its mounts. Whatever the spec asks for that tsvisor does
// not do is listed in `unsupported`, one line each, for the runtime's log:
// nothing is dropped without a word.

import * as path from 'node:path';
import { ALL_CAPS, CAP_NAMES } from '../abi/capability';
import { RLIMIT_NAMES, RLIM_INFINITY } from '../abi/resource';
import { compileSeccomp } from './seccomp';
import { planSysctl, type Sysctl } from './sysctl';
import { emptyResources, parseResources, type CgroupResources } from './resources';
import { SpecError, type OciCapabilities, type OciHooks, type OciMount, type OciSpec } from './spec';

export interface CapSets {
  bounding: bigint;
  effective: bigint;
  inheritable: bigint;
  permitted: bigint;
  ambient: bigint;
}

/** The mount kinds the sandbox builds (see sandbox/container.ts). */
/** cgroup: the container's host cgroup, read-only (cli/cgroups.ts turns it into binds before the sandbox is built). */
export type MountKind = 'bind' | 'file' | 'tmpfs' | 'proc' | 'sysfs' | 'devpts' | 'mqueue' | 'cgroup';

export interface MountPlan {
  kind: MountKind;
  destination: string;
  /** bind: the host path (absolute). */
  source: string;
  readonly: boolean;
  nosuid: boolean;
  nodev: boolean;
  noexec: boolean;
  /** The file system's own options (tmpfs: size=, mode=, ...), comma-separated. */
  data: string;
}

export interface ContainerPlan {
  rootfs: string;
  rootReadonly: boolean;
  /** process.terminal: the sandbox's stdio is a pty whose master goes to the console socket. */
  terminal: boolean;
  /** process.oomScoreAdj, for the sandbox's host processes; null: unchanged. */
  oomScoreAdj: number | null;
  /** process.consoleSize: the terminal's first window size (0 x 0: none given). */
  consoleSize: { height: number; width: number };
  argv: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
  /** null: the default (0022). */
  umask: number | null;
  rlimits: Array<{ resource: number; cur: number; max: number }>;
  /** null: the sandbox's default for its first process. */
  caps: CapSets | null;
  noNewPrivileges: boolean;
  hostname: string | undefined;
  domainname: string | undefined;
  mounts: MountPlan[];
  annotations: Record<string, string>;
  /** The network namespace to start the sandbox in: a path (linux.namespaces network path), NEW_NETNS (network without a path), null: the caller's. */
  netns: string | null;
  /** Namespaces other than the network one that the spec names by path (cli/namespaces.ts decides what becomes of them). */
  nsPaths: NsPath[];
  /** linux.resources.memory.limit: the application's memory limit in bytes; null: the default. */
  memoryLimit: number | null;
  /** The hooks to run, by kind (cli/hooks.ts runs them on the host). */
  hooks: OciHooks;
  /** linux.seccomp compiled to a classic BPF program (struct sock_filter[]), attached to the container's processes; null: none. */
  seccomp: Buffer | null;
  /** linux.maskedPaths: hidden (an empty directory, or /dev/null bound on a file). */
  maskedPaths: string[];
  /** linux.readonlyPaths: bound read-only on themselves. */
  readonlyPaths: string[];
  /** linux.resources.pids.limit: at most this many tasks; null: no limit of the container's own. */
  pidsLimit: number | null;
  /** linux.resources for the host cgroup of the sandbox's processes (cli/cgroups.ts). */
  resources: CgroupResources;
  /** linux.cgroupsPath; null: the runtime's default (tsvisor/ID below its own cgroup). */
  cgroupsPath: string | null;
  /** linux.sysctl: written to the Sentry's /proc/sys before the container runs. */
  sysctl: Sysctl[];
  /** What the spec asks for that tsvisor ignores, one line each. */
  unsupported: string[];
}

/** A linux.namespaces entry with a path, of a type other than network. */
export interface NsPath {
  type: string;
  path: string;
}

/** process fields read here; any other is reported. */
const PROCESS_KEYS = new Set(['terminal', 'consoleSize', 'oomScoreAdj', 'args', 'env', 'cwd', 'user', 'rlimits', 'capabilities', 'noNewPrivileges']);
/** Top-level fields read here, or without effect on a sandbox (`linux` is looked at field by field). */
const TOP_KEYS = new Set(['ociVersion', 'process', 'root', 'hostname', 'domainname', 'mounts', 'annotations', 'linux', 'hooks']);

/** Options of mount(8) that are mount flags rather than file system data. */
const FLAG_OPTIONS = new Set(['ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'bind', 'rbind', 'relatime', 'norelatime',
  'strictatime', 'nostrictatime', 'noatime', 'atime', 'nodiratime', 'diratime', 'sync', 'async']);
/** Propagation options: a sandbox shares no mount with the host, so there is nothing to propagate. */
const PROPAGATION = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable']);

function capSet(names: string[] | undefined, at: string): bigint {
  let set = 0n;
  for (const n of names ?? []) {
    const i = CAP_NAMES.indexOf(n.toUpperCase());
    if (i < 0) throw new SpecError(`${at}: unknown capability ${JSON.stringify(n)}`);
    set |= 1n << BigInt(i);
  }
  return set & ALL_CAPS;
}

function caps(c: OciCapabilities): CapSets {
  const at = (s: string) => `process.capabilities.${s}`;
  return {
    bounding: capSet(c.bounding, at('bounding')), effective: capSet(c.effective, at('effective')), inheritable: capSet(c.inheritable, at('inheritable')),
    permitted: capSet(c.permitted, at('permitted')), ambient: capSet(c.ambient, at('ambient')),
  };
}

function oomScoreAdj(v: unknown): number | null {
  if (v === undefined) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -1000 || v > 1000) throw new SpecError('process.oomScoreAdj: wants an integer from -1000 to 1000');
  return v;
}

function consoleSize(v: unknown): { height: number; width: number } {
  if (v === undefined) return { height: 0, width: 0 };
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffff;
  if (!isRecord(v) || !ok(v.height) || !ok(v.width)) throw new SpecError('process.consoleSize: wants {"height": H, "width": W} with integers from 0 to 65535');
  return { height: v.height, width: v.width };
}

function rlimitValue(v: number): number {
  return v > Number.MAX_SAFE_INTEGER ? RLIM_INFINITY : v;
}

/** What a host path is, for bind mounts (the caller looks; this layer does not touch the host). */
export type HostPathKind = (p: string) => 'dir' | 'file' | 'missing';

function mountPlan(m: OciMount, i: number, bundle: string, unsupported: string[], kindOf: HostPathKind): MountPlan | null {
  const opts = m.options ?? [];
  const at = `mounts[${i}] (${m.destination})`;
  const bind = m.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
  const kind = bind ? 'bind' : m.type;
  const p: MountPlan = { kind: 'tmpfs', destination: path.posix.normalize(m.destination), source: '', readonly: false, nosuid: false, nodev: false, noexec: false, data: '' };
  const data: string[] = [];
  for (const o of opts) {
    if (o === 'ro' || o === 'rw') p.readonly = o === 'ro';
    else if (o === 'nosuid' || o === 'nodev' || o === 'noexec') p[o] = true;
    else if (FLAG_OPTIONS.has(o) || PROPAGATION.has(o)) continue;
    else if (bind) unsupported.push(`${at}: option ${o} is not supported for bind mounts`);
    else data.push(o);
  }
  p.data = data.join(',');
  switch (kind) {
    case 'bind':
      if (!m.source) throw new SpecError(`${at}: a bind mount wants a source`);
      p.kind = 'bind';
      p.source = path.resolve(bundle, m.source);
      switch (kindOf(p.source)) {
        case 'missing':
          throw new SpecError(`${at}: source ${p.source} does not exist`);
        case 'file':
          // Docker's /etc/hostname, /etc/hosts and /etc/resolv.conf are such binds.
          p.kind = 'file';
          return p;
        default:
          return p;
      }
    case 'cgroup':
      // The container's own cgroup, as a cgroup namespace shows it: never writable from inside.
      p.kind = 'cgroup';
      if (!p.readonly) unsupported.push(`${at}: the cgroup view is read-only`);
      p.readonly = true;
      return p;
    case 'tmpfs':
    case 'proc':
    case 'sysfs':
    case 'devpts':
    case 'mqueue':
      p.kind = kind;
      if (kind === 'tmpfs' && p.destination === '/dev') unsupported.push(`${at}: the sandbox's own /dev (devfs, with its device nodes) is used instead of a tmpfs`);
      if (kind === 'devpts' && p.destination !== '/dev/pts') {
        unsupported.push(`${at}: devpts is only at /dev/pts; not mounted`);
        return null;
      }
      return p;
    default:
      unsupported.push(`${at}: file system type ${JSON.stringify(m.type ?? '')} is not supported; not mounted`);
      return null;
  }
}

/** plan.netns: a new network namespace. */
export const NEW_NETNS = 'new';

interface LinuxPlan {
  seccomp: Buffer | null;
  maskedPaths: string[];
  readonlyPaths: string[];
  netns: string | null;
  nsPaths: NsPath[];
  memoryLimit: number | null;
  pidsLimit: number | null;
  resources: CgroupResources;
  cgroupsPath: string | null;
  sysctl: Sysctl[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function linuxPlan(linux: unknown, unsupported: string[]): LinuxPlan {
  const out: LinuxPlan = { seccomp: null, maskedPaths: [], readonlyPaths: [], netns: null, nsPaths: [], memoryLimit: null, pidsLimit: null, resources: emptyResources(), cgroupsPath: null, sysctl: [] };
  if (!isRecord(linux)) return out;
  for (const [k, v] of Object.entries(linux)) {
    if (k === 'namespaces' && Array.isArray(v)) {
      // The sandbox has its own pid, mount, ipc, uts and user namespaces (the Sentry's); a network namespace named by path is joined by the sandbox process.
      for (const ns of v) {
        if (!isRecord(ns)) continue;
        // A new network namespace, as runc makes one: Docker's prestart hook then moves the container's veth into it (found by the state's pid).
        if (ns.type === 'network' && !ns.path) out.netns = NEW_NETNS;
        if (!ns.path) continue;
        if (typeof ns.path !== 'string' || !ns.path.startsWith('/')) throw new SpecError(`linux.namespaces: the ${String(ns.type)} namespace path wants an absolute path, got ${JSON.stringify(ns.path)}`);
        if (ns.type === 'network') out.netns = ns.path;
        else out.nsPaths.push({ type: String(ns.type), path: ns.path });
      }
      continue;
    }
    if (k === 'seccomp') {
      const c = compileSeccomp(v);
      out.seccomp = c.program;
      if (c.unknownNames.length) unsupported.push(`linux.seccomp: system calls x86-64 does not have, skipped: ${c.unknownNames.join(', ')}`);
      continue;
    }
    if (k === 'maskedPaths' || k === 'readonlyPaths') {
      if (!Array.isArray(v) || !v.every((p) => typeof p === 'string' && p.startsWith('/'))) throw new SpecError(`linux.${k}: wants an array of absolute paths`);
      out[k] = v.map((p: string) => path.posix.normalize(p));
      continue;
    }
    if (k === 'resources') {
      parseResources(v, out.resources, unsupported);
      out.memoryLimit = out.resources.memory.limit;
      out.pidsLimit = out.resources.pids;
      continue;
    }
    if (k === 'sysctl') {
      out.sysctl = planSysctl(v, unsupported);
      continue;
    }
    if (k === 'cgroupsPath') {
      if (typeof v !== 'string') throw new SpecError('linux.cgroupsPath: wants a string');
      out.cgroupsPath = v || null;
      continue;
    }
    unsupported.push(`linux.${k} is not supported (ignored)`);
  }
  return out;
}

/** The plan for a container of this bundle (an absolute directory) and its checked spec. */
export function planContainer(spec: OciSpec, bundle: string, kindOf: HostPathKind): ContainerPlan {
  const proc = spec.process;
  if (!proc) throw new SpecError('process: missing (nothing to run)');
  if (!spec.root) throw new SpecError('root: missing (no root file system)');
  const inContainer = [...(spec.hooks?.createContainer ?? []), ...(spec.hooks?.startContainer ?? [])];
  const unsupported: string[] = [];
  for (const k of Object.keys(proc)) if (!PROCESS_KEYS.has(k)) unsupported.push(`process.${k} is not supported (ignored)`);
  for (const k of Object.keys(spec)) if (!TOP_KEYS.has(k)) unsupported.push(`${k} is not supported (ignored)`);
  const linux = linuxPlan(spec.linux, unsupported);
  // They enter the sandbox process's host namespaces (cli/hooks.ts); the container's file systems are the Sentry's, which a host program cannot enter.
  for (const h of inContainer) unsupported.push(`hook ${h.path}: createContainer and startContainer hooks run in the sandbox's host namespaces (its network namespace) but see the host's file system, not the container's (the Sentry's)`);
  const rlimits = (proc.rlimits ?? []).map((r, i) => {
    const name = r.type.toLowerCase().replace(/^rlimit_/, '');
    const resource = RLIMIT_NAMES.indexOf(name);
    if (resource < 0) throw new SpecError(`process.rlimits[${i}].type: unknown limit ${JSON.stringify(r.type)}`);
    if (r.soft > r.hard) throw new SpecError(`process.rlimits[${i}]: soft limit above the hard limit`);
    return { resource, cur: rlimitValue(r.soft), max: rlimitValue(r.hard) };
  });
  const mounts: MountPlan[] = [];
  (spec.mounts ?? []).forEach((m, i) => {
    const p = mountPlan(m, i, bundle, unsupported, kindOf);
    if (p) mounts.push(p);
  });
  return {
    rootfs: path.resolve(bundle, spec.root.path),
    rootReadonly: spec.root.readonly ?? false,
    terminal: proc.terminal ?? false,
    oomScoreAdj: oomScoreAdj(proc.oomScoreAdj),
    consoleSize: consoleSize(proc.consoleSize),
    argv: proc.args,
    env: proc.env ?? [],
    cwd: proc.cwd,
    uid: proc.user.uid,
    gid: proc.user.gid,
    groups: proc.user.additionalGids ?? [],
    umask: proc.user.umask ?? null,
    rlimits,
    caps: proc.capabilities ? caps(proc.capabilities) : null,
    noNewPrivileges: proc.noNewPrivileges ?? false,
    hostname: spec.hostname,
    domainname: spec.domainname,
    mounts,
    annotations: spec.annotations ?? {},
    hooks: spec.hooks ?? {},
    ...linux,
    unsupported,
  };
}
