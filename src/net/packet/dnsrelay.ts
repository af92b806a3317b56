// Docker's embedded DNS server for user-defined networks: the container's
// resolv.conf names 127.0.0.11, and Docker's iptables rules in the
// container's network namespace redirect 127.0.0.11:53 to the port its
// resolver really listens on. Loopback is the Sentry's own, so a query the
// application sends there would never meet those rules; instead, a UDP
// datagram to 127.0.0.11:53 that no socket of the sandbox receives is
// carried over a host UDP socket of the Sentry, in the container's
// namespace, connected to 127.0.0.11:53, where the namespace's own rules
// apply; the answers come back as datagrams from 127.0.0.11:53. One host
// socket per application socket (source port), a bounded number of them,
// closed after a while without traffic; nothing is queued in the Sentry.
import { E } from '../../abi/errno';
import { AF_INET, SOCK_DGRAM } from '../../abi/socket';
import { ipFromBytes, type Ip } from '../ip/addr';
import { count } from '../ip/ip';
import { closeIdle, HostSock, sockaddr, type HostIoEnv } from '../nat/hostio';
import type { UdpRelay, Stack } from '../stack';
import type { NetTimer } from '../tcp/host';

export const RESOLVER = Buffer.from([127, 0, 0, 11]);
export const DOCKER_DNS: Ip = ipFromBytes(RESOLVER, 0, 4);
const DNS_PORT = 53;
/** Host sockets for queries at once. */
const MAX_FLOWS = 64;
const IDLE_MS = 30_000;
const SWEEP_MS = 10_000;

interface Flow {
  readonly sock: HostSock;
  readonly src: Ip;
  readonly sport: number;
  lastUsed: number;
}

export class DnsRelay implements UdpRelay {
  private readonly flows = new Map<string, Flow>();
  private readonly timer: NetTimer;
  private armed = false;
  private readonly scratch = Buffer.allocUnsafe(65536);

  constructor(private readonly stack: Stack, private readonly env: HostIoEnv) {
    this.timer = stack.newTimer({ onTimer: () => this.sweep() });
  }

  relay(src: Ip, sport: number, dst: Ip, dport: number, data: Buffer): boolean {
    if (dst !== DOCKER_DNS || dport !== DNS_PORT) return false;
    const key = `${src}:${sport}`;
    let f = this.flows.get(key);
    if (!f) {
      if (this.flows.size >= MAX_FLOWS) {
        count(this.stack.counters, 'DnsRelayFlowLimit');
        return true;
      }
      let flow: Flow | null = null;
      let s: HostSock;
      try {
        s = HostSock.create(this.env, AF_INET, SOCK_DGRAM, () => {
          if (flow) this.ready(flow);
        });
      } catch {
        count(this.stack.counters, 'DnsRelayHostSocketErrors');
        return true;
      }
      if (s.connect(sockaddr(RESOLVER, DNS_PORT)) < 0) {
        s.close();
        count(this.stack.counters, 'DnsRelayHostSocketErrors');
        return true;
      }
      flow = f = { sock: s, src, sport, lastUsed: 0 };
      this.flows.set(key, f);
      this.arm();
    }
    f.lastUsed = this.stack.nowMs();
    if (f.sock.send(data) < 0) count(this.stack.counters, 'DnsRelaySendDrops');
    return true;
  }

  /** Answers from the namespace's resolver, as datagrams from 127.0.0.11:53. */
  private ready(f: Flow): void {
    for (;;) {
      const n = f.sock.recv(this.scratch);
      if (n === -E.ECONNREFUSED) continue;
      if (n < 0) break;
      f.lastUsed = this.stack.nowMs();
      this.stack.sendUdp(DOCKER_DNS, DNS_PORT, f.src, f.sport, Buffer.from(this.scratch.subarray(0, n)), 0, 64);
    }
    this.stack.flush();
  }

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    this.timer.arm(this.stack.nowMs() + SWEEP_MS);
  }

  private sweep(): void {
    this.armed = false;
    closeIdle(this.flows, this.stack.nowMs() - IDLE_MS);
    if (this.flows.size) this.arm();
  }

  shutdown(): void {
    for (const f of this.flows.values()) f.sock.close();
    this.flows.clear();
    this.timer.cancel();
  }
}
