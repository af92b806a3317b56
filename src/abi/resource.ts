// Resource limits (asm-generic/resource.h).

/** How many RLIMIT_* resources there are. */
export const RLIM_NLIMITS = 16;
/** The resources' names, by number (as OCI's RLIMIT_* names and /proc/PID/limits know them, lower-case). */
export const RLIMIT_NAMES = ['cpu', 'fsize', 'data', 'stack', 'core', 'rss', 'nproc', 'nofile', 'memlock', 'as', 'locks', 'sigpending', 'msgqueue', 'nice', 'rtprio', 'rttime'];
/** How the Sentry stores an unlimited limit (written out as 2^64-1). */
export const RLIM_INFINITY = -1;
export const RLIMIT_CPU = 0;
export const RLIMIT_STACK = 3;
export const RLIMIT_NOFILE = 7;
export const RLIMIT_FSIZE = 1;
export const RLIMIT_DATA = 2;
export const RLIMIT_NPROC = 6;
export const RLIMIT_AS = 9;
export const RLIMIT_MSGQUEUE = 12;
