// The sandbox's own kernel log (what syslog(2)/klogctl and dmesg read): a few
// records the Sentry writes, never the host's. Bounded like Linux's ring:
// the oldest records go once the text passes the buffer size.
import { WaitQueue, EVENT_IN } from '../abi/waitqueue';

interface LogRecord {
  seq: number;
  /** "<level>[seconds.micros] text\n", as syslog(2) returns it. */
  line: string;
}

/** Bytes of the log buffer (SYSLOG_ACTION_SIZE_BUFFER). */
export const LOG_BUF_LEN = 1 << 17;

export class KernelLog {
  private records: LogRecord[] = [];
  private bytes = 0;
  private nextSeq = 0;
  /** The first record SYSLOG_ACTION_READ has not returned yet, and how much of it it did return. */
  readSeq = 0;
  readPartial = 0;
  /** The first record READ_ALL returns (SYSLOG_ACTION_CLEAR moves it to the end). */
  clearSeq = 0;
  /** /proc/sys/kernel/dmesg_restrict: reading needs CAP_SYSLOG (as on most distributions). */
  dmesgRestrict = 1;
  consoleLevel = 7;
  consoleOff = false;
  readonly queue = new WaitQueue();

  constructor(private readonly sinceBootNs: () => number) {
    this.append(6, 'tsvisor: the sandbox kernel started');
  }

  append(level: number, text: string): void {
    const ns = Math.max(0, this.sinceBootNs() || 0); // 0 while the kernel is being built
    const sec = Math.floor(ns / 1e9);
    const us = Math.floor((ns % 1e9) / 1e3);
    const line = `<${level}>[${String(sec).padStart(5)}.${String(us).padStart(6, '0')}] ${text}\n`;
    this.records.push({ seq: this.nextSeq++, line });
    this.bytes += line.length;
    while (this.bytes > LOG_BUF_LEN && this.records.length > 1) this.bytes -= (this.records.shift() as LogRecord).line.length;
    this.queue.notify(EVENT_IN);
  }

  /** Records from seq on (those the ring still holds). */
  from(seq: number): LogRecord[] {
    return this.records.filter((r) => r.seq >= seq);
  }

  get end(): number {
    return this.nextSeq;
  }
}
