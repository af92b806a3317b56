// `tsvisor install`: register tsvisor as a runtime of Docker, as `runsc
// install` does: add or update one entry of the `runtimes` object in
// daemon.json (or the file --config names), keeping everything else the file
// holds. The file is replaced atomically (a rename), with its mode kept.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeError } from './statedir';

export interface InstallFlags {
  config: string;
  runtime: string;
}

type Json = Record<string, unknown>;

function readConfig(file: string): Json {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new RuntimeError(`cannot read ${file}: ${(e as Error).message}`);
  }
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new RuntimeError(`${file}: not valid JSON (${(e as Error).message}); not changed`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RuntimeError(`${file}: wants a JSON object; not changed`);
  return v as Json;
}

/** Add or update the runtime entry for `bin` with these extra arguments; returns the file's new text. */
export function install(bin: string, f: InstallFlags, runtimeArgs: string[]): string {
  const file = path.resolve(f.config);
  const conf = readConfig(file);
  const runtimes = conf.runtimes ?? {};
  if (typeof runtimes !== 'object' || runtimes === null || Array.isArray(runtimes)) throw new RuntimeError(`${file}: "runtimes" is not an object; not changed`);
  const entry: Json = { path: path.resolve(bin) };
  if (runtimeArgs.length) entry.runtimeArgs = runtimeArgs;
  conf.runtimes = { ...(runtimes as Json), [f.runtime]: entry };
  const text = JSON.stringify(conf, null, 4) + '\n';
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let mode = 0o644;
  try {
    mode = fs.statSync(file).mode & 0o7777;
  } catch {
    // a new file
  }
  const tmp = `${file}.tsvisor-${process.pid}`;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
  return text;
}
