// The confined Sentry's side of cli/sandbox_confined.ts: the requests it
// makes to its runtime above, and how it gives up the host. Apart from the
// runtime's side so that the runtime loads none of what only the Sentry
// needs (its confinement and seccomp filter, the host's facts).

import * as fs from 'node:fs';
import { Channel } from '../gofer/channel';
import { ConfinedStart } from '../sandbox/confine';
import { goferTrees } from '../sandbox/gofer_trees';
import type { SandboxOptions } from '../sandbox/options';
import { captureHostInfo } from '../host/hostinfo';
import type { LinkConfig, LinkSource, LinkUpdate } from '../abi/netif';
import type { ContainerPlan } from '../oci/plan';
import type { NetworkMode } from '../kernel/netinfo';
import { CHANNEL_MESSAGE, CONFINED_PLAN_FD, CONFINED_STATE_FD, CONFINED_STDIO_FD, type WireLink, type WireUpdate } from './sandbox_confined';

function decodePlan(text: string): ContainerPlan {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object') {
      const o = v as { $bigint?: unknown; type?: unknown; data?: unknown };
      if (typeof o.$bigint === 'string') return BigInt(`0x${o.$bigint}`);
      if (o.type === 'Buffer' && Array.isArray(o.data)) return Buffer.from(o.data as number[]);
    }
    return v;
  }) as ContainerPlan;
}

const hex = (h: string | null): Buffer | null => (h === null ? null : Buffer.from(h, 'hex'));
const fromWire = (l: WireLink, fd: number): LinkConfig => ({
  name: l.name, mac: Buffer.from(l.mac, 'hex'), mtu: l.mtu, addrs: l.addrs.map((a) => ({
    addr: Buffer.from(a.addr, 'hex'), prefix: a.prefix, ...(typeof a.scope === 'number' ? { scope: a.scope } : {}), ...(typeof a.flags === 'number' ? { flags: a.flags } : {}),
  })),
  gateway4: hex(l.gateway4), gateway6: hex(l.gateway6), fd, vnetHdr: l.vnetHdr === true, hostIndex: typeof l.hostIndex === 'number' ? l.hostIndex : undefined,
  routes: (l.routes ?? []).map((r) => ({ dst: Buffer.from(r.dst, 'hex'), prefix: r.prefix, gateway: hex(r.gateway) })),
});

/** The confined Sentry's requests to the runtime above (superviseConfined). */
class RuntimeRequests {
  private readonly stdioIn = new Channel(CONFINED_STDIO_FD, CHANNEL_MESSAGE);

  constructor(private readonly confined: ConfinedStart) {}

  /** An exec client's stdio (blocking: a few milliseconds); secret: the request's, which the runtime checks the client holds. */
  execStdio(client: number, secret: string): [number, number, number] {
    this.confined.tell(`stdio ${client} ${secret}`);
    const out: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { fd } = this.stdioIn.recvWithFd();
      if (fd < 0) throw new Error('the runtime sent no descriptor');
      out.push(fd);
    }
    return [out[0], out[1], out[2]];
  }

  /**
   * The container namespace's interfaces, taken over by the runtime, with
   * their packet sockets, and the source of later changes (the monitor
   * socket it sent, and links-sync requests); blocking: a few milliseconds.
   */
  links(): { links: LinkConfig[]; source: LinkSource } {
    const first = this.ask('links', true);
    const monitorFd = first.monitorFd;
    return { links: first.added, source: { monitorFd, sync: () => this.ask('links-sync', false) } };
  }

  private ask(word: string, first: boolean): LinkUpdate & { monitorFd: number } {
    this.confined.tell(word);
    const { msg, fds } = this.stdioIn.recvWithFds();
    const m = JSON.parse(msg.toString('utf8')) as WireUpdate;
    const want = (m.links?.length ?? 0) + (m.monitor ? 1 : 0);
    if (m.error || !m.links || want !== fds.length || m.monitor !== first) {
      for (const fd of fds) fs.closeSync(fd);
      throw new Error(m.error ?? 'the runtime sent no interfaces');
    }
    return {
      added: m.links.map((l, i) => fromWire(l, fds[i])), changed: (m.changed ?? []).map((l) => fromWire(l, -1)),
      removed: (m.removed ?? []).filter((i) => typeof i === 'number'), errors: (m.errors ?? []).filter((e) => typeof e === 'string').slice(0, 8),
      monitorFd: first ? fds[fds.length - 1] : -1,
    };
  }

  /** The host's record of an OOM kill in the container (cgroups.ts's raiseOom). */
  raiseOom(): void {
    this.confined.tell('oom');
  }

  /** An OOM kill within a pod's container id: recorded in its host cgroup by the runtime (which finds it in id's record, not here). */
  oomKill(id: string): void {
    this.confined.tell(`podoom ${id}`);
  }

  /**
   * A pod's container id ended with status: the runtime leaves it in its
   * state directory (after recording its OOM kill, if any); blocking until
   * it has, so that its stand-in ends after (`wait` reads the file then).
   */
  exited(id: string, status: number): Promise<void> {
    try {
      this.confined.tell(`podexit ${id} ${status >>> 0}`);
      const { fd } = this.stdioIn.recvWithFd();
      if (fd >= 0) fs.closeSync(fd);
      return Promise.resolve();
    } catch (e) {
      // The runtime is gone (the Sentry follows it): the stand-in is told all the same.
      return Promise.reject(e as Error);
    }
  }

  /** The container's plan, as its runtime read it (CONFINED_PLAN_FD; blocking: until the runtime has written it). */
  plan(): ContainerPlan {
    try {
      return decodePlan(fs.readFileSync(CONFINED_PLAN_FD, 'utf8'));
    } finally {
      fs.closeSync(CONFINED_PLAN_FD);
    }
  }

  /** The state directory, reached through the descriptor the runtime opened (closeStateDir() once the control socket is bound). */
  stateDir(): string {
    return `/proc/self/fd/${CONFINED_STATE_FD}`;
  }

  closeStateDir(): void {
    fs.closeSync(CONFINED_STATE_FD);
  }

  /** The container's wait status, for the runtime to end with. */
  status(st: number): void {
    this.confined.tell(`status ${st}`);
  }
}

/** This process as the confined Sentry (its runtime's socket in the environment), or null if it is the runtime. */
export function confinedSentry(): { start: ConfinedStart; requests: RuntimeRequests } | null {
  const start = ConfinedStart.fromEnv();
  return start ? { start, requests: new RuntimeRequests(start) } : null;
}

/** A confined Sentry's sandbox: its files from the Gofer its runtime started; the sandbox's root gets the caller's bounding set (its own is empty). */
export function confinedOptions(c: ConfinedStart): Partial<SandboxOptions> {
  return { gofer: c.gofer ?? false, hostInfo: { ...captureHostInfo(), capBounding: c.callerCapBounding } };
}

/** Give up the host, keeping the runtime's socket for requests. Host files are changed by the Gofer only (the filter then opens for reading only). */
export function enterConfinement(c: ConfinedStart, plan: ContainerPlan, network: NetworkMode): void {
  const hostWrites = c.gofer === null && goferTrees(plan.rootfs, plan.mounts).some((t) => t.writable);
  c.enter(network === 'none' ? 'none' : 'inet', hostWrites, true);
}
