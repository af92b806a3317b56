// The neighbour table of a taken-over interface (ARP for IPv4, neighbour
// discovery for IPv6): the link-layer address of each next hop, learnt from
// the answers to our solicitations and from the solicitations others send
// us. Frames waiting for an answer are queued per neighbour, a few at most;
// the table and the bytes queued are bounded, so neither a flood of destinations from the
// application nor a flood of announcements from the link grows it.
import { writeIp, type Ip } from '../ip/addr';
import { count, ETH_HLEN, ETH_P_IP, type Counters } from '../ip/ip';

/** The ARP body (RFC 826, Ethernet and IPv4) of frame f after its Ethernet header: op 1 a request, 2 a reply, from mac and spa to tha and tpa. */
export function writeArpBody(f: Buffer, mac: Buffer, op: number, spa: Ip, tha: Buffer, tpa: Ip): void {
  const o = ETH_HLEN;
  f.writeUInt16BE(1, o);
  f.writeUInt16BE(ETH_P_IP, o + 2);
  f[o + 4] = 6;
  f[o + 5] = 4;
  f.writeUInt16BE(op, o + 6);
  mac.copy(f, o + 8);
  writeIp(spa, f, o + 14, true);
  tha.copy(f, o + 18);
  writeIp(tpa, f, o + 24, true);
}

/** Neighbours remembered at most (the oldest goes first). */
const MAX_NEIGHBOURS = 256;
/** Frames queued per unresolved neighbour (Linux's unres_qlen is about this many full frames). */
const MAX_QUEUED = 32;
/** Bytes queued for all unresolved neighbours together (an application sending large datagrams to many silent addresses). */
const MAX_QUEUED_BYTES = 1 << 20;
/** A solicitation is repeated at most this often, and given up after this many (Linux: 1 s, 3 tries). */
const RETRANS_MS = 1000;
const MAX_TRIES = 3;
/** An answer is trusted this long; after that it is confirmed again while still in use. */
const REACHABLE_MS = 30_000;

interface Entry {
  mac: Buffer | null;
  confirmed: number;
  solicited: number;
  tries: number;
  queue: Array<[Buffer, number]>;
}

/** What the table does on the link: solicit a neighbour, send a frame to a link-layer address. */
export interface NeighbourLink {
  solicit(ip: Ip): void;
  send(frame: Buffer, mac: Buffer, gso: number): void;
  nowMs(): number;
}

export class Neighbours {
  private readonly table = new Map<Ip, Entry>();
  /** Bytes of the frames queued in every entry. */
  private queued = 0;

  constructor(private readonly link: NeighbourLink, private readonly counters: Counters) {}

  get size(): number {
    return this.table.size;
  }

  get queuedBytes(): number {
    return this.queued;
  }

  /** Send frame (gso: its segment size, for the NIC) to next hop ip: now if its address is known, else once it is (or never, counted). */
  output(ip: Ip, frame: Buffer, gso: number): void {
    const now = this.link.nowMs();
    let e = this.table.get(ip);
    if (!e) {
      e = { mac: null, confirmed: 0, solicited: -Infinity, tries: 0, queue: [] };
      this.insert(ip, e);
    }
    if (e.mac) {
      this.link.send(frame, e.mac, gso);
      // Stale: ask again (unicast answers refresh it), sending to the old address meanwhile.
      if (now - e.confirmed > REACHABLE_MS && now - e.solicited >= RETRANS_MS) this.ask(ip, e, now);
      return;
    }
    if (e.queue.length >= MAX_QUEUED) this.dropOldest(e);
    if (this.queued + frame.length > MAX_QUEUED_BYTES) {
      count(this.counters, 'NeighQueueDrops');
      return;
    }
    e.queue.push([frame, gso]);
    this.queued += frame.length;
    if (now - e.solicited < RETRANS_MS) return;
    if (e.tries >= MAX_TRIES) {
      // Unanswered: what waited before is dropped; this frame starts over.
      count(this.counters, 'NeighResolveFailed');
      while (e.queue.length > 1) this.dropOldest(e);
      e.tries = 0;
    }
    this.ask(ip, e, now);
  }

  private dropOldest(e: Entry): void {
    const old = e.queue.shift();
    if (old) this.queued -= old[0].length;
    count(this.counters, 'NeighQueueDrops');
  }

  private ask(ip: Ip, e: Entry, now: number): void {
    e.solicited = now;
    e.tries++;
    this.link.solicit(ip);
  }

  /**
   * ip is at mac (an answer, or a solicitation from ip). An unknown neighbour
   * is added only when create (it asked for one of our addresses, so we are
   * about to answer it), never for unsolicited announcements.
   */
  learn(ip: Ip, mac: Buffer, create: boolean): void {
    let e = this.table.get(ip);
    if (!e) {
      if (!create) return;
      e = { mac: null, confirmed: 0, solicited: -Infinity, tries: 0, queue: [] };
      this.insert(ip, e);
    }
    e.mac = Buffer.from(mac);
    e.confirmed = this.link.nowMs();
    e.tries = 0;
    const q = e.queue;
    e.queue = [];
    for (const [f, gso] of q) {
      this.queued -= f.length;
      this.link.send(f, e.mac, gso);
    }
  }

  private insert(ip: Ip, e: Entry): void {
    if (this.table.size >= MAX_NEIGHBOURS) {
      const oldest = this.table.keys().next().value as Ip;
      const old = this.table.get(oldest);
      if (old) while (old.queue.length) this.dropOldest(old);
      this.table.delete(oldest);
    }
    this.table.set(ip, e);
  }
}
