// Which CPUs the Sentry and its stubs run on. A ptrace round trip between
// two CPUs costs several times one on the same CPU (BRIEF: 57 us against
// 10 us), so a stub that traps often stays on the tracer's CPU. But pinning
// everything to one CPU makes a pipeline of compute-bound programs (tar |
// gzip) share it, and on a loaded host the CPU picked may be the busy one.
// So:
// - the tracer pins itself to its current CPU at once (the set-up's own
//   round trips stay on one CPU); at the platform's first wait, the CPU
//   that was least busy since then (the sandbox's set-up, tens of
//   milliseconds, so no extra wait) becomes the tracer's, and the tracer and
//   the stubs move there if it is another one;
// - every stub starts on the tracer's CPU; one that spends much more CPU
//   time between stops than a round trip costs (compute-bound: gzip,
//   compilers) may run on every allowed CPU, and goes back when it traps
//   often again. Stub CPU time is the host thread's run time in
//   nanoseconds (/proc/TID/schedstat; the context's /proc/PID/stat ticks
//   where the host has no schedstat), read at a stop of that stub at most
//   every EVAL_MS, and every RUNNING_CHECK_NS while it runs without stops;
// - a thread let run anywhere is moved at once to the CPU with the fewest
//   of the sandbox's threads running application code, and moved again if
//   the host puts it back beside another (spread, keepApart): two compute
//   threads get a CPU each within milliseconds, not when the host's load
//   balancer gets to it;
// - the application's own affinity (sched_setaffinity in the sandbox) bounds
//   both: a thread whose mask leaves out the tracer's CPU runs on its mask's
//   CPUs, so that it runs where it asked to (the vDSO's getcpu reads the
//   host CPU), and a spread one runs on its mask's CPUs only.
// TSVISOR_CPU_TRACE=1 writes every look and move, with the host's
// CLOCK_MONOTONIC in ms, to the Sentry's stderr (bench/cpu_mt.c prints its
// own times on the same clock with CPU_MT_TIMES=1).

import * as fs from 'node:fs';
import * as libc from '../../host/libc';
import type { CpuTime, PlatformStats } from '../platform';

/** Re-evaluate a stub at most this often (its CPU time has 10 ms ticks). */
const EVAL_MS = 200;
/**
 * While a thread on the tracer's CPU runs application code, look at it this
 * often even if it never stops: a thread that computes without system calls
 * gives no stop to be judged at.
 */
const RUNNING_CHECK_NS = 10_000_000;
/**
 * After a look that could only take a thread's baseline (it had stopped
 * since the last one: page faults while a compute thread fills its
 * arrays), look again this soon. With the run time in nanoseconds, two
 * compute threads sharing the tracer's CPU leave it within about 20-30 ms
 * (with 10 ms ticks it took about 100: half of a 100 ms computation ran on
 * one CPU, 1.85x native on a quiet machine).
 */
const RUNNING_RECHECK_NS = 10_000_000;
/**
 * Looks while only spread threads run (keepApart) come RUNNING_CHECK_NS
 * apart while one of them stopped since the last look (the host may have
 * woken it on the tracer's CPU), and back off, doubling, to this when none
 * did: a look wakes the idle Sentry, about 0.6 ms of its CPU time each
 * (100 looks a second took 55-62 ms of it per second).
 */
const APART_CHECK_MAX_NS = 320_000_000;
/** keepApart looks at most this many threads in application code per allowed CPU. */
const APART_MAX_PER_CPU = 2;
/**
 * Look at the clock only every this many stops of a stub: a clock read costs
 * 0.3-0.8 us in these VMs, a few percent of a stop. A compute-bound stub
 * (1 ms or more per stop) still gets looked at every 32 ms of its CPU time.
 */
const CLOCK_EVERY = 32;
/** Compute-bound: at least this much CPU per stop, ms (a cross-CPU round trip then adds a few percent at most)... */
const SPREAD_MS_PER_STOP = 1;
/** ...over at least this much CPU time, ms (in ticks of 10 ms, two: less says nothing). */
const SPREAD_MIN_CPU_MS = 20;
/**
 * The same with the run time in nanoseconds: 2.5 ms with at most two stops
 * is compute. With 5 ms, two threads computing on the tracer's CPU (each
 * gets about half of a look's 10 ms) were often found with 4-5 ms and
 * judged at the look after, 10 ms later (TSVISOR_CPU_TRACE).
 */
const SPREAD_MIN_RUN_MS = 2.5;
/** Back on the tracer's CPU below this much CPU per stop, ms. */
const PIN_MS_PER_STOP = 0.25;
const MASK_BYTES = 128;
const TICKS_PER_SEC = 100; // USER_HZ of /proc/stat on x86-64 Linux

/** What the policy keeps per stub (on the stub). */
export class StubCpu {
  stops = 0;
  /** The policy this thread is judged by (null: never moved). */
  policy: CpuPolicy | null = null;
  evalAt = 0;
  stopsAt = 0;
  /**
   * CPU time at the last look. A thread's counters start at zero (a parked
   * host thread's are counted from when it was taken), so the first look
   * already judges what it ran since it began.
   */
  cpuNsAt = 0;
  /** Run time (schedstat, ns) at the last look; -1 until the first look takes it (a reused host thread's is not zero). */
  runNsAt = -1;
  spread = false;
  /** stops at the policy's last look at it while spread. */
  stopsAtLook = 0;
  /** The application's affinity for this thread, as allowed host CPUs (null: any). */
  appCpus: number[] | null = null;
  /** The stub's pid (sched_setaffinity). */
  constructor(readonly pid: number) {}
}

export class CpuPolicy {
  /** CPUs the Sentry may use (its affinity when the platform was made). */
  readonly allowed: number[];
  /** The tracer's CPU; final once settled. */
  cpu: number;
  settled = false;
  /** A thread on the tracer's CPU went back to application code since the last checkRunning. */
  checkWanted = false;
  /** When the platform should look at running threads next, ns from now (while checkWanted). */
  nextCheckNs = RUNNING_CHECK_NS;
  /** The interval of looks while only spread threads run (APART_CHECK_MAX_NS). */
  private apartNs = RUNNING_CHECK_NS;
  private readonly busyAtStart: Map<number, number>;
  private readonly selfAtStart = process.cpuUsage();
  /** TSVISOR_CPU_TRACE=1: every look and move, with its time, on stderr (the Sentry's). */
  trace: ((line: string) => void) | null = null;
  /** The host gives each thread's run time in nanoseconds (/proc/TID/schedstat). */
  private readonly precise = fs.existsSync('/proc/self/schedstat');
  /** threads: the application threads of the platform (those running application code are what a spread thread is placed against). */
  constructor(
    private readonly stats: PlatformStats,
    private readonly threads: () => Iterable<{ cpu: StubCpu; inApp: boolean }>,
  ) {
    this.allowed = readMask(0);
    this.cpu = libc.sched_getcpu();
    // Stubs spawned from now on inherit the mask.
    libc.sched_setaffinity(0, MASK_BYTES, maskOf([this.cpu]));
    this.busyAtStart = this.allowed.length > 1 ? busyTicks() : new Map();
    if (process.env.TSVISOR_CPU_TRACE === '1') this.trace = (line) => fs.writeSync(2, `cpu policy ${(Number(process.hrtime.bigint()) / 1e6).toFixed(3)} ms: ${line}\n`);
  }

  /**
   * Move the tracer and the given stubs to the CPU least busy since
   * construction, if that is not the current one. Called once, at the
   * platform's first wait (the first program is running).
   */
  settle(pids: number[]): void {
    this.settled = true;
    if (this.allowed.length < 2) return;
    const now = busyTicks();
    // The Sentry's own set-up ran on its CPU in the meantime: that is not load.
    const self = process.cpuUsage(this.selfAtStart);
    const own = Math.floor(((self.user + self.system) / 1e6) * TICKS_PER_SEC);
    now.set(this.cpu, (now.get(this.cpu) ?? 0) - own);
    let best = this.cpu;
    let bestBusy = this.busySince(now, best);
    for (const c of this.allowed) {
      const b = this.busySince(now, c);
      // A tick or two apart is noise: move only for a clear difference.
      if (b < bestBusy - 2) [best, bestBusy] = [c, b];
    }
    if (best === this.cpu) return;
    this.cpu = best;
    const mask = maskOf([best]);
    libc.sched_setaffinity(0, MASK_BYTES, mask);
    for (const pid of pids) libc.sched_setaffinity(pid, MASK_BYTES, mask);
  }

  private busySince(now: Map<number, number>, cpu: number): number {
    return (now.get(cpu) ?? 0) - (this.busyAtStart.get(cpu) ?? 0);
  }

  /**
   * At a stop of stub s: count it, and every EVAL_MS compare the stub's CPU
   * time (from its context) with its stops since the last look.
   */
  noteStop(s: StubCpu, ctx: { cpuTime(): CpuTime }): void {
    if (++s.stops % CLOCK_EVERY !== 0 || this.allowed.length < 2) return;
    const now = performance.now();
    if (now - s.evalAt < EVAL_MS) return;
    this.evaluate(s, ctx, now);
  }

  /**
   * The threads running application code (every RUNNING_CHECK_NS while
   * there are any): one on the tracer's CPU that used much CPU since the
   * last look with few stops may run anywhere; spread ones that share a CPU
   * while another has none of them are put apart (keepApart). checkWanted
   * stays set while such threads remain, so the platform looks again.
   */
  checkRunning(threads: Iterable<{ cpu: StubCpu; inApp: boolean; cpuTime(): CpuTime }>): void {
    this.checkWanted = false;
    this.nextCheckNs = RUNNING_CHECK_NS;
    if (this.allowed.length < 2) return;
    this.trace?.('look at running threads');
    const now = performance.now();
    let spread = 0;
    let inApp = 0;
    let stirred = false;
    for (const th of threads) {
      if (!th.inApp) continue;
      inApp++;
      if (th.cpu.spread) {
        spread++;
        if (th.cpu.stops !== th.cpu.stopsAtLook) stirred = true;
        th.cpu.stopsAtLook = th.cpu.stops;
        continue;
      }
      const before = th.cpu.stopsAt;
      const judged = this.evaluate(th.cpu, th, now);
      if (th.cpu.spread) continue;
      this.checkWanted = true;
      if (judged && th.cpu.stops !== before) this.nextCheckNs = RUNNING_RECHECK_NS;
    }
    if (spread === 0) {
      this.apartNs = RUNNING_CHECK_NS;
      return;
    }
    const moved = this.keepApart(inApp);
    this.apartNs = moved || stirred ? RUNNING_CHECK_NS : Math.min(this.apartNs * 2, APART_CHECK_MAX_NS);
    this.nextCheckNs = this.checkWanted ? Math.min(this.nextCheckNs, this.apartNs) : this.apartNs;
    this.checkWanted = true;
  }

  /**
   * Spread threads do not stay where spread() put them: one that still
   * stops (page faults while it fills its memory) is woken by the tracer,
   * and the host may wake it on the tracer's CPU; traced here, two threads
   * spread during their page faults were both back on the tracer's CPU and
   * stayed there together for 30-60 ms of their computation. So at each
   * look, a spread thread that shares a CPU with another of the sandbox's
   * threads in application code, while a CPU it may use has none, is moved
   * there (as spread() does). True if one was moved. It reads where each
   * thread in application code is (a /proc file each), so it does nothing
   * with more than APART_MAX_PER_CPU of them per CPU: the host's balancer
   * is quick to even out a large difference, the slow one is one thread too many.
   */
  private keepApart(inApp: number): boolean {
    if (inApp > this.allowed.length * APART_MAX_PER_CPU) return false;
    const on = new Map<number, number>(this.allowed.map((c) => [c, 0]));
    const spread: { s: StubCpu; cpu: number }[] = [];
    for (const th of this.threads()) {
      if (!th.inApp) continue;
      const cpu = lastCpu(th.cpu.pid);
      on.set(cpu, (on.get(cpu) ?? 0) + 1);
      if (th.cpu.spread) spread.push({ s: th.cpu, cpu });
    }
    let moved = false;
    for (const { s, cpu } of spread) {
      if ((on.get(cpu) ?? 0) < 2) continue;
      const free = this.spreadCpus(s).find((c) => on.get(c) === 0);
      if (free === undefined) continue;
      this.moveSpread(s, free);
      on.set(cpu, (on.get(cpu) ?? 0) - 1);
      on.set(free, 1);
      moved = true;
      this.trace?.(`tid ${s.pid} spread, moved from CPU ${cpu} to ${free}`);
    }
    if (this.trace) for (const { s, cpu } of spread) this.trace(`tid ${s.pid} spread, on CPU ${cpu} (run ${(runNs(s.pid) / 1e6).toFixed(1)} ms)`);
    return moved;
  }

  /** Let a host thread that runs no application code run on every allowed CPU (a stub emptying itself); false if there is one. */
  unpin(tid: number): boolean {
    if (this.allowed.length < 2) return false;
    libc.sched_setaffinity(tid, MASK_BYTES, maskOf(this.allowed));
    return true;
  }

  /** Put a thread let run anywhere back on the tracer's CPU (a parked host thread taken by a new thread). */
  pin(s: StubCpu): void {
    libc.sched_setaffinity(s.pid, MASK_BYTES, maskOf(this.pinnedCpus(s)));
  }

  /**
   * The application set this thread's affinity (cpus: host CPU numbers;
   * null: all): keep it within them, on the tracer's CPU if they include it.
   */
  setAppCpus(s: StubCpu, cpus: number[] | null): void {
    const within = cpus ? this.allowed.filter((c) => cpus.includes(c)) : [];
    const next = within.length === 0 || within.length === this.allowed.length ? null : within;
    if (String(next) === String(s.appCpus)) return;
    s.appCpus = next;
    if (this.allowed.length < 2) return;
    libc.sched_setaffinity(s.pid, MASK_BYTES, maskOf(s.spread ? this.spreadCpus(s) : this.pinnedCpus(s)));
  }

  /** Where a thread that traps often runs: the tracer's CPU, unless its application mask leaves that out. */
  private pinnedCpus(s: StubCpu): number[] {
    return s.appCpus && !s.appCpus.includes(this.cpu) ? s.appCpus : [this.cpu];
  }

  /** Where a compute-bound thread runs: every allowed CPU its application mask has. */
  private spreadCpus(s: StubCpu): number[] {
    return s.appCpus ?? this.allowed;
  }

  /**
   * Let s run on every CPU of its spread set, starting on the one with the
   * fewest other threads running application code (its own CPU among
   * equals). Widening the mask alone moves nothing: the host leaves a
   * running thread on its CPU, the tracer's, which the other pinned compute
   * threads share, until its load balancer moves it; traced here (load
   * 3-4), two spread threads were both still on the tracer's CPU 10-20 ms
   * later. Pinning it to the chosen CPU first makes the host
   * migrate it at once; the mask is widened right after, so that the host
   * may still move it.
   */
  private spread(s: StubCpu): void {
    const cpus = this.spreadCpus(s);
    // Where the threads are, as the host says (on systrap a pinned thread may sit on the other CPUs: placement.ts).
    const load = new Map<number, number>(cpus.map((c) => [c, 0]));
    for (const th of this.threads()) {
      if (!th.inApp || th.cpu === s) continue;
      const c = lastCpu(th.cpu.pid);
      const n = load.get(c);
      if (n !== undefined) load.set(c, n + 1);
    }
    const here = lastCpu(s.pid);
    let home = load.has(here) ? here : cpus[0];
    for (const c of cpus) if ((load.get(c) ?? 0) < (load.get(home) ?? 0)) home = c;
    if (home !== here) this.moveSpread(s, home);
    else libc.sched_setaffinity(s.pid, MASK_BYTES, maskOf(cpus));
    this.trace?.(`tid ${s.pid} spread from CPU ${here} to ${home} (others in application code: ${[...load].map(([c, n]) => `${n} on ${c}`).join(', ')})`);
  }

  /** Move spread thread s to CPU cpu now (pinned there: the host migrates a running thread at once), then let it run on all of its spread set again. */
  private moveSpread(s: StubCpu, cpu: number): void {
    libc.sched_setaffinity(s.pid, MASK_BYTES, maskOf([cpu]));
    libc.sched_setaffinity(s.pid, MASK_BYTES, maskOf(this.spreadCpus(s)));
    this.stats.cpuSpreadsAway = (this.stats.cpuSpreadsAway ?? 0) + 1;
  }

  /** Judge s on its CPU time and stops since the last look; false if it ran too little to say anything. */
  private evaluate(s: StubCpu, ctx: { cpuTime(): CpuTime }, now: number): boolean {
    const run = this.precise ? runNs(s.pid) : -1;
    let ns: number;
    let min = SPREAD_MIN_CPU_MS;
    if (run >= 0) {
      if (s.runNsAt < 0) {
        this.trace?.(`tid ${s.pid} baseline (run ${(run / 1e6).toFixed(1)} ms, ${s.stops} stops)`);
        // The first look only takes the baseline.
        s.runNsAt = run;
        s.evalAt = now;
        s.stopsAt = s.stops;
        return false;
      }
      ns = run - s.runNsAt;
      min = SPREAD_MIN_RUN_MS;
    } else {
      const t = ctx.cpuTime();
      ns = t.userNs + t.sysNs - s.cpuNsAt;
    }
    const cpuMs = ns / 1e6;
    // Too little CPU since the last look to say anything (a busy host may
    // give a thread less than a look's interval): keep counting from there.
    if (!s.spread && cpuMs < min) {
      this.trace?.(`tid ${s.pid} ran ${cpuMs.toFixed(2)} ms in ${s.stops - s.stopsAt} stops: too little`);
      s.evalAt = now;
      return false;
    }
    const perStop = cpuMs / Math.max(1, s.stops - s.stopsAt);
    if (!s.spread && perStop >= SPREAD_MS_PER_STOP && cpuMs >= min) {
      this.spread(s);
      s.spread = true;
      this.stats.cpuSpreads++;
    } else if (s.spread && perStop < PIN_MS_PER_STOP) {
      libc.sched_setaffinity(s.pid, MASK_BYTES, maskOf(this.pinnedCpus(s)));
      s.spread = false;
      this.stats.cpuPins++;
    }
    this.trace?.(`tid ${s.pid} ran ${cpuMs.toFixed(2)} ms in ${s.stops - s.stopsAt} stops (run ${(run / 1e6).toFixed(1)} ms): ${s.spread ? 'spread' : 'pinned'}, on CPU ${lastCpu(s.pid)} (tracer ${this.cpu})`);
    s.evalAt = now;
    s.stopsAt = s.stops;
    if (run >= 0) s.runNsAt = run;
    else s.cpuNsAt += ns;
    return true;
  }
}

/** A host thread's run time in nanoseconds (the first field of /proc/TID/schedstat), or -1. */
function runNs(tid: number): number {
  try {
    const text = fs.readFileSync(`/proc/${tid}/schedstat`, 'latin1');
    const n = Number(text.slice(0, text.indexOf(' ')));
    return Number.isFinite(n) ? n : -1;
  } catch {
    return -1;
  }
}

/** The CPU a host thread runs or last ran on (field 39 of /proc/TID/stat), or -1. */
function lastCpu(tid: number): number {
  try {
    const text = fs.readFileSync(`/proc/${tid}/stat`, 'latin1');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[36]);
  } catch {
    return -1;
  }
}

function maskOf(cpus: number[]): Buffer {
  const m = Buffer.alloc(MASK_BYTES);
  for (const c of cpus) m[c >> 3] |= 1 << (c & 7);
  return m;
}

function readMask(pid: number): number[] {
  const m = Buffer.alloc(MASK_BYTES);
  const out: number[] = [];
  if (libc.sched_getaffinity(pid, MASK_BYTES, m) < 0) return [libc.sched_getcpu()];
  for (let c = 0; c < MASK_BYTES * 8; c++) if (m[c >> 3] & (1 << (c & 7))) out.push(c);
  return out;
}

/** Non-idle ticks of each CPU so far (/proc/stat; empty if unreadable). */
function busyTicks(): Map<number, number> {
  const out = new Map<number, number>();
  let text: string;
  try {
    text = fs.readFileSync('/proc/stat', 'latin1');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const f = m[2].split(' ').map(Number);
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    out.set(Number(m[1]), f.reduce((a, b) => a + b, 0) - (f[3] ?? 0) - (f[4] ?? 0));
  }
  return out;
}
