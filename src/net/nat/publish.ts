// --publish HOSTPORT:PORT[/tcp|/udp]: the Sentry listens on the host's port
// (0.0.0.0 and ::, as Docker's -p) and carries each connection or datagram
// into the sandbox's stack to 10.0.2.15:PORT, from the gateway's address.
import { Errno, E, errnoName } from '../../abi/errno';
import { IPPROTO_IPV6, IPV6_V6ONLY } from '../../abi/inet';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR } from '../../abi/socket';
import type { PublishSpec } from '../../kernel/netinfo';
import { HostSock, sockaddr } from './hostio';
import type { Nat } from './nat';
import { TcpFlow } from './tcpflow';

const BACKLOG = 128;

export class Publisher {
  private readonly listeners: HostSock[] = [];

  constructor(private readonly nat: Nat) {}

  /** Listen on every published port; throws an Error naming the port when one cannot be had on any address. */
  start(specs: readonly PublishSpec[]): void {
    for (const p of specs) {
      let bound = 0;
      let firstErr = 0;
      for (const fam of [AF_INET, AF_INET6]) {
        const r = this.listen(p, fam);
        if (r === 0) bound++;
        else if (!firstErr || fam === AF_INET) firstErr = firstErr || r;
      }
      if (bound === 0) throw new Error(`--publish ${p.hostPort}:${p.port}/${p.proto}: cannot listen on the host port (${errnoName(firstErr)})`);
    }
  }

  /** 0, or the errno of the family's socket. */
  private listen(p: PublishSpec, fam: number): number {
    const tcp = p.proto === 'tcp';
    let s: HostSock | null = null;
    try {
      const sock = HostSock.create(this.nat.env, fam, tcp ? SOCK_STREAM : SOCK_DGRAM, () => this.nat.enter(() => (tcp ? this.accept(sock, p) : this.datagrams(sock, p))));
      s = sock;
    } catch (e) {
      if (!(e instanceof Errno)) throw e;
      return e.errno;
    }
    if (tcp) s.setInt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (fam === AF_INET6) s.setInt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
    let r = s.bind(sockaddr(Buffer.alloc(fam === AF_INET ? 4 : 16), p.hostPort));
    if (r === 0 && tcp) r = s.listen(BACKLOG);
    if (r < 0) {
      s.close();
      return -r;
    }
    this.listeners.push(s);
    return 0;
  }

  private accept(s: HostSock, p: PublishSpec): void {
    for (;;) {
      const r = TcpFlow.inbound(this.nat, (onReady) => s.accept(onReady), p.port);
      if (typeof r !== 'number' || r === -E.ECONNABORTED || r === -E.EINTR) continue;
      if (r !== -E.EAGAIN) this.nat.log(`--publish ${p.hostPort}: accept failed (${errnoName(-r)})`);
      return;
    }
  }

  private datagrams(s: HostSock, p: PublishSpec): void {
    const buf = this.nat.scratch;
    for (;;) {
      const { n, addr } = s.recvFrom(buf);
      if (n < 0) return;
      this.nat.udp.fromPublished(s, p.port, addr, Buffer.from(buf.subarray(0, n)));
    }
  }

  shutdown(): void {
    for (const s of this.listeners) {
      this.nat.udp.forget(s);
      s.close();
    }
    this.listeners.length = 0;
  }
}
