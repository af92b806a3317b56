// Kubernetes pods through CRI: containerd and CRI-O say in a container's
// annotations whether it is a pod's sandbox (the pause container) or an
// application container of the pod, and which sandbox that is. A container
// of a pod whose sandbox is a tsvisor sandbox joins it (cli/pod_commands.ts).

/** [container type annotation, sandbox id annotation]: containerd's CRI, then CRI-O's. */
const POD_ANNOTATIONS: Array<[string, string]> = [
  ['io.kubernetes.cri.container-type', 'io.kubernetes.cri.sandbox-id'],
  ['io.kubernetes.cri-o.ContainerType', 'io.kubernetes.cri-o.SandboxID'],
];

/** The id of the sandbox a container of a pod joins ('' if its annotations name none); null: it is no pod's application container. */
export function podSandboxOf(annotations: Record<string, string>): string | null {
  for (const [type, sandbox] of POD_ANNOTATIONS) {
    if (annotations[type] === 'container') return annotations[sandbox] ?? '';
  }
  return null;
}

/** At most this many containers join one sandbox besides its own (each holds a mount tree, namespaces, host trees and a stand-in host process until deleted). */
export const MAX_POD_CONTAINERS = 64;

/** The sandbox container's annotation that lowers that bound for its pod (1 to MAX_POD_CONTAINERS). */
export const POD_LIMIT_ANNOTATION = 'dev.tsvisor.pod-containers';

/** How many containers may join a sandbox whose container has these annotations. */
export function podLimit(annotations: Record<string, string> | undefined): number {
  const v = annotations?.[POD_LIMIT_ANNOTATION];
  const n = v !== undefined && /^\d{1,3}$/.test(v) ? Number(v) : MAX_POD_CONTAINERS;
  return Math.max(1, Math.min(n, MAX_POD_CONTAINERS));
}
