// /proc/net/tcp, tcp6, udp and udp6 from the stack's tables, in the columns
// Linux prints (addresses as the kernel's words in hex, ports in hex, the
// state, queue sizes, uid and inode).
import { TcpState } from '../abi/inet';
import { isV4, type Ip } from './ip/addr';
import type { Stack } from './stack';

/** An address as Linux prints it: each 32-bit word in host (little-endian) order. */
function hexAddr(ip: Ip, v4: boolean): string {
  const words = v4 ? [ip.slice(24)] : [0, 8, 16, 24].map((i) => ip.slice(i, i + 8));
  return words.map((w) => Buffer.from(w, 'hex').reverse().toString('hex').toUpperCase()).join('');
}

const hex = (n: number, w: number): string => n.toString(16).toUpperCase().padStart(w, '0');

interface Row {
  local: Ip;
  lport: number;
  remote: Ip;
  rport: number;
  state: number;
  tx: number;
  rx: number;
  uid: number;
  ino: number;
}

export function procNetText(s: Stack, file: 'tcp' | 'tcp6' | 'udp' | 'udp6'): string {
  const v4 = file === 'tcp' || file === 'udp';
  const rows: Row[] = [];
  const zero = v4 ? '00000000000000000000ffff00000000' : '0'.repeat(32);
  if (file.startsWith('tcp')) {
    for (const [b, l] of s.listeners) rows.push({ local: b.ip, lport: b.port, remote: zero, rport: 0, state: TcpState.LISTEN, tx: l.backlog, rx: l.acceptQ.length, uid: b.uid, ino: b.ino });
    for (const c of s.conns.values()) rows.push({ local: c.local, lport: c.lport, remote: c.remote, rport: c.rport, state: c.state, tx: c.sendq.length, rx: c.recvq.length, uid: c.uid, ino: c.orphan ? 0 : c.ino });
  } else {
    for (const [b, ep] of s.udp) rows.push({ local: b.ip, lport: b.port, remote: ep.remote ?? zero, rport: ep.rport, state: ep.remote ? TcpState.ESTABLISHED : TcpState.CLOSE, tx: 0, rx: ep.queued, uid: b.uid, ino: b.ino });
  }
  const head = v4
    ? '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
    : '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  const lines = rows
    .filter((r) => isV4(r.local) === v4)
    .map((r, i) => `${String(i).padStart(4)}: ${hexAddr(r.local, v4)}:${hex(r.lport, 4)} ${hexAddr(r.remote, v4)}:${hex(r.rport, 4)} ${hex(r.state, 2)} ${hex(r.tx, 8)}:${hex(r.rx, 8)} 00:00000000 00000000 ${String(r.uid).padStart(5)}        0 ${r.ino} 1\n`);
  return head + lines.join('');
}
