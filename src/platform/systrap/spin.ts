// Adaptive spinning. A hand-off between the Sentry and a stub thread is
// cheap while the waiting side spins on a free CPU and expensive when it
// sleeps (a futex or epoll wake-up, 5 us or more here); but on a loaded
// machine a spinning side takes the CPU the other one needs. So each side
// spins only while spinning pays: a spin that caught its event doubles the
// budget, one that ran out halves it, and at zero a short trial runs now and
// then to notice when CPUs are free again.

/** Spins with a zero budget between two trials. */
const TRIAL_EVERY = 64;

export class SpinBudget {
  private sinceTrial = 0;

  constructor(
    private readonly min: number,
    private readonly max: number,
    public value: number,
  ) {}

  /** The budget for the next spin. */
  next(): number {
    if (this.value > 0) return this.value;
    if (++this.sinceTrial < TRIAL_EVERY) return 0;
    this.sinceTrial = 0;
    return this.min;
  }

  /** The spin caught its event. */
  hit(): void {
    this.value = Math.min(this.max, Math.max(this.min, this.value * 2));
  }

  /** The spin ran out. */
  miss(): void {
    const half = Math.floor(this.value / 2);
    this.value = half < this.min ? 0 : half;
  }
}
