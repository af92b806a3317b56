// The NAT's host sockets: each is a non-blocking host socket of the Sentry,
// counted once in the sandbox's HostSocketBudget from creation to close, and
// watched (edge-triggered, for as long as it is open) through the platform's
// event service, so that its readiness reaches the kernel's thread like any
// other host event. Calls return counts or -errno and never throw, except
// creation, which fails with ENFILE when the budget is spent.
import { Errno } from '../../abi/errno';
import { AF_INET, AF_INET6, SOL_SOCKET, SO_ERROR } from '../../abi/socket';
import { HOST_IN, HOST_OUT, HOST_PRI, HostWatchError, type HostEvents, type HostWatch } from '../../platform/platform';
import * as hs from '../../host/hostsocket';
import type { HostSocketBudget } from '../../kernel/netinfo';

/** What the NAT's host sockets need from the sandbox. */
export interface HostIoEnv {
  readonly events: HostEvents;
  readonly budget: HostSocketBudget;
}

export class HostSock {
  private watch: HostWatch | null = null;
  private open = true;

  /** A new host socket watched for readiness, which calls onReady; throws Errno (ENFILE when the budget is spent). */
  static create(env: HostIoEnv, family: number, type: number, onReady: (revents: number) => void, protocol = 0): HostSock {
    env.budget.take();
    const fd = hs.socket(family, type, protocol);
    if (fd < 0) {
      env.budget.give();
      throw new Errno(-fd);
    }
    return new HostSock(env, fd, onReady);
  }

  /** A connection accepted on a listening HostSock, or -errno (EAGAIN when none is waiting). */
  accept(onReady: (revents: number) => void): HostSock | number {
    try {
      this.env.budget.take();
    } catch (e) {
      if (!(e instanceof Errno)) throw e;
      // Out of budget: take the connection off the queue and close it, so a client is not left hanging.
      const c = hs.accept(this.fd);
      if (c.fd >= 0) hs.close(c.fd);
      return c.fd >= 0 ? -e.errno : c.fd;
    }
    const c = hs.accept(this.fd);
    if (c.fd < 0) {
      this.env.budget.give();
      return c.fd;
    }
    return new HostSock(this.env, c.fd, onReady);
  }

  private constructor(private readonly env: HostIoEnv, readonly fd: number, onReady: (revents: number) => void) {
    try {
      this.watch = env.events.watch(fd, HOST_IN | HOST_PRI | HOST_OUT, onReady, { edge: true });
    } catch (e) {
      if (!(e instanceof HostWatchError)) throw e;
      hs.close(fd);
      env.budget.give();
      this.open = false;
      throw new Errno(e.errno);
    }
  }

  get isOpen(): boolean {
    return this.open;
  }

  connect(sa: Buffer): number {
    return hs.connect(this.fd, sa);
  }
  bind(sa: Buffer): number {
    return hs.bind(this.fd, sa);
  }
  listen(backlog: number): number {
    return hs.listen(this.fd, backlog);
  }
  setInt(level: number, opt: number, v: number): number {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v, 0);
    return hs.setsockopt(this.fd, level, opt, b);
  }
  /** SO_ERROR: the outcome of a non-blocking connect (0, or the errno). */
  soError(): number {
    const r = hs.getsockopt(this.fd, SOL_SOCKET, SO_ERROR, 4);
    return typeof r === 'number' ? -r : r.readInt32LE(0);
  }
  /** Whether a connect finished (the host knows the peer). */
  connectedNow(): boolean {
    return typeof hs.name(this.fd, true) !== 'number';
  }
  /** urgent: the last byte is urgent data (MSG_OOB). */
  send(b: Buffer, urgent = false): number {
    return hs.sendto(this.fd, b, 0x4000 /* MSG_NOSIGNAL */ | (urgent ? 1 /* MSG_OOB */ : 0), null);
  }
  sendTo(b: Buffer, sa: Buffer): number {
    return hs.sendto(this.fd, b, 0x4000, sa);
  }
  recv(buf: Buffer): number {
    return hs.recv(this.fd, buf, 0);
  }
  recvFrom(buf: Buffer): { n: number; addr: Buffer } {
    return hs.recvfrom(this.fd, buf, 0);
  }
  shutdownWrite(): number {
    return hs.shutdown(this.fd, 1 /* SHUT_WR */);
  }
  /** Closing with SO_LINGER 0 makes the host send RST: the peer learns the sandbox's side was reset. */
  abortiveClose(): void {
    const b = Buffer.alloc(8);
    b.writeInt32LE(1, 0);
    hs.setsockopt(this.fd, SOL_SOCKET, 13 /* SO_LINGER */, b);
    this.close();
  }
  close(): void {
    if (!this.open) return;
    this.open = false;
    if (this.watch) this.env.events.unwatch(this.watch);
    this.watch = null;
    hs.close(this.fd);
    this.env.budget.give();
  }
}

/** A sockaddr_in or sockaddr_in6 for an IPv4 (4 bytes) or IPv6 (16 bytes) address. */
/** Close and forget the flows of map not used since old (ms): the idle sweep of the UDP and ICMP flows. */
export function closeIdle<K>(map: Map<K, { lastUsed: number; sock: HostSock }>, old: number): void {
  for (const [k, f] of map) {
    if (f.lastUsed > old) continue;
    f.sock.close();
    map.delete(k);
  }
}

export function sockaddr(addr: Buffer, port: number): Buffer {
  if (addr.length === 4) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt16BE(port, 2);
    addr.copy(b, 4);
    return b;
  }
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  addr.copy(b, 8);
  return b;
}
