// OCI hooks (config.md "POSIX-platform Hooks"): host programs run at the
// points of a container's life the specification names, each with the
// container's state as JSON on its stdin. A failing prestart, createRuntime,
// createContainer or startContainer hook fails the command; a failing
// poststart or poststop hook is a warning. createContainer and
// startContainer hooks run in the container's namespaces: those of the
// sandbox process that differ from the runtime's (its network namespace, and
// whichever others it was started in), entered with nsenter, which execs the
// hook in its place. The mount namespace is not among them unless the
// sandbox process has its own: the container's file systems are the Sentry's,
// which no host program can enter.

import * as fs from 'node:fs';
import { childProcess } from './lazy_builtins';
import type { OciState } from '../oci/runtime';
import type { HookKind, OciHook, OciHooks } from '../oci/spec';
import { RuntimeError } from './statedir';
import type { RuntimeLog } from './runtime_log';

/** nsenter's option for each namespace of /proc/PID/ns. The user namespace is left out: it would change the hook's credentials. */
const NSENTER: Array<[string, string]> = [['net', '--net'], ['uts', '--uts'], ['ipc', '--ipc'], ['pid', '--pid'], ['cgroup', '--cgroup'], ['mnt', '--mount']];

/** The nsenter options that put a program into the namespaces of process pid that differ from ours. */
function containerNamespaces(pid: number): string[] {
  const out: string[] = [];
  for (const [ns, opt] of NSENTER) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/ns/${ns}`) !== fs.readlinkSync(`/proc/self/ns/${ns}`)) out.push(`${opt}=/proc/${pid}/ns/${ns}`);
    } catch {
      // the process is gone: the hook then fails to enter it, and says so
    }
  }
  return out;
}

function nsenterPath(): string {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    if (dir && fs.existsSync(`${dir}/nsenter`)) return `${dir}/nsenter`;
  }
  return '/usr/bin/nsenter';
}

/** Hooks that run in the container's namespaces rather than the runtime's. */
const IN_CONTAINER = new Set<HookKind>(['createContainer', 'startContainer']);

/**
 * How one hook is started: through nsenter into the namespaces its kind
 * wants, or directly. outOf: the cgroup.procs files of the runtime's caller
 * when this process has joined the container's cgroup (a create that became
 * the sandbox process): the runtime's own hooks move themselves back there
 * before they exec, as runc runs them from its caller's cgroup, so that
 * Docker's prestart hook is not charged to the container's limits.
 */
function hookCommand(kind: HookKind, h: OciHook, pid: number | null, runtimeNet: string | null, outOf: string[] = []): { file: string; argv: string[]; argv0: string; env: Record<string, string> } {
  const env: Record<string, string> = {};
  for (const kv of h.env ?? []) env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
  const args = h.args ?? [h.path];
  const inContainer = IN_CONTAINER.has(kind);
  const ns = inContainer ? (pid !== null ? containerNamespaces(pid) : []) : runtimeNet !== null ? [`--net=${runtimeNet}`] : [];
  const back = inContainer ? [] : outOf;
  if (!ns.length && !back.length) return { file: h.path, argv: args.slice(1), argv0: args[0] ?? h.path, env };
  // bash (found by the runtime's PATH: the hook's env may have none) moves itself into each cgroup named (a failure leaves it
  // where it is, as a hook of a runtime that cannot write there) and execs the hook with the spec's env, through `exec -a`:
  // nsenter alone would make its argv[0] the path, and multi-call programs (Docker's prestart hook is dockerd's own
  // executable, argv[0] libnetwork-setkey) choose what to do by argv[0]. No rc file: with a socket on its stdin (Node's pipes), bash would read ~/.bashrc.
  const script = 'n=$1; shift; while [ "$n" -gt 0 ]; do { echo $$ > "$1"; } 2>/dev/null; shift; n=$((n-1)); done; exec -a "$0" "$@"';
  const inner = ['/bin/bash', '--norc', '--noprofile', '-c', script, args[0] ?? h.path, String(back.length), ...back, h.path, ...args.slice(1)];
  return ns.length
    ? { file: nsenterPath(), argv: [...ns, '--', ...inner], argv0: 'nsenter', env }
    : { file: inner[0], argv: inner.slice(1), argv0: 'bash', env };
}

/** How a hook ended, as spawnSync says it (and runHooksAsync collects it). */
interface HookResult {
  error?: Error;
  signal: NodeJS.Signals | null;
  status: number | null;
  stderr: string;
}

/** Why the hook failed, or null if it did not. */
function hookFailure(h: OciHook, r: HookResult): string | null {
  // A hook that does not read its state (it exits first) is no failure: EPIPE is writing the state, not the hook.
  const epipe = (r.error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
  if (r.error && !epipe) return (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `timed out after ${h.timeout} s` : r.error.message;
  if (r.signal) return `killed by ${r.signal}`;
  if (r.status !== 0) return `exit status ${r.status}`;
  return null;
}

/** Log that the hook ran (true), or fail: throw if fatal, else warn (false). */
function judge(kind: HookKind, i: number, h: OciHook, r: HookResult, state: OciState, log: RuntimeLog, fatal: boolean): boolean {
  const why = hookFailure(h, r);
  if (why === null) {
    log.debug(`${state.id}: ${kind} hook ${h.path} ran`);
    return true;
  }
  const msg = `${kind} hook ${i} (${h.path}) failed: ${why}${r.stderr ? `: ${r.stderr.trim()}` : ''}`;
  if (fatal) throw new RuntimeError(msg);
  log.warn(`${state.id}: ${msg}`);
  return false;
}

/**
 * Run the hooks of these kinds in order; returns false (after logging) if
 * one failed and failures are only warnings. pid: the sandbox process, whose
 * namespaces createContainer and startContainer hooks enter. runtimeNet: the
 * runtime's network namespace when this process is not in it (a create that
 * became the sandbox process), which the other hooks enter.
 */
export function runHooks(hooks: OciHooks, kinds: HookKind[], state: OciState, log: RuntimeLog, fatal: boolean, pid: number | null = null, runtimeNet: string | null = null, outOf: string[] = []): boolean {
  for (const kind of kinds) {
    for (const [i, h] of (hooks[kind] ?? []).entries()) {
      const c = hookCommand(kind, h, pid, runtimeNet, outOf);
      const r = childProcess().spawnSync(c.file, c.argv, {
        argv0: c.argv0, env: c.env, input: JSON.stringify(state), stdio: ['pipe', 'inherit', 'pipe'], encoding: 'utf8',
        timeout: h.timeout ? h.timeout * 1000 : undefined, killSignal: 'SIGKILL',
      });
      if (!judge(kind, i, h, { error: r.error, signal: r.signal, status: r.status, stderr: r.stderr ?? '' }, state, log, fatal)) return false;
    }
  }
  return true;
}

/** One hook, not blocking this process's event loop; resolves as spawnSync would return. */
function spawnHook(c: ReturnType<typeof hookCommand>, h: OciHook, state: OciState): Promise<HookResult> {
  return new Promise((resolve) => {
    let stderr = '';
    let error: Error | undefined;
    let timer: NodeJS.Timeout | undefined;
    const child = childProcess().spawn(c.file, c.argv, { argv0: c.argv0, env: c.env, stdio: ['pipe', 'inherit', 'pipe'] });
    if (h.timeout) {
      timer = setTimeout(() => {
        error = Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' });
        child.kill('SIGKILL');
      }, h.timeout * 1000);
    }
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin?.on('error', (e) => (error ??= e));
    child.stdin?.end(JSON.stringify(state));
    child.on('error', (e) => (error ??= e));
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ error, signal, status, stderr });
    });
  });
}

/**
 * runHooks with fatal failures, without blocking the event loop: a create
 * whose confined Sentry starts meanwhile (it asks this process for its ID
 * maps and its confinement) runs the create-time hooks beside that start.
 */
export async function runHooksAsync(hooks: OciHooks, kinds: HookKind[], state: OciState, log: RuntimeLog, pid: number | null, runtimeNet: string | null, outOf: string[]): Promise<void> {
  for (const kind of kinds) {
    for (const [i, h] of (hooks[kind] ?? []).entries()) judge(kind, i, h, await spawnHook(hookCommand(kind, h, pid, runtimeNet, outOf), h, state), state, log, true);
  }
}
