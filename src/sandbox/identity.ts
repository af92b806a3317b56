// Who a sandbox's first process (or a container's) is, and what it may use:
// credentials within the caller's bounding set, resource limits inherited
// from the caller, and the default memory limit.

import { Credentials } from '../auth/creds';
import { ALL_CAPS } from '../abi/capability';
import { defaultRlimits, RLIM_INFINITY, type Rlimit } from '../kernel/thread_group';
import type { HostInfo } from '../host/hostinfo';
import type { ContainerPlan } from '../oci/plan';

/** Default memory limit: half of the host's RAM, so that one sandbox cannot push the host (and the Sentry) into swapping or the host OOM killer. */
export function defaultMemoryLimit(host: HostInfo): number {
  return Math.floor(host.totalMemory / 2 / 4096) * 4096;
}

/**
 * Root, with the capabilities an exec as root would give under the caller's
 * bounding set: a capability the caller could never have, the sandbox's root
 * does not get either.
 */
export function initialCreds(host: HostInfo, user?: { uid: number; gid: number; groups: number[] }): Credentials {
  const u = user ?? { uid: 0, gid: 0, groups: [] };
  // As a process exec'd with these ids: root gets the bounding set, any other user no capability.
  const c = new Credentials(u.uid, u.gid, u.uid, u.gid, u.uid, u.gid, u.uid, u.gid, [...u.groups]);
  if (host.capBounding !== null) c.capBounding = host.capBounding & ALL_CAPS;
  c.capPermitted &= c.capBounding;
  c.capEffective &= c.capBounding;
  return c;
}

/** A container's process identity: its IDs, and the capability sets the spec gives, within the caller's bounding set. */
export function containerCreds(c: ContainerPlan, host: HostInfo): Credentials {
  const cr = new Credentials(c.uid, c.gid, c.uid, c.gid, c.uid, c.gid, c.uid, c.gid, [...c.groups]);
  const bound = host.capBounding !== null ? host.capBounding & ALL_CAPS : ALL_CAPS;
  if (!c.caps) {
    cr.capBounding = bound;
    cr.capPermitted &= bound;
    cr.capEffective &= bound;
    return cr;
  }
  cr.capBounding = c.caps.bounding & bound;
  cr.capPermitted = c.caps.permitted & cr.capBounding;
  cr.capEffective = c.caps.effective & cr.capPermitted;
  cr.capInheritable = c.caps.inheritable;
  // Ambient capabilities must be permitted and inheritable (capabilities(7)).
  cr.capAmbient = c.caps.ambient & cr.capPermitted & cr.capInheritable;
  return cr;
}

/** The caller's limits (the Sentry's, with the caller's soft RLIMIT_NOFILE): inherited like any child's. */
export function hostRlimits(host: HostInfo): Rlimit[] {
  const limits = defaultRlimits();
  const value = (v: bigint): number => (v >= BigInt(Number.MAX_SAFE_INTEGER) ? RLIM_INFINITY : Number(v));
  limits.forEach((r, i) => {
    const h = host.rlimits[i];
    if (!h) return; // unknown here: keep the default
    r.cur = value(h.cur);
    r.max = value(h.max);
  });
  return limits;
}
