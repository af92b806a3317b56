// The part of config.json tsvisor does not honour, for docs/COMPATIBILITY.md
// (`tsvisor compat`). Each of these is reported in the runtime log when a
// spec asks for it (oci/plan.ts, resources.ts, sysctl.ts), never ignored
// without a word.

const ROWS: Array<[string, string]> = [
  ['linux.namespaces with a path', 'the network namespace is joined (the sandbox process starts in it); a pid, mount or time namespace path fails create (each container is a sandbox of its own, whose namespaces are its Sentry\'s: another container\'s cannot be shared); an ipc, uts, cgroup or user namespace path is reported (naming the container whose namespace it is) and the container gets its own. A container of a pod (CRI annotations) joins its sandbox\'s Sentry instead: ipc and uts paths naming the sandbox are shared, it always shares the sandbox\'s PID and network namespaces (a network path naming another namespace, or a mount or time path, fails create)'],
  ['linux.namespaces network (sandbox network mode)', 'at start (a confined Sentry\'s runtime: once create is done, as runsc\'s create) the Sentry\'s stack takes over the namespace\'s Ethernet interfaces: their addresses are removed from the host kernel and their frames go through AF_PACKET sockets of the Sentry (docs/ARCHITECTURE.md "A container\'s interfaces"); IPv4 and IPv6 addresses (IPv6 link-local ones too: `ip -6 addr` and `ip -6 route` show what runc\'s do, apart from interface indexes) and routes are the Sentry\'s; interfaces added or removed after start (`docker network connect`/`disconnect`), addresses and routes added in the namespace, and default routes added, replaced or deleted there (Docker moving the gateway, `ip route del default`) are followed; the host\'s view keeps the default routes, with two rules per family (priorities 32764 and 32765) that keep the namespace\'s own traffic off them; multicast membership and addresses deleted in the namespace are not (the host\'s view has none to delete: `ip addr del` there fails with EADDRNOTAVAIL); UDP and TCP to Docker\'s DNS at 127.0.0.11:53 are relayed into the namespace'],
  ['linux.resources of a container of a pod', 'its host cgroup holds only its stand-in process: its processes are charged to the sandbox\'s host cgroup. memory.limit and pids.limit are enforced by the Sentry (the container\'s charge group: its pages, pipe buffers, socket queues and tmpfs pages; an OOM kill within it is recorded in its host cgroup); memory.swap, reservation and the cpu limits are not applied to its processes'],
  ['linux.uidMappings, gidMappings', 'reported: the Sentry keeps its own credentials, and the host user namespace is not changed'],
  ['linux.resources.blockIO, hugepageLimits, network, rdma, unified', 'reported, not applied'],
  ['linux.resources.memory.kernel, kernelTCP, disableOOMKiller, useHierarchy', 'reported, not applied'],
  ['linux.resources.cpu.realtimeRuntime, realtimePeriod, idle', 'reported, not applied'],
  ['linux.resources.devices', 'nothing to deny: the sandbox\'s /dev has only its own virtual devices'],
  ['linux.sysctl', 'kernel.msgmax, msgmnb, msgmni, sem, hostname, domainname, fs.mqueue.* and net.ipv4.ip_unprivileged_port_start are set in the Sentry; kernel.shm* and the other net.* are reported (the Sentry serves them read-only); any other is an error, as with runc'],
  ['mounts of type cgroup', 'the container\'s own host cgroup directories, read-only'],
  ['mounts of other types; devpts other than at /dev/pts; tmpfs on /dev', 'reported; the sandbox\'s own devfs and devpts are used'],
  ['hooks createContainer, startContainer', 'run in the sandbox process\'s host namespaces (network), but see the host\'s file system: the container\'s is the Sentry\'s'],
  ['process.apparmorProfile, selinuxLabel, ioPriority, scheduler, execCPUAffinity', 'reported, not applied'],
  ['linux.mountLabel, intelRdt, personality, rootfsPropagation, timeOffsets, memoryPolicy', 'reported, not applied'],
  ['seccomp SCMP_ACT_NOTIFY', 'refused (create fails)'],
];

export function ociCompatibilityMarkdown(): string {
  return ['', '# OCI runtime specification: what is not honoured', '',
    'Anything below in a config.json is written to the runtime log (`--log`) as a warning, or fails `create` where it says so.', '',
    '| Field | What tsvisor does |', '|---|---|', ...ROWS.map(([f, w]) => `| ${f} | ${w} |`), ''].join('\n');
}
