// The taken-over interfaces' place in a sandbox (OCI containers in sandbox
// mode): their NICs join the stack when the sandbox starts, with on-link
// routes for their addresses' networks and the default route through the
// first one that has a gateway, and the relay of Docker's embedded DNS;
// their packet sockets close when the sandbox ends. While it runs, the
// namespace's monitor socket says when its links, addresses or routes
// changed (`docker network connect` and `disconnect`, `ip addr add` in it):
// the source looks again (host/netns.ts, or the confined Sentry's runtime)
// and the interfaces that came, changed or went are applied here.
import type { Kernel } from '../../kernel/kernel';
import type { LinkConfig, LinkSource, LinkUpdate } from '../../abi/netif';
import * as hs from '../../host/hostsocket';
import { HOST_IN, type HostWatch } from '../../platform/platform';
import { stackOf } from '../factory';
import { isV4 } from '../ip/addr';
import type { Stack } from '../stack';
import { DnsRelay } from './dnsrelay';
import { DnsTcpRelay } from './dnstcp';
import { PacketNic, type PacketEnv } from './nic';

const EAGAIN = 11;
/** Messages drained from the monitor socket per report at most (it is level-triggered: the rest comes back). */
const MONITOR_DRAIN = 256;
/** Errors in a row (no message between them) after which the monitor socket is no longer read. */
const MONITOR_FAILURES = 16;

class TakenLinks {
  /** The NICs by their interface's index in the container's namespace (or a key of their own where it is not known). */
  private readonly nics = new Map<number, PacketNic>();
  /** The next interface index in the sandbox (1 is loopback; indexes are not reused, as Linux's). */
  private nextIndex = 2;
  private monitor: HostWatch | null = null;
  private failures = 0;
  private readonly buf = Buffer.allocUnsafe(8192);

  constructor(
    private readonly k: Kernel, private readonly s: Stack, private readonly env: PacketEnv, private readonly source: LinkSource | null,
    private readonly relay: DnsRelay, private readonly tcpRelay: DnsTcpRelay,
  ) {
    if (source) this.monitor = env.events.watch(source.monitorFd, HOST_IN, () => this.changed());
  }

  private get table(): LinkConfig[] {
    return this.k.network.links as LinkConfig[];
  }

  add(cfg: LinkConfig): void {
    const index = this.nextIndex++;
    const nic = new PacketNic(this.s, this.env, cfg, index);
    this.nics.set(cfg.hostIndex ?? -index, nic);
    this.table.push({ ...cfg, index });
  }

  /**
   * Each NIC's addresses and routes given to the stack again, in the order
   * the interfaces came: the default route of a family through the first
   * with a gateway of it.
   */
  reroute(): void {
    for (const n of this.nics.values()) this.s.forget(n);
    const uplink = new Set<boolean>();
    for (const n of this.nics.values()) {
      this.s.attach(n, n.addresses, false);
      for (const src of n.defaultSources) {
        const v4 = isV4(src);
        if (uplink.has(v4)) continue;
        uplink.add(v4);
        this.s.setDefaultRoute(n, src);
      }
      for (const r of n.networks) this.s.addOnLink(n, r.ip, r.bits);
      for (const r of n.routed) this.s.addOnLink(n, r.ip, r.bits, r.src);
    }
  }

  /** The monitor socket has news: drain it, look again, apply what changed. */
  private changed(): void {
    let n = 0;
    for (; n < MONITOR_DRAIN; n++) {
      const len = hs.recv((this.source as LinkSource).monitorFd, this.buf, 0);
      if (len >= 0) {
        this.failures = 0;
        continue;
      }
      // ENOBUFS: changes were lost, which the look below covers.
      if (-len === EAGAIN || -len === 105) break;
      if (++this.failures >= MONITOR_FAILURES) {
        this.env.log(`the namespace's monitor socket failed ${MONITOR_FAILURES} times in a row (errno ${-len}): changes are no longer followed`);
        this.stopMonitor();
        return;
      }
      break;
    }
    let u: LinkUpdate;
    try {
      u = (this.source as LinkSource).sync();
    } catch (e) {
      this.env.log(`following the namespace's interfaces: ${(e as Error).message}`);
      return;
    }
    this.apply(u);
  }

  /** Interfaces that came, changed or went. */
  apply(u: LinkUpdate): void {
    for (const e of u.errors ?? []) this.env.log(`following the namespace's interfaces: ${e}`);
    if (u.added.length + u.changed.length + u.removed.length === 0) return;
    for (const i of u.removed) {
      const nic = this.nics.get(i);
      if (!nic) continue;
      this.nics.delete(i);
      this.s.detach(nic);
      nic.close();
      const at = this.table.findIndex((l) => l.index === nic.index);
      if (at >= 0) this.table.splice(at, 1);
      this.env.log(`${nic.name} left the namespace`);
    }
    for (const cfg of u.changed) {
      const nic = cfg.hostIndex === undefined ? undefined : this.nics.get(cfg.hostIndex);
      if (!nic) continue;
      nic.reconfigure(cfg);
      const at = this.table.findIndex((l) => l.index === nic.index);
      if (at >= 0) this.table[at] = { ...cfg, fd: this.table[at].fd, index: nic.index };
      this.env.log(`${nic.name} changed: ${cfg.addrs.length} addresses, ${cfg.routes?.length ?? 0} other routes, gateway ${cfg.gateway4 ? 'yes' : 'no'}`);
    }
    for (const cfg of u.added) {
      this.add(cfg);
      this.env.log(`${cfg.name} came into the namespace`);
    }
    this.reroute();
  }

  private stopMonitor(): void {
    if (this.monitor) this.env.events.unwatch(this.monitor);
    this.monitor = null;
  }

  /** Close the packet sockets, the monitor socket and the relay's host sockets; the stack's counters go to the debug log. */
  shutdown(): void {
    this.env.log(`counters: ${JSON.stringify(this.s.counters)}`);
    for (const n of this.nics.values()) n.close();
    this.stopMonitor();
    if (this.source) hs.close(this.source.monitorFd);
    this.relay.shutdown();
    this.tcpRelay.shutdown();
  }
}

/** The interfaces taken over at start (list), and where their changes come from (null: they are not followed). */
export function startLinks(k: Kernel, list: LinkConfig[], source: LinkSource | null): void {
  if (k.network.mode !== 'sandbox' || !k.network.links || (list.length === 0 && !source)) {
    if (source) hs.close(source.monitorFd);
    return;
  }
  const s = stackOf(k);
  if (s.links) return;
  const env = { events: k.platform, log: (m: string) => k.log(`net: ${m}`) };
  const hostIo = { events: k.platform, budget: k.network.hostSockets };
  const relay = new DnsRelay(s, hostIo);
  const tcpRelay = new DnsTcpRelay(s, hostIo);
  s.udpRelay = relay;
  s.tcpRelay = tcpRelay;
  const taken = new TakenLinks(k, s, env, source, relay, tcpRelay);
  for (const cfg of list) taken.add(cfg);
  taken.reroute();
  s.links = taken;
}
