// Core dumps: a process killed by a signal whose default action dumps core
// (SIGSEGV, SIGABRT, SIGQUIT...) leaves an ELF core file named as
// kernel.core_pattern says ("core" in its working directory by default;
// root may set it through /proc/sys) when RLIMIT_CORE allows and the
// process is dumpable; the wait status then has
// WCOREDUMP. gdb reads the file: notes (NT_PRSTATUS and NT_FPREGSET per
// thread, NT_PRPSINFO, NT_SIGINFO, NT_AUXV) and one PT_LOAD per mapping,
// with Linux's default coredump_filter choice of contents (anonymous memory,
// file mappings the process wrote to, the first page of mapped ELF files).
//
// The file is written through the VFS with the process's credentials, like
// any file it creates, and never past RLIMIT_CORE: a hostile program can
// make the Sentry write no more than it could write itself.

import { E, Errno } from '../abi/errno';
import { O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY } from '../abi/fs';
import * as S from '../abi/signals';
import type { FamilyHooks } from '../kernel/lifecycle';
import type { Task } from '../kernel/task';
import type { FileDescription } from '../vfs/file';
import type { Vma } from '../mm/vma';
import { resolverOf, vfsOf } from './sysutil';

const PAGE = 4096;
const RLIMIT_CORE = 4;
const PT_LOAD = 1;
const PT_NOTE = 4;
const NT_PRSTATUS = 1;
const NT_FPREGSET = 2;
const NT_PRPSINFO = 3;
const NT_AUXV = 6;
const NT_SIGINFO = 0x53494749;
const PRSTATUS_SIZE = 336;
const PRPSINFO_SIZE = 136;
/** The general registers in user_regs_struct order, as Reg numbers them. */
const NREGS = 27;
/** How much is written per pwrite: the dump never holds a whole image in memory. */
const CHUNK = 64 * PAGE;
const ZERO_PAGE = Buffer.alloc(PAGE);

/** A mapping as dumped: the range shown (a stack from its lowest used page), and how many bytes of it go in the file. */
interface Segment {
  v: Vma;
  start: number;
  dumpBytes: number;
}

/**
 * Where a mapping's dump starts. The stack is mapped here at its full
 * RLIMIT_STACK size, where Linux's grows as used: it is shown from its
 * lowest used page, so the core is the size Linux's would be.
 */
function segmentStart(v: Vma): number {
  if (!v.growsDown) return v.start;
  let low = v.pages;
  v.frames.forEachPresent(0, v.pages, (p) => {
    if (p < low) low = p;
  });
  return low === v.pages ? v.end - PAGE : v.start + low * PAGE;
}

/** Linux's default coredump_filter (0x33) on one mapping: the bytes of it that go in the file. */
function dumpSize(t: Task, v: Vma, start: number): number {
  if (v.prot === 0) return 0;
  // MADV_DONTDUMP leaves it out whatever the filter says.
  if (v.dontdump) return 0;
  const len = v.end - start;
  if (!v.file) return len; // anonymous, private or shared
  // A file mapping the process wrote to (it has private pages) is dumped whole.
  if (!v.shared && v.anon !== null) return len;
  // Else only an ELF header page, so that tools find the build ID.
  if (v.pgoff === 0) {
    const f = v.frames.get(0);
    const head = f >= 0 ? t.frames.bytes(f).subarray(0, 4) : null;
    if (head && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) return PAGE;
  }
  return 0;
}

function note(type: number, desc: Buffer): Buffer {
  const name = Buffer.from('CORE\0\0\0\0'); // "CORE\0" padded to 4
  const descLen = Math.ceil(desc.length / 4) * 4;
  const b = Buffer.alloc(12 + name.length + descLen);
  b.writeUInt32LE(5, 0);
  b.writeUInt32LE(desc.length, 4);
  b.writeUInt32LE(type, 8);
  name.copy(b, 12);
  desc.copy(b, 12 + name.length);
  return b;
}

function timeval(b: Buffer, at: number, ns: number): void {
  b.writeBigInt64LE(BigInt(Math.floor(ns / 1e9)), at);
  b.writeBigInt64LE(BigInt(Math.floor((ns % 1e9) / 1e3)), at + 8);
}

function prstatus(x: Task, sig: number, isDying: boolean): Buffer {
  const b = Buffer.alloc(PRSTATUS_SIZE);
  b.writeInt32LE(isDying ? sig : 0, 0); // pr_info.si_signo
  b.writeInt16LE(isDying ? sig : 0, 12); // pr_cursig
  let pend = 0n;
  for (const s of x.pending.keys()) pend |= S.sigBit(s);
  b.writeBigUInt64LE(pend, 16);
  b.writeBigUInt64LE(x.sigmask, 24);
  b.writeInt32LE(x.tid, 32);
  b.writeInt32LE(x.tg.parent?.pid ?? 0, 36);
  b.writeInt32LE(x.tg.pgid, 40);
  b.writeInt32LE(x.tg.sid, 44);
  const c = x.cpuTime();
  timeval(b, 48, c.userNs);
  timeval(b, 64, c.sysNs);
  timeval(b, 80, x.tg.childUserNs);
  timeval(b, 96, x.tg.childSysNs);
  const regs = x.ctx.regs.snapshot();
  regs.copy(b, 112, 0, NREGS * 8);
  b.writeInt32LE(1, 328); // pr_fpvalid
  return b;
}

function prpsinfo(t: Task): Buffer {
  const b = Buffer.alloc(PRPSINFO_SIZE);
  b.write('R', 1, 'latin1'); // pr_sname
  b.writeUInt32LE(t.creds.uid, 16);
  b.writeUInt32LE(t.creds.gid, 20);
  b.writeInt32LE(t.tg.pid, 24);
  b.writeInt32LE(t.tg.parent?.pid ?? 0, 28);
  b.writeInt32LE(t.tg.pgid, 32);
  b.writeInt32LE(t.tg.sid, 36);
  Buffer.from(t.tg.comm, 'latin1').copy(b, 40, 0, 15);
  // pr_psargs: the command line as far as it fits, NULs as spaces.
  try {
    const mm = t.mm;
    const args = mm.argEnd > mm.argStart ? mm.copyIn(mm.argStart, Math.min(79, mm.argEnd - mm.argStart)) : Buffer.alloc(0);
    for (let i = 0; i < args.length; i++) b[56 + i] = args[i] === 0 ? 0x20 : args[i];
  } catch {
    // The arguments are gone from memory: the name alone.
  }
  return b;
}

/** Every note of the dump, the dying thread's status first (gdb's current thread). */
function notes(t: Task, sig: number, info: S.SigInfo): Buffer {
  const parts: Buffer[] = [];
  const threads = [t, ...[...t.tg.tasks].filter((x) => x !== t && x.state !== 'dead')];
  for (const [i, x] of threads.entries()) {
    parts.push(note(NT_PRSTATUS, prstatus(x, sig, i === 0)));
    if (i === 0) {
      parts.push(note(NT_PRPSINFO, prpsinfo(t)));
      parts.push(note(NT_SIGINFO, S.encodeSigInfo(info)));
      parts.push(note(NT_AUXV, t.mm.auxv));
    }
    parts.push(note(NT_FPREGSET, x.ctx.getFpState().subarray(0, 512)));
  }
  return Buffer.concat(parts);
}

/** The dump reached RLIMIT_CORE: what is written stays, the rest is left out. */
class Truncated extends Error {}

/** Write all of buf at off or fail: a short or asynchronous write ends the dump, and so does the limit. */
function writeAll(t: Task, f: FileDescription, buf: Buffer, off: number, budget: { left: number }): void {
  if (buf.length > budget.left) throw new Truncated();
  budget.left -= buf.length;
  let done = 0;
  while (done < buf.length) {
    const r = f.pwrite(t, buf.subarray(done), off + done);
    if (typeof r !== 'number' || r <= 0) throw new Errno(E.EIO);
    done += r;
  }
}

/**
 * The pages of a segment that go in the file: those with a frame that holds
 * something but zeros. The rest are holes (zeros when read), which Linux
 * skips too and does not count against RLIMIT_CORE.
 */
function forEachDumpedPage(t: Task, s: Segment, fn: (addr: number, frame: number) => void): void {
  const from = (s.start - s.v.start) / PAGE;
  const to = from + s.dumpBytes / PAGE;
  s.v.frames.forEachPresent(from, to, (p, f) => {
    // A page of zeros reads the same as a hole: frames are handed out before
    // they are touched, where Linux has no page at all to dump.
    if (!t.frames.isZeroFrame(f) && !t.frames.bytes(f).equals(ZERO_PAGE)) fn(s.v.start + p * PAGE, f);
  });
}

/**
 * Dump t's process after signal sig; returns whether a complete core file
 * was written (the wait status then says so). Failures (no room, a file in
 * the way, an unwritable directory) just mean no core, as on Linux.
 */
function dumpCore(t: Task, sig: number, info: S.SigInfo): boolean {
  const lim = t.tg.rlimits[RLIMIT_CORE].cur;
  if (lim === 0) return false;
  const limit = lim < 0 ? Number.MAX_SAFE_INTEGER : lim;
  if ((t.tg.procState?.dumpable ?? 1) !== 1) return noCore(t, 'not dumpable');
  const segs: Segment[] = [];
  for (const v of t.mm.vmas) {
    const start = segmentStart(v);
    segs.push({ v, start, dumpBytes: dumpSize(t, v, start) });
  }
  const noteBuf = notes(t, sig, info);
  const phnum = 1 + segs.length;
  const headerLen = 64 + 56 * phnum;
  const noteOff = headerLen;
  let off = Math.ceil((noteOff + noteBuf.length) / PAGE) * PAGE;
  const header = Buffer.alloc(headerLen);
  header.write('\x7fELF', 0, 'latin1');
  header[4] = 2; // ELFCLASS64
  header[5] = 1; // little-endian
  header[6] = 1; // EV_CURRENT
  header.writeUInt16LE(4, 16); // ET_CORE
  header.writeUInt16LE(62, 18); // EM_X86_64
  header.writeUInt32LE(1, 20);
  header.writeBigUInt64LE(64n, 32); // e_phoff
  header.writeUInt16LE(64, 52); // e_ehsize
  header.writeUInt16LE(56, 54); // e_phentsize
  header.writeUInt16LE(phnum, 56);
  const ph = (i: number, type: number, flags: number, fileOff: number, vaddr: number, filesz: number, memsz: number, align: number) => {
    const at = 64 + i * 56;
    header.writeUInt32LE(type, at);
    header.writeUInt32LE(flags, at + 4);
    header.writeBigUInt64LE(BigInt(fileOff), at + 8);
    header.writeBigUInt64LE(BigInt(vaddr), at + 16);
    header.writeBigUInt64LE(0n, at + 24);
    header.writeBigUInt64LE(BigInt(filesz), at + 32);
    header.writeBigUInt64LE(BigInt(memsz), at + 40);
    header.writeBigUInt64LE(BigInt(align), at + 48);
  };
  ph(0, PT_NOTE, 0, noteOff, 0, noteBuf.length, 0, 0);
  const offsets: number[] = [];
  segs.forEach((s, i) => {
    const p = s.v.prot;
    const flags = (p & 1 ? 4 : 0) | (p & 2 ? 2 : 0) | (p & 4 ? 1 : 0);
    ph(i + 1, PT_LOAD, flags, off, s.start, s.dumpBytes, s.v.end - s.start, PAGE);
    offsets.push(off);
    off += s.dumpBytes;
  });
  // Linux's ELF dumper needs a page at least; past that it writes until a
  // write would pass the limit and stops there, the dump still reported as
  // made (WCOREDUMP). Holes are free: the limit is on what is written.
  if (limit < PAGE) return noCore(t, `RLIMIT_CORE ${limit} is below a page`);
  const budget = { left: limit };
  const vfs = vfsOf(t);
  const r = resolverOf(t);
  const name = coreName(t, sig & 0x7f, lim);
  if (name === null) return noCore(t, `core_pattern ${JSON.stringify(t.kernel.corePattern)} pipes to a program, which the sandbox does not start`);
  if (name === '') return noCore(t, 'core_pattern is empty');
  // Relative names are the dying process's working directory's, absolute ones its root's.
  const start = name.startsWith('/') ? t.fs.root : t.fs.cwd;
  // Linux removes an old core first, then creates the file exclusively, never through a symlink.
  try {
    vfs.unlink(r, start, name);
  } catch {
    // Nothing there, or not ours to remove: the create below decides.
  }
  let f: FileDescription;
  try {
    const o = vfs.open(t, r, start, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600);
    // A file system that answers later (none writable here does) gets no core.
    if (o instanceof Promise) {
      o.then((x) => x.decRef(), () => undefined);
      return false;
    }
    f = o;
  } catch (e) {
    return noCore(t, `cannot create ${name}: ${(e as Error).message}`);
  }
  try {
    writeAll(t, f, header, 0, budget);
    writeAll(t, f, noteBuf, noteOff, budget);
    segs.forEach((s, i) => {
      // Runs of consecutive pages go out together, CHUNK bytes at most.
      let runAt = -1;
      const run: Buffer[] = [];
      const flush = () => {
        if (run.length) writeAll(t, f, Buffer.concat(run), offsets[i] + (runAt - s.start), budget);
        run.length = 0;
      };
      forEachDumpedPage(t, s, (addr, frame) => {
        if (run.length && (addr !== runAt + run.length * PAGE || run.length * PAGE >= CHUNK)) flush();
        if (!run.length) runAt = addr;
        run.push(t.frames.bytes(frame));
      });
      flush();
    });
    // The file ends where the last segment does, holes included (RLIMIT_FSIZE was the limit's to check).
    if (f.inode && f.inode.attrs().size < off) f.inode.setattr({ size: off });
    return true;
  } catch (e) {
    if (e instanceof Truncated) {
      t.kernel.log(`pid ${t.tg.pid}: core dump truncated at RLIMIT_CORE ${limit}`);
      return true;
    }
    return noCore(t, `writing ${name}: ${(e as Error).message}`);
  } finally {
    f.decRef();
  }
}

/**
 * The core file's name from kernel.core_pattern (Linux's format_corename):
 * %p/%P pid, %i/%I tid, %u/%g real uid and gid, %d dumpable, %s the signal,
 * %t seconds since the epoch, %h host name, %e comm and %E the executable's
 * path (their slashes shown as '!'), %f its base name, %c RLIMIT_CORE, %%;
 * other specifiers vanish. core_uses_pid adds ".PID" to a pattern without
 * %p. null for a "|program" pattern: the sandbox starts no helper.
 */
function coreName(t: Task, sig: number, lim: number): string | null {
  const k = t.kernel;
  const pattern = k.corePattern;
  if (pattern.startsWith('|')) return null;
  const exe = t.tg.exePath;
  const spec: Record<string, () => string> = {
    '%': () => '%', p: () => `${t.tg.pid}`, P: () => `${t.tg.pid}`, i: () => `${t.tid}`, I: () => `${t.tid}`,
    u: () => `${t.creds.uid}`, g: () => `${t.creds.gid}`, d: () => `${t.tg.procState?.dumpable ?? 1}`, s: () => `${sig}`,
    t: () => `${Math.floor(Date.now() / 1000)}`, h: () => t.nsproxy.uts.hostname, e: () => t.comm.replace(/\//g, '!'),
    E: () => exe.replace(/\//g, '!'), f: () => exe.slice(exe.lastIndexOf('/') + 1), c: () => (lim < 0 ? '18446744073709551615' : `${lim}`),
  };
  let name = '';
  let pidSeen = false;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '%' || i + 1 >= pattern.length) {
      if (pattern[i] !== '%') name += pattern[i];
      continue;
    }
    const c = pattern[++i];
    if (c === 'p') pidSeen = true;
    name += spec[c]?.() ?? '';
  }
  if (k.coreUsesPid && !pidSeen) name += `.${t.tg.pid}`;
  return name;
}

/** Why a process left no core, in the debug log. */
function noCore(t: Task, why: string): false {
  t.kernel.log(`pid ${t.tg.pid}: no core dump: ${why}`);
  return false;
}

export const hooks: FamilyHooks = {
  coreDump: (t, sig, info) => dumpCore(t, sig, info),
};
