// Node's built-in modules that the runtime commands use on some paths only
// (spawning the sandbox process, the control socket, a terminal, an exec's
// secret), loaded at their first use: required when a module is evaluated,
// node:child_process (with node:net, node:dgram and the streams it loads),
// node:crypto and node:tty cost every command, `state` and `delete` of a gone
// container included, several milliseconds of start-up.

import type * as ChildProcess from 'node:child_process';
import type * as Crypto from 'node:crypto';
import type * as Net from 'node:net';
import type * as Tty from 'node:tty';

export const childProcess = (): typeof ChildProcess => require('node:child_process') as typeof ChildProcess;
export const crypto = (): typeof Crypto => require('node:crypto') as typeof Crypto;
export const net = (): typeof Net => require('node:net') as typeof Net;
export const tty = (): typeof Tty => require('node:tty') as typeof Tty;
