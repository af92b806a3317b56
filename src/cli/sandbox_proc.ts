// The host process that stands for a container. `create` starts it (the
// hidden command `sandbox-init`) with create's own stdio; it builds the
// sandbox, loads the first task without running it, listens on the control
// channel, and tells create on fd 3 that it is ready (or why not). `start`
// lets the task run; the process then exits with the container's status (a
// signal death is raised again on itself, so a waiting parent sees the same
// wait status). Signals sent to it reach the container's init as they reach
// pid 1 of `tsvisor do`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { childProcess } from './lazy_builtins';
import type { Readable } from 'node:stream';
import { Errno } from '../abi/errno';
import { defaultAction } from '../abi/signals';
import type { Sandbox } from '../sandbox/sandbox';
import { ControlServer, type ControlReply, type ControlRequest } from './control';
import * as S from '../abi/signals';
import type { Runtime } from './oci_commands';
import { readBundle, sandboxOptions } from './container_spec';
import { NEW_NETNS } from '../oci/plan';
import type { NetworkMode } from '../kernel/netinfo';
import type { LinkConfig, LinkSource } from '../abi/netif';
import type { CgroupRecord } from '../oci/resources';
import { HostCgroup } from './cgroups';
import type { ContainerPlan } from '../oci/plan';
import type * as Confined from './confined_sentry';
import { CONFINE_FD_ENV } from '../sandbox/confine_env';
import { holdsExecSecret } from './exec_secret';
import { loadError, localPodHost, PodServer } from './pod_serve';
import { hostTree } from './observe';
import { EXITING_EVENT } from './start_fifo';

const READY_FD = 3;

export function tellCreate(msg: { ok: true } | { ok: false; error: string }, fd = READY_FD): void {
  try {
    fs.writeSync(fd, JSON.stringify(msg) + '\n');
    fs.closeSync(fd);
  } catch {
    // create is gone: it cleans up after itself, and the process ends below or at start
  }
}

/**
 * The exec client's stdio, opened through /proc (the client is the runtime's
 * own user: only it reaches the socket; and it holds the request's secret,
 * checked by the caller). Writes append, so that a regular file the client
 * writes to is not overwritten from its start. A closed fd becomes /dev/null.
 */
export function clientStdio(client: number): [number, number, number] {
  const open = (i: number): number => {
    const flags = i === 0 ? fs.constants.O_RDONLY : fs.constants.O_WRONLY | fs.constants.O_APPEND;
    try {
      return fs.openSync(`/proc/${client}/fd/${i}`, flags);
    } catch {
      return fs.openSync('/dev/null', flags);
    }
  };
  return [open(0), open(1), open(2)];
}

/** The file in the state directory where the sandbox process leaves the container's wait status (`tsvisor wait` reads it). */
export const EXIT_FILE = 'exit-status';

/** Leave a pod's container's wait status in its state directory dir, for `tsvisor wait`. */
export function writeExitStatus(dir: string, status: number): void {
  try {
    fs.writeFileSync(path.join(dir, EXIT_FILE), String(status), { mode: 0o600, flag: 'w' });
  } catch {
    // its state directory is gone (delete --force): nobody waits
  }
}

/**
 * Written beside EXIT_FILE when deleting the stopped container needs nothing
 * but removing its cgroup directories (listed on its one line, separated by
 * spaces) and its state directory: no poststop hook. bin/tsvisor.js's shell
 * line then does it without starting Node (Docker's shim deletes every
 * container after it exits); if a directory cannot be removed (a process
 * left in it), it leaves the work to Node's delete, which kills it.
 */
const PLAIN_DELETE_FILE = 'delete-plain';

/** The line of PLAIN_DELETE_FILE, or null where the shell line must not delete: poststop hooks, or a cgroup path with characters its word splitting would change. */
/** This process takes the namespace's interfaces over itself (it is root there); the netns module is loaded only then. */
async function takeOverHere(): Promise<{ links: LinkConfig[]; source: LinkSource }> {
  const { NamespaceLinks } = await import('../host/netns');
  const ns = new NamespaceLinks();
  const { links, monitorFd } = ns.start();
  return { links, source: { monitorFd, sync: () => ns.sync() } };
}

function plainDelete(plan: ContainerPlan, cg: HostCgroup | null): string | null {
  if ((plan.hooks.poststop ?? []).length > 0) return null;
  const dirs = [...new Set(Object.values(cg?.rec.dirs ?? {}))];
  return dirs.every((d) => /^\/[\w/.:@+-]+$/.test(d)) ? dirs.join(' ') : null;
}

/**
 * Before the shell line may delete the stopped container without Node:
 * this process's descendants (the stubs; above a confined Sentry, the Gofer
 * and the unshare processes) are killed and gone from the cgroup
 * directories, so that its rmdir does not find them dying there (EBUSY,
 * then a Node start for nothing). Another process in the cgroup is left
 * for delete to kill. Bounded: 2 s.
 */
function leaveCgroupEmpty(dirs: string[]): void {
  const mine = new Set(hostTree(process.pid).filter((p) => p !== process.pid));
  for (const p of mine) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  const end = Date.now() + 2000;
  const left = (): boolean => dirs.some((d) => {
    try {
      return fs.readFileSync(`${d}/cgroup.procs`, 'latin1').split('\n').some((p) => mine.has(Number(p)));
    } catch {
      return false;
    }
  });
  while (left() && Date.now() < end) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
}

/** Exit as the container did: its code, or death by its signal. plain: PLAIN_DELETE_FILE's line, if any. */
export function exitAs(status: number, stateDir: string, plain: string | null = null, debug?: (msg: string) => void): never {
  (process as NodeJS.EventEmitter).emit(EXITING_EVENT);
  if (plain) {
    leaveCgroupEmpty(plain.split(' '));
    debug?.("the sandbox's other host processes are gone");
  }
  try {
    if (plain !== null) fs.writeFileSync(`${stateDir}/${PLAIN_DELETE_FILE}`, `${plain}\n`, { mode: 0o600 });
    // Last: the shell line takes a container with this file for stopped.
    fs.writeFileSync(`${stateDir}/${EXIT_FILE}`, String(status), { mode: 0o600 });
  } catch {
    // the state directory is gone (delete --force): nobody waits
  }
  const sig = status & 0x7f;
  if (sig) {
    process.removeAllListeners();
    try {
      process.kill(process.pid, sig);
    } catch {
      // fall through to the shell's convention
    }
    process.exit(128 + sig);
  }
  process.exit((status >> 8) & 0xff);
}

/**
 * Make the terminal on fd 0 this process's controlling terminal (it leads
 * its own session): the host line discipline's ^C, ^\\ and ^Z and window
 * changes then reach it, and the sandbox passes them on.
 */
export function takeTerminal(fd = 0): void {
  const name = fs.readlinkSync(`/proc/self/fd/${fd}`);
  // An open without O_NOCTTY by a session leader without a terminal takes it.
  fs.closeSync(fs.openSync(name, fs.constants.O_RDWR));
}

/**
 * exec-wait with a terminal: take it as the controlling terminal and pass the
 * signals it raises to the exec'd process's terminal in the sandbox.
 * @public cli/main.ts requires this module when a command runs (a lazy require, which knip does not follow).
 */
export function forwardTerminalSignals(rt: Runtime, id: string): void {
  takeTerminal();
  for (const [name, sig] of [['SIGINT', S.SIGINT], ['SIGQUIT', S.SIGQUIT], ['SIGTSTP', S.SIGTSTP], ['SIGWINCH', S.SIGWINCH]] as const) {
    process.on(name, () => void rt.request(rt.record(id), { op: 'ttysignal', client: process.pid, signal: sig }).catch(() => undefined));
  }
}

/**
 * The container's terminal: 'console', a pty of its own whose master went to
 * the console socket (this process takes it as its controlling terminal);
 * 'caller', the stdio of a foreground `run` (whose process passes the
 * signals on); null, none.
 */
export type TerminalKind = 'console' | 'caller' | null;

/**
 * The sandbox process (`sandbox-init`, started by spawnSandbox). confine: the
 * Sentry runs confined below it (sandbox_confined.ts): this function runs
 * twice, first as the runtime outside (which starts the Gofer and the
 * Sentry), then as that Sentry.
 * @public cli/main.ts requires this module when a command runs (a lazy require, which knip does not follow).
 */
export async function sandboxInit(id: string, bundle: string, stateDir: string, terminal: TerminalKind, network: NetworkMode, cgroup: CgroupRecord | null, confine: boolean): Promise<void> {
  // Loaded only here: the runtime's other commands (which import this file) need none of it, the runtime of a confined Sentry none of the Sentry's side.
  const conf = await import('./sandbox_confined');
  const confined = confine && process.env[CONFINE_FD_ENV] !== undefined ? (await import('./confined_sentry')).confinedSentry() : null;
  const readyFd = confined ? conf.CONFINED_READY_FD : READY_FD;
  // First of all: every host process of the sandbox (the stubs are forked later) is in the container's cgroup (a confined Sentry is born in it).
  const cg = cgroup ? HostCgroup.of(cgroup) : null;
  if (!confined) cg?.join(0);
  if (confine && !confined) {
    try {
      const plan = planOf(bundle, cg);
      if (terminal === 'console') takeTerminal();
      if (plan.oomScoreAdj !== null) fs.writeFileSync('/proc/self/oom_score_adj', String(plan.oomScoreAdj));
      hostNetSysctls(plan, network);
      const plain = plainDelete(plan, cg);
      conf.superviseConfined({
        plan, id, cg, host: { clientStdio, exitAs: (st) => exitAs(st, stateDir, plain), tellCreate }, takeOver: network === 'sandbox' && plan.netns !== null,
        sentryArgs: process.argv.slice(1), ready: READY_FD, terminalSignals: terminal === 'console', stateDir,
      });
    } catch (e) {
      tellCreate({ ok: false, error: (e as Error).message });
      process.exit(1);
    }
    return;
  }
  try {
    await serveContainer({ bundle, stateDir, terminal, network, cg, confined });
  } catch (e) {
    tellCreate({ ok: false, error: (e as Error).message }, readyFd);
    process.exit(1);
  }
  tellCreate({ ok: true }, readyFd);
}

/**
 * The host network mode in a network namespace of the container's own: the
 * spec's net.* sysctls are that namespace's (the sandbox has no stack of
 * its own to hold them), written by the runtime as runc writes them (this
 * thread is in the namespace). A confined Sentry needs it most: Docker's
 * net.ipv4.ip_unprivileged_port_start=0 is what lets it, without
 * capabilities, bind the container's port 80.
 */
function hostNetSysctls(plan: ContainerPlan, network: NetworkMode): void {
  if (network !== 'host' || plan.netns === null) return;
  for (const s of plan.sysctl) {
    if (!s.key.startsWith('net.')) continue;
    try {
      fs.writeFileSync(`/proc/sys/${s.file}`, s.value);
    } catch (e) {
      throw new Error(`linux.sysctl: cannot write ${s.value} to ${s.key}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
}

/** The plan's cgroup mounts made views of the container's cgroup. */
function viewCgroupMounts(plan: ContainerPlan, cg: HostCgroup | null): ContainerPlan {
  plan.mounts = plan.mounts.flatMap((m) => (m.kind !== 'cgroup' ? [m] : cg ? cg.viewMounts(m) : []));
  return plan;
}

/** The bundle's plan, its cgroup mounts made views of the container's cgroup. */
function planOf(bundle: string, cg: HostCgroup | null): ContainerPlan {
  return viewCgroupMounts(readBundle(bundle), cg);
}

/** What serveContainer builds the container's sandbox from. */
export interface ContainerStart {
  bundle: string;
  stateDir: string;
  terminal: TerminalKind;
  network: NetworkMode;
  /** The container's host cgroup, which this process has joined already (a confined Sentry: its runtime has). */
  cg: HostCgroup | null;
  /** The container's stdio, if not this process's 0-2 (create that becomes the sandbox process: the terminal's slave until create is done). */
  stdio?: [number, number, number];
  /** This process is a confined Sentry (sandbox_confined.ts): its runtime above does what needs the host. */
  confined?: ReturnType<typeof Confined.confinedSentry>;
}

/**
 * Build the container's sandbox in this process, load its first task (not
 * running), and serve the control channel: `start` lets it run, and the
 * process then ends as the container does. Throws (one line) if the sandbox
 * cannot be built; the caller tells create, or is create.
 */
export async function serveContainer(c: ContainerStart): Promise<void> {
  const { stateDir, terminal, network, cg } = c;
  const confined = c.confined ?? null;
  const requests = confined?.requests ?? null;
  const conf = confined ? await import('./confined_sentry') : null;
  /** What deleting the container will need (plainDelete), once its plan is read. */
  let plain: string | null = null;
  /** The container ended with wait status st: end as it did (a confined Sentry tells its runtime, which does). */
  const finish = (st: number): never => {
    if (!requests) exitAs(st, stateDir, plain);
    requests.status(st);
    process.exit(0);
  };
  // Loaded here: the runtime's other commands (which import this file) need no kernel.
  const [{ Sandbox }, { describeErrno }] = await Promise.all([import('../sandbox/sandbox'), import('./do')]);
  let sb: Sandbox;
  let started = false;
  /** exec'd processes by the host pid of the client waiting for them. */
  const execs = new Map<number, number>();
  let pod: PodServer | null = null;
  const handle = async (req: ControlRequest): Promise<ControlReply> => {
    // A container that joins this sandbox (a pod's), or one that did.
    if (req.op === 'create' || req.container !== undefined || req.op === 'remove') {
      if (!started) {
        if (req.op === 'create') for (const fd of req.fds) fs.closeSync(fd);
        return { ok: false, error: 'the sandbox container is not running' };
      }
      pod ??= new PodServer(sb, requests ?? localPodHost(path.dirname(stateDir)), describeErrno);
      return pod.handle(req);
    }
    if (req.op === 'start') {
      if (started) return { ok: false, error: 'the container has been started already' };
      // The namespace's interfaces become the stack's now: Docker moved the veth in during create.
      if (takeOver) {
        try {
          // A confined Sentry may not: its runtime does it and hands the packet sockets down.
          const taken = requests ? requests.links() : await takeOverHere();
          sb.attachLinks(taken.links, taken.source);
        } catch (e) {
          return { ok: false, error: (e as Error).message };
        }
      }
      started = true;
      setImmediate(() => {
        sb.run().then(async (st) => {
          await cg?.settled();
          finish(st);
        }, (e: Error) => {
          process.stderr.write(`tsvisor: the sandbox failed: ${e.message}\n`);
          process.exit(125);
        });
      });
      return { ok: true };
    }
    if (req.op === 'exec') {
      if (!started) return { ok: false, error: 'the container is not running' };
      try {
        if (!requests && !holdsExecSecret(req.client, req.secret)) return { ok: false, error: `host process ${req.client} does not hold the exec's secret` };
        const stdio = requests ? requests.execStdio(req.client, req.secret) : clientStdio(req.client);
        // Opened for this exec (through /proc): descriptions of their own.
        const { pid, exited } = sb.exec({ ...req, stdio, ownDescriptions: true });
        execs.set(req.client, pid);
        const status = await exited;
        execs.delete(req.client);
        return { ok: true, status };
      } catch (e) {
        return { ok: false, error: e instanceof Errno ? `${req.argv[0]}: ${describeErrno(e.errno)}` : (e as Error).message };
      }
    }
    if (req.op === 'ttysignal') {
      const pid = execs.get(req.client);
      if (pid === undefined) return { ok: false, error: 'no process was started for this client' };
      sb.execTerminalSignal(pid, req.signal);
      return { ok: true };
    }
    if (req.op === 'ps') return { ok: true, processes: sb.kernel ? sb.processes() : [] };
    if (req.op === 'stats') return { ok: true, stats: sb.stats() };
    if (req.op === 'pause' || req.op === 'resume') {
      if (!started) return { ok: false, error: 'the container is not running' };
      if (req.op === 'pause') await sb.kernel.pause();
      // After the reply is out: once resumed, the kernel's loop may block in
      // its wait before promise jobs queued behind it (the reply) have run.
      else setImmediate(() => sb.kernel.resume());
      return { ok: true };
    }
    if (started) sb.signal(req.signal, req.all);
    else {
      // Nothing runs yet: a signal whose default is to end the process ends the container.
      const act = defaultAction(req.signal);
      if (req.signal === 9 || act === 'term' || act === 'core') setImmediate(() => finish(req.signal));
    }
    return { ok: true };
  };
  let argv0 = '';
  /** Sandbox mode in a network namespace of the container's own: the stack takes its interfaces over at start. */
  let takeOver = false;
  try {
    // A confined Sentry: the plan its runtime read (the bundle may be out of its reach).
    const plan = requests ? requests.plan() : planOf(c.bundle, cg);
    takeOver = network === 'sandbox' && plan.netns !== null;
    plain = plainDelete(plan, cg);
    argv0 = plan.argv[0];
    // Done by the runtime above a confined Sentry (inherited).
    if (terminal === 'console' && !confined) takeTerminal(c.stdio?.[0]);
    // The host's OOM killer weighs the Sentry (and the stubs it forks) as the spec asks.
    if (plan.oomScoreAdj !== null && !confined) fs.writeFileSync('/proc/self/oom_score_adj', String(plan.oomScoreAdj));
    sb = new Sandbox({
      ...sandboxOptions(plan), terminal: terminal !== null, network, ...(c.stdio ? { stdio: c.stdio } : {}),
      // A confined Sentry: its files from the Gofer its runtime started; its own bounding set is empty (the sandbox's root gets the caller's).
      ...(confined && conf ? conf.confinedOptions(confined.start) : {}),
    });
    // An OOM kill within a pod's container (its charge group) is recorded in that container's host cgroup, not the sandbox's.
    sb.kernel.onOomKill = (charge) => {
      if (charge !== null) pod?.oomKill(charge);
      else if (cg) (requests ? requests.raiseOom() : cg.raiseOom());
    };
    try {
      sb.load();
    } catch (e) {
      // runc's wording, which Docker turns into exit status 127 (not found) or 126.
      throw loadError(e, argv0, describeErrno);
    }
    await ControlServer.listen(requests ? requests.stateDir() : stateDir, handle, () => sb.kernel.requestNodeTurn());
    requests?.closeStateDir();
    // The control socket is bound (a host path): the host can go.
    if (confined && conf) conf.enterConfinement(confined.start, plan, network);
  } catch (e) {
    throw e instanceof Errno ? new Error(describeErrno(e.errno)) : e;
  }
}

/**
 * A create that is the container's sandbox process (started by the shell
 * line, oci_commands.ts) with its Sentry confined: this process becomes the
 * Sentry's runtime (as sandbox-init's would, above), starting the Gofer and
 * the Sentry (sandbox-init, confined) itself, from the plan create read
 * (config.json is read once). Returns once they are started: ready resolves
 * when the Sentry is (create meanwhile runs the create-time hooks), and
 * created() is called once create is done: from then on this process ends
 * as the container does. Its state pid stays this process, the one the
 * caller executed.
 */
export async function superviseInPlace(c: ContainerStart & { id: string; bin: string; plan: ContainerPlan; debug?: (msg: string) => void }): Promise<{ ready: Promise<void>; created: () => void }> {
  const conf = await import('./sandbox_confined');
  c.debug?.("the supervisor's modules loaded");
  const { id, stateDir, terminal, network, cg, plan } = c;
  viewCgroupMounts(plan, cg);
  if (terminal === 'console') takeTerminal(c.stdio?.[0]);
  if (plan.oomScoreAdj !== null) fs.writeFileSync('/proc/self/oom_score_adj', String(plan.oomScoreAdj));
  hostNetSysctls(plan, network);
  const plain = plainDelete(plan, cg);
  const { child, created } = conf.superviseConfined({
    plan, id, cg, host: { clientStdio, exitAs: (st) => exitAs(st, stateDir, plain, c.debug), tellCreate }, takeOver: network === 'sandbox' && plan.netns !== null,
    sentryArgs: sandboxInitArgs(c.bin, id, c.bundle, stateDir, terminal, network, cg?.rec ?? null, true), ready: 'pipe',
    terminalSignals: terminal === 'console', stateDir, ...(c.stdio ? { stdio: c.stdio } : {}), debug: c.debug,
  });
  c.debug?.('the Sentry started');
  return { ready: readyOf(child, conf.CONFINED_READY_FD).then(() => undefined), created };
}

/** The command line (after Node) of a container's sandbox process. */
function sandboxInitArgs(bin: string, id: string, bundle: string, stateDir: string, kind: TerminalKind, network: NetworkMode, cgroup: CgroupRecord | null, confine: boolean): string[] {
  return [bin, 'sandbox-init', '--bundle', bundle, '--state-dir', stateDir, ...(kind ? ['--terminal', kind] : []), '--network', network,
    ...(cgroup ? ['--cgroup', JSON.stringify(cgroup)] : []), ...(confine ? ['--confine'] : []), id];
}

/** Start the sandbox process for a container and wait until it is ready; rejects with its reason if it is not. */
export function spawnSandbox(
  bin: string, id: string, bundle: string, stateDir: string, netns: string | null, tty: number | null, callerTerminal: boolean, network: NetworkMode, cgroup: CgroupRecord | null,
  confine: boolean,
): Promise<ChildProcess> {
  const kind = tty !== null ? 'console' : callerTerminal ? 'caller' : null;
  const args = sandboxInitArgs(bin, id, bundle, stateDir, kind, network, cgroup, confine);
  // The network namespace the spec names is joined before Node starts: setns
  // moves only the calling thread, and Node has threads from its start.
  // nsenter execs Node in its place, so the pid stays the container's.
  // A new one (the spec names none): unshare execs Node in a new network namespace.
  const [file, argv] = netns === NEW_NETNS ? ['unshare', ['--net', '--', process.execPath, ...args]]
    : netns ? ['nsenter', [`--net=${netns}`, '--', process.execPath, ...args]] : [process.execPath, args];
  const child = childProcess().spawn(file, argv, {
    stdio: tty === null ? ['inherit', 'inherit', 'inherit', 'pipe'] : [tty, tty, tty, 'pipe'],
    detached: true,
  });
  return readyOf(child);
}

/** child once it said on fd (its start-up pipe) that it is ready; rejects with its reason if it is not (and kills it). */
export function readyOf(child: ChildProcess, fd = READY_FD): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    let text = '';
    let settled = false;
    const done = (err: string | null) => {
      if (settled) return;
      settled = true;
      if (err === null) return resolve(child);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reject(new Error(err));
    };
    const pipe = child.stdio[fd] as Readable | null;
    if (!pipe) return done('no start-up pipe to the sandbox process');
    pipe.setEncoding('utf8');
    // One line, read as soon as it is whole: a confined Sentry's copy of the pipe is also held by its unshare, so no end comes.
    const line = (): void => {
      const nl = text.indexOf('\n');
      let msg: { ok: boolean; error?: string };
      try {
        msg = JSON.parse(nl >= 0 ? text.slice(0, nl) : text) as { ok: boolean; error?: string };
      } catch {
        return;
      }
      pipe.destroy();
      done(msg.ok ? null : msg.error ?? 'the sandbox failed to start');
    };
    pipe.on('data', (c: string) => {
      text += c;
      if (text.includes('\n')) line();
    });
    pipe.on('end', line);
    pipe.on('error', () => undefined);
    child.on('error', (e) => done(`cannot start the sandbox process: ${e.message}`));
    // 'close' comes after the pipe's end: an error the process wrote is reported, not just its exit.
    child.on('close', (code, sig) => done(`the sandbox process exited during start-up (${sig ?? code})`));
  });
}
