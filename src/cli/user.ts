// `tsvisor do --user USER[:GROUP]`: the identity of the first process, as
// `docker run --user` gives it. Names are looked up in the root file
// system's /etc/passwd and /etc/group (the sandbox's, not necessarily the
// host's); a number needs no entry. Without a group, the user's entry gives
// it (a number without an entry: group 0, as Docker). The supplementary
// groups are the primary group and every group of /etc/group that lists the
// user by name.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fail } from './fail';

export interface DoUser {
  uid: number;
  gid: number;
  groups: number[];
}

interface Entry {
  name: string;
  id: number;
  /** passwd: the primary gid; group: unused. */
  gid: number;
  /** group: the member names. */
  members: string[];
}

const MAX_ID = 0xfffffffe; // (uid_t)-1 is "no change" to setresuid and never an identity

function table(rootfs: string, file: string): Entry[] {
  let text: string;
  try {
    // Read through the host's view of --rootfs: the sandbox has not started yet. A symlinked /etc file that leads
    // outside the root is refused rather than followed.
    const p = path.join(rootfs, 'etc', file);
    const real = fs.realpathSync(p);
    const root = fs.realpathSync(rootfs);
    if (real !== p && !real.startsWith(root === '/' ? '/' : root + '/')) return [];
    text = fs.readFileSync(real, 'latin1');
  } catch {
    return [];
  }
  const out: Entry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || !/^\d+$/.test(f[2])) continue;
    const members = file === 'group' ? f[3].split(',').filter((m) => m) : [];
    out.push({ name: f[0], id: Number(f[2]), gid: file === 'passwd' && /^\d+$/.test(f[3]) ? Number(f[3]) : 0, members });
  }
  return out;
}

function numeric(s: string, what: string, spec: string): number | null {
  if (!/^\d+$/.test(s)) return null;
  const n = Number(s);
  if (n > MAX_ID) fail(`--user ${spec}: ${what} ${s} is out of range`);
  return n;
}

export function parseUser(spec: string, rootfs: string): DoUser {
  const parts = spec.split(':');
  if (parts.length > 2 || !parts[0] || (parts.length === 2 && !parts[1])) fail(`--user wants USER[:GROUP], got ${JSON.stringify(spec)}`);
  const [u, g] = parts;
  const passwd = table(rootfs, 'passwd');
  const groups = table(rootfs, 'group');
  const byUid = numeric(u, 'user', spec);
  const pw = byUid === null ? passwd.find((e) => e.name === u) : passwd.find((e) => e.id === byUid);
  if (byUid === null && !pw) fail(`--user ${spec}: no user ${JSON.stringify(u)} in ${path.join(rootfs, 'etc/passwd')}`);
  const uid = byUid ?? pw!.id;
  let gid = pw?.gid ?? 0;
  if (g !== undefined) {
    const byGid = numeric(g, 'group', spec);
    const gr = byGid === null ? groups.find((e) => e.name === g) : null;
    if (byGid === null && !gr) fail(`--user ${spec}: no group ${JSON.stringify(g)} in ${path.join(rootfs, 'etc/group')}`);
    gid = byGid ?? gr!.id;
  }
  const supplementary = pw ? groups.filter((e) => e.members.includes(pw.name)).map((e) => e.id) : [];
  return { uid, gid, groups: [...new Set([gid, ...supplementary])] };
}
