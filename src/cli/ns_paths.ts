// linux.namespaces entries with a path, other than the network one (which
// the sandbox process joins on the host). A sandbox's pid, mount, ipc, uts,
// cgroup and user namespaces are objects of its Sentry, and every container
// is a sandbox of its own: a path naming another container's namespace (a
// pod's pause container's /proc/PID/ns/ipc, `docker run --pid
// container:X`) or a host namespace cannot be joined. Sharing a pid or
// mount namespace is what such a container is built on (it sees and
// signals the other's processes, its file systems were set up there), so
// create fails; for ipc, uts, cgroup and user the container gets its own
// and the runtime log says which container's it was not put in (the
// network namespace, which a pod's containers do share, is joined).

import * as fs from 'node:fs';
import type { NsPath } from '../oci/plan';
import { RuntimeError, type StateDir } from './statedir';

/** The spec's namespace types and their names under /proc/PID/ns. */
const PROC_NS: Record<string, string> = { pid: 'pid', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time' };
/** Namespaces a container cannot run without sharing. */
const MUST_JOIN = new Set(['pid', 'mount', 'time']);
/** What a container in its own namespace of the type does not share. */
const NOT_SHARED: Record<string, string> = {
  ipc: 'System V and POSIX IPC objects are not shared', uts: 'hostname and domain name are not shared',
  cgroup: 'its cgroup view is its own', user: 'its user and group IDs are the sandbox\'s',
};

/**
 * The live container under the state root that path names: /proc/PID/ns/KIND
 * of its sandbox process (the state's pid, which pod runtimes use), or a
 * file of the same namespace (a bind of it) when that namespace is the
 * container's own, not one its sandbox process shares with the runtime.
 */
function ownerOf(state: StateDir, procName: string, path: string, st: fs.Stats): string | null {
  const byPid = /^\/proc\/(\d+)\/ns\/[a-z_]+$/.exec(path);
  let mine: fs.Stats | null = null;
  try {
    mine = fs.statSync(`/proc/self/ns/${procName}`);
  } catch {
    // no such namespace kind on this host
  }
  const shared = mine !== null && mine.ino === st.ino && mine.dev === st.dev;
  for (const id of state.ids()) {
    const r = state.read(id);
    if (!r || !state.alive(r)) continue;
    if (byPid && Number(byPid[1]) === r.pid) return id;
    if (shared) continue;
    try {
      const o = fs.statSync(`/proc/${r.pid}/ns/${procName}`);
      if (o.ino === st.ino && o.dev === st.dev) return id;
    } catch {
      // it ended meanwhile
    }
  }
  return null;
}

/**
 * Check the spec's namespace paths: an error (RuntimeError) for one that
 * does not exist, is not a namespace of its type, or must be joined; a
 * warning line for each of the others.
 */
export function checkNamespacePaths(paths: NsPath[], state: StateDir): string[] {
  const warnings: string[] = [];
  for (const { type, path } of paths) {
    const procName = PROC_NS[type];
    if (!procName) throw new RuntimeError(`linux.namespaces: unknown namespace type ${JSON.stringify(type)}`);
    let st: fs.Stats;
    try {
      st = fs.statSync(path);
    } catch (e) {
      throw new RuntimeError(`linux.namespaces: ${type} namespace ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    // A /proc/PID/ns/KIND link says its kind ("ipc:[4026531839]"); a bind-mounted namespace file says nothing.
    let link: string | null = null;
    try {
      link = fs.readlinkSync(path);
    } catch {
      // not a link
    }
    if (link !== null && !link.startsWith(`${procName}:[`)) throw new RuntimeError(`linux.namespaces: ${path} is not a ${type} namespace (${link})`);
    const owner = ownerOf(state, procName, path, st);
    const whose = owner ? `container ${owner}'s ${type} namespace (${path})` : `the ${type} namespace ${path}`;
    const why = owner
      ? `${owner} runs in a sandbox of its own (tsvisor puts one container in each sandbox) and a sandbox's ${type} namespace belongs to its kernel`
      : `the sandbox's ${type} namespace belongs to its own kernel, which a host namespace cannot replace`;
    if (MUST_JOIN.has(type)) throw new RuntimeError(`linux.namespaces: cannot join ${whose}: ${why}`);
    warnings.push(`linux.namespaces: ${whose} is not joined: ${why}; the container has its own (${NOT_SHARED[type]})`);
  }
  return warnings;
}
