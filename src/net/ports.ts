// Port bindings of one transport protocol: who holds which (address, port),
// the conflicts bind(2) checks (overlapping addresses, SO_REUSEADDR,
// SO_REUSEPORT, dual-stack wildcards, IPV6_V6ONLY), ephemeral ports chosen
// at random, and the lookup of the socket a packet is for (a specific address
// before a wildcard).
import { Errno, E } from '../abi/errno';
import { EPHEMERAL_HIGH, EPHEMERAL_LOW } from '../abi/inet';
import { ANY4, ANY6, isAny, isV4, type Ip } from './ip/addr';

export interface Binding {
  ip: Ip;
  port: number;
  /** An AF_INET6 wildcard that takes IPv6 only. */
  v6only: boolean;
  reuseAddr: boolean;
  reusePort: boolean;
  uid: number;
  /** A listening TCP socket (SO_REUSEADDR does not let another bind beside it). */
  listening: boolean;
  /** Taken by connect(2) for its 4-tuple, not by bind(2): another connection may share it with another peer. */
  forConnect: boolean;
  /** The socket's inode number (/proc/net), 0 for an accepted connection's share of its listener's port. */
  ino: number;
}

/** Whether binding b receives packets for ip. */
export function covers(b: Binding, ip: Ip): boolean {
  if (b.ip === ANY6) return !b.v6only || !isV4(ip);
  if (b.ip === ANY4) return isV4(ip);
  return b.ip === ip;
}

function overlap(a: Binding, b: Binding): boolean {
  if (!isAny(a.ip) && !isAny(b.ip)) return a.ip === b.ip;
  if (!isAny(a.ip)) return covers(b, a.ip);
  if (!isAny(b.ip)) return covers(a, b.ip);
  if (a.ip === ANY6 && b.ip === ANY6) return true;
  if (a.ip === ANY4 && b.ip === ANY4) return true;
  const v6 = a.ip === ANY6 ? a : b;
  return !v6.v6only;
}

export class PortTable {
  private readonly byPort = new Map<number, Set<Binding>>();

  constructor(private readonly random: () => number) {}

  /** Whether nb may join the bindings already there (Linux's bind conflict rules). */
  private conflicts(nb: Binding, ignoreListening = false): boolean {
    const set = this.byPort.get(nb.port);
    if (!set) return false;
    for (const b of set) {
      if (b === nb || !overlap(b, nb)) continue;
      if (nb.reusePort && b.reusePort && nb.uid === b.uid) continue;
      if (nb.reuseAddr && b.reuseAddr && (ignoreListening || !b.listening)) continue;
      return true;
    }
    return false;
  }

  /** Bind b at b.port, or at a free ephemeral port when it is 0 (EADDRINUSE). */
  bind(b: Binding): void {
    if (b.port === 0) {
      const span = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
      const start = this.random() % span;
      for (let i = 0; i < span; i++) {
        b.port = EPHEMERAL_LOW + ((start + i) % span);
        if (!this.byPort.has(b.port)) {
          this.add(b);
          return;
        }
      }
      // Every port has someone: take one without a conflict.
      for (let i = 0; i < span; i++) {
        b.port = EPHEMERAL_LOW + ((start + i) % span);
        if (!this.conflicts(b)) {
          this.add(b);
          return;
        }
      }
      b.port = 0;
      throw new Errno(E.EADDRINUSE);
    }
    if (this.conflicts(b)) throw new Errno(E.EADDRINUSE);
    this.add(b);
  }

  /** A port for connect(2) to (rip, rport) from ip: free of bind(2)s, and with usable(port) saying the 4-tuple is free (EADDRNOTAVAIL). */
  bindForConnect(b: Binding, usable: (port: number) => boolean): void {
    const span = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
    const start = this.random() % span;
    for (let i = 0; i < span; i++) {
      const port = EPHEMERAL_LOW + ((start + i) % span);
      const set = this.byPort.get(port);
      if (set) {
        let shared = true;
        for (const o of set) if (!o.forConnect && overlap(o, b)) shared = false;
        if (!shared) continue;
      }
      if (!usable(port)) continue;
      b.port = port;
      b.forConnect = true;
      this.add(b);
      return;
    }
    throw new Errno(E.EADDRNOTAVAIL);
  }

  /** listen(2): EADDRINUSE when another listener shares the port without SO_REUSEPORT. */
  checkListen(b: Binding): void {
    const set = this.byPort.get(b.port);
    if (!set) return;
    for (const o of set) {
      if (o === b || !o.listening || !overlap(o, b)) continue;
      if (b.reusePort && o.reusePort && b.uid === o.uid) continue;
      throw new Errno(E.EADDRINUSE);
    }
  }

  add(b: Binding): void {
    let set = this.byPort.get(b.port);
    if (!set) this.byPort.set(b.port, (set = new Set()));
    set.add(b);
  }

  remove(b: Binding): void {
    const set = this.byPort.get(b.port);
    if (!set) return;
    set.delete(b);
    if (set.size === 0) this.byPort.delete(b.port);
  }

  /** The bindings that receive for (ip, port), the most specific first; pick filters them (listening, unconnected...). */
  lookup(ip: Ip, port: number, pick: (b: Binding) => boolean): Binding[] {
    const set = this.byPort.get(port);
    if (!set) return [];
    const exact: Binding[] = [];
    const wild: Binding[] = [];
    for (const b of set) {
      if (!covers(b, ip) || !pick(b)) continue;
      (isAny(b.ip) ? wild : exact).push(b);
    }
    return exact.length ? exact : wild;
  }

  get size(): number {
    let n = 0;
    for (const s of this.byPort.values()) n += s.size;
    return n;
  }
}
