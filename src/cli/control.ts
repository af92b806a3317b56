// The control channel of a container's sandbox process: a Unix socket in the
// container's state directory (mode 0600, the directory 0700: only the
// runtime's user reaches it). Both ends name it relative to that directory,
// from inside it: a socket path is limited to 107 bytes, and Docker's state
// directories (--root /var/run/docker/runtime-runc/moby, 64-digit ids) are
// longer than that with the file name. One request per connection, one JSON line each
// way. The server runs on the sandbox process's Node loop, which the kernel
// yields to whenever the loop has work (a connection is such work).

import * as fs from 'node:fs';
import type { Server } from 'node:net';
import { net } from './lazy_builtins';
import type { SandboxProcess, SandboxStats } from '../sandbox/options';
import { isExecSecret } from './exec_secret';
import type { CgroupRecord } from '../oci/resources';
import { FDS_WANTED, FdMessage, receiveFds, requestWithFds, stopReading } from '../host/fdpass';

/** A process to start in the sandbox; its stdio are the client's fds 0-2 (opened through /proc/CLIENT/fd). */
export interface ExecRequest {
  argv: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
  /** The host pid of the client, whose fds 0-2 become the process's stdio. */
  client: number;
  /** What the client holds to prove it is that pid (exec_secret.ts). */
  secret: string;
}
/** The process an exec asks for, before the client adds itself (Runtime.exec). */
export type ExecSpec = Omit<ExecRequest, 'client' | 'secret'>;
/**
 * container: a container that joined the sandbox (a pod's, sandbox/pod.ts);
 * absent, the sandbox's own. create adds one (the source of its plan,
 * which of the sandbox's UTS and IPC namespaces it shares, and descriptors
 * passed with the request, host/fdpass.ts: its stdio, its stand-in's pipes,
 * cli/stand_in_elf.ts, and its Gofer's socket), remove ends it and forgets it.
 */
type Target = { container?: string };
/**
 * terminal: its stand-in's fd 0 is a terminal, whose ^C, ^\\, ^Z and window
 * changes it passes on for the container's terminal; cgroup: the container's
 * host cgroup (holding its stand-in), where an OOM kill within it is recorded;
 * gofer: a Gofer's socket comes after the pipes (POD_FDS). fds: what came
 * with the request, set by the server (never from the JSON).
 */
export type PodCreate = {
  op: 'create'; container: string; source: unknown; shareUts: boolean; shareIpc: boolean; terminal: boolean; cgroup: CgroupRecord | null; gofer: boolean; fds: number[];
};
/** The descriptors of a create, in order: the container's stdio (0-2), the stand-in's status pipe's write end and signal pipe's read end, then its Gofer's socket if any. */
export const POD_FDS = { status: 3, signals: 4, gofer: 5 } as const;
export type ControlRequest = ({ op: 'start' } | { op: 'pause' } | { op: 'resume' } | { op: 'ps' } | { op: 'stats' } | { op: 'kill'; signal: number; all: boolean }
  | { op: 'ttysignal'; client: number; signal: number } | ({ op: 'exec' } & ExecRequest) | { op: 'remove' }) & Target | PodCreate;
/** status: the wait status of an exec'd process, sent when it exits; processes: for ps; stats: for events. */
export type ControlReply = { ok: true; status?: number; processes?: SandboxProcess[]; stats?: SandboxStats } | { ok: false; error: string };

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

function parseExec(o: Record<string, unknown>): ControlRequest | null {
  const { argv, env, cwd, uid, gid, groups, client, secret } = o;
  if (!isStrings(argv) || argv.length === 0 || !isStrings(env) || typeof cwd !== 'string' || !isId(uid) || !isId(gid)) return null;
  if (!Array.isArray(groups) || !groups.every(isId) || !isId(client) || !isExecSecret(secret)) return null;
  return { op: 'exec', argv, env, cwd, uid, gid, groups, client, secret };
}

/** A host cgroup as the runtime recorded it: absolute directories, no '..', a controller name each. */
function parseCgroup(v: unknown): CgroupRecord | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object') return undefined;
  const { version, dirs } = v as Record<string, unknown>;
  if ((version !== 1 && version !== 2) || typeof dirs !== 'object' || dirs === null) return undefined;
  const entries = Object.entries(dirs);
  const good = entries.length <= 16 && entries.every(([c, d]) => /^[\w.=-]{1,64}$/.test(c) && typeof d === 'string' && d.startsWith('/') && d.length < 4096 && !d.split('/').includes('..'));
  return good ? { version, dirs: Object.fromEntries(entries) as Record<string, string> } : undefined;
}

const SOCKET = 'control.sock';

/** Requests larger than this are refused: the peer is the runtime, whose requests are a few bytes, but for create's, which carries a config.json. */
const MAX_REQUEST = 4 << 20;

/** A container id as runc takes it (oci/runtime.ts's validId): no path characters. */
const isContainerId = (v: unknown): v is string => typeof v === 'string' && /^[\w+-][\w+.-]*$/.test(v) && v.length <= 1024;

function parseRequest(line: string): ControlRequest | null {
  const r = parseOp(line);
  return r && r.op !== 'create' && r.container !== undefined && !isContainerId(r.container) ? null : r;
}

function parseOp(line: string): ControlRequest | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const t: Target = o.container === undefined ? {} : { container: o.container as string };
  if (o.op === 'start' || o.op === 'pause' || o.op === 'resume' || o.op === 'ps' || o.op === 'stats' || o.op === 'remove') return { op: o.op, ...t };
  if (o.op === 'exec') {
    const e = parseExec(o);
    return e && { ...e, ...t };
  }
  if (o.op === 'ttysignal' && isId(o.client) && typeof o.signal === 'number' && Number.isInteger(o.signal)) return { op: 'ttysignal', client: o.client, signal: o.signal, ...t };
  if (o.op === 'kill' && typeof o.signal === 'number' && Number.isInteger(o.signal) && typeof o.all === 'boolean') return { op: 'kill', signal: o.signal, all: o.all, ...t };
  if (o.op === 'create' && isContainerId(o.container) && typeof o.source === 'object' && o.source !== null && typeof o.shareUts === 'boolean' && typeof o.shareIpc === 'boolean'
    && typeof o.terminal === 'boolean' && typeof o.gofer === 'boolean') {
    const cgroup = parseCgroup(o.cgroup);
    if (cgroup === undefined) return null;
    return { op: 'create', container: o.container, source: o.source, shareUts: o.shareUts, shareIpc: o.shareIpc, terminal: o.terminal, cgroup, gofer: o.gofer, fds: [] };
  }
  return null;
}

export class ControlServer {
  private constructor(private readonly server: Server) {}

  /**
   * Listen on control.sock in dir (mode 0600) and answer each request with
   * handle's reply. onConnection runs for each new connection: libuv adds
   * the new socket to its epoll set only in its next iteration, so a loop
   * that yields to Node only when that set has events must yield once more.
   */
  static listen(dir: string, handle: (r: ControlRequest) => ControlReply | Promise<ControlReply>, onConnection: () => void): Promise<ControlServer> {
    /** Where a create's descriptors are received (made at the first). */
    let fdMessage: FdMessage | null = null;
    const server = net().createServer((sock) => {
      onConnection();
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('error', () => sock.destroy());
      sock.on('data', (chunk: string) => {
        buf += chunk;
        if (buf.length > MAX_REQUEST) return sock.destroy();
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        const req = parseRequest(buf.slice(0, nl));
        buf = '';
        // A create's descriptors come next, in a message of their own that Node must not read (it would drop them).
        if (req?.op === 'create') stopReading(sock);
        const answer = async (): Promise<ControlReply> => {
          if (!req) return { ok: false, error: 'malformed request' };
          if (req.op === 'create') {
            await new Promise<void>((resolve) => sock.write(FDS_WANTED, () => resolve()));
            try {
              req.fds = await receiveFds(fdMessage ??= new FdMessage(), sock, req.gofer ? POD_FDS.gofer + 1 : POD_FDS.gofer);
            } catch (e) {
              return { ok: false, error: (e as Error).message };
            }
          }
          return handle(req);
        };
        // Closed once the answer is written: a create's connection is no longer read, so Node would never see the client's end.
        const finish = (reply: ControlReply): void => void sock.end(JSON.stringify(reply) + '\n', () => sock.destroy());
        answer().then(finish, (e: Error) => finish({ ok: false, error: e.message }));
      });
    });
    return new Promise((resolve, reject) => {
      // The socket file is made with the umask: none of it may be group or world accessible, even for a moment.
      const old = process.umask(0o177);
      server.once('error', reject);
      process.chdir(dir);
      server.listen(SOCKET, () => {
        process.umask(old);
        fs.chmodSync(SOCKET, 0o600);
        server.off('error', reject);
        resolve(new ControlServer(server));
      });
    });
  }

  close(): void {
    this.server.close();
  }
}

/** Send create (of a pod's container) with its descriptors (POD_FDS) to the sandbox process of the container whose state directory is dir (blocking). */
export function createRequest(dir: string, req: Omit<PodCreate, 'fds'>, fds: number[]): ControlReply {
  process.chdir(dir);
  const text = requestWithFds(req, fds);
  try {
    return JSON.parse(text) as ControlReply;
  } catch {
    throw new Error('the sandbox closed its control channel without an answer');
  }
}

/** Send one request to the sandbox process of the container whose state directory is dir. */
export function controlRequest(dir: string, req: ControlRequest, timeoutMs: number | null = 30_000): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    process.chdir(dir);
    const sock = net().createConnection(SOCKET);
    let buf = '';
    // An exec's answer comes when its process exits: no timeout then.
    const timer = timeoutMs === null ? undefined : setTimeout(() => {
      sock.destroy();
      reject(new Error('the sandbox did not answer on its control channel'));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (c: string) => (buf += c));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach the sandbox's control channel: ${e.message}`));
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        const v = JSON.parse(buf) as ControlReply;
        resolve(v);
      } catch {
        reject(new Error('the sandbox closed its control channel without an answer'));
      }
    });
  });
}
