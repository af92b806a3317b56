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
// per trap over windows of WINDOW_TRAPS traps, now and then a probe of a few
// windows in the other placement, kept when it is clearly cheaper (see
// TrapPlacement for what makes a probe fair). Where traps are sparse
// (a compute-bound program) the two cost about the same, and the CPU
// policy's spreading (ptrace/affinity.ts) decides where the thread computes.
// An idle sandbox spins in neither: the Sentry's spin needs a recent trap,
// the stub's runs only after a trap of its own.

import * as fs from 'node:fs';
import * as libc from '../../host/libc';
import type { PlatformStats } from '../platform';
import type { CpuPolicy, StubCpu } from '../ptrace/affinity';

const MASK_BYTES = 128;
/** Traps per window, at most: a window's cost is its wall time per trap. */
const WINDOW_TRAPS = 128;
/** A window also ends after this long (ns) once it has MIN_WINDOW_TRAPS: at a millisecond per trap, 128 traps would take a tenth of a second. */
const WINDOW_NS = 20_000_000;
const MIN_WINDOW_TRAPS = 8;
/** The kept placement's cost is the median of its last KEPT_WINDOWS windows (a GC pause or a timer spoils one, not the median). */
const KEPT_WINDOWS = 5;
/** A probe is PROBE_WINDOWS windows after its warm-up, judged by their median: decided as soon as a majority of them agree. */
const PROBE_WINDOWS = 3;
const PROBE_MAJORITY = (PROBE_WINDOWS >> 1) + 1;
/**
 * Traps let pass after a switch before a window counts: the threads move, the other CPU wakes from idle, the spins
 * settle (traced here: the first 2 to 5 traps apart cost several times the steady ones, 20-50 us against 4-7).
 */
const WARM_TRAPS = 32;
/** Judged windows between probes of the other placement: doubled after each probe lost, up to the max. */
const PROBE_EVERY_MIN = 2;
const PROBE_EVERY_MAX = 512;
/** After a switch: the placement left was just measured dearer, so the next probe of it can wait. */
const PROBE_EVERY_SWITCHED = 8;
/** After a probe skipped because the other CPUs were busy, the next look comes at most this many windows later (a look is one read of /proc/stat). */
const SKIP_EVERY_MAX = 32;
/** The other placement is taken when its median costs less than this fraction of the kept one's: hysteresis against noise. */
const SWITCH_BELOW = 0.85;
/**
 * A probe has lost as soon as it took longer than ABORT_RATIO times what its traps would have cost in the kept
 * placement, plus PROBE_SLACK_NS (moving the threads, the warm-up): on a busy host the other placement can cost a
 * hundred times more per trap, and its windows would take that long.
 */
const ABORT_RATIO = 3;
const PROBE_SLACK_NS = 2_000_000;
/**
 * DEGRADED_WINDOWS windows in a row of the kept placement each costing above DEGRADED_ABOVE times what it cost when
 * taken or last probed against: the machine changed (another program took the other CPU), so the other placement is
 * probed now rather than after the back-off. In a row: a pause (a preemption, a GC) spoils one window, and a test on
 * the median of the last five was set off by pauses in any three of them (a seeded model, a 2 ms pause every 600
 * traps: a needless probe every 20 windows).
 */
const DEGRADED_ABOVE = 2;
const DEGRADED_WINDOWS = 3;

/**
 * Windows costing more than this per trap (ns, the kept placement's median) are sparse traps: a compiler, a shell's
 * fork and exec. There apart cannot win: it saves the two wake-ups of a hand-off, about 5 us a trap (getpid quiet,
 * 10.3 us together against 5.5 apart), which above 35-40 us is less than the SWITCH_BELOW bar, so a probe is won
 * only by the program's own phases (make -j1: windows of 0.15-1.2 ms per trap, six switches in one make, auto
 * 1.1-1.35x together); and traps farther apart than the spins (the Sentry's 100 us, the stub's ~80) make every
 * hand-off apart a wake-up across CPUs (15 us against 5.5 on one). So a sparse together is not probed, and a sparse
 * apart goes back together at once.
 */
const SPARSE_NS = 40_000;

/**
 * A probe of apart needs the other CPUs at least this idle since the last look (their idle share of /proc/stat): at
 * a load of 14 the stubs there waited milliseconds per trap. Not more: at a load of 3 (the other CPU under half idle)
 * apart still took 4-7 us per trap against 13 together, and a probe that loses is cut short (ABORT_RATIO).
 */
const PROBE_IDLE_MIN = 0.25;

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

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/**
 * Where the threads run, decided from the wall time per trap. Fair probes: a
 * switch's first traps are not measured (WARM_TRAPS), a probe is several
 * windows and the kept placement's cost the median of its recent windows,
 * the other placement is taken only when clearly cheaper (SWITCH_BELOW), a
 * probe far worse ends at once, lost probes back off, and a kept placement
 * that becomes much dearer is questioned at once. Fed only times (noteTrap)
 * and the other CPUs' idleness (othersIdle), so a unit test can drive it.
 */
export class TrapPlacement {
  mode: Placement = 'together';
  private probeEvery = PROBE_EVERY_MIN;
  private sinceProbe = 0;
  /** The current window: its start (ns, 0: none yet) and traps so far; traps still to skip before it. */
  private winStart = 0;
  private winTraps = 0;
  /** The last trap's time, and the window's longest gap between two traps (ns). */
  private lastAt = 0;
  private winLongest = 0;
  private warm = 0;
  /** The kept placement's last windows (ns per trap), newest last. */
  private kept: number[] = [];
  /** The kept placement's cost when it was taken (or first measured): what DEGRADED_ABOVE compares with; 0: none yet. */
  private takenAt = 0;
  /** The probe's windows so far; set while a probe of the other placement runs (its warm-up included), since probeStart (ns). */
  private probing = false;
  private probeStart = 0;
  private probeTraps = 0;
  private probed: number[] = [];
  /** The kept placement's cost when the probe started (median of its windows). */
  private probeAgainst = 0;
  /**
   * How idle the CPUs other than the Sentry's were since the last call (0-1):
   * a probe of apart on a busy host costs milliseconds per trap before it is
   * cut short, so it is not tried there. Replaceable (tests).
   */
  othersIdle: () => number;
  /** Told each decision, when set (TSVISOR_SYSTRAP_PLACEMENT_TRACE; tests). */
  trace: ((line: string) => void) | null = null;
  private idleAt = new Map<number, { idle: number; total: number }>();

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
    if (this.probing) {
      this.probeTraps++;
      if (now - this.probeStart > this.probeAgainst * this.probeTraps * ABORT_RATIO + PROBE_SLACK_NS) {
        this.lost(`cut short after ${this.probeTraps} traps, ${Math.round((now - this.probeStart) / this.probeTraps)} ns each`);
        return;
      }
    }
    if (this.warm > 0) {
      this.warm--;
      return;
    }
    if (this.winStart === 0) {
      this.winStart = this.lastAt = now;
      this.winTraps = this.winLongest = 0;
      return;
    }
    const gap = now - this.lastAt;
    this.lastAt = now;
    if (gap > this.winLongest) this.winLongest = gap;
    const took = now - this.winStart;
    if (++this.winTraps < WINDOW_TRAPS && (took < WINDOW_NS || this.winTraps < MIN_WINDOW_TRAPS)) return;
    // Less its longest gap: one pause (a preemption, a GC) says nothing of the placement, and would decide a window.
    const cost = (took - this.winLongest) / (this.winTraps - 1);
    this.winStart = now;
    this.winTraps = this.winLongest = 0;
    if (this.probing) this.probeWindow(cost);
    else this.keptWindow(cost, now);
  }

  private keptWindow(cost: number, now: number): void {
    this.kept.push(cost);
    if (this.kept.length > KEPT_WINDOWS) this.kept.shift();
    if (this.kept.length < KEPT_WINDOWS) return;
    const keptCost = median(this.kept);
    if (keptCost > SPARSE_NS) {
      if (this.mode === 'apart') this.sparseTogether(keptCost);
      return;
    }
    if (this.takenAt === 0) this.takenAt = keptCost;
    if (Math.min(...this.kept.slice(-DEGRADED_WINDOWS)) > this.takenAt * DEGRADED_ABOVE) {
      // The back-off stays: a probe that loses here still makes the next one wait longer.
      this.trace?.(`${this.mode}: ${Math.round(keptCost)} ns per trap, was ${Math.round(this.takenAt)}: probe now`);
    } else if (++this.sinceProbe < this.probeEvery) {
      return;
    }
    this.sinceProbe = 0;
    this.takenAt = keptCost;
    const idle = this.mode === 'together' ? this.othersIdle() : 1;
    if (idle < PROBE_IDLE_MIN) {
      // Nothing moved: the next look comes later, but not much later (it costs one read of /proc/stat).
      this.stats.placementProbesSkipped = (this.stats.placementProbesSkipped ?? 0) + 1;
      if (this.probeEvery < SKIP_EVERY_MAX) this.probeEvery = Math.min(this.probeEvery * 2, SKIP_EVERY_MAX);
      this.trace?.(`no probe of apart: the other CPUs ${Math.round(idle * 100)}% idle; next look in ${this.probeEvery} windows`);
      return;
    }
    this.probing = true;
    this.probeStart = now;
    this.probeTraps = 0;
    this.probed = [];
    this.probeAgainst = keptCost;
    this.flip();
    this.trace?.(`probe ${this.mode} against ${Math.round(keptCost)} ns per trap`);
  }

  /** Apart, the traps became sparse (see SPARSE_NS): together, measured afresh, and apart probed soon once they are dense again. */
  private sparseTogether(keptCost: number): void {
    this.stats.placementSwitches = (this.stats.placementSwitches ?? 0) + 1;
    this.flip();
    this.kept = [];
    this.takenAt = 0;
    this.probeEvery = PROBE_EVERY_MIN;
    this.sinceProbe = 0;
    this.trace?.(`traps sparse apart (${Math.round(keptCost)} ns per trap): back to together`);
  }

  private probeWindow(cost: number): void {
    this.probed.push(cost);
    // The median of PROBE_WINDOWS is decided once a majority falls on one side of the bar.
    const bar = this.probeAgainst * SWITCH_BELOW;
    const cheaper = this.probed.filter((c) => c < bar).length;
    if (cheaper < PROBE_MAJORITY && this.probed.length - cheaper < PROBE_MAJORITY) return;
    this.probing = false;
    const probeCost = median(this.probed);
    if (cheaper < PROBE_MAJORITY) {
      this.lost(`${Math.round(probeCost)} ns per trap`);
      return;
    }
    this.stats.placementSwitches = (this.stats.placementSwitches ?? 0) + 1;
    this.trace?.(`switched to ${this.mode}: ${Math.round(probeCost)} ns per trap against ${Math.round(this.probeAgainst)}`);
    this.kept = this.probed;
    this.takenAt = probeCost;
    this.probeEvery = PROBE_EVERY_SWITCHED;
    this.sinceProbe = 0;
  }

  /** The probe lost: back to the kept placement, and the next probe later. */
  private lost(why: string): void {
    this.probing = false;
    this.sinceProbe = 0;
    this.stats.placementProbesLost = (this.stats.placementProbesLost ?? 0) + 1;
    this.probeEvery = Math.min(PROBE_EVERY_MAX, this.probeEvery * 2);
    this.flip();
    this.trace?.(`probe lost (${why}), back to ${this.mode}; next in ${this.probeEvery} windows`);
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
    this.stats.placementMoves = (this.stats.placementMoves ?? 0) + 1;
    libc.sched_setaffinity(th.cpu.pid, MASK_BYTES, mask);
  }
}
