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
