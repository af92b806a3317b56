// The NAT's place in a sandbox: attached to the initial namespace's stack when
// that stack is made (net/factory.ts runs the namespace's stackSetup), which
// is at the first inet socket, or when the sandbox starts if it publishes
// ports (they listen before the application runs). A program that opens no
// inet socket builds neither and loads none of their modules. The NAT's host
// sockets close with the stack (SandboxNetwork.shutdown).
import type { Kernel, KernelNetStack } from '../../kernel/kernel';
import { SandboxNetwork, stackOf } from '../factory';
import { Nat } from './nat';

/**
 * Give stack (the initial namespace's, just made) its NAT, and listen on the published ports; an Error names a port that cannot be had.
 * @public sandbox/sandbox.ts requires this module when the stack is made (a lazy require, which knip does not follow).
 */
export function attachNat(k: Kernel, stack: KernelNetStack): void {
  const cfg = k.network.nat;
  if (k.network.mode !== 'sandbox' || !cfg || !(stack instanceof SandboxNetwork) || stack.nat) return;
  const nat = new Nat(stack, { events: k.platform, budget: k.network.hostSockets, heap: k.memfile.heap, config: cfg, log: (m) => k.log(`nat: ${m}`) });
  stack.nat = nat;
  nat.publisher.start(cfg.publish);
}

/**
 * Make the initial namespace's stack now (its stackSetup attaches the NAT): published ports listen before the application runs.
 * @public (see attachNat)
 */
export function startNetwork(k: Kernel): void {
  stackOf(k);
}
