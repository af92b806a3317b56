// The runtime's state under --root: one directory per container (mode 0700)
// holding state.json (what create recorded), the lock file every command on
// the container takes (flock: a killed command leaves no lock behind), and
// the sandbox process's control socket. Whether a container has stopped is
// found, not recorded: its sandbox process is gone (or its pid now names a
// process started at another time).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileLock } from '../host/filelock';
import type { ContainerRecord } from '../oci/runtime';

/** A command's failure, printed as one line (runc's wording where it has one). */
export class RuntimeError extends Error {}

/** Start time (clock ticks since boot) and state letter of a host process, from /proc/PID/stat; null if there is none. */
export function procStat(pid: number): { start: number; state: string } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: f[0], start: Number(f[19]) };
}

export class StateDir {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  /** Make the container's directory; a second container with the id is refused. */
  makeContainerDir(id: string): void {
    fs.mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      fs.mkdirSync(this.dir(id), { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError(`container with id exists: ${id}`);
      throw new RuntimeError(`cannot create the state directory ${this.dir(id)}: ${(e as Error).message}`);
    }
  }

  /** Take the container's lock; fails for an unknown id (or one deleted while we waited). */
  lock(id: string): FileLock {
    this.mustExist(id);
    let lock: FileLock;
    try {
      lock = FileLock.acquire(this.lockFile(id));
    } catch (e) {
      throw this.gone(id, e as Error);
    }
    return this.stillThere(id, lock);
  }

  /** lock() without holding this process's event loop while another process has it (FileLock.acquireAsync). */
  async lockAsync(id: string): Promise<FileLock> {
    this.mustExist(id);
    const lock = await FileLock.acquireAsync(this.lockFile(id)).catch((e: Error) => {
      throw this.gone(id, e);
    });
    return this.stillThere(id, lock);
  }

  private lockFile(id: string): string {
    return path.join(this.dir(id), 'lock');
  }

  private mustExist(id: string): void {
    if (!fs.existsSync(this.dir(id))) throw new RuntimeError(`container ${id} does not exist`);
  }

  private gone(id: string, e: Error): RuntimeError {
    return new RuntimeError(`container ${id} does not exist (${e.message})`);
  }

  /** lock, if the container's directory is still there now that it is held (not deleted while we waited). */
  private stillThere(id: string, lock: FileLock): FileLock {
    if (!fs.existsSync(this.dir(id))) {
      lock.release();
      throw new RuntimeError(`container ${id} does not exist`);
    }
    return lock;
  }

  /** The record, or null while create has not finished (or after it died half-way). */
  read(id: string): ContainerRecord | null {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir(id), 'state.json'), 'utf8')) as ContainerRecord;
    } catch {
      return null;
    }
  }

  write(r: ContainerRecord): void {
    const file = path.join(this.dir(r.id), 'state.json');
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(r), { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  }

  remove(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  /** IDs of the containers under the root. */
  ids(): string[] {
    try {
      return fs.readdirSync(this.root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch {
      return [];
    }
  }

  /** Whether the container's sandbox process still runs (a zombie does not). */
  alive(r: ContainerRecord): boolean {
    const st = procStat(r.pid);
    return st !== null && st.start === r.pidStart && st.state !== 'Z' && st.state !== 'X';
  }
}
