// linux.sysctl: as runc, only the sysctls of a namespace the container has
// its own of may be set (the IPC namespace's kernel.msg*, kernel.sem,
// kernel.shm* and fs.mqueue.*; the UTS namespace's kernel.hostname and
// kernel.domainname; net.*, the sandbox's own network stack); any other is
// an error, since it would change the host. Of those, the ones the Sentry
// serves writable in /proc/sys are written there before the container runs
// (sandbox/container.ts); the others are reported as not supported.

import { SpecError } from './spec';

const IPC = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);
const UTS = new Set(['kernel.hostname', 'kernel.domainname']);
/** The namespaced sysctls whose /proc/sys file the Sentry serves writable (fsimpl/proc/sys.ts). */
const SERVED = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmmax', 'kernel.shmall', 'kernel.shmmni', 'kernel.hostname', 'kernel.domainname', 'net.ipv4.ip_unprivileged_port_start',
  'fs.mqueue.queues_max', 'fs.mqueue.msg_max', 'fs.mqueue.msgsize_max', 'fs.mqueue.msg_default', 'fs.mqueue.msgsize_default']);

export interface Sysctl {
  /** The dotted name (kernel.msgmax). */
  key: string;
  /** Its file below /proc/sys (kernel/msgmax). */
  file: string;
  value: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The sysctls to write, in the spec's order; what is namespaced but not served goes to unsupported. */
export function planSysctl(v: unknown, unsupported: string[]): Sysctl[] {
  if (v === undefined || v === null) return [];
  if (!isRecord(v)) throw new SpecError('linux.sysctl: wants an object of names and string values');
  const out: Sysctl[] = [];
  for (const [name, value] of Object.entries(v)) {
    if (typeof value !== 'string') throw new SpecError(`linux.sysctl.${name}: wants a string value`);
    // runc takes both kernel.msgmax and kernel/msgmax.
    const key = name.replace(/\//g, '.');
    if (!/^[a-z0-9_-]+(\.[A-Za-z0-9_:-]+)+$/.test(key)) throw new SpecError(`linux.sysctl: ${JSON.stringify(name)} is not a sysctl name`);
    const namespaced = IPC.has(key) || UTS.has(key) || key.startsWith('fs.mqueue.') || key.startsWith('net.');
    if (!namespaced) throw new SpecError(`linux.sysctl: sysctl ${JSON.stringify(name)} is not in a separate kernel namespace`);
    if (!SERVED.has(key)) {
      unsupported.push(`linux.sysctl: ${key} is not supported by the sandbox (ignored)`);
      continue;
    }
    out.push({ key, file: key.replace(/\./g, '/'), value });
  }
  return out;
}
