// The runtime's log (--log FILE, --log-format text|json), as runc writes it:
// Docker and containerd pass a file and read it back when a command fails.
// Errors also go to stderr as one line; warnings go to the log, or to stderr
// when there is none; debug lines only with --debug.

import * as fs from 'node:fs';
import { writeStdio } from './stdio';

export type LogFormat = 'text' | 'json';
type Level = 'debug' | 'info' | 'warning' | 'error';

export class RuntimeLog {
  constructor(
    private readonly file: string | undefined,
    private readonly format: LogFormat,
    private readonly debugOn: boolean,
  ) {}

  private line(level: Level, msg: string): string {
    const time = new Date().toISOString();
    if (this.format === 'json') return JSON.stringify({ level, msg, time }) + '\n';
    return `time=${JSON.stringify(time)} level=${level} msg=${JSON.stringify(msg)}\n`;
  }

  private append(level: Level, msg: string): boolean {
    if (!this.file) return false;
    try {
      fs.appendFileSync(this.file, this.line(level, msg));
      return true;
    } catch {
      return false;
    }
  }

  debug(msg: string): void {
    if (this.debugOn && !this.append('debug', msg)) writeStdio(2, `tsvisor: debug: ${msg}\n`);
  }

  warn(msg: string): void {
    if (!this.append('warning', msg)) writeStdio(2, `tsvisor: warning: ${msg}\n`);
  }

  /** The one line a failed command prints, and exits with 1 (runc's status for every error). */
  fatal(msg: string, code = 1): never {
    this.append('error', msg);
    writeStdio(2, `tsvisor: ${msg}\n`);
    process.exit(code);
  }
}
