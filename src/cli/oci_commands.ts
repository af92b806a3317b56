// The OCI runtime commands (runc's command line): create, start, run, state,
// kill, delete, list, spec, features. Each takes the container's lock, reads
// its record, checks the state transition as runtime.md and runc do, and
// fails with one line (runtime_log.ts).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { defaultSpec, features, ociState, parseSignal, validId, type ContainerRecord, type OciState } from '../oci/runtime';
import { controlRequest, type ControlReply, type ControlRequest, type ExecSpec } from './control';
import { holdExecSecret } from './exec_secret';
import { parseProcess, SpecError, type HookKind } from '../oci/spec';
import { childProcess, tty as ttyModule } from './lazy_builtins';
import { readBundle, readBundleSource } from './container_spec';
import { serveContainer, spawnSandbox, superviseInPlace } from './sandbox_proc';
import { enterNetns, newSession, replaceFd, type RuntimeNetns } from '../host/selfns';
import { HostCgroup } from './cgroups';
import { runHooks, runHooksAsync } from './hooks';
import { NEW_NETNS } from '../oci/plan';
import { openHostPty, sendFd, type HostPty } from '../host/pty';
import type { NetworkMode } from '../kernel/netinfo';
import { procStat, RuntimeError, StateDir } from './statedir';
import { checkNamespacePaths } from './ns_paths';
import { createInPod } from './pod_commands';
import { podSandboxOf } from '../oci/pod';
import type { RuntimeLog } from './runtime_log';
import type { FileLock } from '../host/filelock';
import { serveStartFifo, START_FAILED_ENV } from './start_fifo';

export interface ExecFlags {
  process?: string;
  env: string[];
  cwd?: string;
  user?: string;
  detach?: boolean;
  pidFile?: string;
  tty?: boolean;
  consoleSocket?: string;
}

export interface CreateFlags {
  bundle?: string;
  pidFile?: string;
  consoleSocket?: string;
}

/** The hooks create runs, in this order. */
const CREATE_HOOKS: HookKind[] = ['prestart', 'createRuntime', 'createContainer'];

/** The state the create-time hooks get: the container's, still being created. */
const hookState = (rec: ContainerRecord): OciState => ({ ...ociState(rec, true), status: 'creating' });

/** What every command works with: the state root, the log, and the path of bin/tsvisor.js for the sandbox process. */
export class Runtime {
  readonly state: StateDir;

  /** confine: the sandbox process runs its Sentry confined, with a Gofer (cli/sandbox_confined.ts). */
  constructor(root: string, readonly log: RuntimeLog, readonly bin: string, private readonly network: NetworkMode = 'sandbox', private readonly confine = false) {
    this.state = new StateDir(path.resolve(root));
  }

  withLock<T>(id: string, fn: (lock: FileLock) => T): T {
    const lock = this.state.lock(id);
    try {
      return fn(lock);
    } finally {
      lock.release();
    }
  }

  private async withLockAsync<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const lock = this.state.lock(id);
    try {
      return await fn();
    } finally {
      lock.release();
    }
  }

  /**
   * Send a request to the sandbox process of container r: its own, or the
   * sandbox it joined (a pod's, pod_commands.ts), naming it.
   */
  request(r: ContainerRecord, req: ControlRequest, timeoutMs: number | null = 30_000): Promise<ControlReply> {
    if (!r.sandbox) return controlRequest(this.state.dir(r.id), req, timeoutMs);
    return controlRequest(this.state.dir(r.sandbox), req.op === 'create' ? req : { ...req, container: r.id }, timeoutMs);
  }

  record(id: string): ContainerRecord {
    const r = this.state.read(id);
    if (!r) throw new RuntimeError(`container ${id} does not exist (it is being created, or its create failed)`);
    return r;
  }

  /**
   * Create the container. With inPlace, this process becomes its sandbox
   * process (bin/tsvisor.js's shell line started it for `create` and exits
   * when told it is done, see create_ready.ts) and null is returned; otherwise a
   * sandbox process is started (`sandbox-init`) and returned (run waits on it).
   */
  async create(id: string, f: CreateFlags, foreground = false, inPlace = false): Promise<ChildProcess | null> {
    if (!validId(id)) throw new RuntimeError(`invalid container id ${JSON.stringify(id)}`);
    const bundle = path.resolve(f.bundle ?? '.');
    const { plan, source } = readBundleSource(bundle);
    // A container of a pod whose sandbox is a tsvisor sandbox joins it (CRI's annotations).
    const sandbox = podSandboxOf(plan.annotations);
    if (sandbox !== null) return createInPod(this, id, f, plan, source, sandbox, foreground);
    // A pod's sandbox too: the containers that join it bring their plans, descriptors and Gofers (pod_commands.ts).
    const confine = this.confine;
    plan.unsupported.push(...checkNamespacePaths(plan.nsPaths, this.state));
    if (plan.netns !== null && plan.netns !== NEW_NETNS && !fs.existsSync(plan.netns)) throw new RuntimeError(`linux.namespaces: network namespace ${plan.netns} does not exist`);
    // runc's rules: a terminal needs a console socket to send its master to, and a console socket a terminal.
    // (A foreground `run` without one: the container's terminal is the caller's own stdio.)
    if (plan.terminal && !f.consoleSocket && !foreground) throw new RuntimeError('cannot allocate tty if runc will detach without setting console socket');
    if (plan.terminal && !f.consoleSocket && !ttyModule().isatty(0)) this.log.warn(`${id}: process.terminal: the standard input of run is not a terminal; the container has none`);
    if ((!plan.terminal || foreground) && f.consoleSocket) throw new RuntimeError('cannot use console socket if runc will not detach or allocate tty');
    this.state.makeContainerDir(id);
    let lock: FileLock;
    try {
      lock = this.state.lock(id);
    } catch (e) {
      this.state.remove(id);
      throw e;
    }
    let child: ChildProcess | null = null;
    let tty: HostPty | null = null;
    let cg: HostCgroup | null = null;
    /** In place: what takes this process out of the container's cgroup again. */
    let leave: (() => void) | null = null;
    /** In place, once created: the terminal's slave is the sandbox's stdio. */
    let keepSlave = false;
    /** In place and confined: what makes this process end as the container does, once create is done. */
    let created: (() => void) | null = null;
    /** In place, in a network namespace of the container's: the runtime's, which its hooks enter. */
    let netns: RuntimeNetns | null = null;
    /** The create-time hooks ran already (beside a confined Sentry's start-up). */
    let hooksRan = false;
    const t0 = performance.now();
    const since = (): string => `${(performance.now() - t0).toFixed(0)} ms`;
    // performance.now() counts from this process's start: what its Node start and modules took.
    this.log.debug(`${id}: create began, ${t0.toFixed(0)} ms after this process started`);
    try {
      cg = HostCgroup.create(plan.cgroupsPath, id, plan.resources);
      if (f.consoleSocket) {
        tty = openHostPty(plan.consoleSize.height, plan.consoleSize.width);
        sendFd(f.consoleSocket, tty.master, '/dev/ptmx');
        fs.closeSync(tty.master);
      }
      const base = {
        id, bundle, rootfs: plan.rootfs, created: new Date().toISOString(), annotations: plan.annotations, owner: os.userInfo().username, hooks: plan.hooks, cgroup: cg.rec,
        ...(confine ? { gofers: true as const } : {}),
      };
      let pid: number;
      if (inPlace) {
        pid = process.pid;
        // Recorded at once: if this process dies during start-up, the shell line that started it removes what it made (create_ready.ts).
        this.state.write({ ...base, pid, pidStart: procStat(pid)?.start ?? 0, status: 'creating' });
        // What sandbox-init's start gives it: a session of its own, the container's cgroup (before any stub is forked), its network namespace.
        newSession();
        leave = cg.enter();
        if (plan.netns !== null) netns = enterNetns(plan.netns === NEW_NETNS ? null : plan.netns);
        const start = {
          bundle, stateDir: this.state.dir(id), terminal: tty ? 'console' as const : null, network: this.network, cg, ...(tty ? { stdio: [tty.slave, tty.slave, tty.slave] as [number, number, number] } : {}),
        };
        // Confined: this process is the Sentry's runtime (it starts the Gofer and the Sentry), as sandbox-init's would be.
        if (confine) {
          const sup = await superviseInPlace({ ...start, id, bin: this.bin, plan, debug: (m) => this.log.debug(`${id}: ${m} (${since()})`) });
          // The create-time hooks run while the Sentry starts (they need its pid, this process's, and its network namespace,
          // which this process is in; not the sandbox: runc too runs them before its init has looked the program up). Both
          // are waited for; a hook's failure is create's, else the Sentry's.
          const [hooks, ready] = await Promise.allSettled([
            runHooksAsync(plan.hooks, CREATE_HOOKS, hookState({ ...base, pid, pidStart: procStat(pid)?.start ?? 0, status: 'created' }), this.log, pid, netns?.path() ?? null, cg.callerProcs),
            sup.ready,
          ]);
          for (const r of [hooks, ready]) if (r.status === 'rejected') throw r.reason;
          hooksRan = true;
          created = sup.created;
        } else await serveContainer(start);
      } else {
        child = await spawnSandbox(this.bin, id, bundle, this.state.dir(id), plan.netns, tty?.slave ?? null, plan.terminal && foreground, this.network, cg.rec, confine);
        pid = child.pid ?? 0;
      }
      this.log.debug(`${id}: sandbox process ${pid} ready (${since()})`);
      const st = procStat(pid);
      if (!st) throw new RuntimeError('the sandbox process ended during start-up');
      const rec: ContainerRecord = { ...base, pid, pidStart: st.start, status: 'created' };
      this.state.write(rec);
      // The sandbox exists, its process is loaded and not running: the create-time hooks (createContainer's in the container's namespaces).
      // In place in the container's network namespace, the runtime's hooks enter the runtime's (createContainer's inherit the container's).
      if (!hooksRan) runHooks(plan.hooks, CREATE_HOOKS, hookState(rec), this.log, true, pid, netns?.path() ?? null, cg.callerProcs);
      this.log.debug(`${id}: create-time hooks done (${since()})`);
      if (f.pidFile) {
        const pf = path.resolve(f.pidFile);
        fs.writeFileSync(`${pf}.tmp`, String(pid));
        fs.renameSync(`${pf}.tmp`, pf);
      }
      // Once it exists: a create that fails says only why.
      for (const u of [...plan.unsupported, ...cg.warnings]) this.log.warn(`${id}: ${u}`);
      this.log.debug(`${id}: created, sandbox process ${pid}`);
      // In place, with a terminal: create's own stdio (a client may wait for the end of its pipes) gives way to the terminal's.
      if (inPlace && tty) for (const fd of [0, 1, 2]) replaceFd(tty.slave, fd);
      keepSlave = inPlace;
      if (inPlace) this.offerFifoStart(id, plan.hooks);
      created?.();
      return child;
    } catch (e) {
      // A failed create leaves nothing behind: no process, no state directory.
      if (child && child.exitCode === null) child.kill('SIGKILL');
      // In place: this process leaves the cgroup, so that destroy() kills only what it started there (stubs).
      try {
        leave?.();
      } catch (le) {
        this.log.warn(`${id}: ${(le as Error).message}`);
      }
      // destroy() kills what is in the cgroup and waits for it: the process is gone before its directory goes.
      if (cg) await cg.destroy().catch((ce: Error) => this.log.warn(`${id}: ${ce.message}`));
      this.state.remove(id);
      throw e instanceof RuntimeError ? e : new RuntimeError(`cannot create container ${id}: ${(e as Error).message}`);
    } finally {
      if (tty && !keepSlave) fs.closeSync(tty.slave);
      netns?.close();
      lock.release();
    }
  }

  /**
   * The shell line of bin/tsvisor.js saw the `create` it started (pid) die
   * before it said it was done (killed, or a crash in native code): remove
   * what it made, as a failed create would have. Only that create's own:
   * a record of another process is left alone.
   */
  async abandonCreate(id: string, pid: number): Promise<void> {
    if (!validId(id) || !fs.existsSync(this.state.dir(id))) return;
    await this.withLockAsync(id, async () => {
      const r = this.state.read(id);
      // No record under the lock: a create died between making the directory and recording itself.
      if (r && (r.pid !== pid || this.state.alive(r))) return;
      if (r?.cgroup) await HostCgroup.of(r.cgroup).destroy();
      this.state.remove(id);
    });
  }

  async start(id: string): Promise<void> {
    this.log.debug(`${id}: start began, ${performance.now().toFixed(0)} ms after this process started`);
    // The shell line's start was served by the sandbox process (start_fifo.ts), which failed it with this.
    const failed = process.env[START_FAILED_ENV];
    delete process.env[START_FAILED_ENV];
    if (failed !== undefined) throw new RuntimeError(failed);
    await this.withLockAsync(id, () => this.startLocked(id));
  }

  /**
   * The start the shell line of bin/tsvisor.js asks the sandbox process for
   * (this process, a create that stayed; start_fifo.ts): Node's start, its
   * lock taken without holding this process's loop (another command may hold
   * it and wait for this process).
   */
  private async startFromFifo(id: string, sent: () => void): Promise<void> {
    const lock = await this.state.lockAsync(id);
    try {
      await this.startLocked(id, sent);
    } finally {
      lock.release();
    }
  }

  /** start, under the lock; sent() is called as the sandbox is asked to let the container run. */
  private async startLocked(id: string, sent?: () => void): Promise<void> {
    const r = this.record(id);
    if (!this.state.alive(r)) throw new RuntimeError('cannot start a container that has stopped');
    // runc's words.
    if (r.status === 'running') throw new RuntimeError('cannot start an already running container');
    if (r.status !== 'created') throw new RuntimeError(`cannot start a container in the ${r.status} state`);
    const hooks = r.hooks ?? {};
    try {
      runHooks(hooks, ['startContainer'], ociState(r, true), this.log, true, r.pid);
    } catch (e) {
      // As runc: a failed startContainer hook stops the container.
      process.kill(r.pid, 'SIGKILL');
      throw e;
    }
    sent?.();
    const reply = await this.request(r, { op: 'start' });
    this.log.debug(`${id}: the sandbox answered start`);
    if (!reply.ok) throw new RuntimeError(`cannot start container ${id}: ${reply.error}`);
    const running: ContainerRecord = { ...r, status: 'running' };
    this.state.write(running);
    runHooks(hooks, ['poststart'], ociState(running, true), this.log, false);
  }

  /**
   * In place, once created: serve the shell line's start without Node
   * (start_fifo.ts), unless the container has start-time hooks: they run
   * synchronously, which this process (the Sentry's runtime, or the Sentry)
   * must not; Node's start runs them.
   */
  private offerFifoStart(id: string, hooks: ContainerRecord['hooks']): void {
    if ((hooks?.startContainer ?? []).length + (hooks?.poststart ?? []).length > 0) return;
    try {
      serveStartFifo(this.state.dir(id), (sent) => this.startFromFifo(id, sent), (m) => this.log.debug(`${id}: ${m}`));
    } catch (e) {
      this.log.debug(`${id}: no start without Node: ${(e as Error).message}`);
    }
  }

  /**
   * pause (Kernel.pause: every task at rest, timers held; of a pod's
   * container, its freezer: its processes held, the pod's others running)
   * or resume. A pod's container may be paused before its start, as runc's
   * (resume makes it created again).
   */
  async pause(id: string, pause: boolean): Promise<void> {
    await this.withLockAsync(id, async () => {
      const r = this.record(id);
      if (!this.state.alive(r)) throw new RuntimeError('container not running');
      const pausable = r.status === 'running' || (r.sandbox !== undefined && r.status === 'created');
      // runc's words (a paused container is "not running" to pause).
      if (pause && !pausable) throw new RuntimeError('container not running');
      if (!pause && r.status !== 'paused') throw new RuntimeError('container not paused');
      const reply = await this.request(r, { op: pause ? 'pause' : 'resume' });
      if (!reply.ok) throw new RuntimeError(`cannot ${pause ? 'pause' : 'resume'} container ${id}: ${reply.error}`);
      const { resumeTo, ...rest } = r;
      if (pause) this.state.write({ ...rest, status: 'paused', resumeTo: r.status === 'created' ? 'created' : 'running' });
      else this.state.write({ ...rest, status: resumeTo ?? 'running' });
    });
  }

  /**
   * The process `exec` starts: --process FILE, or the command with the
   * container's env, cwd and user, changed by the flags; and whether it has
   * a terminal (--tty, or process.terminal), with its first window size.
   */
  execRequest(id: string, argv: string[], f: ExecFlags): { req: ExecSpec; tty: { height: number; width: number } | null } {
    const r = this.withLock(id, () => this.record(id));
    let req: ExecSpec;
    let tty: { height: number; width: number } | null = f.tty ? { height: 0, width: 0 } : null;
    if (f.process) {
      let p;
      try {
        p = parseProcess(JSON.parse(fs.readFileSync(f.process, 'utf8')));
      } catch (e) {
        throw new RuntimeError(`${f.process}: ${e instanceof SpecError || e instanceof SyntaxError ? e.message : (e as Error).message}`);
      }
      if (p.terminal) {
        const size = p.consoleSize as { height?: unknown; width?: unknown } | undefined;
        const n = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff ? v : 0);
        tty = { height: n(size?.height), width: n(size?.width) };
      }
      req = { argv: p.args, env: p.env ?? [], cwd: p.cwd, uid: p.user.uid, gid: p.user.gid, groups: p.user.additionalGids ?? [] };
    } else {
      if (argv.length === 0) throw new RuntimeError('exec needs a command or --process');
      const plan = readBundle(r.bundle);
      req = { argv, env: plan.env, cwd: plan.cwd, uid: plan.uid, gid: plan.gid, groups: plan.groups };
    }
    if (tty && !f.consoleSocket) throw new RuntimeError('cannot allocate tty without setting console socket');
    if (!tty && f.consoleSocket) throw new RuntimeError('cannot use console socket without a tty');
    for (const kv of f.env) {
      if (kv.indexOf('=') <= 0) throw new RuntimeError(`--env wants K=V, got ${JSON.stringify(kv)}`);
      req.env = [...req.env.filter((e) => !e.startsWith(kv.slice(0, kv.indexOf('=') + 1))), kv];
    }
    if (f.cwd) req.cwd = f.cwd;
    if (f.user) {
      const m = /^(\d+)(?::(\d+))?$/.exec(f.user);
      if (!m) throw new RuntimeError(`--user wants UID[:GID], got ${JSON.stringify(f.user)}`);
      req.uid = Number(m[1]);
      req.gid = m[2] === undefined ? req.gid : Number(m[2]);
    }
    return { req, tty };
  }

  /** Run the process in the container and return its wait status; its stdio are this process's, which proves it is the client with a secret it holds (exec_secret.ts). */
  async exec(id: string, spec: ExecSpec): Promise<number> {
    const req = { ...spec, client: process.pid, secret: holdExecSecret() };
    const r = this.withLock(id, () => this.record(id));
    if (!this.state.alive(r) || r.status === 'created') throw new RuntimeError('cannot exec in a stopped or not yet started container');
    if (r.status === 'paused') throw new RuntimeError('cannot exec in a paused container');
    // Not under the lock: the process may run for as long as the container.
    const reply = await this.request(r, { op: 'exec', ...req }, null);
    if (!reply.ok) throw new RuntimeError(reply.error);
    return reply.status ?? 0;
  }

  /**
   * A host process of its own (`exec-wait`, in its own session) that starts
   * the exec'd process, waits for it and exits with its status; its pid is
   * the exec's (--pid-file). With a terminal, the pty's master goes to the
   * console socket and the slave is that process's stdio and controlling
   * terminal, so the signals the terminal raises reach it and are passed on.
   */
  execDetached(id: string, req: ExecSpec, tty: { height: number; width: number } | null, consoleSocket: string | undefined): ChildProcess {
    let pty: HostPty | null = null;
    if (tty && consoleSocket) {
      pty = openHostPty(tty.height, tty.width);
      try {
        sendFd(consoleSocket, pty.master, '/dev/ptmx');
      } finally {
        fs.closeSync(pty.master);
      }
    }
    const args = [this.bin, '--root', this.state.root, 'exec-wait', '--request', JSON.stringify(req), ...(pty ? ['--terminal'] : []), id];
    try {
      return childProcess().spawn(process.execPath, args, { stdio: pty ? [pty.slave, pty.slave, pty.slave] : 'inherit', detached: true });
    } finally {
      if (pty) fs.closeSync(pty.slave);
    }
  }

  stateOf(id: string): OciState {
    return this.withLock(id, () => {
      const r = this.record(id);
      return ociState(r, this.state.alive(r));
    });
  }

  async kill(id: string, signal: string, all: boolean): Promise<void> {
    const sig = parseSignal(signal);
    if (sig === null) throw new RuntimeError(`unknown signal ${JSON.stringify(signal)}`);
    await this.withLockAsync(id, async () => {
      const r = this.record(id);
      if (!this.state.alive(r)) throw new RuntimeError('container not running');
      try {
        const reply = await this.request(r, { op: 'kill', signal: sig, all });
        if (!reply.ok) throw new RuntimeError(`cannot signal container ${id}: ${reply.error}`);
      } catch (e) {
        // A sandbox that does not answer can still be killed as a host process.
        if (sig !== 9) throw e;
        this.log.warn(`${id}: ${(e as Error).message}; killing the sandbox process`);
        process.kill(r.pid, 'SIGKILL');
      }
    });
  }

  async delete(id: string, force: boolean): Promise<void> {
    if (force && !fs.existsSync(this.state.dir(id))) return;
    await this.withLockAsync(id, async () => {
      const r = this.state.read(id);
      if (r && this.state.alive(r)) {
        if (r.status !== 'created' && !force) throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${r.status}`);
        // A pod's container ends in its sandbox (its stand-in then exits); the stand-in is killed too, in case the sandbox does not answer.
        if (r.sandbox) await this.request(r, { op: 'remove' }).catch(() => undefined);
        process.kill(r.pid, 'SIGKILL');
        await this.waitGone(r);
      } else if (r?.sandbox) {
        // Stopped: its sandbox, if still there, forgets it (its place among the sandbox's containers is free again).
        await this.request(r, { op: 'remove' }).catch(() => undefined);
      }
      if (r?.cgroup) await HostCgroup.of(r.cgroup).destroy();
      this.state.remove(id);
      if (r) runHooks(r.hooks ?? {}, ['poststop'], ociState(r, false), this.log, false);
    });
  }

  private async waitGone(r: ContainerRecord): Promise<void> {
    for (let i = 0; i < 1000 && this.state.alive(r); i++) await new Promise((res) => setTimeout(res, 10));
    if (this.state.alive(r)) throw new RuntimeError(`the sandbox process ${r.pid} of ${r.id} did not end after SIGKILL`);
  }

  list(): OciState[] {
    const out: OciState[] = [];
    for (const id of this.state.ids()) {
      const r = this.state.read(id);
      if (r) out.push(ociState(r, this.state.alive(r)));
    }
    return out;
  }
}

/** @public cli/main.ts requires this module when a command runs (a lazy require, which knip does not follow). */
export function listTable(states: OciState[]): string {
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('')).join('\n') + '\n';
}

/**
 * `spec`: write a default config.json into dir, refusing to overwrite one.
 * @public cli/main.ts requires this module when a command runs (a lazy require, which knip does not follow).
 */
export function writeSpec(dir: string, rootless: boolean): void {
  const file = path.join(dir, 'config.json');
  if (fs.existsSync(file)) throw new RuntimeError(`File ${file} exists. Remove it first`);
  fs.writeFileSync(file, JSON.stringify(defaultSpec(rootless), null, '\t') + '\n');
}

/** @public cli/main.ts requires this module when a command runs (a lazy require, which knip does not follow). */
export function featuresJson(): string {
  return JSON.stringify(features(), null, '    ') + '\n';
}
