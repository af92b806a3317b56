// Where systrap's application threads run, against the Sentry's CPU, and
// whether the two sides spin. Measured on these 2-CPU VMs (bench/trap_bound.c,
// docs/PERFORMANCE.md): a hand-over between two spinning threads on two CPUs
// costs about 0.5 us, a futex hand-over on one CPU 5.5 us, a futex hand-over
// across CPUs 15 us (waking an idle virtual CPU). So:
//
// - together: the threads share the Sentry's CPU and neither side spins (a
//   spin there only delays the thread it waits for); every hand-over is a
//   futex or eventfd wake-up, as a ptrace stop is. What ran before.
// - apart: the threads run on the other CPUs and both sides spin a while for
//   each other (adaptive: spin.ts), so a syscall-bound thread's traps cost
//   the Sentry's work plus two cache-line transfers. It fills two CPUs while
//   calls flow, and is worse than together when the other CPU is busy with
//   someone else's work (the stub's spin is preempted, its wake-ups cross CPUs).
//
// Neither is right on every machine, so the Sentry measures: the wall time
// per trap over windows of WINDOW_TRAPS traps, now and then one window in the
// other placement, kept when it is clearly cheaper. Where traps are sparse
// (a compute-bound program) the two cost about the same, and the CPU
// policy's spreading (ptrace/affinity.ts) decides where the thread computes.
// An idle sandbox spins in neither: the Sentry's spin needs a recent trap,
// the stub's runs only after a trap of its own.

import * as fs from 'node:fs';
import * as libc from '../../host/libc';
import type { PlatformStats } from '../platform';
import type { CpuPolicy, StubCpu } from '../ptrace/affinity';

const MASK_BYTES = 128;
/** Traps per window. */
const WINDOW_TRAPS = 256;
/** Traps let pass after a switch before the probe window starts (the threads move, the spins settle). */
const WARM_TRAPS = 64;
/** Judged windows between probes of the other placement: doubled after each probe lost, up to the max. */
const PROBE_EVERY_MIN = 4;
const PROBE_EVERY_MAX = 512;
/** The other placement is taken when its window costs less than this fraction of the current one's. */
const SWITCH_BELOW = 0.85;
/** What a probe may take beyond its traps' cost in the kept placement before it has lost (ns): moving the threads. */
const PROBE_SLACK_NS = 1_000_000;

/** A probe of apart needs the other CPUs at least this idle since the last look (their idle share of /proc/stat). */
const PROBE_IDLE_MIN = 0.5;

export type Placement = 'together' | 'apart';

/** What the placement keeps per thread: the mask it last set, as a key (placeKey). */
export interface Placed {
  readonly cpu: StubCpu;
  placedKey: number;
}

/** A number per mask a thread can be given: spread (-1), or the placement and the Sentry's CPU. */
function placeKey(spread: boolean, apart: boolean, sentryCpu: number): number {
  return spread ? -1 : sentryCpu * 2 + (apart ? 1 : 0);
}

export class TrapPlacement {
  mode: Placement = 'together';
  private probeEvery = PROBE_EVERY_MIN;
  private sinceProbe = 0;
  /** The current window: its start (ns, 0: none yet) and traps so far; traps still to skip before it. */
  private winStart = 0;
  private winTraps = 0;
  private warm = 0;
  /** Cost (ns per trap) of the last judged window in the placement being kept; 0: none yet. */
  private keptCost = 0;
  /**
   * How idle the CPUs other than the Sentry's were since the last call (0-1):
   * a probe of apart on a busy host costs milliseconds per trap before it is
   * cut short, so it is not tried there. Replaceable (tests).
   */
  othersIdle: () => number;
  private idleAt = new Map<number, { idle: number; total: number }>();
  /** Set while a window of the other placement is measured (its warm-up included), since probeStart (ns). */
  private probing = false;
  private probeStart = 0;

  constructor(
    private readonly cpus: CpuPolicy,
    private readonly stats: PlatformStats,
    /** Switching is measured only when there is another CPU; TSVISOR_SYSTRAP_PLACEMENT fixes it (bench, tests). */
    private readonly fixed: Placement | null,
  ) {
    if (fixed !== null) this.mode = this.cpus.allowed.length > 1 ? fixed : 'together';
    this.othersIdle = () => this.readOthersIdle();
    if (fixed === null && this.cpus.allowed.length > 1) this.readOthersIdle();
  }

  private readOthersIdle(): number {
    let text: string;
    try {
      text = fs.readFileSync('/proc/stat', 'latin1');
    } catch {
      return 0;
    }
    let idle = 0, total = 0;
    for (const line of text.split('\n')) {
      const m = /^cpu(\d+) (.*)$/.exec(line);
      if (!m) continue;
      const cpu = Number(m[1]);
      if (cpu === this.cpus.cpu || !this.cpus.allowed.includes(cpu)) continue;
      const f = m[2].split(' ').map(Number);
      // user nice system idle iowait ...: idle and iowait are idle.
      const now = { idle: (f[3] ?? 0) + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
      const was = this.idleAt.get(cpu);
      this.idleAt.set(cpu, now);
      if (!was) continue;
      idle += now.idle - was.idle;
      total += now.total - was.total;
    }
    // Under a tick since the last look says nothing: try.
    return total > 0 ? idle / total : 1;
  }

  get apart(): boolean {
    return this.mode === 'apart';
  }

  /** A trap was taken at now (ns): count it into the window and judge the window when full. */
  noteTrap(now: number): void {
    if (this.mode === 'apart') this.stats.apartTraps = (this.stats.apartTraps ?? 0) + 1;
    if (this.fixed !== null || this.cpus.allowed.length < 2) return;
    // A probe that already took longer than its traps cost in the kept placement has lost: on a busy host the other
    // placement can cost a hundred times more per trap, and the window would take that long.
    if (this.probing && now - this.probeStart > this.keptCost * (WARM_TRAPS + WINDOW_TRAPS) + PROBE_SLACK_NS) {
      this.lost();
      return;
    }
    if (this.warm > 0) {
      this.warm--;
      return;
    }
    if (this.winStart === 0) {
      this.winStart = now;
      this.winTraps = 0;
      return;
    }
    if (++this.winTraps < WINDOW_TRAPS) return;
    const took = now - this.winStart;
    this.winStart = now;
    this.winTraps = 0;
    this.judge(took / WINDOW_TRAPS, now);
  }

  private judge(cost: number, now: number): void {
    if (this.probing) {
      this.probing = false;
      if (this.keptCost > 0 && cost < this.keptCost * SWITCH_BELOW) {
        this.stats.placementSwitches = (this.stats.placementSwitches ?? 0) + 1;
        this.keptCost = cost;
        this.probeEvery = PROBE_EVERY_MIN;
        this.sinceProbe = 0;
      } else {
        this.lost();
      }
      return;
    }
    this.keptCost = cost;
    if (++this.sinceProbe < this.probeEvery) return;
    if (this.mode === 'together' && this.othersIdle() < PROBE_IDLE_MIN) {
      // Counted as lost without moving anything: the next look comes later.
      this.sinceProbe = 0;
      this.stats.placementProbesSkipped = (this.stats.placementProbesSkipped ?? 0) + 1;
      this.probeEvery = Math.min(PROBE_EVERY_MAX, this.probeEvery * 2);
      return;
    }
    this.probing = true;
    this.probeStart = now;
    this.flip();
  }

  /** The probe lost: back to the kept placement, and the next probe later. */
  private lost(): void {
    this.probing = false;
    this.sinceProbe = 0;
    this.stats.placementProbesLost = (this.stats.placementProbesLost ?? 0) + 1;
    this.probeEvery = Math.min(PROBE_EVERY_MAX, this.probeEvery * 2);
    this.flip();
  }

  private flip(): void {
    this.mode = this.mode === 'apart' ? 'together' : 'apart';
    this.warm = WARM_TRAPS;
    this.winStart = 0;
  }

  /**
   * Give a thread the current placement's mask, if it does not have it
   * (called at its traps: one compare). A thread the CPU policy
   * spread (compute-bound) keeps every CPU.
   */
  place(th: Placed): void {
    const key = placeKey(th.cpu.spread, this.mode === 'apart', this.cpus.cpu);
    if (th.placedKey === key) return;
    th.placedKey = key;
    if (th.cpu.spread) return;
    let cpus = this.mode === 'apart' ? this.cpus.allowed.filter((c) => c !== this.cpus.cpu) : [this.cpus.cpu];
    // The application's own affinity bounds the placement (ptrace/affinity.ts).
    const app = th.cpu.appCpus;
    if (app) {
      const within = cpus.filter((c) => app.includes(c));
      cpus = within.length > 0 ? within : app;
    }
    const mask = Buffer.alloc(MASK_BYTES);
    for (const c of cpus) mask[c >> 3] |= 1 << (c & 7);
    libc.sched_setaffinity(th.cpu.pid, MASK_BYTES, mask);
  }
}
