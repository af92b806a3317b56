// DNS over TCP to Docker's embedded server (127.0.0.11:53), the other half
// of dnsrelay.ts: a resolver that got a truncated answer asks again over
// TCP. A SYN to 127.0.0.11:53 that no listening socket of the sandbox takes
// is taken by this relay's own listener (never in the port table, so the
// application may still bind that port itself); each connection is joined
// to a host TCP socket of the Sentry in the container's namespace,
// connected to 127.0.0.11:53, where the namespace's rules redirect it to
// Docker's resolver. Bytes move only as far as the other side takes them
// (the connection's own buffers bound them); a bounded number of
// connections at once.
import { E } from '../../abi/errno';
import { TcpState } from '../../abi/inet';
import { AF_INET, SOCK_STREAM } from '../../abi/socket';
import { HOST_ERR, HOST_HUP } from '../../platform/platform';
import type { Ip } from '../ip/addr';
import { count } from '../ip/ip';
import { HostSock, sockaddr, type HostIoEnv } from '../nat/hostio';
import type { Binding } from '../ports';
import type { Stack, TcpRelay } from '../stack';
import type { TcbOwner } from '../tcp/host';
import { Listener } from '../tcp/listener';
import { defaultTcbOptions } from '../tcp/params';
import type { Tcb } from '../tcp/tcb';
import { DOCKER_DNS, RESOLVER } from './dnsrelay';

const DNS_PORT = 53;
/** Connections relayed at once. */
const MAX_FLOWS = 16;
const CHUNK = 16 * 1024;

class DnsTcpFlow implements TcbOwner {
  private connected = false;
  private hostEof = false;
  private shutWr = false;
  done = false;

  constructor(private readonly relay: DnsTcpRelay, readonly tcb: Tcb, readonly sock: HostSock) {}

  wake(): void {
    this.relay.later(this);
  }

  /** The host socket reported: its connect finished, or it can be read or written. */
  hostReady(revents: number): void {
    if (!this.connected) {
      const err = this.sock.soError();
      if (err || (revents & (HOST_ERR | HOST_HUP) && !this.sock.connectedNow())) return this.fail();
      if (!this.sock.connectedNow()) return;
      this.connected = true;
    }
    this.pump();
  }

  pump(): void {
    const c = this.tcb;
    const s = this.sock;
    if (this.done) return;
    if (c.state === TcpState.CLOSE) return this.fail();
    if (!this.connected) return;
    // The application's query to the host's side.
    while (c.recvq.length > 0) {
      const b = c.read(CHUNK, true);
      const n = s.send(b);
      if (n === -E.EAGAIN) break;
      if (n < 0) return this.fail();
      c.read(n, false);
      if (n < b.length) break;
    }
    if (c.finReceived && c.recvq.length === 0 && !this.shutWr) {
      s.shutdownWrite();
      this.shutWr = true;
    }
    // The answer back, as far as the connection's send queue has room.
    const buf = this.relay.scratch;
    while (!this.hostEof && c.canSend && c.sndSpace > 0) {
      const n = s.recv(buf.subarray(0, Math.min(c.sndSpace, buf.length)));
      if (n === -E.EAGAIN) break;
      if (n < 0) return this.fail();
      if (n === 0) {
        this.hostEof = true;
        c.shutdownWrite();
        break;
      }
      if (!c.write(Buffer.from(buf.subarray(0, n)), false)) return this.fail();
    }
    if (this.hostEof && this.shutWr) {
      c.owner = null;
      c.applicationClose(false);
      this.finish();
    }
  }

  /** Either side failed or reset: the other is reset too. */
  private fail(): void {
    if (this.done) return;
    const c = this.tcb;
    c.owner = null;
    c.orphan = true;
    if (c.state !== TcpState.CLOSE) c.abort();
    this.finish();
  }

  private finish(): void {
    this.done = true;
    this.sock.close();
    this.relay.forget(this);
  }

  destroy(): void {
    this.fail();
  }
}

export class DnsTcpRelay implements TcpRelay {
  private readonly listener: Listener;
  private readonly flows = new Set<DnsTcpFlow>();
  private readonly pending = new Set<DnsTcpFlow>();
  readonly scratch = Buffer.allocUnsafe(CHUNK);

  constructor(private readonly stack: Stack, private readonly env: HostIoEnv) {
    this.listener = new Listener(stack, MAX_FLOWS, { ...defaultTcbOptions(), nodelay: true }, () => this.acceptAll(), (c) => {
      const b: Binding = { ip: c.local, port: c.lport, v6only: false, reuseAddr: false, reusePort: false, uid: 0, listening: false, forConnect: false, ino: 0 };
      if (!stack.addConn(c, b)) return false;
      stack.tcpPorts.add(b);
      return true;
    });
  }

  listenerFor(dst: Ip, port: number): Listener | null {
    if (dst !== DOCKER_DNS || port !== DNS_PORT) return null;
    if (this.flows.size >= MAX_FLOWS) {
      count(this.stack.counters, 'DnsRelayFlowLimit');
      return null;
    }
    return this.listener;
  }

  private acceptAll(): void {
    for (let c = this.listener.take(); c; c = this.listener.take()) {
      let flow: DnsTcpFlow | null = null;
      let s: HostSock;
      try {
        s = HostSock.create(this.env, AF_INET, SOCK_STREAM, (rev) => {
          flow?.hostReady(rev);
          this.stack.flush();
        });
      } catch {
        count(this.stack.counters, 'DnsRelayHostSocketErrors');
        c.orphan = true;
        c.abort();
        continue;
      }
      const r = s.connect(sockaddr(RESOLVER, DNS_PORT));
      if (r < 0 && r !== -E.EINPROGRESS) {
        s.close();
        c.orphan = true;
        c.abort();
        continue;
      }
      flow = new DnsTcpFlow(this, c, s);
      c.owner = flow;
      this.flows.add(flow);
    }
  }

  /** A flow's connection changed inside the stack's processing: pumped once that is done (idle). */
  later(f: DnsTcpFlow): void {
    this.pending.add(f);
  }

  idle(): void {
    for (const f of this.pending) {
      this.pending.delete(f);
      f.pump();
    }
  }

  forget(f: DnsTcpFlow): void {
    this.flows.delete(f);
    this.pending.delete(f);
  }

  shutdown(): void {
    for (const f of [...this.flows]) f.destroy();
    this.listener.close();
  }
}
