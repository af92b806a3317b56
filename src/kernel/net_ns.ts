// Network namespaces (man 7 network_namespaces): each has its own interfaces,
// its own stack (sockets, ports, routes), its own abstract AF_UNIX names and
// netlink port ids, and its own /proc/net and /proc/sys/net. The sandbox's
// initial namespace is what its network mode gives (sandbox, host or none);
// a namespace made by clone or unshare with CLONE_NEWNET is the Sentry's own
// stack with a loopback that is down until the application brings it up, as
// Linux gives a fresh namespace. A socket stays in the namespace it was made
// in (Linux's sock_net), whatever namespace its user joins later.
import type { UserNamespace } from '../auth/userns';
import type { KernelNetStack } from './kernel';
import { defaultNetSysctl, devTag, HostSocketBudget, NamespaceLoopbackTable, type NetworkConfig } from './netinfo';

export class NetNamespace {
  readonly kind = 'net';
  /** The namespace's own stack (net/stack.ts) in sandbox and none modes, made by its first AF_INET/AF_INET6 socket. */
  stack: KernelNetStack | null = null;
  /**
   * Run once on the stack when it is made (the sandbox attaches its NAT to
   * the initial namespace's here: sandbox/sandbox.ts), so that a program that
   * opens no inet socket never builds the stack or loads its modules.
   */
  stackSetup: ((stack: KernelNetStack) => void) | null = null;
  constructor(
    readonly owner: UserNamespace,
    readonly inum: number,
    readonly config: NetworkConfig,
    readonly initial: boolean,
  ) {}

  /** What abstract AF_UNIX names are keyed under (socket/unix/names.ts): the initial namespace keeps the plain keys. */
  get unixScope(): string {
    return this.initial ? '' : `${this.inum}`;
  }

  /**
   * A namespace made by CLONE_NEWNET: only a loopback, down, and no host
   * sockets. Its conf.all and conf.default start as the initial namespace's
   * (Linux's net.core.devconf_inherit_init_net 0).
   */
  static fresh(owner: UserNamespace, inum: number, initial: NetNamespace): NetNamespace {
    const sysctl = defaultNetSysctl();
    for (const dev of ['all', 'default']) sysctl.devTags.set(dev, devTag(initial.config.sysctl, dev));
    const config: NetworkConfig = {
      mode: 'none', interfaces: new NamespaceLoopbackTable(), hostSockets: new HostSocketBudget(0), netlinkPorts: new Set(), sysctl,
    };
    return new NetNamespace(owner, inum, config, false);
  }
}
