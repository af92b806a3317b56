// /proc/net: the sockets of the sandbox's own network stack, which lives
// above procfs (net/) and answers through Kernel.network; before the first
// inet socket there is no stack and the tables are empty.
import type { ProcKernel } from './task_info';
import type { Entry, NodeMaker } from './nodes';

const HEAD4 = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const HEAD6 = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

export function netEntries(k: ProcKernel, m: NodeMaker): Entry[] {
  return (['tcp', 'tcp6', 'udp', 'udp6'] as const).map((name) =>
    m.file(name, () => (k.network ? k.network.procNet(name) : name.endsWith('6') ? HEAD6 : HEAD4)),
  );
}
