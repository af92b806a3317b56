// ext2 directories: linear blocks of entries (inode u32, rec_len u16,
// name_len u8, file_type u8 with the filetype feature, the name), each block
// covered exactly by its entries' rec_len. An htree (dir_index) directory
// reads the same way (its index blocks look like empty entries); changing one
// clears EXT2_INDEX_FL first, as Linux's ext2 does, so the index is never
// left stale. Every entry is checked as it is read (rec_len, name_len, the
// inode number): a bad one is EUCLEAN.
import { Errno, E } from '../../abi/errno';
import { DT_UNKNOWN, S_IFMT } from '../../abi/fs';
import { mapBlock } from './bmap';
import { corrupt, INCOMPAT_FILETYPE } from './disk';
import type { Ext2Inode } from './inode';

export const INDEX_FL = 0x1000;

export interface DirEnt {
  /** Offset of the entry in its block. */
  off: number;
  ino: number;
  recLen: number;
  name: string;
  /** The entry's file type byte (EXT2_FT_*: the DT_* type's ext2 number), 0 when unknown. */
  ft: number;
}

/** EXT2_FT_* of a mode: the order of DT_* differs, so a table. */
const FT_OF_TYPE: Record<number, number> = { 0o100000: 1, 0o040000: 2, 0o020000: 3, 0o060000: 4, 0o010000: 5, 0o140000: 6, 0o120000: 7 };
const DT_OF_FT = [DT_UNKNOWN, 8, 4, 2, 6, 1, 12, 10];

export function ftOf(mode: number): number {
  return FT_OF_TYPE[mode & S_IFMT] ?? 0;
}
export function dtOfFt(ft: number): number {
  return DT_OF_FT[ft] ?? DT_UNKNOWN;
}

function recSize(nameLen: number): number {
  return (8 + nameLen + 3) & ~3;
}

/** The entries of one directory block, checked. */
function parseBlock(dir: Ext2Inode, blk: Buffer): DirEnt[] {
  const fs = dir.fs;
  const typed = (fs.sb.featureIncompat & INCOMPAT_FILETYPE) !== 0;
  const out: DirEnt[] = [];
  for (let off = 0; off < blk.length; ) {
    if (off + 8 > blk.length) throw corrupt(`directory ${dir.ino}: entry header past the block end`);
    const ino = blk.readUInt32LE(off);
    const recLen = blk.readUInt16LE(off + 4);
    const nameLen = typed ? blk[off + 6] : blk.readUInt16LE(off + 6);
    if (recLen < 8 || recLen % 4 || off + recLen > blk.length) throw corrupt(`directory ${dir.ino}: bad rec_len ${recLen} at ${off}`);
    if (ino !== 0 && (recSize(nameLen) > recLen || nameLen === 0)) throw corrupt(`directory ${dir.ino}: name_len ${nameLen} does not fit rec_len ${recLen}`);
    if (ino > fs.sb.inodesCount) throw corrupt(`directory ${dir.ino}: entry names inode ${ino} beyond the inode count`);
    out.push({ off, ino, recLen, name: ino ? blk.toString('latin1', off + 8, off + 8 + nameLen) : '', ft: typed ? blk[off + 7] : 0 });
    off += recLen;
  }
  return out;
}

function blockCount(dir: Ext2Inode): number {
  const size = dir.size;
  // A directory is whole blocks, and no bigger than the disk (a hostile size would walk holes for ever).
  if (size % dir.fs.bs || size > dir.fs.sb.blocksCount * dir.fs.bs) throw corrupt(`directory ${dir.ino}: bad size ${size}`);
  return size / dir.fs.bs;
}

/** The disk block of directory block i: directories have no holes. */
function dirBlock(dir: Ext2Inode, i: number): number {
  const b = mapBlock(dir, i, false, 0);
  if (!b) throw corrupt(`directory ${dir.ino}: hole at block ${i}`);
  return b;
}

/** Each block of the directory with its entries, until visit returns true. */
function scan(dir: Ext2Inode, visit: (phys: number, blk: Buffer, ents: DirEnt[]) => boolean): void {
  const n = blockCount(dir);
  for (let i = 0; i < n; i++) {
    const phys = dirBlock(dir, i);
    const blk = dir.fs.readBlock(phys);
    if (visit(phys, blk, parseBlock(dir, blk))) return;
  }
}

export function findEntry(dir: Ext2Inode, name: string): { phys: number; blk: Buffer; ents: DirEnt[]; at: number } | null {
  let found: { phys: number; blk: Buffer; ents: DirEnt[]; at: number } | null = null;
  scan(dir, (phys, blk, ents) => {
    const at = ents.findIndex((e) => e.ino !== 0 && e.name === name);
    if (at >= 0) found = { phys, blk, ents, at };
    return at >= 0;
  });
  return found;
}

export function listEntries(dir: Ext2Inode): DirEnt[] {
  const out: DirEnt[] = [];
  scan(dir, (_p, _b, ents) => {
    for (const e of ents) if (e.ino !== 0 && e.name !== '.' && e.name !== '..') out.push(e);
    return false;
  });
  return out;
}

/** Is the directory empty apart from "." and ".."? */
export function isEmptyDir(dir: Ext2Inode): boolean {
  let empty = true;
  scan(dir, (_p, _b, ents) => {
    empty = ents.every((e) => e.ino === 0 || e.name === '.' || e.name === '..');
    return !empty;
  });
  return empty;
}

function writeEnt(blk: Buffer, off: number, ino: number, recLen: number, name: string, ft: number, typed: boolean): void {
  blk.writeUInt32LE(ino, off);
  blk.writeUInt16LE(recLen, off + 4);
  const n = Buffer.byteLength(name, 'latin1');
  if (typed) {
    blk[off + 6] = n;
    blk[off + 7] = ft;
  } else {
    blk.writeUInt16LE(n, off + 6);
  }
  blk.write(name, off + 8, 'latin1');
}

/** The directory is about to change: an htree index would go stale, so it stops being one. */
function unindex(dir: Ext2Inode): void {
  if (dir.flags & INDEX_FL) dir.flags &= ~INDEX_FL;
}

/** Add name -> ino: into the first entry with room, else a new block at the end. */
export function addEntry(dir: Ext2Inode, name: string, ino: number, mode: number): void {
  const len = Buffer.byteLength(name, 'latin1');
  if (len > 255) throw new Errno(E.ENAMETOOLONG);
  const need = recSize(len);
  const typed = (dir.fs.sb.featureIncompat & INCOMPAT_FILETYPE) !== 0;
  const ft = typed ? ftOf(mode) : 0;
  unindex(dir);
  let done = false;
  scan(dir, (phys, blk, ents) => {
    for (const e of ents) {
      const used = e.ino ? recSize(Buffer.byteLength(e.name, 'latin1')) : 0;
      if (e.recLen - used < need) continue;
      if (e.ino) {
        blk.writeUInt16LE(used, e.off + 4);
        writeEnt(blk, e.off + used, ino, e.recLen - used, name, ft, typed);
      } else {
        writeEnt(blk, e.off, ino, e.recLen, name, ft, typed);
      }
      dir.fs.writeBlock(phys, blk);
      done = true;
      return true;
    }
    return false;
  });
  if (done) return dir.changed();
  const n = blockCount(dir);
  const phys = mapBlock(dir, n, true, dir.goal());
  const blk = Buffer.alloc(dir.fs.bs);
  writeEnt(blk, 0, ino, dir.fs.bs, name, ft, typed);
  dir.fs.writeBlock(phys, blk);
  dir.size = (n + 1) * dir.fs.bs;
  dir.changed();
}

/** Remove name: merged into the entry before it in its block, or made empty when first. */
export function removeEntry(dir: Ext2Inode, name: string): void {
  const f = findEntry(dir, name);
  if (!f) throw new Errno(E.ENOENT);
  unindex(dir);
  const e = f.ents[f.at];
  if (f.at > 0) {
    const prev = f.ents[f.at - 1];
    f.blk.writeUInt16LE(prev.recLen + e.recLen, prev.off + 4);
  } else {
    f.blk.writeUInt32LE(0, e.off);
  }
  dir.fs.writeBlock(f.phys, f.blk);
  dir.changed();
}

/** Point the existing entry name at ino (rename over it, "..", exchange). */
export function setEntry(dir: Ext2Inode, name: string, ino: number, mode: number): void {
  const f = findEntry(dir, name);
  if (!f) throw corrupt(`directory ${dir.ino}: entry ${name} vanished`);
  unindex(dir);
  const e = f.ents[f.at];
  f.blk.writeUInt32LE(ino, e.off);
  if (dir.fs.sb.featureIncompat & INCOMPAT_FILETYPE) f.blk[e.off + 7] = ftOf(mode);
  dir.fs.writeBlock(f.phys, f.blk);
  dir.changed();
}

/** The first block of a new directory: "." and "..". */
export function initDir(dir: Ext2Inode, parentIno: number): void {
  const bs = dir.fs.bs;
  const typed = (dir.fs.sb.featureIncompat & INCOMPAT_FILETYPE) !== 0;
  const blk = Buffer.alloc(bs);
  writeEnt(blk, 0, dir.ino, 12, '.', typed ? 2 : 0, typed);
  writeEnt(blk, 12, parentIno, bs - 12, '..', typed ? 2 : 0, typed);
  const phys = mapBlock(dir, 0, true, dir.goal());
  dir.fs.writeBlock(phys, blk);
  dir.size = bs;
}
