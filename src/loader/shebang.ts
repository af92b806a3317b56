// "#!" interpreter lines, with the exact quirks of Linux's binfmt_script (5.x and later),
// because scripts in the wild depend on them: only the first BINPRM_BUF_SIZE bytes are
// looked at, everything after the interpreter path is ONE argument (not split on blanks),
// a truncated argument is fine (the interpreter re-reads the script) but a truncated
// interpreter path is refused with ENOEXEC rather than executing the wrong program.
// Strings are byte strings (latin1), the project's convention for paths and arguments.

import { E, Errno } from '../abi/errno';

/** How many bytes of the file the kernel inspects to pick a binary format. */
export const BINPRM_BUF_SIZE = 256;

/**
 * Interpreter rewrites (#! or similar) allowed for one execve; the kernel refuses to load
 * a file once this many rewrites have already happened (ELOOP), so a script can chain
 * through at most this many interpreters that are themselves scripts.
 */
export const MAX_INTERP_DEPTH = 4;

export interface Shebang {
  interp: string;
  arg: string | null;
}

/** Throws ELOOP when `rewrites` interpreter substitutions have already been made. */
export function checkInterpDepth(rewrites: number): void {
  if (rewrites > MAX_INTERP_DEPTH) throw new Errno(E.ELOOP, `more than ${MAX_INTERP_DEPTH} nested interpreters`);
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** First index in [from, to] that is not a space/tab, or -1. NUL counts as non-blank. */
function nextNonBlank(b: Buffer, from: number, to: number): number {
  for (let i = from; i <= to; i++) if (!isBlank(b[i])) return i;
  return -1;
}

/** First index in [from, to] holding a space, tab or NUL, or -1. */
function nextTerminator(b: Buffer, from: number, to: number): number {
  for (let i = from; i <= to; i++) if (isBlank(b[i]) || b[i] === 0) return i;
  return -1;
}

/** The C string starting at from, cut at the first NUL or at limit (exclusive). */
function cString(b: Buffer, from: number, limit: number): string {
  let end = from;
  while (end < limit && b[end] !== 0) end++;
  return b.toString('latin1', from, end);
}

/**
 * Parse the start of a file as a "#!" script. Returns null when the file does not start
 * with "#!" (not a script: try other formats); throws ENOEXEC for a "#!" line the kernel
 * would refuse. A file holding just "#!" (plus blanks, no newline) yields interp "": Linux
 * passes the empty path on and the lookup fails with ENOENT, so the caller's lookup should too.
 */
export function parseShebang(firstBytes: Buffer): Shebang | null {
  if (firstBytes.length < 2 || firstBytes[0] !== 0x23 || firstBytes[1] !== 0x21) return null;

  // The kernel's view: exactly BINPRM_BUF_SIZE bytes, NUL padded when the file is shorter.
  const buf = Buffer.alloc(BINPRM_BUF_SIZE);
  firstBytes.copy(buf, 0, 0, Math.min(firstBytes.length, BINPRM_BUF_SIZE));
  const lastIdx = BINPRM_BUF_SIZE - 1;

  // The newline search stops at the first NUL, like strnchr.
  let end = -1;
  for (let i = 0; i < BINPRM_BUF_SIZE && buf[i] !== 0; i++) {
    if (buf[i] === 0x0a) {
      end = i;
      break;
    }
  }
  if (end < 0) {
    // No newline: the line may be cut short. That is only acceptable when the
    // interpreter path visibly ends (blank or NUL) inside the buffer.
    const name = nextNonBlank(buf, 2, lastIdx);
    if (name < 0) throw new Errno(E.ENOEXEC, '#! line is all blanks');
    if (nextTerminator(buf, name, lastIdx) < 0) throw new Errno(E.ENOEXEC, '#! interpreter path truncated');
    // The last byte of the buffer is sacrificed for the terminating NUL.
    end = lastIdx;
  }
  // Trailing blanks are trimmed only from the line end found above; with no newline that
  // end is NUL padding or mid-argument, so blanks before it survive (as in Linux).
  while (isBlank(buf[end - 1])) end--;

  const name = nextNonBlank(buf, 2, end);
  if (name < 0 || name === end) throw new Errno(E.ENOEXEC, 'no interpreter in #! line');

  const sep = nextTerminator(buf, name, end);
  let argStart = -1;
  if (sep >= 0 && buf[sep] !== 0) argStart = nextNonBlank(buf, sep, end);

  const interp = cString(buf, name, argStart >= 0 ? sep : end);
  const arg = argStart >= 0 ? cString(buf, argStart, end) : null;
  return { interp, arg };
}

/**
 * The argv the interpreter receives: argv[0] is dropped and replaced by the interpreter,
 * its optional argument, and the script path as passed to execve.
 */
export function shebangArgv(sb: Shebang, scriptPath: string, argv: readonly string[]): string[] {
  const out = [sb.interp];
  if (sb.arg !== null) out.push(sb.arg);
  out.push(scriptPath);
  return out.concat(argv.slice(1));
}
