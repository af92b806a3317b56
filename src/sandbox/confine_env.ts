// How the runtime tells a confined Sentry where its start-up lies (set by
// confine_runtime.ts, read by confine.ts): apart from both so that the
// runtime, which starts the Sentry, loads none of the Sentry's side (its
// seccomp filter and what that needs).

/** The environment variable naming the fd of the runtime's socket in a confined Sentry. */
export const CONFINE_FD_ENV = 'TSVISOR_CONFINE_FD';

/** The runtime's capability bounding set, for a confined Sentry (whose own is empty): the sandbox's root gets what the caller could give. */
export const CALLER_CAPBND_ENV = 'TSVISOR_CONFINE_CAPBND';

/** The Gofer the runtime started for a confined Sentry (its socket's fd here and its trees: gofer/spawn.ts's hand-off). */
export const CONFINE_GOFER_ENV = 'TSVISOR_CONFINE_GOFER';

/**
 * Emitted on process by a confined Sentry just before it gives up the host:
 * bin/tsvisor.js then writes the code caches it could not write at exit.
 */
export const BEFORE_CONFINE_EVENT = 'tsvisor:before-confine';
