// /proc/keys (the keys the reader may view), /proc/key-users (each owner's
// use of its quota) and /proc/sys/kernel/keys/* (the quotas, which root may
// set): the kernel's KeyManager (kernel/keys/keys.ts) seen as Linux shows it.
import { OVERFLOW_ID } from '../../abi/mount';
import { gidFrom, uidFrom } from '../../auth/userns';
import type { Key, KeyUser } from '../../kernel/keys/key';
import { KEY_VIEW, NO_ID } from '../../kernel/keys/key';
import { KeySysctl, type KeyManager } from '../../kernel/keys/keys';
import { hasPermission, possessedSet } from '../../kernel/keys/process_keys';
import type { Task } from '../../kernel/task';
import { dointvecWrite, SYSCTL_INT } from './numparse';
import type { Entry, NodeMaker } from './nodes';
import type { ProcFs } from './procfs';
import { callerOf } from './task_info';

/** How long until a key expires, as /proc/keys prints it. */
function expiryText(k: Key, now: number): string {
  if (k.expiry === 0) return 'perm';
  if (now >= k.expiry) return 'expd';
  const s = k.expiry - now;
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  if (s < 604800) return `${Math.floor(s / 86400)}d`;
  return `${Math.floor(s / 604800)}w`;
}

function describeText(k: Key): string {
  if (k.state !== 'positive') return k.description;
  if (k.links) return `${k.description}: ${k.links.size ? k.links.size : 'empty'}`;
  return `${k.description}: ${k.payload?.length ?? 0}`;
}

/** References to each key: links to it and credentials naming it (the usage column). */
function usageCounts(fs: ProcFs, m: KeyManager): Map<Key, number> {
  const n = new Map<Key, number>();
  const add = (k: Key | null) => k && n.set(k, (n.get(k) ?? 0) + 1);
  for (const k of m.all()) for (const c of k.links?.values() ?? []) add(c);
  for (const t of fs.kernel.tasks.values()) {
    add(m.fromRef(t.creds.threadKeyring));
    add(m.fromRef(t.creds.processKeyring));
    add(m.fromRef(t.creds.sessionKeyring));
  }
  return n;
}

export function procKeysText(fs: ProcFs, t: Task): string {
  const m = t.kernel.keys;
  m.sweep();
  const c = t.creds;
  const now = Math.floor(t.kernel.realtimeNs() / 1e9);
  const usage = usageCounts(fs, m);
  const keys = [...m.all()].sort((a, b) => a.serial - b.serial);
  const mine = possessedSet(m, c);
  let out = '';
  for (const k of keys) {
    const possessed = mine.has(k);
    if (!hasPermission(c, { key: k, possessed }, KEY_VIEW)) continue;
    const flags = (k.state !== 'uninstantiated' ? 'I' : '-') + (k.revoked ? 'R' : '-') + (k.dead ? 'D' : '-') + (k.inQuota ? 'Q' : '-') +
      '-' + (k.state === 'negative' ? 'N' : '-') + (k.invalidated ? 'i' : '-');
    const gid = k.gid === NO_ID ? OVERFLOW_ID : gidFrom(c.userns, k.gid);
    out += `${k.serial.toString(16).padStart(8, '0')} ${flags} ${String(usage.get(k) ?? 1).padStart(5)} ${expiryText(k, now).padStart(4)} ` +
      `${(k.perm >>> 0).toString(16).padStart(8, '0')} ${String(uidFrom(c.userns, k.uid)).padStart(5)} ${String(gid).padStart(5)} ` +
      `${k.type.name.padEnd(9).slice(0, 9)} ${describeText(k)}\n`;
  }
  return out;
}

export function keyUsersText(fs: ProcFs, t: Task | null): string {
  const m = fs.kernel.keys;
  if (!m) return '';
  m.sweep();
  const users = [...m.quotaUsers()].sort((a: KeyUser, b: KeyUser) => a.uid - b.uid);
  let out = '';
  for (const u of users) {
    const uid = t ? uidFrom(t.creds.userns, u.uid) : u.uid;
    out += `${String(uid).padStart(5)}: ${String(u.nkeys).padStart(5)} ${u.nkeys}/${u.nikeys} ${u.qnkeys}/${m.maxKeys(u.uid)} ${u.qnbytes}/${m.maxBytes(u.uid)}\n`;
  }
  return out;
}

/** /proc/keys and /proc/key-users. */
export function keysEntries(fs: ProcFs, m: NodeMaker): Entry[] {
  return [
    m.file('key-users', (ctx) => keyUsersText(fs, callerOf(fs.kernel, ctx))),
    m.file('keys', (ctx) => {
      const t = callerOf(fs.kernel, ctx);
      return t ? procKeysText(fs, t) : '';
    }),
  ];
}

/** /proc/sys/kernel/keys: the quotas (1..INT_MAX) and the delays (0..INT_MAX), root may write them. */
export function keysSysctlDir(fs: ProcFs, m: NodeMaker): Entry {
  // A kernel without keys (a bare procfs in tests) shows Linux's defaults.
  const fallback = new KeySysctl();
  const s = (): KeySysctl => fs.kernel.keys?.sysctl ?? fallback;
  type Field = keyof KeySysctl;
  const item = (mm: NodeMaker, name: string, key: Field, min: number): Entry =>
    mm.rwFile(name, () => `${s()[key]}\n`, (data) => dointvecWrite(data, 1, min, SYSCTL_INT.max, (_, x) => (s()[key] = x)));
  return m.staticDir('keys', (mm) => [
    item(mm, 'gc_delay', 'gcDelay', 0),
    item(mm, 'maxbytes', 'maxbytes', 1),
    item(mm, 'maxkeys', 'maxkeys', 1),
    item(mm, 'persistent_keyring_expiry', 'persistentKeyringExpiry', 0),
    item(mm, 'root_maxbytes', 'rootMaxbytes', 1),
    item(mm, 'root_maxkeys', 'rootMaxkeys', 1),
  ]);
}
