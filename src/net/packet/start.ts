// The taken-over interfaces' place in a sandbox (OCI containers in sandbox
// mode): their NICs join the stack when the sandbox starts, with on-link
// routes for their addresses' networks and the default route through the
// first one that has a gateway, and the relay of Docker's embedded DNS;
// their packet sockets close when the sandbox ends.
import type { Kernel } from '../../kernel/kernel';
import { linkIndex } from '../../kernel/linktable';
import { SandboxNetwork, stackOf } from '../factory';
import { DnsRelay } from './dnsrelay';
import { DnsTcpRelay } from './dnstcp';
import { PacketNic } from './nic';

class TakenLinks {
  constructor(
    private readonly nics: PacketNic[], private readonly relay: DnsRelay, private readonly tcpRelay: DnsTcpRelay,
    private readonly log: (m: string) => void, private readonly counters: () => object,
  ) {}
  /** Close the packet sockets and the relay's host sockets; the stack's counters go to the debug log. */
  shutdown(): void {
    this.log(`counters: ${JSON.stringify(this.counters())}`);
    for (const n of this.nics) n.close();
    this.relay.shutdown();
    this.tcpRelay.shutdown();
  }
}

export function startLinks(k: Kernel): void {
  const links = k.network.links;
  if (k.network.mode !== 'sandbox' || !links || links.length === 0) return;
  const s = stackOf(k);
  if (s.links) return;
  const env = { events: k.platform, log: (m: string) => k.log(`net: ${m}`) };
  const nics = links.map((cfg, i) => new PacketNic(s, env, cfg, linkIndex(i)));
  let uplink = false;
  for (const n of nics) {
    const dflt: boolean = !uplink && n.hasDefaultRoute;
    uplink ||= dflt;
    s.attach(n, n.addresses, dflt);
    for (const r of n.networks) s.addOnLink(n, r.ip, r.bits);
    for (const r of n.routed) s.addOnLink(n, r.ip, r.bits, r.src);
  }
  const hostIo = { events: k.platform, budget: k.network.hostSockets };
  const relay = new DnsRelay(s, hostIo);
  const tcpRelay = new DnsTcpRelay(s, hostIo);
  s.udpRelay = relay;
  s.tcpRelay = tcpRelay;
  s.links = new TakenLinks(nics, relay, tcpRelay, env.log, () => s.counters);
}

/** The sandbox ends: the packet sockets and the relay's host sockets close (before the platform's event service goes). */
export function stopLinks(k: Kernel): void {
  if (k.netstack instanceof SandboxNetwork) k.netstack.links?.shutdown();
}
