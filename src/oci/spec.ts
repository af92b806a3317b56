// The OCI runtime specification's config.json (config.md), the part tsvisor
// reads, and its validation. The checks are written by hand rather than
// through a JSON schema: the published schema accepts many fields tsvisor
// cannot honour, and a hand check names the field and says what it wants
// ("process.user.uid: wants an integer from 0 to 4294967295"), which is the
// one line `create` prints. Fields outside this subset are not errors; the
// plan (plan.ts) reports them as unsupported.

export interface OciUser {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
}

export interface OciRlimit {
  type: string;
  soft: number;
  hard: number;
}

export interface OciCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface OciProcess {
  terminal?: boolean;
  args: string[];
  env?: string[];
  cwd: string;
  user: OciUser;
  rlimits?: OciRlimit[];
  capabilities?: OciCapabilities;
  noNewPrivileges?: boolean;
  /** Every other field, kept to be reported. */
  [other: string]: unknown;
}

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
export type HookKind = (typeof HOOK_KINDS)[number];
export type OciHooks = Partial<Record<HookKind, OciHook[]>>;

export interface OciSpec {
  ociVersion: string;
  process?: OciProcess;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: OciMount[];
  annotations?: Record<string, string>;
  hooks?: OciHooks;
  [other: string]: unknown;
}

function hook(v: Json, at: string): OciHook {
  const o = object(v, at);
  const h: OciHook = { path: string(o.path, `${at}.path`) };
  if (!h.path.startsWith('/')) throw new SpecError(`${at}.path: wants an absolute path, got ${JSON.stringify(h.path)}`);
  h.args = optional(o, 'args', at, strings);
  h.env = optional(o, 'env', at, strings);
  h.timeout = optional(o, 'timeout', at, (x, a) => uint(x, a, 0x7fffffff));
  if (h.timeout === 0) throw new SpecError(`${at}.timeout: wants a number of seconds above 0`);
  return h;
}

function hooks(v: Json): OciHooks {
  const o = object(v, 'hooks');
  const out: OciHooks = {};
  for (const [k, list] of Object.entries(o)) {
    if (!(HOOK_KINDS as readonly string[]).includes(k)) throw new SpecError(`hooks.${k}: not a kind of hook (${HOOK_KINDS.join(', ')})`);
    if (!Array.isArray(list)) throw new SpecError(`hooks.${k}: wants an array`);
    out[k as HookKind] = list.map((x, i) => hook(x, `hooks.${k}[${i}]`));
  }
  return out;
}

/** A config.json that does not follow the specification; the message names the field. */
export class SpecError extends Error {}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function object(v: Json, at: string): Record<string, Json> {
  if (!isObject(v)) throw new SpecError(`${at}: wants an object`);
  return v;
}

function string(v: Json, at: string): string {
  if (typeof v !== 'string') throw new SpecError(`${at}: wants a string`);
  return v;
}

function bool(v: Json, at: string): boolean {
  if (typeof v !== 'boolean') throw new SpecError(`${at}: wants true or false`);
  return v;
}

function uint(v: Json, at: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new SpecError(`${at}: wants an integer from 0 to ${max}`);
  return v;
}

function strings(v: Json, at: string): string[] {
  if (!Array.isArray(v)) throw new SpecError(`${at}: wants an array of strings`);
  return v.map((s, i) => string(s, `${at}[${i}]`));
}

function optional<T>(o: Record<string, Json>, key: string, at: string, read: (v: Json, at: string) => T): T | undefined {
  return o[key] === undefined ? undefined : read(o[key], `${at}.${key}`);
}

const U32 = 0xffffffff;
/** rlimit values are 64-bit; JSON numbers past 2^53 are not exact, so any such value means "unlimited". */
const U64ISH = Number.MAX_VALUE;

function user(v: Json, at: string): OciUser {
  const o = object(v, at);
  if (o.username !== undefined) throw new SpecError(`${at}.username: is for Windows; use uid and gid`);
  const u: OciUser = { uid: uint(o.uid, `${at}.uid`, U32), gid: uint(o.gid, `${at}.gid`, U32) };
  u.umask = optional(o, 'umask', at, (x, a) => uint(x, a, 0o777));
  u.additionalGids = optional(o, 'additionalGids', at, (x, a) => {
    if (!Array.isArray(x)) throw new SpecError(`${a}: wants an array of integers`);
    return x.map((g, i) => uint(g, `${a}[${i}]`, U32));
  });
  return u;
}

function processOf(v: Json, at: string): OciProcess {
  const o = object(v, at);
  const args = strings(o.args, `${at}.args`);
  if (args.length === 0) throw new SpecError(`${at}.args: wants at least the program to run`);
  const cwd = string(o.cwd, `${at}.cwd`);
  if (!cwd.startsWith('/')) throw new SpecError(`${at}.cwd: wants an absolute path, got ${JSON.stringify(cwd)}`);
  const p: OciProcess = { ...o, args, cwd, user: user(o.user, `${at}.user`) };
  p.terminal = optional(o, 'terminal', at, bool);
  p.noNewPrivileges = optional(o, 'noNewPrivileges', at, bool);
  p.env = optional(o, 'env', at, (x, a) => {
    const e = strings(x, a);
    e.forEach((kv, i) => {
      if (kv.indexOf('=') <= 0) throw new SpecError(`${a}[${i}]: wants NAME=VALUE, got ${JSON.stringify(kv)}`);
    });
    return e;
  });
  p.rlimits = optional(o, 'rlimits', at, (x, a) => {
    if (!Array.isArray(x)) throw new SpecError(`${a}: wants an array`);
    return x.map((r, i) => {
      const ro = object(r, `${a}[${i}]`);
      return { type: string(ro.type, `${a}[${i}].type`), soft: uint(ro.soft, `${a}[${i}].soft`, U64ISH), hard: uint(ro.hard, `${a}[${i}].hard`, U64ISH) };
    });
  });
  p.capabilities = optional(o, 'capabilities', at, (x, a) => {
    const co = object(x, a);
    const c: OciCapabilities = {};
    for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) c[set] = optional(co, set, a, strings);
    return c;
  });
  return p;
}

function mount(v: Json, at: string): OciMount {
  const o = object(v, at);
  const m: OciMount = { destination: string(o.destination, `${at}.destination`) };
  if (!m.destination.startsWith('/')) throw new SpecError(`${at}.destination: wants an absolute path, got ${JSON.stringify(m.destination)}`);
  m.type = optional(o, 'type', at, string);
  m.source = optional(o, 'source', at, string);
  m.options = optional(o, 'options', at, strings);
  return m;
}

/** Check a parsed config.json; throws SpecError naming the first bad field. */
export function parseSpec(v: Json): OciSpec {
  const o = object(v, 'config.json');
  const spec: OciSpec = { ...o, ociVersion: string(o.ociVersion, 'ociVersion') };
  if (!/^1\.\d+\.\d+/.test(spec.ociVersion)) throw new SpecError(`ociVersion: ${JSON.stringify(spec.ociVersion)} is not a 1.x version`);
  spec.process = optional(o, 'process', '', (x) => processOf(x, 'process'));
  spec.root = optional(o, 'root', '', (x) => {
    const r = object(x, 'root');
    return { path: string(r.path, 'root.path'), readonly: optional(r, 'readonly', 'root', bool) };
  });
  spec.hostname = optional(o, 'hostname', '', (x) => string(x, 'hostname'));
  spec.domainname = optional(o, 'domainname', '', (x) => string(x, 'domainname'));
  spec.mounts = optional(o, 'mounts', '', (x) => {
    if (!Array.isArray(x)) throw new SpecError('mounts: wants an array');
    return x.map((m, i) => mount(m, `mounts[${i}]`));
  });
  spec.hooks = optional(o, 'hooks', '', hooks);
  spec.annotations = optional(o, 'annotations', '', (x) => {
    const a = object(x, 'annotations');
    for (const [k, val] of Object.entries(a)) string(val, `annotations.${k}`);
    return a as Record<string, string>;
  });
  return spec;
}

/** Check a process.json (`exec --process`): the process object of config.json on its own. */
export function parseProcess(v: Json): OciProcess {
  return processOf(v, 'process');
}
