// The sandbox process's side of a pod (sandbox/pod.ts): the control
// requests that name a container that joined the sandbox, and `create`,
// which adds one. create's request carries the source of the container's
// plan (checked here as config.json is: container_spec.ts) and descriptors
// (host/fdpass.ts): its first process's stdio (its stand-in host process's,
// stand_in_elf.ts), the stand-in's pipes, which pass signals down and the
// container's wait status up (stand_in_link.ts), and the Sentry's end of
// the socket of a Gofer serving its trees, if it brought one. Nothing of
// the host is opened by path here, so that a confined Sentry can serve it.
// When the container ends, its wait status is left in its state directory
// for `tsvisor wait` (by the Sentry's runtime above a confined Sentry:
// PodHost), before the stand-in is told.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { E, Errno } from '../abi/errno';
import * as S from '../abi/signals';
import { defaultAction } from '../abi/signals';
import type { Sandbox } from '../sandbox/sandbox';
import type { ControlReply, ControlRequest } from './control';
import { planFromSource } from './container_spec';
import { POD_FDS, type PodCreate } from './control';
import { StandInLink } from './stand_in_link';
import type { PodContainer } from '../sandbox/pod';
import type { MemCharge } from '../platform/memcharge';
import type { CgroupRecord } from '../oci/resources';
import { goferTrees } from '../sandbox/gofer_trees';
import { holdsExecSecret } from './exec_secret';
import { HostCgroup } from './cgroups';
import { clientStdio, writeExitStatus } from './sandbox_proc';
import { accessMode } from '../host/fdpass';

/**
 * What the pod's containers need of the host beyond their descriptors: an
 * exec client's stdio, and their ends recorded in their state directories
 * and host cgroups (sandbox_proc.ts: done here, or asked of a confined
 * Sentry's runtime).
 */
export interface PodHost {
  /** The stdio of exec client pid, which must hold secret (exec_secret.ts). */
  execStdio(client: number, secret: string): [number, number, number];
  /** Record an OOM kill in container id's host cgroup (as cgroup names it). */
  oomKill(id: string, cgroup: CgroupRecord): void;
  /** Leave container id's wait status in its state directory, once its OOM kill (if any) is recorded. */
  exited(id: string, status: number): Promise<void>;
}

/** runc's words for a first process that cannot be loaded, which Docker and the CRI turn into 127 (not found) or 126. */
export function loadError(e: unknown, argv0: string, describe: (errno: number) => string): Error {
  if (e instanceof Errno && e.errno === E.ENOENT) {
    return new Error(argv0.includes('/') ? `exec: "${argv0}": no such file or directory` : `exec: "${argv0}": executable file not found in $PATH`);
  }
  if (e instanceof Errno) return new Error(`exec: "${argv0}": ${describe(e.errno)}`);
  return e instanceof Error ? e : new Error(String(e));
}

/** The pod's host side done by this process (a Sentry that is not confined): stateRoot holds the containers' state directories. */
export function localPodHost(stateRoot: string): PodHost {
  /** The host cgroups an OOM kill was raised in, until their containers' ends are recorded. */
  const raised = new Map<string, HostCgroup>();
  return {
    execStdio(client, secret) {
      if (!holdsExecSecret(client, secret)) throw new Error(`host process ${client} does not hold the request's secret`);
      return clientStdio(client);
    },
    oomKill(id, cgroup) {
      const cg = raised.get(id) ?? HostCgroup.of(cgroup);
      raised.set(id, cg);
      cg.raiseOom(true);
    },
    async exited(id, status) {
      await raised.get(id)?.settled();
      raised.delete(id);
      writeExitStatus(path.join(stateRoot, id), status);
    },
  };
}

export class PodServer {
  /** exec'd processes (and containers' first ones) by the host pid of the client standing for them, for the signals their terminal raises. */
  private readonly clients = new Map<number, number>();
  /** The containers' host cgroups (create's request names each), where their OOM kills are recorded. */
  private readonly cgroups = new Map<PodContainer, CgroupRecord>();

  constructor(
    private readonly sb: Sandbox,
    private readonly host: PodHost,
    private readonly describe: (errno: number) => string,
  ) {}

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

  /** Link container c to its stand-in (its pipes' ends, owned from here): signals it gets reach c; its end ends c; c's end ends it. */
  private link(c: PodContainer, status: number, signals: number, terminal: boolean): void {
    const sb = this.sb;
    const onSignal = (sig: number): void => {
      if (terminal && PodServer.TTY_SIGNALS.includes(sig) && c.init) sb.execTerminalSignal(c.init.tg.pid, sig);
      else this.kill(c, sig, false);
    };
    // The stand-in gone (killed) before the container: the container goes too, as killing runc's init pid ends its container.
    const onGone = (): void => {
      if (c.status === null && sb.pod.has(c)) this.kill(c, S.SIGKILL, true);
    };
    const l = StandInLink.open(status, signals, onSignal, onGone);
    void c.exited.then(async (st) => {
      this.cgroups.delete(c);
      await this.host.exited(c.id, st).catch(() => undefined);
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
    for (const [c, cg] of this.cgroups) if (c.limits.memory === charge) this.host.oomKill(c.id, cg);
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

  /**
   * Add the container create asks for. Its descriptors are owned from here:
   * each is closed unless the container took it (its stdio, once its first
   * process exists; its pipes; its Gofer's socket, once its trees are made).
   */
  private async create(req: PodCreate): Promise<ControlReply> {
    const fds = [...req.fds];
    const take = (i: number): number => {
      const fd = fds[i];
      fds[i] = -1;
      return fd;
    };
    try {
      const plan = planFromSource(req.source);
      // A cgroup mount shows the container's host cgroup, which holds its stand-in only: none.
      plan.mounts = plan.mounts.filter((m) => m.kind !== 'cgroup');
      const fifo = (i: number, mode: number): number => {
        const st = fs.fstatSync(fds[i]);
        if (!st.isFIFO() || accessMode(fds[i]) !== mode) throw new Error("the stand-in's pipes are not pipes of the right ends");
        return fds[i];
      };
      fifo(POD_FDS.status, fs.constants.O_WRONLY);
      fifo(POD_FDS.signals, fs.constants.O_RDONLY);
      if (req.gofer && !fs.fstatSync(fds[POD_FDS.gofer]).isSocket()) throw new Error("the Gofer's descriptor is not a socket");
      const gofer = req.gofer ? { fd: fds[POD_FDS.gofer], trees: goferTrees(plan.rootfs, plan.mounts) } : null;
      // Its Gofer may still be starting: wait for its hello without holding up the pod (sandbox.ts whenReadable).
      if (gofer) await this.sb.whenReadable(gofer.fd);
      let c: PodContainer;
      try {
        if (gofer) take(POD_FDS.gofer);
        c = this.sb.addContainer(req.container, plan, { uts: req.shareUts, ipc: req.shareIpc }, () => [take(0), take(1), take(2)], gofer);
      } catch (e) {
        throw loadError(e, plan.argv[0], this.describe);
      }
      if (req.cgroup) this.cgroups.set(c, req.cgroup);
      try {
        this.link(c, take(POD_FDS.status), take(POD_FDS.signals), req.terminal);
      } catch (e) {
        this.cgroups.delete(c);
        this.sb.pod.remove(c.id);
        throw e;
      }
      return { ok: true };
    } finally {
      for (const fd of fds) if (fd >= 0) fs.closeSync(fd);
    }
  }

  private async serve(req: ControlRequest): Promise<ControlReply> {
    const sb = this.sb;
    if (req.op === 'create') return await this.create(req);
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
        const stdio = this.host.execStdio(req.client, req.secret);
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
