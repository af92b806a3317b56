// The sandbox process's side of a pod (sandbox/pod.ts): the control
// requests that name a container that joined the sandbox, and `create`,
// which adds one. Its first process's stdio are the fds 0-2 of its stand-in
// host process (pod_proxy.ts), the client of create, which proves its pid
// with the request's secret as an exec client does (exec_secret.ts).

import { E, Errno } from '../abi/errno';
import { defaultAction } from '../abi/signals';
import type { Sandbox } from '../sandbox/sandbox';
import type { ControlReply, ControlRequest } from './control';
import { holdsExecSecret } from './exec_secret';
import { readBundle } from './container_spec';

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

  constructor(
    private readonly sb: Sandbox,
    /** The client's fds 0-2 (the sandbox process opens them through /proc). */
    private readonly clientStdio: (client: number) => [number, number, number],
    private readonly describe: (errno: number) => string,
  ) {}

  private stdioOf(client: number, secret: string): [number, number, number] {
    if (!holdsExecSecret(client, secret)) throw new Error(`host process ${client} does not hold the request's secret`);
    return this.clientStdio(client);
  }

  /** A request for a pod container (req.container set, or create); closed: settles when its client goes. */
  async handle(req: ControlRequest, closed: Promise<void>): Promise<ControlReply> {
    try {
      return await this.serve(req, closed);
    } catch (e) {
      return { ok: false, error: e instanceof Errno ? this.describe(e.errno) : (e as Error).message };
    }
  }

  private async serve(req: ControlRequest, closed: Promise<void>): Promise<ControlReply> {
    const sb = this.sb;
    if (req.op === 'create') {
      const plan = readBundle(req.bundle);
      // A cgroup mount shows the container's host cgroup, which holds its stand-in only: none.
      plan.mounts = plan.mounts.filter((m) => m.kind !== 'cgroup');
      if (!holdsExecSecret(req.client, req.secret)) throw new Error(`host process ${req.client} does not hold the request's secret`);
      try {
        const c = sb.addContainer(req.container, plan, { uts: req.shareUts, ipc: req.shareIpc }, () => this.clientStdio(req.client));
        if (c.init) this.clients.set(req.client, c.init.tg.pid);
      } catch (e) {
        throw loadError(e, plan.argv[0], this.describe);
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
      case 'kill': {
        if (!c.started && c.init) {
          // Nothing runs yet: a signal whose default is to end the process ends the container (its process starts to die of it).
          const act = defaultAction(req.signal);
          if (req.signal !== 9 && act !== 'term' && act !== 'core') return { ok: true };
          c.started = true;
          sb.startTask(c.init);
          sb.pod.signal(c, 9, true, null);
          return { ok: true };
        }
        sb.pod.signal(c, req.signal, req.all, c.init?.tg ?? null);
        return { ok: true };
      }
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
      case 'wait': {
        // The stand-in waits for as long as the container lives: if it goes first (killed), so does the container, as killing runc's init pid ends its container.
        const gone = closed.then(() => null);
        const status = await Promise.race([c.exited, gone]);
        if (status === null) {
          if (c.init && !c.started) {
            c.started = true;
            sb.startTask(c.init);
          }
          sb.pod.signal(c, 9, true, null);
          return { ok: false, error: 'the waiting client went' };
        }
        return { ok: true, status };
      }
      case 'remove':
        sb.pod.remove(c.id);
        for (const [client, pid] of this.clients) if (pid === c.init?.tg.pid) this.clients.delete(client);
        return { ok: true };
      default:
        return { ok: false, error: `${req.op} of one container of a pod is not supported` };
    }
  }
}
