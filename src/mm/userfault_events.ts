// userfaultfd's non-cooperative events (UFFD_FEATURE_EVENT_*): changes the
// address space makes to a registered range that its monitor must learn of
// in order, each a message that the acting task waits to see read. The
// memory manager notes them where the change happens (fork, mremap, munmap,
// madvise's drops) on MemoryManager.uffdEvents; the kernel posts and waits
// for them one by one when the system call ends (kernel/userfault.ts), so a
// context holds at most one event per waiting task.

import {
  UFFD_EVENT_FORK, UFFD_EVENT_REMAP, UFFD_EVENT_REMOVE, UFFD_EVENT_UNMAP, UFFD_FEATURE_EVENT_FORK, UFFD_FEATURE_EVENT_REMAP,
  UFFD_FEATURE_EVENT_REMOVE, UFFD_FEATURE_EVENT_UNMAP,
} from '../abi/userfaultfd';
import { WaitQueue } from '../abi/waitqueue';
import type { MemoryManager } from './mm';
import type { UserfaultCtx } from './userfault';
import type { Vma } from './vma';

/** One event: its message (UFFD_EVENT_* and the argument words), whether read(2) handed it out, the queue its acting task waits on. */
export class UffdEvent {
  read = false;
  readonly queue = new WaitQueue();
  constructor(
    readonly ctx: UserfaultCtx,
    readonly event: number,
    /** remap: from, to, len; remove and unmap: start, end. */
    readonly args: readonly number[],
    /** EVENT_FORK: the child's context, a descriptor of the reader once read. */
    readonly child: UserfaultCtx | null = null,
    /** EVENT_FORK: let the child start (its creator is done waiting). */
    readonly startChild: (() => void) | null = null,
  ) {
    // Linux's mmap_changing: the context's fills are EAGAIN until the event is read.
    ctx.changing++;
  }
}

function wants(v: Vma, feature: number): UserfaultCtx | null {
  return v.uffd !== null && v.uffd.features & feature ? v.uffd : null;
}

/** munmap (and whatever unmaps: MAP_FIXED, mremap, brk) of [start, end): one UNMAP event per context with the feature, for the whole range. */
export function noteUnmap(mm: MemoryManager, start: number, end: number): void {
  for (const v of mm.vmas.overlapping(start, end)) {
    const ctx = wants(v, UFFD_FEATURE_EVENT_UNMAP);
    if (ctx === null) continue;
    const dup = mm.uffdEvents.some((e) => !isRemoveNote(e) && e.ctx === ctx && e.event === UFFD_EVENT_UNMAP && e.args[0] === start && e.args[1] === end);
    if (!dup) mm.uffdEvents.push(new UffdEvent(ctx, UFFD_EVENT_UNMAP, [start, end]));
  }
}

/**
 * MADV_DONTNEED, FREE, REMOVE of [start, end): a REMOVE event for each VMA
 * of a context with the feature, its part of the range. Made one at a time
 * as the kernel gets to them (nextRemove), as Linux tells them VMA by VMA:
 * a call over thousands of VMAs keeps one note, not thousands of events.
 * With drop, the pages go only as the events are read (each VMA's part
 * once its event was, as Linux drops after telling).
 */
export class RemoveNote {
  constructor(
    /** Where the next VMA to tell of starts its search. */
    public at: number,
    readonly end: number,
    /** Dropped up to here. */
    public dropped: number,
    readonly drop: ((from: number, to: number) => void) | null,
  ) {}
}

/** What a system call left its task to tell: events made already (fork, remap, unmap), or a removal's, made as they come. */
export type UffdNote = UffdEvent | RemoveNote;

/** Told apart by shape, not class: the bundles may each hold a copy of this module. */
export function isRemoveNote(n: UffdNote): n is RemoveNote {
  return 'at' in n;
}

/** Note a removal's events; false when no VMA of the range asks for them (the caller drops at once). */
export function noteRemove(mm: MemoryManager, start: number, end: number, drop: ((from: number, to: number) => void) | null = null): boolean {
  for (const v of mm.vmas.overlapping(start, end)) {
    if (wants(v, UFFD_FEATURE_EVENT_REMOVE) !== null) {
      mm.uffdEvents.push(new RemoveNote(Math.max(start, v.start), end, start, drop));
      return true;
    }
  }
  return false;
}

/** The removal's pages up to `to` go (those of the VMAs told of so far). */
export function dropTold(note: RemoveNote, to: number): void {
  if (note.drop === null || to <= note.dropped) return;
  const from = note.dropped;
  note.dropped = to;
  note.drop(from, to);
}

/** The REMOVE event of the next registered VMA of note's range (looked up now: the address space may have changed meanwhile, as Linux looks again after each wait), or null. */
export function nextRemove(mm: MemoryManager, note: RemoveNote): UffdEvent | null {
  if (note.at >= note.end) return null;
  for (const v of mm.vmas.overlapping(note.at, note.end)) {
    const ctx = wants(v, UFFD_FEATURE_EVENT_REMOVE);
    if (ctx === null) continue;
    const from = Math.max(note.at, v.start);
    note.at = Math.min(note.end, v.end);
    return new UffdEvent(ctx, UFFD_EVENT_REMOVE, [from, note.at]);
  }
  note.at = note.end;
  return null;
}

/**
 * mremap moved src's [from, from+len) to moved: with EVENT_REMAP the range
 * stays registered at its new place (its write protection with it) and the
 * context is told; without, it is registered no more.
 */
export function noteRemap(mm: MemoryManager, src: Vma, moved: Vma, from: number, len: number): void {
  const ctx = wants(src, UFFD_FEATURE_EVENT_REMAP);
  if (ctx === null) return;
  moved.uffd = ctx;
  moved.uffdMode = src.uffdMode;
  if (src.wp !== null) moved.wp = new Set([...src.wp].filter((p) => p < moved.pages));
  mm.uffdEvents.push(new UffdEvent(ctx, UFFD_EVENT_REMAP, [from, moved.start, len]));
}

/**
 * fork: a VMA registered with a context that has EVENT_FORK stays
 * registered in the child, with a new context (one per parent context)
 * that the parent's monitor gets as a descriptor when it reads the event
 * (made maps the parent's contexts to the child's).
 */
export function forkRegistration(parent: Vma, child: Vma, childMm: MemoryManager, made: Map<UserfaultCtx, UserfaultCtx>): void {
  const ctx = wants(parent, UFFD_FEATURE_EVENT_FORK);
  if (ctx === null) return;
  let nctx = made.get(ctx);
  if (nctx === undefined) {
    nctx = ctx.forkCtx(childMm);
    made.set(ctx, nctx);
  }
  child.uffd = nctx;
  child.uffdMode = parent.uffdMode;
  if (parent.wp !== null) child.wp = new Set(parent.wp);
}

/**
 * The fork events of the contexts forkRegistration made, on the parent's
 * list; the child does not start before its parent is done waiting for
 * them (MemoryManager.uffdHold), as Linux's parent finishes the fork only then.
 */
export function noteFork(mm: MemoryManager, made: Map<UserfaultCtx, UserfaultCtx>, child: MemoryManager): void {
  if (made.size === 0) return;
  let release = (): void => {};
  child.uffdHold = new Promise<void>((resolve) => (release = resolve));
  for (const [ctx, nctx] of made) mm.uffdEvents.push(new UffdEvent(ctx, UFFD_EVENT_FORK, [], nctx, release));
}
