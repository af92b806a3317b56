// NODE_EXTRA_CA_CERTS makes every Node process parse the named certificates
// before any script runs (OpenSSL decoding a whole CA bundle: about a
// quarter of `node -e 0`'s start-up CPU on these machines, measured with
// perf). tsvisor itself does no TLS, and Docker's shim starts it several
// times per container with the daemon's environment, which often carries
// the variable. So bin/tsvisor.js hands it over under CALLER_CA_ENV instead
// (its shell line, before Node starts; or its first statement, for the Node
// processes tsvisor starts itself), and the programs it runs on the caller's
// behalf get it back under its own name (callerEnv).

/** Where bin/tsvisor.js keeps the caller's NODE_EXTRA_CA_CERTS. */
export const CALLER_CA_ENV = 'TSVISOR_CALLER_CA_CERTS';

/** The caller's environment as the runtime received it: process.env with NODE_EXTRA_CA_CERTS under its own name again. */
export function callerEnv(): Array<[string, string | undefined]> {
  return Object.entries(process.env).map(([k, v]) => (k === CALLER_CA_ENV ? ['NODE_EXTRA_CA_CERTS', v] : [k, v]));
}
