// `tsvisor do [flags] -- CMD [ARGS...]`: run one command sandboxed, with the
// host's root (or --rootfs) as a read-only tree under a private upper layer.

import * as fs from 'node:fs';
import * as os from 'node:os';
import { Errno, errnoName } from '../abi/errno';
import { parseSize } from '../abi/accounting';
import type { Sandbox } from '../sandbox/sandbox';
import type * as SandboxMod from '../sandbox/sandbox';
import { type PlatformName, PLATFORM_ENV } from '../sandbox/options';
import { CALLER_NOFILE_ENV, captureHostInfo } from '../host/hostinfo';
import { GOFER_ENV, goferWanted } from '../gofer/start';
import type { GoferHandOff } from '../gofer/spawn';
import type * as GoferSpawn from '../gofer/spawn';
import { goferTrees } from '../sandbox/gofer_trees';
import { fail } from './fail';
import { parseVolumes } from './volume';
import { parseUser } from './user';
import { withInit } from './init';
import type { NetworkMode } from '../kernel/netinfo';
import { parsePublish, type NatOptions } from '../sandbox/natconfig';
import { ConfinedStart } from '../sandbox/confine';
import type * as ConfineRuntime from '../sandbox/confine_runtime';
import { DRILL_ENV, runDrill } from '../sandbox/confine_drill';
import { callerEnv } from './caller_env';

export interface DoFlags {
  rootfs: string;
  strace?: boolean;
  debugLog?: string;
  /** Where to write the platform's counters (JSON) when the sandbox ends. */
  stats?: string;
  cwd?: string;
  env: string[];
  memory?: string;
  platform?: PlatformName;
  network: NetworkMode;
  /** -v HOSTDIR:DIR[:ro] bind mounts. */
  volume: string[];
  /** --init: tini as pid 1, the command its child. */
  init?: boolean;
  initPath?: string;
  /** --user USER[:GROUP] of the first process. */
  user?: string;
  /** --gofer / --no-gofer; undefined: $TSVISOR_GOFER. */
  gofer?: boolean;
  publish: string[];
  allowHostLoopback?: boolean;
  /** --confine: the Sentry runs as a confined child (docs/SECURITY.md); else in this process with the caller's host access. */
  confine?: boolean;
  confineDrill?: string;
}

/** The smallest limit a program can start in (a shell and libc need a few MiB). */
const MIN_MEMORY = 8 * 1024 * 1024;

function memoryLimit(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = parseSize(v);
  if (n === null) fail(`--memory wants a size such as 512m or 2g, got ${JSON.stringify(v)}`);
  if (n < MIN_MEMORY) fail(`--memory ${v} is too small (at least 8m)`);
  return n;
}

/** early: a Gofer already started for this command (main.ts), handed to the sandbox. */
export async function cmdDo(argv: string[], a: DoFlags, early: GoferHandOff | null = null): Promise<void> {
  const confined = ConfinedStart.fromEnv();
  const confine = a.confine ?? process.env[CONFINE_ENV] === '1';
  if (a.confineDrill !== undefined && (process.env[DRILL_ENV] !== '1' || !confine)) {
    fail(`--confine-drill is a test switch: it needs ${DRILL_ENV}=1 and confinement`);
  }
  const memory = memoryLimit(a.memory);
  for (const kv of a.env) if (!kv.includes('=')) fail(`--env wants K=V, got ${JSON.stringify(kv)}`);
  const volumes = parseVolumes(a.volume ?? []);
  if (a.initPath !== undefined && !a.init) fail('--init-path needs --init');
  if (a.init) {
    const i = withInit(argv, a.initPath);
    volumes.push(i.mount);
    argv = i.argv;
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(a.rootfs);
  } catch {
    fail(`rootfs ${a.rootfs} does not exist`);
  }
  if (!st.isDirectory()) fail(`rootfs ${a.rootfs} is not a directory`);
  if (!confined && confine) {
    // The Sentry is a confined child (sandbox/confine_runtime.ts) running this same command.
    // The Gofer is started here, unconfined, before the Sentry: the Sentry gets only its socket.
    let gofer = null;
    if (goferWanted(a.gofer) === true) {
      const trees = goferTrees(a.rootfs, volumes);
      gofer = { fd: (require('../gofer/spawn') as typeof GoferSpawn).spawnGofer(trees).fd, trees };
    }
    // Loaded here only: it brings node:child_process and node:tty, which a sandbox in this process never uses.
    (require('../sandbox/confine_runtime') as typeof ConfineRuntime).runConfined(process.argv.slice(1), { newNetns: a.network === 'none', nofileEnv: callerNofile(), gofer }, FORWARDED_SIGNALS);
    return;
  }
  const env = mergeEnv(
    callerEnv().filter(([k]) => k !== CALLER_NOFILE_ENV && k !== PLATFORM_ENV && k !== GOFER_ENV && !k.startsWith(DRILL_ENV) && k !== CONFINE_ENV).map(([k, v]) => `${k}=${v}`),
    a.env,
  );
  // Like `runsc do`: with the host's root, the command starts where the caller is.
  const cwdFallback = !a.cwd;
  const cwd = a.cwd || (fs.realpathSync(a.rootfs) === '/' ? process.cwd() : '/');
  let sb: Sandbox;
  try {
    // Required here: the runtime above a confined Sentry (returned above) evaluates none of the kernel.
    sb = new (require('../sandbox/sandbox') as typeof SandboxMod).Sandbox({
      rootfs: a.rootfs, argv, env, cwd, cwdFallback, strace: a.strace, debugLog: a.debugLog, statsFile: statsFile(a.stats, confined !== null), memory, platform: a.platform,
      network: a.network, volumes, user: a.user === undefined ? undefined : parseUser(a.user, a.rootfs), gofer: confined?.gofer ?? early ?? a.gofer, ...hostIdentity(a.network), nat: natOptions(a),
      // A confined Sentry's own bounding set is empty: the sandbox's root gets the caller's.
      hostInfo: confined ? { ...captureHostInfo(), capBounding: confined.callerCapBounding } : undefined,
    });
  } catch (e) {
    fail(`cannot start the sandbox: ${(e as Error).message}`, 125);
  }
  if (confined) {
    try {
      sb.load();
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('--cwd')) fail(e.message, 125);
      if (!(e instanceof Errno)) throw e;
      fail(`${argv[0]}: ${describeErrno(e.errno)}`, e.errno === 2 ? 127 : 126);
    }
    try {
      // Host files are changed by the Gofer, or (without it) by the Sentry for its read-write binds only.
      const hostWrites = confined.gofer === null && goferTrees(a.rootfs, volumes).some((t) => t.writable);
      confined.enter(a.network === 'none' ? 'none' : 'inet', hostWrites);
    } catch (e) {
      fail(`cannot confine the Sentry: ${(e as Error).message}`, 125);
    }
    if (a.confineDrill !== undefined) runDrill(a.confineDrill);
  }
  let status: number;
  try {
    status = await sb.run();
  } catch (e) {
    if (e instanceof Errno) {
      const code = e.errno === 2 ? 127 : 126;
      fail(`${argv[0]}: ${describeErrno(e.errno)}`, code);
    }
    if (e instanceof Error && e.message.startsWith('--cwd')) fail(e.message, 125);
    throw e;
  }
  process.exit(exitCodeOf(status));
}

/**
 * Host mode shares the host's network identity, as `docker run --network=host`
 * does: its hostname and its /etc/hosts and /etc/resolv.conf.
 */
function hostIdentity(mode: NetworkMode): { hostname?: string; hostEtc?: { hosts: string; resolvConf: string } } {
  if (mode !== 'host') return {};
  const read = (p: string): string => {
    try {
      return fs.readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  return { hostname: os.hostname(), hostEtc: { hosts: read('/etc/hosts'), resolvConf: read('/etc/resolv.conf') } };
}

/** The NAT of sandbox mode: published ports, host loopback, and the host's resolvers for 10.0.2.3. */
function natOptions(a: DoFlags): NatOptions | undefined {
  if (a.network !== 'sandbox') {
    if (a.publish.length || a.allowHostLoopback) fail(`--publish and --allow-host-loopback need --network sandbox`);
    return undefined;
  }
  let publish;
  try {
    publish = a.publish.map(parsePublish);
  } catch (e) {
    fail((e as Error).message);
  }
  let resolvConf = '';
  try {
    resolvConf = fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    // No resolver on the host: 10.0.2.3 answers nothing.
  }
  return { publish, allowHostLoopback: !!a.allowHostLoopback, resolvConf };
}

/** Exit like a shell reports the child: the code, or 128+N for signal N. */
export function exitCodeOf(status: number): number {
  const sig = status & 0x7f;
  return sig ? 128 + sig : (status >> 8) & 0xff;
}

export function describeErrno(errno: number): string {
  const texts: Record<number, string> = {
    2: 'no such file or directory', 13: 'permission denied', 8: 'exec format error', 40: 'too many levels of symbolic links',
    20: 'not a directory', 7: 'argument list too long', 36: 'file name too long',
  };
  return `${texts[errno] ?? 'cannot execute'} (${errnoName(errno)})`;
}

function mergeEnv(base: string[], extra: string[]): string[] {
  const m = new Map<string, string>();
  for (const kv of [...base, ...extra]) m.set(kv.slice(0, kv.indexOf('=')), kv);
  return [...m.values()];
}

/** Confinement's default when neither --confine nor --no-confine is given. */
const CONFINE_ENV = 'TSVISOR_CONFINE';

/** Signals the runtime passes to a confined Sentry (those the sandbox forwards to its init). */
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGTERM', 'SIGWINCH'];

/**
 * The caller's soft RLIMIT_NOFILE for a confined Sentry, whose parent is
 * outside its PID namespace: the shell's, else our parent's (hostinfo.ts).
 */
function callerNofile(): [string, string] | null {
  if (process.env[CALLER_NOFILE_ENV] !== undefined) return null;
  try {
    const m = /^Max open files\s+(\S+)/m.exec(fs.readFileSync(`/proc/${process.ppid}/limits`, 'latin1'));
    return m ? [CALLER_NOFILE_ENV, m[1]] : null;
  } catch {
    return null;
  }
}

/**
 * Where the Sentry writes --stats at the end. A confined Sentry has no host
 * path by then: the file is opened now and written through its descriptor
 * (its private /proc has /proc/self/fd).
 */
function statsFile(path: string | undefined, confined: boolean): string | undefined {
  if (path === undefined || !confined) return path;
  try {
    return `/proc/self/fd/${fs.openSync(path, 'w', 0o644)}`;
  } catch (e) {
    fail(`--stats ${path}: ${(e as Error).message}`);
  }
}
