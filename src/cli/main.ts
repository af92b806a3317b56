// The tsvisor command line. `do` runs one command sandboxed; the OCI runtime
// commands (create, start, run, ...) come with the OCI work.

import * as fs from 'node:fs';
import { Errno, errnoName } from '../abi/errno';
import { parseSize } from '../abi/accounting';
import { Sandbox } from '../sandbox/sandbox';
import { CALLER_NOFILE_ENV } from '../host/hostinfo';
import { compatibilityMarkdown } from '../syscalls/table';

const USAGE = `usage: tsvisor do [--rootfs DIR] [--memory SIZE] [--strace] [--debug-log FILE] [--stats FILE] [--cwd DIR] [--env K=V]... -- CMD [ARGS...]
       (--memory: the sandbox's memory limit, e.g. 512m or 2g; default half of the host's RAM)
       tsvisor compat   (print the syscall compatibility table)`;

function fail(msg: string, code = 2): never {
  process.stderr.write(`tsvisor: ${msg}\n`);
  process.exit(code);
}

interface DoArgs {
  rootfs: string;
  strace: boolean;
  debugLog?: string;
  /** Where to write the platform's counters (JSON) when the sandbox ends. */
  stats?: string;
  cwd: string;
  env: string[];
  argv: string[];
  /** Memory limit in bytes (undefined: the default). */
  memory?: number;
}

/** The smallest limit a program can start in (a shell and libc need a few MiB). */
const MIN_MEMORY = 8 * 1024 * 1024;

export function parseDoArgs(args: string[]): DoArgs {
  const out: DoArgs = { rootfs: '/', strace: false, cwd: '', env: [], argv: [] };
  const value = (i: number, flag: string): string => {
    if (i >= args.length) fail(`${flag} needs a value`);
    return args[i];
  };
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const get = () => inline ?? value(++i, flag);
    switch (flag) {
      case '--rootfs': out.rootfs = get(); break;
      case '--strace': out.strace = true; break;
      case '--debug-log': out.debugLog = get(); break;
      case '--stats': out.stats = get(); break;
      case '--cwd': out.cwd = get(); break;
      case '--memory': {
        const v = get();
        const n = parseSize(v);
        if (n === null) fail(`--memory wants a size such as 512m or 2g, got ${JSON.stringify(v)}`);
        if (n < MIN_MEMORY) fail(`--memory ${v} is too small (at least 8m)`);
        out.memory = n;
        break;
      }
      case '--env': {
        const kv = get();
        if (!kv.includes('=')) fail(`--env wants K=V, got ${JSON.stringify(kv)}`);
        out.env.push(kv);
        break;
      }
      default:
        if (a.startsWith('-')) fail(`unknown flag ${a} (see tsvisor --help)`);
        // The first non-flag starts the command even without "--".
        out.argv = args.slice(i);
        return out;
    }
  }
  out.argv = args.slice(i);
  return out;
}

async function cmdDo(args: string[]): Promise<void> {
  const a = parseDoArgs(args);
  if (a.argv.length === 0) fail('no command given: tsvisor do [flags] -- CMD [ARGS...]');
  let st: fs.Stats;
  try {
    st = fs.statSync(a.rootfs);
  } catch {
    fail(`rootfs ${a.rootfs} does not exist`);
  }
  if (!st.isDirectory()) fail(`rootfs ${a.rootfs} is not a directory`);
  const env = mergeEnv(
    Object.entries(process.env).filter(([k]) => k !== CALLER_NOFILE_ENV).map(([k, v]) => `${k}=${v}`),
    a.env,
  );
  // Like `runsc do`: with the host's root, the command starts where the caller is.
  const cwdFallback = !a.cwd;
  if (!a.cwd) a.cwd = fs.realpathSync(a.rootfs) === '/' ? process.cwd() : '/';
  let sb: Sandbox;
  try {
    sb = new Sandbox({ rootfs: a.rootfs, argv: a.argv, env, cwd: a.cwd, cwdFallback, strace: a.strace, debugLog: a.debugLog, statsFile: a.stats, memory: a.memory });
  } catch (e) {
    fail(`cannot start the sandbox: ${(e as Error).message}`, 125);
  }
  let status: number;
  try {
    status = await sb.run();
  } catch (e) {
    if (e instanceof Errno) {
      const code = e.errno === 2 ? 127 : 126;
      fail(`${a.argv[0]}: ${describe(e.errno)}`, code);
    }
    if (e instanceof Error && e.message.startsWith('--cwd')) fail(e.message, 125);
    throw e;
  }
  // Exit like a shell reports the child: the code, or 128+N for signal N.
  const sig = status & 0x7f;
  process.exit(sig ? 128 + sig : (status >> 8) & 0xff);
}

function describe(errno: number): string {
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

export function main(argv: string[]): void {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'do':
      cmdDo(rest).catch((e) => fail(`internal error: ${(e as Error).stack ?? e}`, 125));
      return;
    case 'compat':
      process.stdout.write(compatibilityMarkdown());
      return;
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE + '\n');
      return;
    default:
      fail(`unknown command ${cmd} (see tsvisor --help)`);
  }
}
