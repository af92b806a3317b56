// The OCI sandbox process with a confined Sentry (`tsvisor --confine create`
// or `run`, or TSVISOR_CONFINE=1; docs/SECURITY.md). The process create
// starts stays outside: it joins the container's cgroup, takes the console,
// starts the Gofer and the Sentry (sandbox/confine_runtime.ts, as `do
// --confine --gofer` does) and serves the few requests a confined Sentry
// cannot serve itself, each checked here: an exec client's stdio (opened
// through the host's /proc, which the Sentry cannot see; sent back with
// SCM_RIGHTS), the host's OOM record (a process it cannot start), and the
// container's status (written to the state directory it cannot reach).

import * as fs from 'node:fs';
import * as os from 'node:os';
import type { ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { Channel, seqpacketPair } from '../gofer/channel';
import { spawnGofer } from '../gofer/spawn';
import { runConfined, FIRST_EXTRA_FD } from '../sandbox/confine_runtime';
import { goferTrees } from '../sandbox/gofer_trees';
import type { NamespaceLinks } from '../host/netns';
import type { LinkConfig, LinkUpdate } from '../abi/netif';
import type { ContainerPlan } from '../oci/plan';
import { HostCgroup } from './cgroups';
import * as path from 'node:path';
import { validId, type ContainerRecord } from '../oci/runtime';
import { MAX_POD_CONTAINERS } from '../oci/pod';
import { writeExitStatus } from './sandbox_proc';
import { holdsExecSecret } from './exec_secret';

/** The confined Sentry's descriptors after the Gofer's (confine_runtime.ts): create's start-up pipe, and the channel exec stdio comes on. */
export const CONFINED_READY_FD = FIRST_EXTRA_FD;
export const CONFINED_STDIO_FD = FIRST_EXTRA_FD + 1;
/**
 * The container's state directory (read-only): the Sentry binds its control
 * socket there through /proc/self/fd. Its host path may pass directories it
 * may not search without the capabilities it never has (containerd's shim
 * makes /run/containerd mode 0600); and a pipe on which the runtime sends
 * the container's plan, read from a bundle that may be out of its reach
 * too, so that the Sentry never reads config.json.
 */
export const CONFINED_STATE_FD = FIRST_EXTRA_FD + 2;
export const CONFINED_PLAN_FD = FIRST_EXTRA_FD + 3;

/** The plan as JSON: its bigints (capability sets) and Buffers (a compiled seccomp filter) tagged. */
function encodePlan(plan: ContainerPlan): string {
  return JSON.stringify(plan, (_k, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString(16) } : v));
}

/** What the sandbox process does either way (sandbox_proc.ts). */
export interface SandboxProcessHost {
  clientStdio(client: number): [number, number, number];
  exitAs(status: number): never;
  tellCreate(msg: { ok: true } | { ok: false; error: string }): void;
}

/** The largest message on the channel to the confined Sentry (the interfaces' description is the largest). */
export const CHANNEL_MESSAGE = 8192;

/** A LinkConfig as JSON on the channel (its packet socket travels beside it, SCM_RIGHTS). */
export interface WireLink {
  name: string;
  mac: string;
  mtu: number;
  addrs: Array<{ addr: string; prefix: number; scope?: number; flags?: number }>;
  gateway4: string | null;
  gateway6: string | null;
  routes: Array<{ dst: string; prefix: number; gateway: string | null }>;
  vnetHdr: boolean;
  hostIndex?: number;
}

/** The runtime's answer to `links` and `links-sync`: the interfaces taken over now (their packet sockets beside, then the monitor socket's), and changes. */
export interface WireUpdate {
  error?: string;
  links?: WireLink[];
  changed?: WireLink[];
  removed?: number[];
  errors?: string[];
  monitor?: boolean;
}

const toWire = (l: LinkConfig): WireLink => ({
  name: l.name, mac: l.mac.toString('hex'), mtu: l.mtu, addrs: l.addrs.map((a) => ({ addr: a.addr.toString('hex'), prefix: a.prefix, scope: a.scope, flags: a.flags })),
  gateway4: l.gateway4?.toString('hex') ?? null, gateway6: l.gateway6?.toString('hex') ?? null, vnetHdr: l.vnetHdr, hostIndex: l.hostIndex,
  routes: (l.routes ?? []).map((r) => ({ dst: r.dst.toString('hex'), prefix: r.prefix, gateway: r.gateway?.toString('hex') ?? null })),
});

/** Interfaces taken over, as the channel carries them: the description, and the packet sockets (then the monitor socket) beside it. */
interface TakenLinks {
  msg: Buffer;
  fds: number[];
}

/**
 * Take over the namespace's interfaces (this process may: it is root there),
 * first all of them with the monitor socket (first), later what changed
 * (ns.sync).
 */
function takeLinks(ns: NamespaceLinks, first: boolean): TakenLinks {
  let links: LinkConfig[];
  let update: LinkUpdate | null = null;
  let monitor = -1;
  try {
    if (first) ({ links, monitorFd: monitor } = ns.start());
    else links = (update = ns.sync()).added;
  } catch (e) {
    return { msg: Buffer.from(JSON.stringify({ error: (e as Error).message })), fds: [] };
  }
  const wire: WireUpdate = { links: links.map(toWire), changed: update?.changed.map(toWire), removed: update?.removed, errors: update?.errors, monitor: monitor >= 0 };
  return { msg: Buffer.from(JSON.stringify(wire)), fds: [...links.map((l) => l.fd), ...(monitor >= 0 ? [monitor] : [])] };
}

/** Send interfaces taken over to the confined Sentry, with their packet sockets (closed here). */
function sendLinks(out: Channel, t: TakenLinks): void {
  try {
    if (t.fds.length) out.sendWithFds(t.msg, t.fds);
    else out.send(t.msg);
  } finally {
    for (const fd of t.fds) fs.closeSync(fd);
  }
}

/**
 * What the runtime does for the pod's containers that joined its confined
 * Sentry (pod_serve.ts's PodHost): record an OOM kill in a container's host
 * cgroup, and leave its wait status in its state directory, then answer
 * (ack) so that the Sentry tells its stand-in after. The Sentry names the
 * container only: a compromised one can reach only the containers whose
 * records (written by their creates) say they are of this pod, and only
 * their exit status and OOM record.
 */
export function podRecorder(stateDir: string, sandboxId: string, ack: () => void): { oom: (id: string) => void; exited: (id: string, st: string) => Promise<void> } {
  const root = path.dirname(stateDir);
  const raised = new Map<string, HostCgroup>();
  /** Container id's record, if id is a container of this pod. */
  const member = (id: string): ContainerRecord | null => {
    if (!validId(id)) return null;
    try {
      const r = JSON.parse(fs.readFileSync(path.join(root, id, 'state.json'), 'utf8')) as ContainerRecord;
      return r.sandbox === sandboxId ? r : null;
    } catch {
      return null;
    }
  };
  return {
    oom: (id) => {
      const r = member(id);
      if (!r?.cgroup || raised.size >= MAX_POD_CONTAINERS) return;
      const cg = raised.get(id) ?? HostCgroup.of(r.cgroup);
      raised.set(id, cg);
      cg.raiseOom(true);
    },
    exited: async (id, st) => {
      try {
        await raised.get(id)?.settled();
        raised.delete(id);
        if (member(id) && /^\d{1,10}$/.test(st)) writeExitStatus(path.join(root, id), Number(st));
      } finally {
        ack();
      }
    },
  };
}

/** Signals the runtime passes on to the Sentry (those sandbox-init takes for the container). */
const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGTERM', 'SIGWINCH', 'SIGTSTP', 'SIGCONT'];

/**
 * Whether host process pid is the exec client that sent the Sentry the
 * request with this secret: a Node process (the runtime) holding the secret
 * (exec_secret.ts), the only process whose stdio this process opens for the
 * Sentry. A compromised Sentry names any pid it likes, and learns only the
 * secrets of the execs sent to it: without the check it could have the
 * stdio of any host process (a root shell's terminal, a daemon's log, the
 * exec of a same-named container under another --root) opened for it.
 */
export function isExecClient(pid: number, secret: string): boolean {
  let exe: string;
  try {
    exe = fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return false;
  }
  return exe === fs.realpathSync(process.execPath) && holdsExecSecret(pid, secret);
}

/** How the runtime starts the confined Sentry (superviseConfined). */
export interface ConfinedSupervision {
  plan: ContainerPlan;
  id: string;
  cg: HostCgroup | null;
  host: SandboxProcessHost;
  /** Take the container namespace's interfaces over for the Sentry at start (sandbox network mode, a namespace of the container's own). */
  takeOver: boolean;
  /** The Sentry's command line after Node (the sandbox-init command). */
  sentryArgs: string[];
  /**
   * Where the Sentry says it is ready (tellCreate): create's start-up pipe
   * (sandbox-init started by create), or 'pipe', a pipe to this process (a
   * create that is the runtime itself: it reads the line from the returned
   * child's stdio[CONFINED_READY_FD], and the Sentry's end before created()
   * is create's failure to report, not the container's).
   */
  ready: number | 'pipe';
  /** The Sentry's fds 0-2, if not this process's (a console's terminal). */
  stdio?: [number, number, number];
  /** The terminal's signals reach the Sentry from the terminal (this process has it as its controlling terminal, in the foreground). */
  terminalSignals: boolean;
  /** The container's state directory (CONFINED_STATE_FD). */
  stateDir: string;
  /** A debug line at each step of the start-up. */
  debug?: (msg: string) => void;
}

/** The runtime's side: start the Gofer and the confined Sentry, serve its requests, end as the container did. */
export function superviseConfined(s: ConfinedSupervision): { child: ChildProcess; created: () => void } {
  const { id, cg, host } = s;
  const trees = goferTrees(s.plan.rootfs, s.plan.mounts);
  const [mine, theirs] = seqpacketPair();
  const stdioOut = new Channel(mine, CHANNEL_MESSAGE);
  /** The namespace's interfaces are handed over at start, then what changed, and only in sandbox network mode with a namespace of the container's. */
  let linksAsked = false;
  // Loaded only where the interfaces are taken over (asked for once the Sentry is built: loaded by then, and in order).
  const ns: Promise<NamespaceLinks> | null = s.takeOver ? import('../host/netns').then((m) => new m.NamespaceLinks()) : null;
  /**
   * The first take-over: made once create is done (as runsc's create sets up
   * the sandbox's network), while the caller gets to `start`, whose Sentry
   * then asks for it; what changes in between, the monitor socket tells.
   */
  let first: Promise<TakenLinks> | null = null;
  const takenFirst = (): Promise<TakenLinks> => (first ??= ns ? ns.then((n) => takeLinks(n, true)) : Promise.resolve({ msg: Buffer.from('{"error":"no take-over"}'), fds: [] }));
  let gofer;
  try {
    gofer = spawnGofer(trees);
  } catch (e) {
    fs.closeSync(mine);
    fs.closeSync(theirs);
    throw new Error(`cannot start the Gofer: ${(e as Error).message}`);
  }
  s.debug?.('the Gofer started');
  let status: number | null = null;
  const pod = podRecorder(s.stateDir, id, () => stdioOut.send(Buffer.from('ok')));
  const podRequest = (word: string, arg: string, st: string): void => {
    if (word === 'podoom') pod.oom(arg);
    else void pod.exited(arg, st);
  };
  const onLine = (line: string): void => {
    const [word, arg, secret] = line.split(' ');
    if (word === 'stdio') {
      const client = Number(arg);
      // Refused: /dev/null for all three (the exec runs with nothing), and the attempt is logged.
      const ok = /^\d+$/.test(arg ?? '') && isExecClient(client, secret ?? '');
      if (!ok) process.stderr.write(`tsvisor: the Sentry asked for the stdio of host process ${JSON.stringify(arg)}, which is not the client of an exec of ${id}: refused\n`);
      const fds = ok ? host.clientStdio(client) : [0, 1, 2].map(() => fs.openSync('/dev/null', 'r+'));
      fds.forEach((fd, i) => {
        try {
          stdioOut.sendWithFd(Buffer.from([i]), fd);
        } finally {
          fs.closeSync(fd);
        }
      });
    } else if (word === 'links') {
      if (!s.takeOver || linksAsked) {
        stdioOut.send(Buffer.from(JSON.stringify({ error: 'the interfaces were handed over already, or are not to be' })));
        return;
      }
      linksAsked = true;
      s.debug?.('the Sentry asks for the interfaces');
      void takenFirst().then((t) => {
        sendLinks(stdioOut, t);
        s.debug?.('the interfaces handed over');
      });
    } else if (word === 'links-sync') {
      if (!linksAsked) {
        stdioOut.send(Buffer.from(JSON.stringify({ error: 'the interfaces were not handed over' })));
        return;
      }
      void ns?.then((n) => sendLinks(stdioOut, takeLinks(n, false)));
    } else if (word === 'podoom' || word === 'podexit') {
      podRequest(word, arg ?? '', secret ?? '');
    } else if (word === 'oom') {
      cg?.raiseOom();
    } else if (word === 'status' && /^\d+$/.test(arg ?? '')) {
      s.debug?.(`the Sentry says the container ended (${arg})`);
      status = Number(arg) & 0xffff;
      // The status is the Sentry's last word (it exits next): the container has ended, and this process ends as it did
      // without waiting for the Sentry's own exit (exitAs kills what is left of the sandbox, or it dies with this process).
      if (isCreated) end(null, null);
    }
  };
  /** Before create is done (ready 'pipe'), the Sentry's end is create's to report: held until created(). */
  let isCreated = s.ready !== 'pipe';
  /** The Sentry's exit, once it came: [code, signal]. */
  let exited: [number | null, NodeJS.Signals | null] | null = null;
  let ending = false;
  const end = (code: number | null, sig: NodeJS.Signals | null): void => {
    if (ending) return;
    ending = true;
    void (cg?.settled() ?? Promise.resolve()).then(() => {
      s.debug?.('the container ends');
      if (status !== null) host.exitAs(status);
      // Ended without a status: killed (the container dies of the same signal), or its start-up failed (create has its reason).
      if (sig) host.exitAs(os.constants.signals[sig]);
      process.exit(code ?? 125);
    });
  };
  const onExit = (code: number | null, sig: NodeJS.Signals | null): void => {
    s.debug?.('the Sentry ended');
    exited = [code, sig];
    if (isCreated) end(code, sig);
  };
  let stateFd: number;
  try {
    stateFd = fs.openSync(s.stateDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (e) {
    for (const fd of [mine, theirs, gofer.fd]) fs.closeSync(fd);
    throw e;
  }
  const child = runConfined(s.sentryArgs, {
    newNetns: false, nofileEnv: null, gofer: { fd: gofer.fd, trees }, extraFds: [s.ready, theirs, stateFd, 'pipe'], onLine, onExit, terminalSignals: s.terminalSignals, debug: s.debug, ...(s.stdio ? { stdio: s.stdio } : {}),
  }, FORWARDED);
  const planPipe = child.stdio[CONFINED_PLAN_FD] as Writable | null;
  planPipe?.on('error', () => undefined);
  planPipe?.end(encodePlan(s.plan));
  const created = (): void => {
    isCreated = true;
    if (exited) end(...exited);
    // After create's reply is out (its caller goes on to start meanwhile).
    if (s.takeOver) setImmediate(() => void takenFirst());
  };
  return { child, created };
}

