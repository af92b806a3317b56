// /proc/PID/timens_offsets (man 7 time_namespaces): the CLOCK_MONOTONIC and
// CLOCK_BOOTTIME offsets of the process's time namespace for children, read
// as Linux prints them and written with Linux's rules: lines "CLOCK SECS
// NSECS" (CLOCK a name or a number), at most two taken, CAP_SYS_ADMIN over
// the namespace's owner, offsets that keep the clock between 0 and half of
// KTIME_MAX, and nothing once a process is inside (EACCES).
import { CAP_SYS_ADMIN } from '../../abi/capability';
import { E, Errno } from '../../abi/errno';
import { PAGE_SIZE } from '../../abi/mm';
import { nsCapable } from '../../auth/userns';
import type { TimeNamespace } from '../../kernel/namespaces';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import type { Entry, NodeMaker } from './nodes';
import type { ProcFs } from './procfs';
import { callerOf, ensureExists } from './task_info';

/** KTIME_MAX in seconds: the largest offset; a clock may reach half of it. */
const KTIME_SEC_MAX = 9223372036n;

function line(name: string, [sec, nsec]: [number, number]): string {
  return `${name.padEnd(10)} ${String(sec).padStart(10)} ${String(nsec).padStart(9)}\n`;
}

interface Offset {
  clock: 'monotonic' | 'boottime';
  sec: bigint;
  nsec: number;
}

/** The offsets in text (at most two lines) and how many bytes they took; EINVAL for a malformed line or another clock. */
function parseOffsets(text: string): { offs: Offset[]; used: number } {
  const offs: Offset[] = [];
  let pos = 0;
  for (;;) {
    const nl = text.indexOf('\n', pos);
    const l = nl < 0 ? text.slice(pos) : text.slice(pos, nl);
    const m = /^[ \t\v\f\r]*(\S+)[ \t\v\f\r]+([+-]?\d+)[ \t\v\f\r]+(\d+)/.exec(l);
    if (!m || m[3].length > 10 || Number(m[3]) >= 1e9) throw new Errno(E.EINVAL);
    const clock = m[1] === 'monotonic' || m[1] === '1' ? 'monotonic' : m[1] === 'boottime' || m[1] === '7' ? 'boottime' : null;
    if (!clock) throw new Errno(E.EINVAL);
    offs.push({ clock, sec: BigInt(m[2]), nsec: Number(m[3]) });
    pos = nl < 0 ? text.length : nl + 1;
    if (pos >= text.length || offs.length === 2) return { offs, used: pos };
  }
}

function writeOffsets(fs: ProcFs, ctx: unknown, tn: TimeNamespace, data: Buffer): number {
  // Writes of a page or more are refused whole, as Linux's.
  if (data.length >= PAGE_SIZE) throw new Errno(E.EINVAL);
  const w = callerOf(fs.kernel, ctx);
  if (!w || !nsCapable(w.creds, tn.owner, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  const { offs, used } = parseOffsets(data.toString('latin1'));
  const nowNs = BigInt(Math.floor(fs.kernel.monotonicNs()));
  for (const o of offs) {
    if (o.sec > KTIME_SEC_MAX || o.sec < -KTIME_SEC_MAX) throw new Errno(E.ERANGE);
    // The clock of the namespace must stay between 0 and KTIME_SEC_MAX / 2 seconds.
    const total = nowNs + o.sec * 1_000_000_000n + BigInt(o.nsec);
    const sec = total >= 0n ? total / 1_000_000_000n : -1n;
    if (sec < 0n || sec > KTIME_SEC_MAX / 2n) throw new Errno(E.ERANGE);
  }
  if (tn.frozen) throw new Errno(E.EACCES);
  for (const o of offs) tn[o.clock] = [Number(o.sec), o.nsec];
  return used;
}

/** The timens_offsets file of a process. */
export function timensEntry(fs: ProcFs, m: NodeMaker, tg: ThreadGroup, t: Task): Entry {
  return m.rwFile('timens_offsets', () => {
    ensureExists(tg);
    const tn = t.nsproxy.timeForChildren;
    return line('monotonic', tn.monotonic) + line('boottime', tn.boottime);
  }, (data, ctx) => (ensureExists(tg), writeOffsets(fs, ctx, t.nsproxy.timeForChildren, data)));
}
