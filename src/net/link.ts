// Network interfaces. A NIC carries whole Ethernet frames; the stack hands it
// frames to transmit and takes the frames it receives. Loopback hands what it
// transmits back to its own stack's receive queue.

export interface NicStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  rxDropped: number;
}

export interface Nic {
  readonly name: string;
  readonly index: number;
  readonly mtu: number;
  /** Received TCP/UDP checksums need no check: the bytes never left the Sentry's memory (Linux's lo marks them so too). A NIC may say so per frame instead (Stack.receive's verified). */
  readonly checksumOffload: boolean;
  /**
   * The NIC finishes TCP checksums of what it sends (Linux's CHECKSUM_PARTIAL):
   * the stack writes only the pseudo-header's sum in the checksum field, and
   * never sums the data.
   */
  readonly txChecksumOffload?: boolean;
  /** A buffer for a frame of len bytes to transmit (room the NIC needs in front of it kept); absent: Buffer.allocUnsafe. */
  allocFrame?(len: number): Buffer;
  readonly stats: NicStats;
  /** gsoSize: the frame's TCP payload is to be cut into segments of this size by the NIC (0: sent as it is). */
  transmit(frame: Buffer, gsoSize?: number): void;
  /** The largest TCP payload the NIC cuts itself (TCP segmentation offload); absent: none. */
  readonly gsoMax?: number;
  /** The stack has processed every frame it had (end of a flush). */
  idle?(): void;
}

export class LoopbackNic implements Nic {
  readonly name = 'lo';
  readonly mtu = 65536;
  readonly checksumOffload = true;
  readonly stats: NicStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0 };

  constructor(
    readonly index: number,
    /** The stack's receive path (which queues the frame: see Stack.receive). */
    private readonly receive: (nic: Nic, frame: Buffer) => void,
  ) {}

  transmit(frame: Buffer): void {
    this.stats.txPackets++;
    this.stats.txBytes += frame.length;
    this.stats.rxPackets++;
    this.stats.rxBytes += frame.length;
    this.receive(this, frame);
  }
}
