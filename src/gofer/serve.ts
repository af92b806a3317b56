// The Gofer's work (gofer/main.ts loads this module, from dist/gofer.bundle.js
// when built): DIR is where it pivots, SPEC is ro:PATH or rw:PATH, one per
// served tree, in the order the Sentry names them (tree 0 is the root file
// system); its end of the socketpair is descriptor 3. It confines itself
// (confine.ts), opens the trees, says hello (errno 0, the number of trees)
// and serves requests one at a time until the Sentry closes its end. Every
// module it needs is loaded before the pivot: afterwards nothing of the
// host's file system is there to load from.
import { ChannelClosed, Channel } from './channel';
import { GoferServer, type ServedTree } from './server';
import { MAX_REQUEST, Writer } from './protocol';
import { HostTree } from '../host/hosttree';
import { WritableHostTree } from '../host/hosttree_rw';
import * as libc from '../host/libc';
import { dieWithParent, dropCapabilities, installFilter, pivotIntoTrees } from './confine';

const SOCKET_FD = 3;

/**
 * Serve the Gofer's trees (argv: DIR SPEC...); beforePivot runs once the trees are parsed, before the host's file system goes away.
 * @public (gofer/main.ts calls it through the bundle's loader, which knip does not follow)
 */
export function serveGofer(argv: string[], beforePivot: () => void): void {
  const [at, ...specs] = argv;
  const trees = specs.map((s) => {
    const m = /^(ro|rw):(.+)$/s.exec(s);
    if (!m) throw new Error(`gofer: bad tree ${s}`);
    return { path: m[2], writable: m[1] === 'rw' };
  });
  if (!at || trees.length === 0) throw new Error('usage: gofer DIR ro:PATH|rw:PATH...');
  dieWithParent();
  beforePivot();
  pivotIntoTrees(at, trees);
  const served: ServedTree[] = trees.map((t, i) => {
    if (t.writable) {
      const rw = new WritableHostTree(`/${i}`);
      return { files: rw, openFd: (n, write) => (write ? rw.dupWriteFd(n) : rw.dupReadFd(n)), release: (n) => rw.release(n) };
    }
    const tree = new HostTree(`/${i}`);
    return { files: tree, openFd: (n) => tree.dupReadFd(n) };
  });
  dropCapabilities(trees.some((t) => t.writable));
  installFilter();
  const ch = new Channel(SOCKET_FD, MAX_REQUEST);
  const server = new GoferServer(served, Number(process.env.TSVISOR_GOFER_MAX_IDS ?? 65536));
  const hello = new Writer().i32(0).u32(trees.length);
  for (const t of trees) hello.u8(t.writable ? 1 : 0);
  ch.send(hello.view());
  for (;;) {
    let req: { msg: Buffer; len: number };
    try {
      req = ch.recvPlain();
    } catch (e) {
      if (e instanceof ChannelClosed) return;
      throw e;
    }
    const rep = server.handle(req.msg, req.len);
    try {
      if (rep.fds.length > 0) ch.sendWithFds(rep.msg, rep.fds);
      else ch.send(rep.msg);
    } catch (e) {
      if (e instanceof ChannelClosed) return;
      throw e;
    } finally {
      for (const fd of rep.fds) libc.close(fd);
    }
  }
}

