// What msgctl, semctl and shmctl answer alike (man 2 msgctl, semctl,
// shmctl), written once: one object's status (IPC_STAT by identifier, the
// kind's *_STAT and *_STAT_ANY by index), its owner and permissions
// (IPC_SET), its removal (IPC_RMID). Each call answers its kind's own
// commands (IPC_INFO, GETVAL, SHM_LOCK, ...) and hands the rest here.
import type { Task } from '../kernel/task';
import { checkAccess, checkOwner, setPerm, IPC_RMID, IPC_SET, IPC_STAT, type IpcObject, type IpcSet } from '../kernel/ipc/ipc';

/** A namespace's objects of one kind; removing one is the namespace's (it also gives back what the object held). */
interface Objects<T extends IpcObject> {
  readonly set: IpcSet<T>;
  remove(o: T): void;
}

/** One kind of object: its commands' numbers and its struct xxxid64_ds. */
export interface CtlKind<T extends IpcObject> {
  /** SHM_STAT/SEM_STAT/MSG_STAT and their _ANY forms (which skip the read permission check). */
  readonly stat: number;
  readonly statAny: number;
  ds(o: T): Buffer;
  /** The struct's size: what IPC_SET reads (before it looks for the object, so a bad pointer is EFAULT first, as Linux). */
  readonly dsSize: number;
}

/** The answer to a command every kind shares, or undefined for another command. */
export function commonCtl<T extends IpcObject & { ctimeNs: number }>(t: Task, ns: Objects<T>, k: CtlKind<T>, cmd: number, id: number, arg: number): number | undefined {
  switch (cmd) {
    case IPC_STAT: case k.stat: case k.statAny: {
      const o = cmd === IPC_STAT ? ns.set.get(id) : ns.set.atIndex(id);
      if (cmd !== k.statAny) checkAccess(t.creds, o.perm, 4);
      t.mm.copyOut(arg, k.ds(o));
      return cmd === IPC_STAT ? 0 : o.id;
    }
    case IPC_SET: {
      const b = t.mm.copyIn(arg, k.dsSize);
      const o = ns.set.get(id);
      checkOwner(t.creds, o.perm);
      setPerm(o.perm, b);
      o.ctimeNs = t.kernel.realtimeNs();
      return 0;
    }
    case IPC_RMID: {
      const o = ns.set.get(id);
      checkOwner(t.creds, o.perm);
      ns.remove(o);
      return 0;
    }
  }
  return undefined;
}
