// One TCP connection through the NAT: the NAT's end of the sandbox's
// connection (a Tcb of the NAT, which the sandbox's stack talks to over eth0)
// joined to a host socket of the Sentry. Outbound (the application
// connects): the SYN is answered only once the host's non-blocking connect
// succeeded, and its failure becomes the answer Linux would give (RST for
// ECONNREFUSED, ICMP unreachable for ENETUNREACH/EHOSTUNREACH). Inbound
// (--publish): a host connection accepted is a connect of the NAT's end into
// the sandbox, from the gateway's address.
//
// Bytes move only as far as the other side takes them, so each direction
// holds at most one window: the NAT's receive window (what the host socket
// has not taken yet) and its send queue (what the sandbox has not
// acknowledged), both bounded by the Tcb's limits and charged to the
// sandbox's heap budget; the host kernel's own socket buffers do the rest.
//
// Urgent data: the sandbox's urgent byte reaches the host's peer as urgent
// data (sent alone with MSG_OOB where the stream reaches it); the host
// sockets keep urgent data from outside in the stream (SO_OOBINLINE), so it
// reaches the sandbox as ordinary bytes, without the mark.
import { Errno, E } from '../../abi/errno';
import { count } from '../ip/ip';
import { SO_OOBINLINE, TcpState } from '../../abi/inet';
import { AF_INET, AF_INET6, SOCK_STREAM, SOL_SOCKET } from '../../abi/socket';
import { HOST_ERR, HOST_HUP, HOST_IN, HOST_OUT, HOST_PRI } from '../../platform/platform';
import type { Ip } from '../ip/addr';
import type { IpPacket } from '../ip/ip';
import type { TcbOwner } from '../tcp/host';
import type { TcpSegment } from '../tcp/segment';
import { defaultTcbOptions, URG_VALID, type TcbOptions } from '../tcp/params';
import { connKey, Tcb } from '../tcp/tcb';
import { HostSock } from './hostio';
import { GATEWAY, GUEST, type Nat } from './nat';

/** The most one host call moves. */
const CHUNK = 64 * 1024;

/**
 * The NAT's end forwards at once (the host's kernel already coalesced what it
 * passes on), and keeps an urgent byte in the stream: it is sent on with
 * MSG_OOB when the reading reaches it.
 */
const natOptions = (): TcbOptions => ({ ...defaultTcbOptions(), nodelay: true, oobinline: true });

/** The SYN an outbound flow answers once the host connected, and the frame to quote if it cannot. */
interface HeldSyn {
  seg: TcpSegment;
  frame: Buffer;
  pkt: IpPacket;
}

export class TcpFlow implements TcbOwner {
  tcb: Tcb | null = null;
  private sock: HostSock | null = null;
  private syn: HeldSyn | null = null;
  /** Bytes from the host the sandbox's heap budget could not take yet. */
  private toSandbox: Buffer | null = null;
  private hostEof = false;
  /** The host socket said EAGAIN to a send: no copy is tried again until its next readiness event (edge-triggered). */
  private hostFull = false;
  /**
   * The host socket may have bytes (or EOF, or an error) to read: set by a
   * readiness report, cleared once a read found it empty. The socket is
   * watched edge-triggered and every arrival reports again, so a flow woken
   * by the sandbox (an ACK, a window update) makes no host call for nothing.
   */
  private hostReadable = true;
  /**
   * Urgent data came to the host socket (a HOST_PRI report): reads stop at
   * its mark, so a short read does not mean the socket is empty until one
   * says EAGAIN.
   */
  private hostUrgent = false;
  private shutWr = false;
  private done = false;

  private constructor(private readonly nat: Nat, private readonly key: string) {}

  /** A SYN from the sandbox to an outside address: the host connect starts; the flow if it is under way, null if it ended at once. */
  static outbound(nat: Nat, key: string, frame: Buffer, pkt: IpPacket, seg: TcpSegment, sa: Buffer): TcpFlow | null {
    const f = new TcpFlow(nat, key);
    // The frame is the stack's: a copy is kept (to quote in an ICMP error), the SYN without its data.
    f.syn = { seg: { ...seg, data: Buffer.alloc(0), sack: [] }, frame: Buffer.from(frame), pkt: { ...pkt, payload: Buffer.alloc(0) } };
    f.sock = HostSock.create(nat.env, sa.length === 16 ? AF_INET : AF_INET6, SOCK_STREAM, (rev) => nat.enter(() => f.ready(rev)));
    f.sock.setInt(SOL_SOCKET, SO_OOBINLINE, 1);
    const r = f.sock.connect(sa);
    if (r === 0) {
      f.connected();
      return null;
    }
    if (r === -E.EINPROGRESS) return f;
    f.sock.close();
    throw new Errno(-r);
  }

  /** A host connection accepted on a published port: the NAT's end connects to the sandbox's port. */
  static inbound(nat: Nat, accept: (onReady: (revents: number) => void) => HostSock | number, port: number): HostSock | number {
    const lport = nat.freePort(GUEST, port);
    let f: TcpFlow | null = null;
    const s = accept((rev) => nat.enter(() => f?.ready(rev)));
    if (typeof s === 'number') return s;
    if (lport === 0) {
      s.abortiveClose();
      return s;
    }
    f = new TcpFlow(nat, connKey(GATEWAY, lport, GUEST, port));
    f.sock = s;
    s.setInt(SOL_SOCKET, SO_OOBINLINE, 1);
    let c: Tcb;
    try {
      c = new Tcb(nat, GATEWAY, lport, GUEST, port, true, natOptions(), nat.nic.mtu);
    } catch {
      s.abortiveClose(); // the sandbox's budget is spent
      return s;
    }
    c.owner = f;
    f.tcb = c;
    nat.conns.set(c.key, c);
    c.connect();
    return s;
  }

  wake(): void {
    this.nat.schedule(this);
  }

  /** The host socket is ready (or failed). */
  private ready(revents: number): void {
    if (this.done || !this.sock) return;
    count(this.nat.counters, 'NatHostEvents');
    if (this.syn) {
      const err = this.sock.soError();
      if (err !== 0) return this.connectFailed(err);
      if (!this.sock.connectedNow()) return; // not finished yet
      this.connected();
      return;
    }
    if (revents & (HOST_OUT | HOST_ERR | HOST_HUP)) this.hostFull = false;
    if (revents & (HOST_IN | HOST_ERR | HOST_HUP)) this.hostReadable = true;
    if (revents & HOST_PRI) this.hostUrgent = this.hostReadable = true;
    this.nat.schedule(this);
  }

  private connectFailed(err: number): void {
    const syn = this.syn as HeldSyn;
    this.nat.connecting.delete(this.key);
    this.sock?.close();
    this.done = true;
    this.nat.refuseWith(syn.frame, syn.pkt, syn.seg, err);
  }

  /** The host connected: the NAT's end answers the SYN. */
  private connected(): void {
    const syn = this.syn as HeldSyn;
    this.syn = null;
    this.nat.connecting.delete(this.key);
    const p = syn.pkt;
    let c: Tcb;
    try {
      c = new Tcb(this.nat, p.dst as Ip, syn.seg.dstPort, p.src as Ip, syn.seg.srcPort, p.v4, natOptions(), this.nat.nic.mtu);
    } catch {
      this.sock?.close();
      this.done = true;
      this.nat.reset(p, syn.seg);
      return;
    }
    c.owner = this;
    this.tcb = c;
    this.nat.conns.set(c.key, c);
    c.acceptSyn(syn.seg);
  }

  /** Move what each side can take, and close what has ended. */
  pump(): void {
    const c = this.tcb;
    const s = this.sock;
    if (this.done || !c || !s) return;
    if (c.state === TcpState.CLOSE) {
      // Reset, refused or timed out on the sandbox's side: the host's peer is reset too.
      s.abortiveClose();
      this.finish();
      return;
    }
    // Sandbox to host: what the host takes leaves the receive queue, which opens the window.
    let sent = false;
    while (c.recvq.length > 0 && !this.hostFull) {
      // The urgent byte is next (reads stop before it): the host's peer gets it as urgent data too.
      const urgent = c.atMark && (c.urgData & URG_VALID) !== 0;
      const b = c.read(urgent ? 1 : CHUNK, true);
      const n = s.send(b, urgent);
      count(this.nat.counters, 'NatHostSends');
      if (n === -E.EAGAIN) {
        this.hostFull = true;
        break;
      }
      if (n < 0) return this.hostFailed();
      c.read(n, false);
      sent = true;
      if (n < b.length) break;
    }
    if (c.finReceived && c.recvq.length === 0 && !this.shutWr) {
      s.shutdownWrite();
      this.shutWr = true;
    }
    // Host to sandbox: as much as the send queue has room for.
    if (this.toSandbox && c.canSend) {
      if (!c.write(this.toSandbox, false)) return;
      this.toSandbox = null;
    }
    // Read the host socket when it reported something, or right after a send (a
    // peer that answers at once may already have: then no readiness report
    // is waited for).
    if (sent) this.hostReadable = true;
    while (this.hostReadable && !this.hostEof && c.canSend && c.sndSpace > 0) {
      const buf = this.nat.scratch;
      const want = Math.min(c.sndSpace, buf.length);
      const n = s.recv(buf.subarray(0, want));
      count(this.nat.counters, 'NatHostRecvs');
      if (n === -E.EAGAIN) {
        count(this.nat.counters, 'NatHostRecvEmpty');
        this.hostReadable = this.hostUrgent = false;
        break;
      }
      if (n < 0) return this.hostFailed();
      if (n === 0) {
        this.hostEof = true;
        c.shutdownWrite();
        break;
      }
      const data = Buffer.from(buf.subarray(0, n));
      // Less than asked for: the socket had no more; what arrives later is reported again.
      if (n < want && !this.hostUrgent) this.hostReadable = false;
      if (!c.write(data, false)) {
        this.toSandbox = data; // the sandbox's heap is full: kept until an ACK wakes us
        break;
      }
    }
    if (this.hostEof && this.shutWr && !this.toSandbox) {
      // Both directions ended: the NAT's end finishes its FIN exchange alone; the host socket is done.
      c.owner = null;
      c.applicationClose(false);
      s.close();
      this.finish();
    }
  }

  /** The host's peer reset (or the host socket failed): the sandbox's connection is reset. */
  private hostFailed(): void {
    const c = this.tcb;
    if (c) {
      c.owner = null;
      c.orphan = true;
      c.abort();
    }
    this.sock?.close();
    this.finish();
  }

  private finish(): void {
    this.done = true;
    this.nat.connecting.delete(this.key);
    if (this.tcb && this.tcb.owner === this) this.tcb.owner = null;
  }

  /** The sandbox ends: the host socket closes, the sandbox's end is reset. */
  destroy(): void {
    if (this.tcb && this.tcb.state !== TcpState.CLOSE) {
      this.tcb.owner = null;
      this.tcb.orphan = true;
      this.tcb.abort();
    }
    this.sock?.close();
    this.finish();
  }
}
