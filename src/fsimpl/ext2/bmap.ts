// The block map of an ext2 inode: i_block[0..11] point at data blocks,
// i_block[12], [13] and [14] at single, double and triple indirect blocks of
// 32-bit block numbers. A hole is a zero pointer at any level. Walks are as
// deep as the level, so a loop of indirect blocks cannot make one endless;
// freeing visits at most as many blocks as the inode says it holds, so a
// hostile map (every pointer set, loops) costs a bounded amount of work.
import { corrupt } from './disk';
import type { Ext2Fs } from './fs';

/** The inode's side of the map: its 15 pointers and its i_blocks count. */
export interface BlockOwner {
  readonly fs: Ext2Fs;
  ptr(i: number): number;
  setPtr(i: number, b: number): void;
  /** i_blocks changed by delta file system blocks. */
  addBlocks(delta: number): void;
  /** The blocks the inode holds (i_blocks in file system blocks), to bound a walk. */
  heldBlocks(): number;
  /** Indirect blocks read lately (a sequential walk reads each once), kept current by mapBlock and emptied by freeFrom. */
  readonly mapCache: Map<number, Buffer>;
}

/** How many indirect blocks an inode keeps at hand: one path (three levels) and a spare. */
const CACHE_MAX = 4;

function pointerBlock(o: BlockOwner, b: number): Buffer {
  let blk = o.mapCache.get(b);
  if (!blk) {
    blk = o.fs.readBlock(b);
    if (o.mapCache.size >= CACHE_MAX) o.mapCache.clear();
    o.mapCache.set(b, blk);
  }
  return blk;
}

const DIRECT = 12;

/** Where logical block n lives: the slot of i_block and the indexes in each indirect level below it. */
function path(per: number, n: number): { slot: number; idx: number[] } | null {
  if (n < DIRECT) return { slot: n, idx: [] };
  n -= DIRECT;
  if (n < per) return { slot: 12, idx: [n] };
  n -= per;
  if (n < per * per) return { slot: 13, idx: [Math.floor(n / per), n % per] };
  n -= per * per;
  if (n < per * per * per) return { slot: 14, idx: [Math.floor(n / (per * per)), Math.floor(n / per) % per, n % per] };
  return null;
}

/**
 * The disk block of logical block n; 0 for a hole unless alloc, which
 * allocates (zeroed indirect blocks; the data block is the caller's to fill).
 * goal: where to look for free blocks first.
 */
export function mapBlock(o: BlockOwner, n: number, alloc: boolean, goal: number): number {
  const fs = o.fs;
  const p = path(fs.bs / 4, n);
  if (!p) throw corrupt(`logical block ${n} beyond the block map`);
  let b = o.ptr(p.slot);
  if (b === 0) {
    if (!alloc) return 0;
    b = newBlock(o, goal, p.idx.length > 0);
    o.setPtr(p.slot, b);
  } else {
    fs.checkBlock(b);
  }
  for (const i of p.idx) {
    const blk = pointerBlock(o, b);
    let c = blk.readUInt32LE(i * 4);
    if (c === 0) {
      if (!alloc) return 0;
      // A data block goes right after the pointer block's neighbours: the goal moves with the file.
      c = newBlock(o, goal, i !== p.idx[p.idx.length - 1]);
      blk.writeUInt32LE(c, i * 4);
      fs.writeBlock(b, blk.subarray(i * 4, i * 4 + 4), i * 4);
    } else {
      fs.checkBlock(c);
    }
    b = c;
  }
  return b;
}

function newBlock(o: BlockOwner, goal: number, indirect: boolean): number {
  const b = o.fs.allocBlock(goal);
  o.addBlocks(1);
  if (indirect) o.fs.writeBlock(b, Buffer.alloc(o.fs.bs));
  return b;
}

/**
 * Free every block of logical number >= from (truncate): data blocks, and
 * indirect blocks left with nothing below them. Pointer blocks that keep
 * some entries are rewritten with the freed entries zeroed.
 */
export function freeFrom(o: BlockOwner, from: number): void {
  const fs = o.fs;
  const per = fs.bs / 4;
  const budget = { left: o.heldBlocks() + 1 };
  o.mapCache.clear();
  for (let i = Math.max(0, from); i < DIRECT; i++) {
    const b = o.ptr(i);
    if (b) {
      release(o, b, budget);
      o.setPtr(i, 0);
    }
  }
  let base = DIRECT;
  for (let level = 1; level <= 3; level++) {
    const span = per ** level;
    const slot = 11 + level;
    const b = o.ptr(slot);
    if (b && from < base + span) {
      if (trim(o, b, level, base, from, budget)) o.setPtr(slot, 0);
    }
    base += span;
  }
}

/** Trim the subtree at pointer block b (level: 1 points at data), covering logical blocks from base; true when b itself was freed. */
function trim(o: BlockOwner, b: number, level: number, base: number, from: number, budget: { left: number }): boolean {
  const fs = o.fs;
  fs.checkBlock(b);
  const per = fs.bs / 4;
  const span = per ** (level - 1);
  const blk = fs.readBlock(b);
  let kept = false;
  let changed = false;
  for (let j = 0; j < per; j++) {
    const c = blk.readUInt32LE(j * 4);
    if (c === 0) continue;
    const start = base + j * span;
    if (start + span <= from) {
      kept = true;
      continue;
    }
    const gone = level === 1 || start >= from ? (releaseTree(o, c, level - 1, budget), true) : trim(o, c, level - 1, start, from, budget);
    if (gone) {
      blk.writeUInt32LE(0, j * 4);
      changed = true;
    } else {
      kept = true;
    }
  }
  if (!kept) {
    release(o, b, budget);
    return true;
  }
  if (changed) fs.writeBlock(b, blk);
  return false;
}

/** Free the whole subtree at b (level 0: a data block). */
function releaseTree(o: BlockOwner, b: number, level: number, budget: { left: number }): void {
  if (level > 0) {
    o.fs.checkBlock(b);
    const blk = o.fs.readBlock(b);
    for (let j = 0; j < o.fs.bs / 4; j++) {
      const c = blk.readUInt32LE(j * 4);
      if (c) releaseTree(o, c, level - 1, budget);
    }
  }
  release(o, b, budget);
}

function release(o: BlockOwner, b: number, budget: { left: number }): void {
  // More blocks than the inode holds: a corrupt map (shared or looping blocks).
  if (--budget.left < 0) throw corrupt('block map holds more blocks than i_blocks says');
  o.fs.freeBlock(b);
  o.addBlocks(-1);
}
