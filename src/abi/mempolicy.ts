// NUMA memory policies (linux/mempolicy.h).

export const MPOL_DEFAULT = 0, MPOL_PREFERRED = 1, MPOL_BIND = 2, MPOL_INTERLEAVE = 3, MPOL_LOCAL = 4;
export const MPOL_PREFERRED_MANY = 5, MPOL_WEIGHTED_INTERLEAVE = 6, MPOL_MAX = 7;
/** Mode flags, or'ed into the mode argument. */
export const MPOL_F_STATIC_NODES = 1 << 15, MPOL_F_RELATIVE_NODES = 1 << 14, MPOL_F_NUMA_BALANCING = 1 << 13;
export const MPOL_MODE_FLAGS = MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES | MPOL_F_NUMA_BALANCING;
/** get_mempolicy flags. */
export const MPOL_F_NODE = 1, MPOL_F_ADDR = 2, MPOL_F_MEMS_ALLOWED = 4;
/** mbind flags. */
export const MPOL_MF_STRICT = 1, MPOL_MF_MOVE = 2, MPOL_MF_MOVE_ALL = 4;

/** A policy other than the default: its mode, mode flags and the node mask it reports (bit n: node n). */
export interface NumaPolicy {
  mode: number;
  flags: number;
  nodes: bigint;
  /** set_mempolicy_home_node's node for a bind or preferred-many range (-1: none). */
  homeNode?: number;
}

export function samePolicy(a: NumaPolicy | null, b: NumaPolicy | null): boolean {
  return a === b || (a !== null && b !== null && a.mode === b.mode && a.flags === b.flags && a.nodes === b.nodes && (a.homeNode ?? -1) === (b.homeNode ?? -1));
}
