// The threads running application code, which the systrap wait polls for
// traps: a dense array with each member's index on the member itself, so
// that taking a thread out at its trap and putting it back at its answer
// allocate nothing. (A Set did: deleting its only member shrank its table,
// and the add regrew it, about 100 bytes per trap, plus an iterator per
// poll of the spin.)

/** A member: its index in the array, -1 when out. */
export interface RunIndexed {
  runIdx: number;
}

export class RunningThreads<T extends RunIndexed> {
  /** Members in [0, size); the slots past it hold null (the array never shrinks, so it never reallocates). */
  readonly items: Array<T | null> = [];
  size = 0;

  add(th: T): void {
    if (th.runIdx >= 0) return;
    th.runIdx = this.size;
    if (this.size < this.items.length) this.items[this.size] = th;
    else this.items.push(th);
    this.size++;
  }

  /** Take th out; the last member moves into its slot. */
  delete(th: T): void {
    const i = th.runIdx;
    if (i < 0) return;
    th.runIdx = -1;
    const last = this.items[--this.size]!;
    this.items[this.size] = null;
    if (last !== th) {
      this.items[i] = last;
      last.runIdx = i;
    }
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.size; i++) yield this.items[i]!;
  }
}
