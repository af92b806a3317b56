// What a TCP connection needs from its stack: the clock, timers, the way out,
// the tables, counters and the sandbox's heap budget. The stack implements it;
// unit tests implement it over a lossy fake link and a fake clock.
import type { HeapBudget } from '../../abi/accounting';
import type { Ip } from '../ip/addr';
import type { Counters } from '../ip/ip';
import type { TcpSegment } from './segment';
import type { TcbSender } from './send';
import type { Tcb } from './tcb';

export interface NetTimer {
  /** Expire at this time (ms of the host's clock), moving an armed timer. */
  arm(atMs: number): void;
  cancel(): void;
}

export interface TcpHost {
  readonly counters: Counters;
  readonly heap: HeapBudget | null;
  nowMs(): number;
  /** A timer that calls target.onTimer() when it expires. */
  newTimer(target: TimerTarget): NetTimer;
  /** Serialize and send a segment from c's addresses. */
  transmit(c: TcbSender, seg: TcpSegment): void;
  /** c reached CLOSED: out of the connection and port tables. */
  remove(c: Tcb): void;
  randomU32(): number;
  /** The largest segment payload the NIC toward remote cuts into MSS-sized frames itself (TCP segmentation offload); 0 or absent: none. */
  gsoMax?(remote: Ip, oif: number): number;
}

/** Told of what happens to a connection: the socket that owns it, or the listener of a connection not yet accepted. */
export interface TcbOwner {
  /** Readiness may have changed. */
  wake(): void;
  /** The peer sent a new urgent mark (SIGURG to the socket's owner). */
  urgent?(): void;
  /** A connection of this listener became established (or got data, with TCP_DEFER_ACCEPT). */
  childReady?(c: Tcb): void;
  /** A connection of this listener went away before it was accepted. */
  childGone?(c: Tcb): void;
}

export interface TimerTarget {
  onTimer(): void;
}
