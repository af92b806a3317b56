// What the runtime commands say about containers, independent of where the
// state is kept: the OCI state (runtime.md "State"), signal names as `kill`
// takes them, the default config.json of `spec`, and `features`.

import type { CgroupRecord } from './resources';
import { NSIG, SIGNAL_NAMES } from '../abi/signals';
import { CAP_NAMES } from '../abi/capability';
import { HOOK_KINDS, type OciHooks } from './spec';

/** The runtime specification version this runtime follows. */
export const OCI_VERSION = '1.2.0';

export type ContainerStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** What the runtime records of a container (state.json in its directory). */
export interface ContainerRecord {
  id: string;
  /** The host process that stands for the container. */
  pid: number;
  /** Its start time in clock ticks since boot (/proc/PID/stat field 22), so that a reused pid is not taken for it. */
  pidStart: number;
  bundle: string;
  rootfs: string;
  created: string;
  /** The status last set by a command (`creating`: create has not finished); `stopped` is found, not recorded. */
  status: 'creating' | 'created' | 'running' | 'paused';
  annotations: Record<string, string>;
  owner: string;
  /** The spec's hooks: start and delete run theirs without the bundle. */
  hooks?: OciHooks;
  /** The host cgroup of its sandbox (removed by delete). */
  cgroup?: CgroupRecord;
  /** A pod's container that joined the sandbox of this container (its pid is its stand-in's, cli/stand_in_elf.ts). */
  sandbox?: string;
  /** Its Sentry reads host files through Gofers only (it is confined): a container that joins its pod brings a Gofer of its own (cli/pod_commands.ts). */
  gofers?: true;
  /** Paused: the status resume gives back (a pod's container paused before its start is created again, as runc's). */
  resumeTo?: 'created' | 'running';
}

export interface OciState {
  ociVersion: string;
  id: string;
  status: ContainerStatus;
  pid: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
}

/** The state of a recorded container whose process is alive or not. */
export function ociState(r: ContainerRecord, alive: boolean): OciState {
  const status: ContainerStatus = alive ? r.status : 'stopped';
  return {
    ociVersion: OCI_VERSION, id: r.id, status, pid: alive ? r.pid : 0, bundle: r.bundle, rootfs: r.rootfs, created: r.created, owner: r.owner,
    annotations: r.annotations,
  };
}

/** Container IDs as runc accepts them: no path separators, no leading dot. */
export function validId(id: string): boolean {
  return /^[\w+-][\w+.-]*$/.test(id) && id.length <= 1024;
}

/** A signal as `kill` takes it: a number, a name with or without SIG (KILL, SIGKILL, sigterm), or RTMIN+N. */
export function parseSignal(s: string): number | null {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n >= 1 && n <= NSIG ? n : null;
  }
  const name = s.toUpperCase().replace(/^SIG/, '');
  for (const [n, v] of Object.entries(SIGNAL_NAMES)) if (v === `SIG${name}`) return Number(n);
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(name) ?? /^RTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const off = Number(rt[1] ?? 0);
    const n = name.startsWith('RTMIN') ? 34 + off : NSIG - off;
    return n >= 34 && n <= NSIG ? n : null;
  }
  if (name === 'IOT') return 6;
  return null;
}

/**
 * The default config.json, as `runc spec` writes it but without a terminal
 * (not supported yet) and without the tmpfs on /dev (the sandbox has its own
 * devfs there; the spec would only earn a warning).
 */
export function defaultSpec(rootless: boolean): object {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const namespaces = [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }];
  if (rootless) namespaces.push({ type: 'user' });
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'tsvisor',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: rootless
      ? { uidMappings: [{ containerID: 0, hostID: 0, size: 1 }], gidMappings: [{ containerID: 0, hostID: 0, size: 1 }], namespaces }
      : { namespaces },
  };
}

/** `features` (runc's features.json): what this runtime really does with a spec. */
export function features(): object {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_KINDS],
    mountOptions: ['ro', 'rw', 'nosuid', 'nodev', 'noexec', 'bind', 'rbind', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'],
    linux: {
      namespaces: ['pid', 'mount', 'ipc', 'uts', 'user', 'network', 'cgroup'],
      capabilities: [...CAP_NAMES],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: {
        enabled: true,
        actions: ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP'],
        operators: ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'],
        archs: ['SCMP_ARCH_X86_64'],
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
  };
}
