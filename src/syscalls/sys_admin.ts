// Calls that administer the machine: setting the clocks (clock_settime,
// settimeofday, adjtimex, clock_adjtime) and reading the kernel log
// (syslog/klogctl). The sandbox never changes the host's time: a change is
// refused with EPERM, as Linux refuses it without CAP_SYS_TIME, and with the
// capability too (declared partial). Every check that comes before Linux's
// permission check comes before it here, so bad arguments get Linux's EINVAL
// or EFAULT. The log is the sandbox's own (Kernel.klog), never the host's.
import { CAP_SYS_ADMIN, CAP_SYS_TIME, CAP_SYSLOG } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import { EVENT_IN } from '../abi/waitqueue';
import { LOG_BUF_LEN } from '../kernel/klog';
import type { Task } from '../kernel/task';
import { capable, need } from './sys_info';
import { clockNow, CLOCK_REALTIME } from './sys_time';
import { encodeTimeval } from '../abi/time';
import { i32, type SyscallDef } from '../kernel/syscall';

const NS = 1_000_000_000;
/** Past this a realtime clock could overflow within the uptime Linux allows for (TIME_SETTOD_SEC_MAX). */
const SETTOD_SEC_MAX = 9223372036n - 30n * 31536000n;

// ---- setting the time -------------------------------------------------------------------

/** Linux's do_sys_settimeofday64 once the arguments are read: validity, permission, the time zone's range. */
function setTime(t: Task, ts: [bigint, bigint] | null, tz: Buffer | null): number {
  if (ts && (ts[0] < 0n || ts[0] >= SETTOD_SEC_MAX || ts[1] < 0n || ts[1] >= BigInt(NS))) throw new Errno(E.EINVAL);
  if (!capable(t, CAP_SYS_TIME)) throw new Errno(E.EPERM);
  if (tz) {
    const minuteswest = tz.readInt32LE(0);
    if (minuteswest > 15 * 60 || minuteswest < -15 * 60) throw new Errno(E.EINVAL);
  }
  // Nothing asked to change: as Linux, success.
  if (!ts && !tz) return 0;
  // The host's clock is not the sandbox's to set, whatever its capabilities.
  throw new Errno(E.EPERM);
}

function clockSettime(t: Task, a: number[]): number {
  const id = i32(a[0]);
  // Only CLOCK_REALTIME and the CPU and descriptor clocks (negative ids) have a setter.
  if (id >= 0 && id !== CLOCK_REALTIME) throw new Errno(E.EINVAL);
  const b = t.mm.copyIn(a[1], 16);
  const ts: [bigint, bigint] = [b.readBigInt64LE(0), b.readBigInt64LE(8)];
  if (id < 0) {
    // No descriptor clocks exist here; a CPU clock is checked, then never settable.
    if ((id & 7) === 3) throw new Errno(E.EINVAL);
    clockNow(t, id);
    throw new Errno(E.EPERM);
  }
  return setTime(t, ts, null);
}

function settimeofday(t: Task, a: number[]): number {
  let ts: [bigint, bigint] | null = null;
  if (a[0]) {
    const b = t.mm.copyIn(a[0], 16);
    const usec = b.readBigInt64LE(8);
    if (usec > 1_000_000n || usec < 0n) throw new Errno(E.EINVAL);
    ts = [b.readBigInt64LE(0), usec * 1000n];
  }
  const tz = a[1] ? t.mm.copyIn(a[1], 8) : null;
  return setTime(t, ts, tz);
}

// struct __kernel_timex: modes and the fields read back (offsets in bytes).
const TIMEX_SIZE = 208;
const ADJ_FREQUENCY = 0x2, ADJ_TICK = 0x4000, ADJ_SETOFFSET = 0x100, ADJ_NANO = 0x2000;
const ADJ_ADJTIME = 0x8000, ADJ_OFFSET_SINGLESHOT = 0x8001, ADJ_OFFSET_READONLY = 0x2000;
const STA_UNSYNC = 0x40;
const TIME_ERROR = 5;
/** LLONG_MAX / PPM_SCALE: larger frequencies would overflow Linux's arithmetic. */
const FREQ_LIMIT = 9223372036854775807n / 65536000n;
const USER_HZ = 100;

/**
 * adjtimex's checks (timekeeping_validate_timex), then the read: the state of
 * a clock NTP never synchronised (the sandbox does not see the host's NTP
 * state), TIME_ERROR as Linux returns while STA_UNSYNC is set. A change that
 * passes the checks is refused: the host clock is not the sandbox's.
 */
function adjtime(t: Task, addr: number): number {
  const b = t.mm.copyIn(addr, TIMEX_SIZE);
  const modes = b.readUInt32LE(0);
  let changes: boolean;
  if (modes & ADJ_ADJTIME) {
    if (!(modes & ADJ_OFFSET_SINGLESHOT)) throw new Errno(E.EINVAL);
    changes = !(modes & ADJ_OFFSET_READONLY);
    if (changes && !capable(t, CAP_SYS_TIME)) throw new Errno(E.EPERM);
  } else {
    changes = modes !== 0;
    if (changes && !capable(t, CAP_SYS_TIME)) throw new Errno(E.EPERM);
    const tick = b.readBigInt64LE(88);
    if (modes & ADJ_TICK && (tick < BigInt(900000 / USER_HZ) || tick > BigInt(1100000 / USER_HZ))) throw new Errno(E.EINVAL);
  }
  if (modes & ADJ_SETOFFSET) {
    if (!capable(t, CAP_SYS_TIME)) throw new Errno(E.EPERM);
    const usec = b.readBigInt64LE(80);
    if (usec < 0n || usec >= (modes & ADJ_NANO ? BigInt(NS) : 1_000_000n)) throw new Errno(E.EINVAL);
  }
  if (modes & ADJ_FREQUENCY) {
    const freq = b.readBigInt64LE(16);
    if (freq > FREQ_LIMIT || freq < -FREQ_LIMIT) throw new Errno(E.EINVAL);
  }
  if (changes) throw new Errno(E.EPERM);
  const out = Buffer.alloc(TIMEX_SIZE);
  out.writeUInt32LE(modes, 0);
  out.writeBigInt64LE(16000000n, 24); // maxerror: NTP_PHASE_LIMIT, in us
  out.writeBigInt64LE(16000000n, 32); // esterror
  out.writeInt32LE(STA_UNSYNC, 40);
  out.writeBigInt64LE(2n, 48); // constant
  out.writeBigInt64LE(1n, 56); // precision, us
  out.writeBigInt64LE(32768000n, 64); // tolerance: 500 ppm, scaled by 2^16
  encodeTimeval(out, 72, clockNow(t, CLOCK_REALTIME)); // microseconds: STA_NANO is not set
  out.writeBigInt64LE(BigInt(1000000 / USER_HZ), 88); // tick, us
  t.mm.copyOut(addr, out);
  return TIME_ERROR;
}

function clockAdjtime(t: Task, a: number[]): number {
  const id = i32(a[0]);
  t.mm.copyIn(a[1], TIMEX_SIZE);
  if (id === CLOCK_REALTIME) return adjtime(t, a[1]);
  // Every other clock that exists has no adjuster: EOPNOTSUPP; an unknown one is EINVAL.
  if (id < 0 && (id & 7) === 3) throw new Errno(E.EINVAL);
  clockNow(t, id);
  throw new Errno(E.EOPNOTSUPP);
}

// ---- the kernel log ---------------------------------------------------------------------

const SYSLOG_ACTION_CLOSE = 0, SYSLOG_ACTION_OPEN = 1, SYSLOG_ACTION_READ = 2, SYSLOG_ACTION_READ_ALL = 3;
const SYSLOG_ACTION_READ_CLEAR = 4, SYSLOG_ACTION_CLEAR = 5, SYSLOG_ACTION_CONSOLE_OFF = 6, SYSLOG_ACTION_CONSOLE_ON = 7;
const SYSLOG_ACTION_CONSOLE_LEVEL = 8, SYSLOG_ACTION_SIZE_UNREAD = 9, SYSLOG_ACTION_SIZE_BUFFER = 10;
/** The top of the user address range, for access_ok: Linux checks the range only, not that it is mapped. */
const TASK_SIZE = 0x7ffffffff000;

/** A buffer argument as Linux takes it: EINVAL without one, 0 for none wanted, EFAULT past user space. */
function logBuffer(buf: number, len: number): boolean {
  need(buf && len >= 0);
  if (len === 0) return false;
  if (buf + len > TASK_SIZE) throw new Errno(E.EFAULT);
  return true;
}

/** SYSLOG_ACTION_READ: unread records, whole ones (the first may be cut), waiting while there are none. */
async function readLog(t: Task, buf: number, len: number): Promise<number> {
  const log = t.kernel.klog;
  while (log.readSeq >= log.end) await t.block(log.queue, EVENT_IN);
  let done = 0;
  for (const r of log.from(log.readSeq)) {
    const text = r.line.slice(log.readPartial);
    let n: number;
    if (text.length <= len - done) {
      n = text.length;
      log.readSeq = r.seq + 1;
      log.readPartial = 0;
    } else if (done === 0) {
      n = len;
      log.readPartial += n;
    } else break;
    t.mm.copyOut(buf + done, Buffer.from(text.slice(0, n), 'latin1'));
    done += n;
    if (r.seq + 1 !== log.readSeq) break;
  }
  return done;
}

/** READ_ALL: the newest whole records that fit, from the last clear on. */
function readAll(t: Task, buf: number, len: number, clear: boolean): number {
  const log = t.kernel.klog;
  const recs = log.from(log.clearSeq);
  let total = recs.reduce((n, r) => n + r.line.length, 0);
  let first = 0;
  while (total > len && first < recs.length) total -= recs[first++].line.length;
  const text = recs.slice(first).map((r) => r.line).join('');
  if (text.length) t.mm.copyOut(buf, Buffer.from(text, 'latin1'));
  if (clear) log.clearSeq = log.end;
  return text.length;
}

function syslog(t: Task, a: number[]): number | Promise<number> {
  const type = i32(a[0]), buf = a[1], len = i32(a[2]);
  const log = t.kernel.klog;
  const restricted = log.dmesgRestrict !== 0 || (type !== SYSLOG_ACTION_READ_ALL && type !== SYSLOG_ACTION_SIZE_BUFFER);
  if (restricted && !capable(t, CAP_SYSLOG) && !capable(t, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  switch (type) {
    case SYSLOG_ACTION_CLOSE:
    case SYSLOG_ACTION_OPEN:
      return 0;
    case SYSLOG_ACTION_READ:
      return logBuffer(buf, len) ? readLog(t, buf, len) : 0;
    case SYSLOG_ACTION_READ_ALL:
    case SYSLOG_ACTION_READ_CLEAR:
      return logBuffer(buf, len) ? readAll(t, buf, len, type === SYSLOG_ACTION_READ_CLEAR) : 0;
    case SYSLOG_ACTION_CLEAR:
      log.clearSeq = log.end;
      return 0;
    case SYSLOG_ACTION_CONSOLE_OFF:
    case SYSLOG_ACTION_CONSOLE_ON:
      log.consoleOff = type === SYSLOG_ACTION_CONSOLE_OFF;
      return 0;
    case SYSLOG_ACTION_CONSOLE_LEVEL:
      need(len >= 1 && len <= 8);
      log.consoleLevel = len;
      log.consoleOff = false;
      return 0;
    case SYSLOG_ACTION_SIZE_UNREAD:
      return log.from(log.readSeq).reduce((n, r) => n + r.line.length, 0) - log.readPartial;
    case SYSLOG_ACTION_SIZE_BUFFER:
      return LOG_BUF_LEN;
    default:
      throw new Errno(E.EINVAL);
  }
}

export const defs: SyscallDef[] = [
  { nr: 227, name: 'clock_settime', args: ['clockid', 'timespec'], fn: clockSettime,
    partial: 'the host clock is never set: EPERM (as without CAP_SYS_TIME) once the arguments pass Linux\'s checks, with CAP_SYS_TIME too' },
  { nr: 164, name: 'settimeofday', args: ['timeval', 'ptr'], fn: settimeofday,
    partial: 'as clock_settime: a time or time zone that passes the checks is refused with EPERM, with CAP_SYS_TIME too' },
  { nr: 159, name: 'adjtimex', args: ['ptr'], fn: (t, a) => adjtime(t, a[0]),
    partial: 'reads the state of a never-synchronised clock (TIME_ERROR, STA_UNSYNC), not the host\'s NTP state; any change is EPERM, with CAP_SYS_TIME too' },
  { nr: 305, name: 'clock_adjtime', args: ['clockid', 'ptr'], fn: clockAdjtime,
    partial: 'CLOCK_REALTIME as adjtimex; other clocks EOPNOTSUPP as on Linux' },
  { nr: 103, name: 'syslog', args: ['int', 'ptr', 'int'], fn: syslog,
    partial: 'the sandbox\'s own log (a boot line and what the Sentry writes), with dmesg_restrict 1; console settings are kept but there is no console' },
];
