// The pieces strace builds its lines from: numbers, pointers, quoted strings,
// flag sets and enums, and the shape of an argument decoder.

import type { Task } from '../task';

/** One system call as a decoder sees it. ret is NaN while the call has not returned. */
export interface Call {
  t: Task;
  nr: number;
  name: string;
  args: number[];
  /** The argument registers as unsigned 64-bit values, for the few kinds that need every bit. */
  raw: bigint[];
  ret: number;
}

/**
 * Formats argument i of a call. `out` decoders run when the call returns
 * (they show what the kernel wrote); the others when it is entered. A decoder
 * returns null to leave its argument out (a futex op without a timeout).
 */
export interface Decoder {
  out?: boolean;
  fmt(c: Call, i: number): string | null;
}

export type Table = Record<string, Decoder>;

/** strace's -s default: how many bytes of a buffer or string it shows. */
export const STRLEN = 32;

export function hex(v: number): string {
  return '0x' + (v < 0 ? BigInt.asUintN(64, BigInt(v)).toString(16) : v.toString(16));
}

export function ptr(v: number): string {
  return v === 0 ? 'NULL' : hex(v);
}

/** A signed 64-bit argument in decimal, exact even beyond 2^53. */
export function dec64(c: Call, i: number): string {
  const v = c.args[i];
  return Number.isSafeInteger(v) ? String(v) : BigInt.asIntN(64, c.raw[i]).toString();
}

export function udec64(c: Call, i: number): string {
  const v = c.args[i];
  return Number.isSafeInteger(v) && v >= 0 ? String(v) : c.raw[i].toString();
}

export function hex64(c: Call, i: number): string {
  const v = c.args[i];
  return Number.isSafeInteger(v) ? hex(v) : '0x' + c.raw[i].toString(16);
}

/** Known bits by name, the rest in hex; zero gets its own name. */
export function bitNames(v: number, bits: ReadonlyArray<readonly [number, string]>, zero: string): string {
  const parts: string[] = [];
  let rest = v >>> 0;
  for (const [bit, name] of bits) {
    if (bit !== 0 && (rest & bit) >>> 0 === bit) {
      parts.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest) parts.push(hex(rest));
  return parts.length ? parts.join('|') : zero;
}

/** A value from a set of names, else strace's "0x.. /* PREFIX_??? *\/". */
export function enumName(v: number, names: Record<number, string>, unknown: string): string {
  return names[v] ?? `${hex(v >>> 0)} /* ${unknown} */`;
}

const ESCAPES: Record<number, string> = { 9: '\\t', 10: '\\n', 13: '\\r', 12: '\\f', 11: '\\v', 34: '\\"', 92: '\\\\' };

/** strace's quoting: C escapes, octal for other bytes, three digits when a digit follows. */
export function quote(b: Uint8Array, more = false): string {
  let out = '"';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    const esc = ESCAPES[c];
    if (esc) out += esc;
    else if (c >= 32 && c < 127) out += String.fromCharCode(c);
    else {
      const next = i + 1 < b.length ? b[i + 1] : -1;
      const digitFollows = next >= 48 && next <= 55;
      out += '\\' + (digitFollows ? c.toString(8).padStart(3, '0') : c.toString(8));
    }
  }
  return out + '"' + (more ? '...' : '');
}

/** A buffer of len bytes at addr, at most STRLEN shown; the address when unreadable. */
export function buffer(t: Task, addr: number, len: number): string {
  if (addr === 0) return 'NULL';
  const n = Math.min(Math.max(len, 0), STRLEN);
  try {
    return quote(t.mm.copyIn(addr, n), len > STRLEN);
  } catch {
    return hex(addr);
  }
}

/** A NUL-terminated string: paths in full (up to PATH_MAX), others cut at max bytes. */
export function cstring(t: Task, addr: number, max = 4096): string {
  if (addr === 0) return 'NULL';
  const parts: Buffer[] = [];
  let total = 0;
  // Page by page, so that a string ending just before an unmapped page still reads.
  for (let a = addr; total <= max; ) {
    let chunk: Buffer;
    try {
      chunk = t.mm.copyIn(a, Math.min(4096 - (a % 4096), max + 1 - total));
    } catch {
      return hex(addr);
    }
    const z = chunk.indexOf(0);
    if (z >= 0) return quote(Buffer.concat([...parts, chunk.subarray(0, z)]));
    parts.push(chunk);
    total += chunk.length;
    a += chunk.length;
  }
  return quote(Buffer.concat(parts).subarray(0, max), true);
}

/** Reads a structure of len bytes for a decoder; null when the address is bad. */
export function struct(t: Task, addr: number, len: number): Buffer | null {
  if (addr === 0) return null;
  try {
    return t.mm.copyIn(addr, len);
  } catch {
    return null;
  }
}

/** A call's result is a failure strace shows as -1 ERRNO (or a restart code). */
export function failed(c: Call): boolean {
  return c.ret < 0 && c.ret > -4096;
}

/** An out-parameter: its address when the call failed or it cannot be read. */
export function outArg(fmt: (c: Call, v: number, i: number) => string | null): Decoder {
  return {
    out: true,
    fmt: (c, i) => {
      const v = c.args[i];
      if (v === 0) return 'NULL';
      if (failed(c)) return hex(v);
      return fmt(c, v, i) ?? hex(v);
    },
  };
}

/** An in-parameter pointing at a structure: NULL, the decoded value, or the address if unreadable. */
export function inArg(fmt: (c: Call, v: number, i: number) => string | null): Decoder {
  return {
    fmt: (c, i) => {
      const v = c.args[i];
      if (v === 0) return 'NULL';
      return fmt(c, v, i) ?? hex(v);
    },
  };
}
