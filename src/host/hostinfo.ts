// What a sandbox shows of the host machine and of the process that started
// it, read once at boot and handed to the kernel, the loader and procfs as
// a plain object. Nothing above host/ reads /proc of the host or node:os for
// these facts: a sandbox started with another HostInfo (a test's fake, a
// checkpoint restored on another machine) shows that one throughout.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { AT_HWCAP, AT_HWCAP2, AT_MINSIGSTKSZ } from '../abi/auxv';
import { RLIM_NLIMITS, RLIMIT_NOFILE } from '../abi/resource';
import * as libc from './libc';

/** A resource limit as the host reports it (RLIM_INFINITY is 2^64 - 1). */
export interface HostRlimit {
  cur: bigint;
  max: bigint;
}

export interface HostInfo {
  /** The text of /proc/cpuinfo: one "processor" block per CPU. */
  readonly cpuinfo: string;
  /** CPUs in the sandbox: affinity masks, /proc/stat, the "processor" count. */
  readonly ncpu: number;
  /** Physical memory of the host in bytes (the default memory limit is derived from it). */
  readonly totalMemory: number;
  /** The loader's auxv values that describe the CPU: AT_HWCAP, AT_HWCAP2, AT_MINSIGSTKSZ, and the AT_PLATFORM string. */
  readonly hwcap: number;
  readonly hwcap2: number;
  readonly minSigStkSz: number;
  readonly platform: string;
  /** The caller's capability bounding set (the sandbox's root gets nothing outside it); null: unknown, keep all. */
  readonly capBounding: bigint | null;
  /** The caller's resource limits by RLIMIT_* number; null where the host would not say. */
  readonly rlimits: ReadonlyArray<HostRlimit | null>;
}

const RLIM_INFINITY = (1n << 64n) - 1n;

function readText(path: string): string | null {
  try {
    return fs.readFileSync(path, 'latin1');
  } catch {
    return null; // not Linux, no /proc, or the process is gone
  }
}

function processors(cpuinfo: string): number {
  return (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
}

/** The host's /proc/cpuinfo, or one synthesized from what Node knows of the CPUs. */
function cpuinfoText(): string {
  const s = readText('/proc/cpuinfo');
  if (s !== null && processors(s) > 0) return s;
  return os.cpus().map((c, i) => `processor\t: ${i}\nvendor_id\t: unknown\nmodel name\t: ${c.model}\n\n`).join('');
}

/** The auxiliary vector the host gave the Sentry (the CPU's HWCAP bits are the same for any process on it). */
function hostAuxv(): Map<number, number> {
  const aux = new Map<number, number>();
  try {
    const b = fs.readFileSync('/proc/self/auxv');
    for (let i = 0; i + 16 <= b.length; i += 16) aux.set(Number(b.readBigUInt64LE(i)), Number(b.readBigUInt64LE(i + 8)));
  } catch {
    // Without it HWCAP stays 0: programs fall back to baseline code paths.
  }
  return aux;
}

function capBounding(): bigint | null {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readText('/proc/self/status') ?? '');
  return m ? BigInt(`0x${m[1]}`) : null;
}

/** How bin/tsvisor.js hands over the caller's soft RLIMIT_NOFILE (never passed on to the sandbox). */
export const CALLER_NOFILE_ENV = 'TSVISOR_CALLER_NOFILE';

/**
 * The Sentry's own limits, which are the caller's: a child of the caller
 * would inherit them. Node raises its soft RLIMIT_NOFILE to the hard limit
 * before any script runs, so the caller's soft value comes from the shell
 * line of bin/tsvisor.js (CALLER_NOFILE_ENV) or, when Node was started
 * directly, from the parent when its hard limit is ours (we plainly
 * inherited from it).
 */
function rlimits(): Array<HostRlimit | null> {
  const b = Buffer.alloc(16);
  const out: Array<HostRlimit | null> = [];
  for (let i = 0; i < RLIM_NLIMITS; i++) {
    out.push((libc.prlimit(0, i, null, b) as number) === 0 ? { cur: b.readBigUInt64LE(0), max: b.readBigUInt64LE(8) } : null);
  }
  const nofile = out[RLIMIT_NOFILE];
  const handed = process.env[CALLER_NOFILE_ENV];
  if (nofile && handed !== undefined && /^(\d+|unlimited)$/.test(handed)) {
    const soft = handed === 'unlimited' ? RLIM_INFINITY : BigInt(handed);
    if (soft <= nofile.max) nofile.cur = soft;
    return out;
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readText(`/proc/${process.ppid}/limits`) ?? '');
  if (nofile && m) {
    const parse = (v: string): bigint | null => (v === 'unlimited' ? RLIM_INFINITY : /^\d+$/.test(v) ? BigInt(v) : null);
    const [soft, hard] = [parse(m[1]), parse(m[2])];
    if (soft !== null && hard === nofile.max && soft <= hard) nofile.cur = soft;
  }
  return out;
}

/** Read the host's facts now (once per sandbox, at boot). */
export function captureHostInfo(): HostInfo {
  const cpuinfo = cpuinfoText();
  const aux = hostAuxv();
  return {
    cpuinfo,
    ncpu: Math.max(1, processors(cpuinfo)),
    totalMemory: os.totalmem(),
    hwcap: aux.get(AT_HWCAP) ?? 0,
    hwcap2: aux.get(AT_HWCAP2) ?? 0,
    minSigStkSz: aux.get(AT_MINSIGSTKSZ) ?? 2048,
    platform: os.machine(),
    capBounding: capBounding(),
    rlimits: rlimits(),
  };
}
