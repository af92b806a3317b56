// Who may have an exec's stdio. The exec client (`tsvisor exec`, or its
// `exec-wait`) names its host pid in the request, and the sandbox process, or
// the runtime above a confined Sentry, opens that pid's fds 0-2 through
// /proc. A pid alone is what a compromised Sentry could name for any process
// (the exec of a same-named container under another --root, a root shell):
// so the client also holds a secret of its own, made for this one request,
// as the name of a memfd it keeps open until it exits, and sends the secret
// with the request. Only the client and the sandbox it asked learn it; the
// side that opens the stdio checks that the pid holds that memfd, which no
// other process can make it hold.

import { crypto } from './lazy_builtins';
import * as fs from 'node:fs';
import { holdNamedMemfd } from '../host/named_memfd';

const PREFIX = 'tsvisor-exec:';

/** 128 random bits, in hex: what a request's secret must look like. */
export const isExecSecret = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{32}$/.test(v);

/** Make a secret and hold it as a memfd's name for the rest of this process (close-on-exec: no child inherits it). */
export function holdExecSecret(): string {
  return heldExecSecret().secret;
}

/** holdExecSecret, with the memfd's fd (a child given it as one of its fds would hold the secret too). */
function heldExecSecret(): { secret: string; fd: number } {
  const secret = crypto().randomBytes(16).toString('hex');
  return { secret, fd: holdNamedMemfd(PREFIX + secret) };
}

/** Whether host process pid holds secret (a memfd of that name among its fds). */
export function holdsExecSecret(pid: number, secret: string): boolean {
  if (!isExecSecret(secret) || !Number.isInteger(pid) || pid <= 0) return false;
  const want = `/memfd:${PREFIX}${secret} (deleted)`;
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const n of fds) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${n}`) === want) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}
