// What a sandbox is made from (SandboxOptions), what it reports (its
// processes and accounting), and the choice of platform.

import type { Rlimit } from '../kernel/thread_group';
import type { PtracePlatform } from '../platform/ptrace/platform';
import type * as Ptrace from '../platform/ptrace/platform';
import type * as Systrap from '../platform/systrap/platform';
import type { HostInfo } from '../host/hostinfo';
import type { GoferHandOff } from '../gofer/spawn';
import type { NetworkMode } from '../kernel/netinfo';
import type { NatOptions } from './natconfig';
import type { ContainerPlan, MountPlan } from '../oci/plan';

export type PlatformName = 'ptrace' | 'systrap';

/** The variable that names the platform (how the test suite runs on systrap); tsvisor's own, never the program's. */
export const PLATFORM_ENV = 'TSVISOR_PLATFORM';

/**
 * The platform $TSVISOR_PLATFORM names; systrap when it names none (issue 13:
 * systrap is measured ahead of ptrace on every row here, docs/PERFORMANCE.md).
 * A value that names no platform is refused rather than guessed at.
 */
export function platformFromEnv(): PlatformName {
  const v = process.env[PLATFORM_ENV];
  if (v === undefined || v === '') return 'systrap';
  if (v === 'ptrace' || v === 'systrap') return v;
  throw new Error(`${PLATFORM_ENV}=${v}: the platform is ptrace or systrap`);
}

/** The platform asked for; systrap falls back to ptrace, with one line on stderr, where the host cannot run it. */
export function makePlatform(name: PlatformName, warn: (msg: string) => void): PtracePlatform {
  // Required here: the runtime above a confined Sentry (cli/do.ts) reads PLATFORM_ENV and makes no platform.
  const { PtracePlatform } = require('../platform/ptrace/platform') as typeof Ptrace;
  if (name === 'ptrace') return new PtracePlatform();
  // Loaded only when asked for: its stub code and filters are built at module evaluation, a few ms of every start.
  const { SystrapPlatform, systrapSupported } = require('../platform/systrap/platform') as typeof Systrap;
  const why = systrapSupported();
  if (why === null) {
    try {
      return new SystrapPlatform();
    } catch (e) {
      warn(`systrap platform unavailable (${e instanceof Error ? e.message : String(e)}), using ptrace`);
      return new PtracePlatform();
    }
  }
  warn(`systrap platform unavailable (${why}), using ptrace`);
  return new PtracePlatform();
}

/** One process of the sandbox, as `tsvisor ps` lists it. */
export interface SandboxProcess {
  pid: number;
  ppid: number;
  uid: number;
  state: string;
  comm: string;
  userNs: number;
  sysNs: number;
}

/** What `tsvisor events --stats` reports of a sandbox's own accounting. */
export interface SandboxStats {
  /** failcnt, oomKills: a pod container's (its charge group's refusals and OOM kills). */
  memory: { usage: number; max: number; limit: number; failcnt?: number; oomKills?: number };
  pids: { current: number; limit: number };
  cpu: { userNs: number; sysNs: number };
}

/** A process `tsvisor exec` starts in a running sandbox. */
export interface ExecProcess {
  argv: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
  /**
   * Host fds for its 0, 1, 2 (donated as the first process's are), three
   * distinct fds that become the sandbox's: each is closed when the last
   * sandbox file made from it is released (at the latest when the process
   * and whatever inherited them end).
   */
  stdio: [number, number, number];
  /** Each stdio fd is an open file description of its own (opened for this process): made non-blocking in place, not reopened. */
  ownDescriptions?: boolean;
}

export interface SandboxOptions {
  rootfs: string;
  argv: string[];
  env: string[];
  cwd: string;
  /** When the cwd does not exist inside, start at / instead of failing. */
  cwdFallback?: boolean;
  strace?: boolean;
  /** Where debug and strace lines go (a path), else stderr for strace only. */
  debugLog?: string;
  /** Write the platform's counters (stops, injections, batches) here as JSON at the end. */
  statsFile?: string;
  hostname?: string;
  /** The network the application gets (kernel/netinfo.ts); default sandbox. */
  network?: NetworkMode;
  /** Host files through a Gofer process (gofer/start.ts), or the one the runtime started; undefined: $TSVISOR_GOFER=1. */
  gofer?: boolean | GoferHandOff;
  /**
   * Host-mode /etc/hosts and /etc/resolv.conf (the host's, read by the
   * caller): with them and without a container, the identity files are
   * written (sandbox/etcfiles.ts).
   */
  hostEtc?: { hosts: string; resolvConf: string };
  /** Sandbox mode's user-mode NAT (net/nat/): without it, the sandbox's stack has loopback only. */
  nat?: NatOptions;
  /** Memory limit in bytes (default: half of the host's RAM). */
  memory?: number;
  /** What the sandbox shows of the host machine (default: this host's, captured now). */
  hostInfo?: HostInfo;
  /** Host fds to donate as the sandbox's 0, 1, 2. */
  stdio?: [number, number, number];
  /** Resource limits of the first process; default: the caller's, as a child of it would have. */
  rlimits?: Rlimit[];
  /** How application code runs: 'ptrace' (PTRACE_SYSEMU) or 'systrap' (seccomp traps); default: $TSVISOR_PLATFORM, else systrap (ptrace where the host cannot run it). */
  platform?: PlatformName;
  /**
   * The stdio is a terminal whose host signals (the host line discipline's
   * ^C, ^\, ^Z and window changes) are meant for the sandbox's terminal:
   * they go to its foreground process group, not to pid 1 (a container's
   * console, `tsvisor create` with --console-socket).
   */
  terminal?: boolean;
  /** An OCI container's identity, capabilities, limits and mounts (`tsvisor create`); its argv, env, cwd, rootfs and hostname are the fields above. */
  container?: ContainerPlan;
  /** `tsvisor do -v`: bind mounts of host directories (read-write ones write through to the host). */
  volumes?: MountPlan[];
  /** The first process's identity (`tsvisor do --user`); else root with the caller's bounding set. */
  user?: { uid: number; gid: number; groups: number[] };
}
