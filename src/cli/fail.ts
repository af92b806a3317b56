// One line on stderr and a non-zero exit: how every command reports an error.
// The OCI commands also write it to --log (runtime_log.ts) first.

import { writeStdio } from './stdio';

export function fail(msg: string, code = 2): never {
  writeStdio(2, `tsvisor: ${msg}\n`);
  process.exit(code);
}
