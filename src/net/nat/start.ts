// The NAT's place in a sandbox: made with the stack when the sandbox starts
// (sandbox mode with a NAT configured), so that published ports listen before
// the application runs; closed when the sandbox ends.
import type { Kernel } from '../../kernel/kernel';
import { SandboxNetwork, stackOf } from '../factory';
import { Nat } from './nat';

/** Make the stack and its NAT, and listen on the published ports; an Error names a port that cannot be had. */
export function startNetwork(k: Kernel): void {
  const cfg = k.network.nat;
  if (k.network.mode !== 'sandbox' || !cfg) return;
  const s = stackOf(k);
  if (s.nat) return;
  const nat = new Nat(s, { events: k.platform, budget: k.network.hostSockets, heap: k.memfile.heap, config: cfg, log: (m) => k.log(`nat: ${m}`) });
  s.nat = nat;
  nat.publisher.start(cfg.publish);
}

/** The sandbox ends: the NAT's host sockets close (before the platform's event service goes). */
export function stopNetwork(k: Kernel): void {
  if (k.netstack instanceof SandboxNetwork) k.netstack.nat?.shutdown();
}
