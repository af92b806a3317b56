// What the user-mode NAT (net/nat/) is told about the host by the
// composition root: the published ports, whether the host's own addresses
// are reachable, the host's resolvers (from the host's resolv.conf, read by
// the caller) and which addresses are the host's (read live from the host's
// netlink, at most once a second).
import type { NatConfig, PublishSpec } from '../kernel/netinfo';
import { HostInterfaces } from '../host/hostnetinfo';

export interface NatOptions {
  publish: PublishSpec[];
  allowHostLoopback: boolean;
  /** The host's /etc/resolv.conf text. */
  resolvConf: string;
}

/** The sandbox's /etc/resolv.conf in sandbox mode: the NAT's DNS forwarder. */
export const NAT_RESOLV_CONF = 'nameserver 10.0.2.3\n';

/** How long the host's address list is reused before it is read again (ms). */
const HOST_ADDRS_TTL_MS = 1000;

/** An IPv4 dotted quad as 4 bytes, or null. */
function ipv4(s: string): Buffer | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? Buffer.from(b) : null;
}

/** The IPv4 nameservers of a resolv.conf (IPv6 ones are not forwarded: the sandbox's eth0 is IPv4). */
export function resolvers(text: string): Buffer[] {
  const out: Buffer[] = [];
  for (const line of text.split('\n')) {
    const w = line.trim().split(/\s+/);
    if (w[0] !== 'nameserver' || !w[1]) continue;
    const a = ipv4(w[1]);
    if (a) out.push(a);
  }
  return out;
}

/** --publish HOSTPORT:PORT[/tcp|/udp], or an Error saying what is wrong. */
export function parsePublish(spec: string): PublishSpec {
  const m = /^(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(spec);
  const bad = (): Error => new Error(`--publish wants HOSTPORT:PORT[/tcp|/udp] with ports 1-65535, got ${JSON.stringify(spec)}`);
  if (!m) throw bad();
  const hostPort = Number(m[1]);
  const port = Number(m[2]);
  if (hostPort < 1 || hostPort > 65535 || port < 1 || port > 65535) throw bad();
  return { hostPort, port, proto: m[3] === 'udp' ? 'udp' : 'tcp' };
}

class HostAddresses {
  private addrs: string[] = [];
  private readAt = -Infinity;
  private readonly table = new HostInterfaces();
  owns(a: Buffer): boolean {
    const now = Date.now();
    if (now - this.readAt > HOST_ADDRS_TTL_MS) {
      this.addrs = this.table.snapshot().addrs.flatMap((x) => [x.local, x.address]).filter((b): b is Buffer => b !== null && (b.length === 4 || b.length === 16)).map((b) => b.toString('hex'));
      this.readAt = now;
    }
    return this.addrs.includes(a.toString('hex'));
  }
}

export function natConfig(o: NatOptions): NatConfig {
  const host = new HostAddresses();
  return { publish: o.publish, allowHostLoopback: o.allowHostLoopback, resolvers: resolvers(o.resolvConf), hostOwns: (a) => host.owns(a) };
}
