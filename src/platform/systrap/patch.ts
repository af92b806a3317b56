// Instruction patching on systrap (docs/ARCHITECTURE.md, "The systrap
// platform"): a system call site of the common form `mov $NR,%eax; syscall`
// (b8 imm32 0f 05, or another 5-byte instruction replayable as it is, see
// replayable) that keeps trapping is rewritten into `jmp *disp32`
// (ff 24 25 disp32), whose cell at the absolute address disp32 holds the
// address of a trampoline for that site. The cells lie at 0x050f0000 up, so
// that the displacement's two high bytes are `0f 05`: code that jumps onto
// the old `syscall` (offset 5) still executes one, which traps as before (a
// restart rewinds there too). The trampoline replays the replaced
// instruction, sets rcx (the return address) and jumps to the stub's entry
// (stub_code.ts), which builds the frame a SIGSYS would have and enters the
// handler: the Sentry sees the same trap, without the host's signal delivery.
//
// The table of cells and trampolines is a VMA of the address space (the
// memory manager's, sealed: the application can neither unmap, remap nor
// make it writable; fork copies it with the patched text, execve drops both).
// Only the five bytes that change are written, and only where they lie in
// one aligned 8-byte word: one compare-and-exchange, so another thread
// executing the site sees either instruction, and a concurrent write of the
// application's own is never undone.

import type { AppText, PlatformStats } from '../platform';
import { PATCH_ENTRY_ADDR } from './stub_code';

/** The table: cells from here (cell 0 holds the count of cells used), then the trampolines. */
export const TABLE_BASE = 0x050f0000;
const CELLS = 1024;
const TRAMP_OFF = CELLS * 8;
const TRAMP_SIZE = 32;
export const TABLE_LEN = TRAMP_OFF + CELLS * TRAMP_SIZE;
export const TABLE_NAME = '[syscall trampolines]';
/**
 * Whether the 5 bytes before a syscall instruction are one instruction the
 * trampoline can replay as it is: `mov $imm32` into eax, edx, ebx, ebp, esi
 * or edi (b8 is 80-86% of real programs' calls; `mov $-100,%edi`, openat's
 * AT_FDCWD, most of the rest), or glibc syscall()'s `mov 8(%rsp),%r9` (the
 * trampoline is reached by a jump: rsp is the site's).
 */
function replayable(b: Buffer): boolean {
  const op = b[0];
  if (op === 0xb8 || op === 0xba || op === 0xbb || op === 0xbd || op === 0xbe || op === 0xbf) return true;
  return op === 0x4c && b[1] === 0x8b && b[2] === 0x4c && b[3] === 0x24 && b[4] === 0x08;
}

/** Traps from one site before it is patched: a site run once or twice is not worth a page copy and a mapping batch. */
const PATCH_AFTER = 3;
/** Sites counted at most (refused ones stay counted): beyond, new sites are not patched. */
const MAX_SITES_SEEN = 4096;

export class SitePatcher {
  /** 'off' once the table could not be made, or patching was given up for this address space (unpatchAll). */
  private state: 'none' | 'ready' | 'off' = 'none';
  /** The next free cell (1 up). */
  private used = 1;
  /** Traps seen per site; -1: patched or refused. */
  private readonly seen = new Map<number, number>();

  constructor(
    private readonly text: AppText,
    private readonly stats: PlatformStats,
  ) {}

  /** Whether the threads' host gs base is their area (the entry finds it there). */
  get on(): boolean {
    return this.state !== 'off';
  }

  /** A system call trapped at its instruction, rip after it. */
  noteTrap(rip: number): void {
    if (this.state === 'off') return;
    const site = rip - 7;
    // The five bytes that change must lie in one aligned word (the write is one compare-and-exchange).
    if (site % 8 > 3) return;
    const n = this.seen.get(site) ?? 0;
    if (n < 0) return;
    if (n + 1 < PATCH_AFTER) {
      if (n > 0 || this.seen.size < MAX_SITES_SEEN) this.seen.set(site, n + 1);
      return;
    }
    this.seen.set(site, -1);
    this.patch(site);
  }

  private patch(site: number): void {
    const b = this.text.readText(site, 7);
    if (!b || !replayable(b) || b[5] !== 0x0f || b[6] !== 0x05) return;
    if (!this.ready() || this.used >= CELLS) return;
    const word = this.text.readText(site - (site % 8), 8);
    if (!word) return;
    const k = this.used;
    const tramp = TABLE_BASE + TRAMP_OFF + k * TRAMP_SIZE;
    const t = Buffer.alloc(TRAMP_SIZE, 0xcc);
    b.copy(t, 0, 0, 5); // the instruction replaced, as it was (position-independent: replayable anywhere)
    t[5] = 0x48; // movabs rcx, the return address
    t[6] = 0xb9;
    t.writeBigUInt64LE(BigInt(site + 7), 7);
    t[15] = 0x49; // movabs r11, the entry
    t[16] = 0xbb;
    t.writeBigUInt64LE(BigInt(PATCH_ENTRY_ADDR), 17);
    t[25] = 0x41; // jmp r11
    t[26] = 0xff;
    t[27] = 0xe3;
    const cell = Buffer.alloc(8);
    cell.writeBigUInt64LE(BigInt(tramp));
    const count = Buffer.alloc(8);
    count.writeBigUInt64LE(BigInt(k + 1));
    if (!this.text.writeTable(tramp, t) || !this.text.writeTable(TABLE_BASE + 8 * k, cell) || !this.text.writeTable(TABLE_BASE, count)) return;
    this.used = k + 1;
    const rep = Buffer.from(word);
    const o = site % 8;
    const disp = TABLE_BASE + 8 * k;
    rep[o] = 0xff; // jmp *disp32 (its last two bytes are the syscall's, unchanged)
    rep[o + 1] = 0x24;
    rep[o + 2] = 0x25;
    rep[o + 3] = disp & 0xff;
    rep[o + 4] = (disp >> 8) & 0xff;
    if (this.text.patchWord(site - o, word.readBigUInt64LE(), rep.readBigUInt64LE())) this.stats.sitesPatched = (this.stats.sitesPatched ?? 0) + 1;
  }

  /** The table mapped (or found: a fork's child has its parent's), else patching is off. */
  private ready(create = true): boolean {
    if (this.state !== 'none') return this.state === 'ready';
    const r = this.text.mapTable(TABLE_BASE, TABLE_LEN, TABLE_NAME, create);
    if (r === 'taken') {
      this.state = 'off';
      return false;
    }
    if (r === 'there') {
      // Bounded whatever the memory says (the application can write its own memory through /proc/self/mem).
      const n = Number(this.text.readTable(TABLE_BASE, 8).readBigUInt64LE());
      this.used = Math.min(CELLS, Math.max(1, n));
    }
    this.state = 'ready';
    return true;
  }

  /**
   * Give patching up for this address space and put every patched site back
   * (a thread got a gs base of its own, or is single-stepped: the entry
   * needs gs, and a step must see the original instructions).
   */
  unpatchAll(): void {
    // A fork's child has its parent's table and patched text, which this patcher has not looked at yet.
    if (this.state === 'none') this.ready(false);
    if (this.state === 'ready') {
      for (let k = 1; k < this.used; k++) {
        const t = this.text.readTable(TABLE_BASE + TRAMP_OFF + k * TRAMP_SIZE, TRAMP_SIZE);
        const site = Number(t.readBigUInt64LE(7)) - 7;
        if (!Number.isSafeInteger(site) || site < 0) continue;
        const o = site % 8;
        const word = o <= 3 ? this.text.readText(site - o, 8, true) : null;
        const disp = TABLE_BASE + 8 * k;
        if (!word || word[o] !== 0xff || word[o + 1] !== 0x24 || word[o + 2] !== 0x25 || word[o + 3] !== (disp & 0xff) || word[o + 4] !== ((disp >> 8) & 0xff)) continue;
        const rep = Buffer.from(word);
        t.copy(rep, o, 0, 5);
        this.text.patchWord(site - o, word.readBigUInt64LE(), rep.readBigUInt64LE(), true);
      }
    }
    this.state = 'off';
  }
}
