// `tsvisor do [flags] -- CMD [ARGS...]`: run one command sandboxed, with the
// host's root (or --rootfs) as a read-only tree under a private upper layer.

import * as fs from 'node:fs';
import * as os from 'node:os';
import { Errno, errnoName } from '../abi/errno';
import { parseSize } from '../abi/accounting';
import { type PlatformName, PLATFORM_ENV, Sandbox } from '../sandbox/sandbox';
import { CALLER_NOFILE_ENV } from '../host/hostinfo';
import { GOFER_ENV } from '../gofer/start';
import { fail } from './fail';
import type { NetworkMode } from '../kernel/netinfo';

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
  /** --gofer / --no-gofer; undefined: $TSVISOR_GOFER. */
  gofer?: boolean;
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

export async function cmdDo(argv: string[], a: DoFlags): Promise<void> {
  const memory = memoryLimit(a.memory);
  for (const kv of a.env) if (!kv.includes('=')) fail(`--env wants K=V, got ${JSON.stringify(kv)}`);
  let st: fs.Stats;
  try {
    st = fs.statSync(a.rootfs);
  } catch {
    fail(`rootfs ${a.rootfs} does not exist`);
  }
  if (!st.isDirectory()) fail(`rootfs ${a.rootfs} is not a directory`);
  const env = mergeEnv(
    Object.entries(process.env).filter(([k]) => k !== CALLER_NOFILE_ENV && k !== PLATFORM_ENV && k !== GOFER_ENV).map(([k, v]) => `${k}=${v}`),
    a.env,
  );
  // Like `runsc do`: with the host's root, the command starts where the caller is.
  const cwdFallback = !a.cwd;
  const cwd = a.cwd || (fs.realpathSync(a.rootfs) === '/' ? process.cwd() : '/');
  let sb: Sandbox;
  try {
    sb = new Sandbox({
      rootfs: a.rootfs, argv, env, cwd, cwdFallback, strace: a.strace, debugLog: a.debugLog, statsFile: a.stats, memory, platform: a.platform,
      network: a.network, gofer: a.gofer, ...hostIdentity(a.network),
    });
  } catch (e) {
    fail(`cannot start the sandbox: ${(e as Error).message}`, 125);
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
