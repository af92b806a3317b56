// The tsvisor command line, runc-compatible: global flags before the command
// (as runc, Docker, containerd and podman give them), one sub-command each,
// parsed with commander. `do` runs one command sandboxed; the OCI runtime
// commands are in oci_commands.ts; `sandbox-init` is the hidden command of a
// container's sandbox process.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import type * as OciCompat from '../oci/compat';
import { OCI_VERSION } from '../oci/runtime';
import type { DoFlags } from './do';
import { fail } from './fail';
import { writeStdio } from './stdio';
import type * as OciCommands from './oci_commands';
import type { CreateFlags, ExecFlags } from './oci_commands';
import type { ExecSpec } from './control';
import type { GoferHandOff } from '../gofer/spawn';
import type { CgroupRecord } from '../oci/resources';
import type * as RuntimeLogs from './runtime_log';
import type { LogFormat } from './runtime_log';
import type * as SandboxProc from './sandbox_proc';
import type * as Install from './install';
import type { InstallFlags } from './install';
import type * as Observe from './observe';
import type * as StateDir from './statedir';
import { ABANDONED_ENV, CreateReady } from './create_ready';
import { NETWORK_MODES, type NetworkMode } from '../kernel/netinfo';

// The kernel (the syscall table, `do`'s sandbox) is loaded only by the commands
// that run one: the runtime commands Docker calls several times per container
// (create, start, state, kill, delete) start faster without evaluating it.
const lazyDo = () => import('./do');
// The runtime commands' modules are evaluated by the command that runs, not at
// start-up: `do` needs none of them (nor node:child_process, node:net,
// node:tty and node:crypto, which they load), and a runtime command pays for
// them when its action runs instead. They stay in the first bundle file
// (tools/bundle.js counts these requires as eager), so a runtime command still
// reads no kernel.
const oci = (): typeof OciCommands => require('./oci_commands') as typeof OciCommands;
const sandboxProc = (): typeof SandboxProc => require('./sandbox_proc') as typeof SandboxProc;
const observe = (): typeof Observe => require('./observe') as typeof Observe;
const stateDir = (): typeof StateDir => require('./statedir') as typeof StateDir;
const runtimeLogs = (): typeof RuntimeLogs => require('./runtime_log') as typeof RuntimeLogs;

/** --network: which network the sandboxed program gets (kernel/netinfo.ts). */
const networkOption = (): Option => new Option('--network <mode>', 'host: the host\'s network through host sockets; sandbox: the Sentry\'s own stack; none: loopback only')
  .choices([...NETWORK_MODES]).default('sandbox');

interface GlobalFlags {
  root: string;
  log?: string;
  logFormat: LogFormat;
  debug?: boolean;
  systemdCgroup?: boolean;
  platform?: string;
  network: NetworkMode;
  /** --confine / --no-confine: the sandbox process's Sentry runs confined, with the Gofer; undefined: unless $TSVISOR_CONFINE=0. */
  confine?: boolean;
}

function version(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/**
 * The command argv runs: its first argument that is not one of program's
 * (global) options or an option's value; undefined when there is none, or
 * an option program does not declare (--help) comes first.
 */
function commandOf(program: Command, argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) return a;
    if (a.startsWith('--') && a.includes('=')) continue;
    const o = program.options.find((x) => x.long === a || x.short === a);
    if (!o || o.optional) return undefined;
    if (o.required) i++;
  }
  return undefined;
}

/**
 * The command line. With argv, only the command it runs is declared (with
 * the global options): declaring all ~20 commands and their options was
 * about a tenth of a light command's start-up CPU beyond Node's own. A
 * command line without one of ours (help, a typo, --help first) gets them
 * all, for commander's help and suggestions.
 */
function build(ready: CreateReady | null, argv: string[] | null): Command {
  const program = new Command('tsvisor');
  program
    .description('a sandboxed container runtime: an application kernel serves every system call of the contained program')
    .version(`tsvisor version ${version()}\nspec: ${OCI_VERSION}`, '-v, --version', 'print the version')
    .option('--root <dir>', 'where container state is kept', '/run/tsvisor')
    .option('--log <file>', 'write the runtime log to this file (default: stderr)')
    .addOption(new Option('--log-format <format>', 'the log format').choices(['text', 'json']).default('text'))
    .option('--debug', 'debug lines in the log')
    .option('--systemd-cgroup', 'accepted: a cgroupsPath slice:prefix:name is laid out as systemd would, made directly (no D-Bus)')
    .addOption(new Option('--platform <name>', 'how application code runs: ptrace or systrap (default: $TSVISOR_PLATFORM, else systrap; ptrace where the host cannot run systrap)').choices(['ptrace', 'systrap']))
    .addOption(networkOption())
    .option('--confine', "containers' Sentries run confined, their host files served by a Gofer (docs/SECURITY.md; the default unless $TSVISOR_CONFINE=0)")
    .option('--no-confine', "containers' Sentries run with the runtime's host access (default with $TSVISOR_CONFINE=0)")
    .enablePositionalOptions()
    .showHelpAfterError(false)
    .configureOutput({ outputError: (s, write) => write(`tsvisor: ${s.replace(/^error: /, '')}`) });

  const only = argv === null ? undefined : commandOf(program, argv);
  let declared = 0;
  const want = (...names: string[]): boolean => {
    const yes = only === undefined || names.includes(only);
    if (yes) declared++;
    return yes;
  };
  const globals = (): GlobalFlags => program.opts<GlobalFlags>();
  // The platform reaches every sandbox this process starts, and the sandbox processes it spawns, through the environment.
  program.hook('preAction', () => {
    const p = globals().platform;
    if (p) process.env.TSVISOR_PLATFORM = p;
  });
  const runtime = (): OciCommands.Runtime => {
    const g = globals();
    return new (oci().Runtime)(g.root, new (runtimeLogs().RuntimeLog)(g.log, g.logFormat, !!g.debug), process.argv[1], g.network, g.confine ?? process.env.TSVISOR_CONFINE !== '0');
  };
  /** Run a command's body; a RuntimeError is its one-line failure. */
  const act = (fn: (rt: OciCommands.Runtime) => Promise<void> | void) => async (): Promise<void> => {
    const rt = runtime();
    try {
      await fn(rt);
    } catch (e) {
      if (e instanceof stateDir().RuntimeError) rt.log.fatal(e.message);
      rt.log.fatal(`internal error: ${(e as Error).stack ?? String(e)}`);
    }
  };

  if (want('do')) program.command('do')
    .description('run one command sandboxed (the host root, or --rootfs, seen read-only under a private upper layer)')
    .argument('<command...>', 'the command and its arguments')
    .option('--rootfs <dir>', 'root file system (a host directory)', '/')
    .option('--memory <size>', "the sandbox's memory limit, e.g. 512m or 2g (default: half of the host's RAM)")
    .option('--strace', 'print the system calls of the sandboxed program')
    .option('--debug-log <file>', 'write debug (and strace) lines here')
    .option('--stats <file>', "write the platform's counters here (JSON) at the end")
    .option('--cwd <dir>', 'working directory inside the sandbox')
    .option('--env <K=V>', 'set an environment variable (repeatable)', collect, [])
    .option('--init', 'run a minimal init (tini, bound from the host) as pid 1 that forwards signals and reaps orphans, as docker run --init')
    .option('--init-path <file>', 'the static init --init binds (default: /usr/bin/tini-static)')
    .option('-u, --user <user[:group]>', 'run as this user and group (names from the root file system\'s /etc/passwd and /etc/group, or numbers), as docker run --user')
    .option('-v, --volume <hostdir:dir[:ro]>', 'bind a host directory at dir, read-write unless :ro (repeatable)', collect, [])
    .addOption(new Option('--platform <name>', 'how application code runs: ptrace or systrap (default: $TSVISOR_PLATFORM, else systrap; ptrace where the host cannot run systrap)').choices(['ptrace', 'systrap']))
    .addOption(networkOption())
    .option('--gofer', 'reach host files through a separate, confined Gofer process (default: $TSVISOR_GOFER=1)')
    .option('--no-gofer', 'reach host files from the Sentry itself')
    .option('--publish <hostport:port[/proto]>', 'sandbox network: forward a host port (TCP by default) to the sandbox (repeatable)', collect, [])
    .option('--allow-host-loopback', "sandbox network: 10.0.2.2 reaches the host's 127.0.0.1, and the host's other addresses are reachable")
    .option('--confine', 'run the Sentry confined: a child in its own namespaces, no capabilities, an empty root, its own seccomp filter (docs/SECURITY.md; default: $TSVISOR_CONFINE=1)')
    .option('--no-confine', 'run the Sentry in this process with the caller\'s host access (debugging)')
    .addOption(new Option('--confine-drill <step>', 'test switch (needs TSVISOR_CONFINE_DRILL=1): the confined Sentry tries an escape').choices(['open', 'connect', 'exec', 'ptrace', 'create', 'mkdir', 'reopen', 'chmod']).hideHelp())
    .passThroughOptions()
    .action((argv: string[], f: DoFlags) => earlyGofer(f).then((gofer) => lazyDo().then(({ cmdDo }) => cmdDo(argv, f, gofer))).catch((e) => fail(`internal error: ${(e as Error).stack ?? e}`, 125)));

  if (want('compat')) program.command('compat').description('print the syscall compatibility table and the OCI spec fields not honoured (Markdown)')
    .action(async () => void writeStdio(1, (await import('../syscalls/table')).compatibilityMarkdown() + (require('../oci/compat') as typeof OciCompat).ociCompatibilityMarkdown()));

  if (want('spec')) program.command('spec').description('write a default config.json for a bundle')
    .option('-b, --bundle <dir>', 'the bundle directory', '.')
    .option('--rootless', 'a spec for a container run without root')
    .action((f: { bundle: string; rootless?: boolean }) => act(() => oci().writeSpec(f.bundle, !!f.rootless))());

  const createFlags = (c: Command): Command => c
    .option('-b, --bundle <dir>', 'the bundle directory (default: the current directory)')
    .option('--pid-file <file>', "write the container's pid here")
    .option('--console-socket <path>', "a Unix socket to send the terminal's master to (process.terminal)")
    .option('--no-pivot', 'accepted (the sandbox has its own root)')
    .option('--no-new-keyring', 'accepted (the sandbox has no keyrings)');

  if (want('create')) createFlags(program.command('create').description('create a container: its sandbox is ready, its process loaded, not running').argument('<id>'))
    .action((id: string, f: CreateFlags) => act(async (rt) => {
      const abandoned = process.env[ABANDONED_ENV];
      if (abandoned !== undefined) {
        await rt.abandonCreate(id, Number(abandoned));
        throw new (stateDir().RuntimeError)(`cannot create container ${id}: the runtime process ${abandoned} ended during start-up`);
      }
      // Started by the shell line (ready): this process becomes the sandbox process.
      const child = await rt.create(id, f, false, ready !== null);
      child?.unref();
      child?.stdio[3]?.destroy();
      ready?.done(0);
    })());

  if (want('start')) program.command('start').description('let a created container run').argument('<id>')
    .action((id: string) => act((rt) => rt.start(id))());

  if (want('run')) createFlags(program.command('run').description('create and start a container, and wait for it unless --detach').argument('<id>'))
    .option('-d, --detach', 'return once the container runs')
    .action((id: string, f: CreateFlags & { detach?: boolean }) => act(async (rt) => {
      const child = await rt.create(id, f, !f.detach);
      if (!child) throw new (stateDir().RuntimeError)('no sandbox process');
      child.stdio[3]?.destroy();
      try {
        await rt.start(id);
      } catch (e) {
        await rt.delete(id, true);
        throw e;
      }
      if (f.detach) return void child.unref();
      // Signals to `run` are for the container, as runc forwards them; a ^Z at
      // the caller's terminal (SIGTSTP) too: it is for the container's
      // foreground job, and would otherwise stop the runtime.
      for (const s of ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTSTP', 'SIGUSR1', 'SIGUSR2', 'SIGTERM', 'SIGWINCH'] as const) process.on(s, () => child.kill(s));
      const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('exit', (c, s) => r([c, s])));
      await rt.delete(id, true);
      process.exit(sig ? 128 + os.constants.signals[sig] : code ?? 0);
    })());

  if (want('pause')) program.command('pause').description('pause a running container (every process at rest, timers held)').argument('<id>')
    .action((id: string) => act((rt) => rt.pause(id, true))());

  if (want('resume')) program.command('resume').description('resume a paused container').argument('<id>')
    .action((id: string) => act((rt) => rt.pause(id, false))());

  if (want('exec')) program.command('exec').description('run another process in a running container').argument('<id>').argument('[command...]', 'the command and its arguments')
    .option('-p, --process <file>', 'the process as a JSON file (the process object of config.json)')
    .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect, [])
    .option('--cwd <dir>', 'working directory inside the container')
    .option('-u, --user <uid[:gid]>', 'user and group IDs')
    .option('-d, --detach', 'return at once; a host process of its own stands for the exec')
    .option('--pid-file <file>', 'write the pid of the host process standing for the exec here')
    .option('-t, --tty', 'give the process a terminal (its master goes to --console-socket)')
    .option('--console-socket <path>', "a Unix socket to send the terminal's master to")
    .passThroughOptions()
    .action((id: string, argv: string[], f: ExecFlags) => act(async (rt) => {
      const { req, tty } = rt.execRequest(id, argv, f);
      if (f.detach || tty) {
        const child = rt.execDetached(id, req, tty, f.consoleSocket);
        if (f.pidFile) fs.writeFileSync(f.pidFile, String(child.pid ?? 0));
        if (f.detach) return void child.unref();
        const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('exit', (c, s) => r([c, s])));
        process.exit(sig ? 128 + os.constants.signals[sig] : code ?? 0);
      }
      if (f.pidFile) fs.writeFileSync(f.pidFile, String(process.pid));
      process.exit((await lazyDo()).exitCodeOf(await rt.exec(id, req)));
    })());

  if (want('exec-wait')) program.command('exec-wait', { hidden: true }).argument('<id>').requiredOption('--request <json>').option('--terminal')
    .action((id: string, f: { request: string; terminal?: boolean }) => act(async (rt) => {
      const req = JSON.parse(f.request) as ExecSpec;
      if (f.terminal) sandboxProc().forwardTerminalSignals(rt, id);
      process.exit((await lazyDo()).exitCodeOf(await rt.exec(id, req)));
    })());

  if (want('state')) program.command('state').description("print a container's state (OCI state JSON)").argument('<id>')
    .action((id: string) => act((rt) => void writeStdio(1, JSON.stringify(rt.stateOf(id), null, '  ') + '\n'))());

  if (want('kill')) program.command('kill').description("send a signal (default SIGTERM) to a container's init, or with --all to all its processes")
    .argument('<id>').argument('[signal]', 'name (TERM, SIGTERM) or number', 'SIGTERM')
    .option('-a, --all', 'signal every process of the container')
    .action((id: string, sig: string, f: { all?: boolean }) => act((rt) => rt.kill(id, sig, !!f.all))());

  if (want('delete')) program.command('delete').description('delete a stopped (or, with --force, any) container').argument('<id>')
    .option('-f, --force', 'kill the container first if it runs')
    .action((id: string, f: { force?: boolean }) => act((rt) => rt.delete(id, !!f.force))());

  if (want('list', 'ls')) program.command('list').alias('ls').description('list the containers under --root')
    .option('-q, --quiet', 'only the IDs')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((f: { quiet?: boolean; format: string }) => act((rt) => {
      const states = rt.list();
      if (f.quiet) writeStdio(1, states.map((s) => s.id + '\n').join(''));
      else if (f.format === 'json') writeStdio(1, JSON.stringify(states) + '\n');
      else writeStdio(1, oci().listTable(states));
    })());

  if (want('ps')) program.command('ps').description("list a container's processes (the sandbox's), or with --format json the host pids standing for them")
    .argument('<id>')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((id: string, f: { format: string }) => act(async (rt) => void writeStdio(1, await observe().ps(rt, id, f.format === 'json')))());

  if (want('events')) program.command('events').description("a running container's statistics as JSON lines, every --interval until it stops")
    .argument('<id>')
    .option('--stats', 'print the statistics once and exit')
    .option('--interval <duration>', 'time between two events (5s, 500ms)', '5s')
    .action((id: string, f: { stats?: boolean; interval: string }) =>
      act((rt) => observe().events(rt, id, !!f.stats, observe().parseInterval(f.interval), (l) => void process.stdout.write(l)))());

  if (want('wait')) program.command('wait').description('wait for a container to stop; prints its exit status and exits with it')
    .argument('<id>')
    .action((id: string) => act(async (rt) => {
      const code = await observe().wait(rt, id);
      writeStdio(1, `${code}\n`);
      process.exit(code);
    })());

  if (want('features')) program.command('features').description('print what this runtime supports (JSON)')
    .action(() => void writeStdio(1, oci().featuresJson()));

  if (want('install')) program.command('install').description("register tsvisor as a Docker runtime: add or update its entry in daemon.json's runtimes, keeping the rest")
    .argument('[runtimeArgs...]', 'extra arguments Docker passes to tsvisor (after --)')
    .option('--config <file>', "Docker's daemon configuration", '/etc/docker/daemon.json')
    .option('--runtime <name>', 'the runtime name (docker run --runtime=NAME)', 'tsvisor')
    .action((args: string[], f: InstallFlags) => act(() => {
      (require('./install') as typeof Install).install(process.argv[1], f, args);
      writeStdio(1, `runtime ${f.runtime} written to ${f.config}; reload dockerd (SIGHUP) to use it\n`);
    })());

  if (want('sandbox-init')) program.command('sandbox-init', { hidden: true }).argument('<id>')
    .requiredOption('--bundle <dir>').requiredOption('--state-dir <dir>').addOption(new Option('--terminal <kind>').choices(['console', 'caller']))
    .addOption(networkOption()).option('--cgroup <json>').option('--confine')
    .action((id: string, f: { bundle: string; stateDir: string; terminal?: 'console' | 'caller'; network: NetworkMode; cgroup?: string; confine?: boolean }) =>
      sandboxProc().sandboxInit(id, f.bundle, f.stateDir, f.terminal ?? null, f.network, f.cgroup ? (JSON.parse(f.cgroup) as CgroupRecord) : null, !!f.confine));

  return declared > 0 ? program : build(ready, null);
}

/**
 * `do --gofer` of the root alone (no volume, no --init, not confined: the
 * common case), started before the kernel's modules load, so that the
 * Gofer's own Node start overlaps theirs; null: the sandbox starts its
 * Gofer itself, if it has one (gofer/start.ts).
 */
async function earlyGofer(f: DoFlags): Promise<GoferHandOff | null> {
  const gofer = f.gofer ?? process.env.TSVISOR_GOFER === '1';
  const confine = f.confine ?? process.env.TSVISOR_CONFINE === '1';
  if (!gofer || confine || f.volume.length > 0 || f.init) return null;
  try {
    if (!fs.statSync(f.rootfs).isDirectory()) return null;
  } catch {
    return null;
  }
  const trees = [{ path: f.rootfs, writable: false }];
  return { fd: (await import('../gofer/spawn')).spawnGofer(trees).fd, trees };
}

export function main(argv: string[]): void {
  build(CreateReady.fromEnv(), argv).parseAsync(argv, { from: 'user' }).catch((e: Error) => fail(`internal error: ${e.stack ?? e.message}`, 125));
}
