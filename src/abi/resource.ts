// Resource limits (asm-generic/resource.h).

/** How many RLIMIT_* resources there are. */
export const RLIM_NLIMITS = 16;
export const RLIMIT_CPU = 0;
export const RLIMIT_STACK = 3;
export const RLIMIT_NOFILE = 7;
export const RLIMIT_FSIZE = 1;
export const RLIMIT_DATA = 2;
export const RLIMIT_NPROC = 6;
export const RLIMIT_AS = 9;
export const RLIMIT_MSGQUEUE = 12;
