// The sandbox process's side of a pod (sandbox/pod.ts): the control
// requests that name a container that joined the sandbox, and `create`,
// which adds one. Its first process's stdio are the fds 0-2 of its stand-in
// host process (stand_in_elf.ts), the client of create, which holds the
// request's secret as an exec client does (exec_secret.ts); its pipes pass
// signals down and the container's wait status up (stand_in_link.ts). When
// the container ends, its wait status is left in its state directory for
// `tsvisor wait`, before the stand-in is told.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { E, Errno } from '../abi/errno';
import * as S from '../abi/signals';
import { defaultAction } from '../abi/signals';
import type { Sandbox } from '../sandbox/sandbox';
import type { ControlReply, ControlRequest } from './control';
import { holdsExecSecret } from './exec_secret';
import { readBundle } from './container_spec';
import { EXIT_FILE } from './sandbox_proc';
import { StandInLink } from './stand_in_link';
import type { PodContainer } from '../sandbox/pod';
import type { MemCharge } from '../platform/memcharge';
import { HostCgroup } from './cgroups';

/** runc's words for a first process that cannot be loaded, which Docker and the CRI turn into 127 (not found) or 126. */
export function loadError(e: unknown, argv0: string, describe: (errno: number) => string): Error {
  if (e instanceof Errno && e.errno === E.ENOENT) {
    return new Error(argv0.includes('/') ? `exec: "${argv0}": no such file or directory` : `exec: "${argv0}": executable file not found in $PATH`);
  }
  if (e instanceof Errno) return new Error(`exec: "${argv0}": ${describe(e.errno)}`);
  return e instanceof Error ? e : new Error(String(e));
}

export class PodServer {
  /** exec'd processes (and containers' first ones) by the host pid of the client standing for them, for the signals their terminal raises. */
  private readonly clients = new Map<number, number>();
  /** The containers' host cgroups (create's request names each), where their OOM kills are recorded. */
  private readonly cgroups = new Map<PodContainer, HostCgroup>();

  constructor(
    private readonly sb: Sandbox,
    /** The client's fds 0-2 (the sandbox process opens them through /proc). */
    private readonly clientStdio: (client: number) => [number, number, number],
    private readonly describe: (errno: number) => string,
    /** The state root: a container's state directory is its id under it. */
    private readonly stateRoot: string,
  ) {}

  private stdioOf(client: number, secret: string): [number, number, number] {
    if (!holdsExecSecret(client, secret)) throw new Error(`host process ${client} does not hold the request's secret`);
    return this.clientStdio(client);
  }

  /** A request for a pod container (req.container set, or create). */
  async handle(req: ControlRequest): Promise<ControlReply> {
    try {
      return await this.serve(req);
    } catch (e) {
      return { ok: false, error: e instanceof Errno ? this.describe(e.errno) : (e as Error).message };
    }
  }

  /** The signals of a terminal, which go to its foreground group. */
  private static readonly TTY_SIGNALS = [S.SIGINT, S.SIGQUIT, S.SIGTSTP, S.SIGWINCH];

  /** Link container c to its stand-in client: signals it gets reach c; its end ends c; c's end ends it. */
  private link(c: PodContainer, client: number, terminal: boolean): void {
    const sb = this.sb;
    const onSignal = (sig: number): void => {
      if (terminal && PodServer.TTY_SIGNALS.includes(sig) && c.init) sb.execTerminalSignal(c.init.tg.pid, sig);
      else this.kill(c, sig, false);
    };
    // The stand-in gone (killed) before the container: the container goes too, as killing runc's init pid ends its container.
    const onGone = (): void => {
      if (c.status === null && sb.pod.has(c)) this.kill(c, S.SIGKILL, true);
    };
    const l = StandInLink.open(client, onSignal, onGone);
    // After the host has recorded an OOM kill in it (oomKill), as the sandbox's own container waits.
    void c.exited.then(async (st) => {
      await this.cgroups.get(c)?.settled();
      this.cgroups.delete(c);
      try {
        fs.writeFileSync(path.join(this.stateRoot, c.id, EXIT_FILE), String(st), { mode: 0o600, flag: 'w' });
      } catch {
        // its state directory is gone (delete --force): nobody waits
      }
      l.exited(st);
      l.close();
    });
  }

  /**
   * The Sentry's OOM killer killed a process of the container whose charge
   * group is charge: make its host cgroup record an OOM kill, which
   * containerd's shim watches (docker inspect's OOMKilled), as the sandbox's
   * own container does (HostCgroup.raiseOom).
   */
  oomKill(charge: MemCharge): void {
    for (const [c, cg] of this.cgroups) if (c.limits.memory === charge) cg.raiseOom(true);
  }

  /** A signal for c from outside: its init, or all its processes. Before its start, one whose default ends a process ends it. */
  private kill(c: PodContainer, sig: number, all: boolean): void {
    const sb = this.sb;
    if (!c.started && c.init) {
      const act = defaultAction(sig);
      if (sig !== S.SIGKILL && act !== 'term' && act !== 'core') return;
      c.started = true;
      sb.startTask(c.init);
      sb.pod.signal(c, S.SIGKILL, true, null);
    } else {
      sb.pod.signal(c, sig, all, c.init?.tg ?? null);
    }
    // SIGKILL reaches a frozen container (a paused one's processes die), as the host's freezer lets it.
    if (sig === S.SIGKILL) sb.pod.thaw(c);
  }

  private async serve(req: ControlRequest): Promise<ControlReply> {
    const sb = this.sb;
    if (req.op === 'create') {
      const plan = readBundle(req.bundle);
      // A cgroup mount shows the container's host cgroup, which holds its stand-in only: none.
      plan.mounts = plan.mounts.filter((m) => m.kind !== 'cgroup');
      if (!holdsExecSecret(req.client, req.secret)) throw new Error(`host process ${req.client} does not hold the request's secret`);
      let c: PodContainer;
      try {
        c = sb.addContainer(req.container, plan, { uts: req.shareUts, ipc: req.shareIpc }, () => this.clientStdio(req.client));
      } catch (e) {
        throw loadError(e, plan.argv[0], this.describe);
      }
      if (req.cgroup) this.cgroups.set(c, HostCgroup.of(req.cgroup));
      try {
        this.link(c, req.client, req.terminal);
      } catch (e) {
        this.cgroups.delete(c);
        sb.pod.remove(c.id);
        throw e;
      }
      return { ok: true };
    }
    if (req.container === undefined) return { ok: false, error: `${req.op} needs a container of the pod` };
    const c = sb.pod.get(req.container);
    switch (req.op) {
      case 'start':
        if (c.started) return { ok: false, error: 'the container has been started already' };
        if (!c.init) return { ok: false, error: 'the container has no process' };
        c.started = true;
        sb.startTask(c.init);
        return { ok: true };
      case 'kill':
        this.kill(c, req.signal, req.all);
        return { ok: true };
      case 'pause':
        if (c.status !== null) return { ok: false, error: 'container not running' };
        await sb.pod.freeze(c);
        return { ok: true };
      case 'resume':
        sb.pod.thaw(c);
        return { ok: true };
      case 'exec': {
        if (!c.started || c.status !== null) return { ok: false, error: 'the container is not running' };
        const stdio = this.stdioOf(req.client, req.secret);
        let run;
        try {
          run = sb.exec({ ...req, stdio, ownDescriptions: true }, c);
        } catch (e) {
          return { ok: false, error: e instanceof Errno ? `${req.argv[0]}: ${this.describe(e.errno)}` : (e as Error).message };
        }
        this.clients.set(req.client, run.pid);
        const status = await run.exited;
        this.clients.delete(req.client);
        return { ok: true, status };
      }
      case 'ttysignal': {
        const pid = this.clients.get(req.client);
        if (pid === undefined) return { ok: false, error: 'no process was started for this client' };
        sb.execTerminalSignal(pid, req.signal);
        return { ok: true };
      }
      case 'ps':
        return { ok: true, processes: sb.processes(c) };
      case 'stats':
        return { ok: true, stats: sb.stats(c) };
      case 'remove':
        sb.pod.remove(c.id);
        this.cgroups.delete(c);
        for (const [client, pid] of this.clients) if (pid === c.init?.tg.pid) this.clients.delete(client);
        return { ok: true };
      default:
        return { ok: false, error: `${(req as ControlRequest).op} of one container of a pod is not supported` };
    }
  }
}
