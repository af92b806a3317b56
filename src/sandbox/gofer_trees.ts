// The trees a sandbox's Gofer serves, from the container's plan: computed
// by the runtime of a confined Sentry (which starts the Gofer) and checked
// by the Sentry. A module of its own, apart from container.ts (the mounts,
// with the vfs and file systems), so that the runtime loads none of the
// kernel (docs/PERFORMANCE.md, "OCI containers confined").
import * as path from 'node:path';
import type { GoferTreeSpec } from '../gofer/spawn';
import type { MountPlan } from '../oci/plan';

/** Where a bind mount's host tree is: the file's directory for a file bind. */
const treeSource = (m: MountPlan): string => (m.kind === 'file' ? path.dirname(m.source) : m.source);

/**
 * The trees one Gofer serves for a sandbox, in the order the Sentry names
 * them: tree 0 the root file system (read-only: its writes stay in the
 * sandbox's upper layer), then each bind source once per kind (read-only,
 * or written through to the host). The runtime of a confined Sentry starts
 * the Gofer with this list, and the Sentry checks it gets the same one.
 */
export function goferTrees(rootfs: string, mounts: MountPlan[]): GoferTreeSpec[] {
  const trees: GoferTreeSpec[] = [{ path: rootfs, writable: false }];
  for (const m of mounts) {
    if (m.kind !== 'bind' && m.kind !== 'file') continue;
    const t = { path: treeSource(m), writable: !m.readonly };
    if (!trees.some((o, i) => i > 0 && o.path === t.path && o.writable === t.writable)) trees.push(t);
  }
  return trees;
}
