// Resource limits (asm-generic/resource.h).

/** How many RLIMIT_* resources there are. */
export const RLIM_NLIMITS = 16;
export const RLIMIT_STACK = 3;
export const RLIMIT_NOFILE = 7;
